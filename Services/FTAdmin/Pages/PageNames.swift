import API
import Domain
import Foundation
import Schema

/// The names a page shows where the records hold ids: organisations, producer groups, markets.
struct PageNames: Sendable {
    var organisations: [String: String] = [:]
    var groups: [String: String] = [:]
    var markets: [String: String] = [:]
    var projects: [String: String] = [:]
    var trainings: [String: String] = [:]

    /// The name of the record `id` names, by its kind (an organisation, a producer group, a market, a project, a
    /// training's title); the id itself when it is not known.
    func label(_ id: String) -> String {
        let known: String? =
            switch RecordKinds.kind(of: id) {
            case is RecordKinds.Organisation.Type: organisations[id]
            case is RecordKinds.ProducerGroup.Type: groups[id]
            case is RecordKinds.Market.Type: markets[id]
            case is RecordKinds.Project.Type: projects[id]
            case is RecordKinds.Training.Type: trainings[id]
            default: nil
            }
        return known ?? id
    }

    /// Names for a list of ids, joined.
    func labels(_ ids: [String]) -> String { ids.map(label).joined(separator: ", ") }

    func organisation(_ id: String) -> String { organisations[id] ?? "(organisation name not available)" }
    func group(_ id: String) -> String { groups[id] ?? "(group name not available)" }
    func market(_ id: String) -> String { markets[id] ?? "(market name not available)" }
}
