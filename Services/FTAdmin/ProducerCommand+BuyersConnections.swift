import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin producer`: long-term buyer relationships and links between groups.
extension ProducerCommand {
    struct AddBuyer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-buyer", abstract: "Record a buyer relationship.")
        @Argument var group: String
        @Option var organisation: String
        @Option(help: "YYYY-MM-DD.") var since: String
        @Option(help: "Kind.") var kind: ProducerV1.RelationshipKind
        @Option(parsing: .unconditional, help: "Yearly purchases, e.g. 12000.00.") var purchases: String?
        @Option(help: "ISO 4217 currency of the purchases.") var currency: String = "USD"
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                var relationship = ProducerV1.BuyerRelationship(
                    groupID: group, organisation: organisation, since: try parseDate(since, field: "--since"),
                    kind: kind)
                if let purchases {
                    relationship.yearlyPurchases = try parseMoney(purchases, currency: currency, field: "--purchases")
                }
                let added = try await client.addBuyerRelationship(
                    ProducerV1.AddBuyerRelationshipRequest(
                        relationship: relationship, requestID: RequestID.make()), options: global.callOptions)
                try emit(added, global) { "recorded \(added.id): \(added.organisation) since \(show(added.since))" }
            }
        }
    }

    struct Buyers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group's buyer relationships.")
        @Argument var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listBuyerRelationships(
                    ProducerV1.ListBuyerRelationshipsRequest(groupID: group), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "BUYER", "KIND", "SINCE", "ENDED", "YEARLY PURCHASES")
                    for item in response.relationships {
                        table.add(
                            item.id, item.organisation, short(item.kind), show(item.since), show(item.endedOn),
                            formatMoney(item.yearlyPurchases))
                    }
                    return table.render()
                }
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect two groups (FROM mentors/supplies TO, or peers).")
        @Argument var from: String
        @Argument var to: String
        @Option(help: "Kind.") var kind: ProducerV1.ConnectionKind
        @Option(help: "YYYY-MM-DD.") var since: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let connection = try await client.connectGroups(
                    ProducerV1.ConnectGroupsRequest(
                        connection: ProducerV1.GroupConnection(
                            fromGroupID: from, toGroupID: to,
                            kind: kind,
                            since: try since.map { try parseDate($0, field: "--since") }),
                        requestID: RequestID.make()), options: global.callOptions)
                try emit(connection, global) {
                    "connected \(from) → \(to) as \(short(connection.kind)) (\(connection.id))"
                }
            }
        }
    }

    struct Connections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group's connections to other groups.")
        @Argument var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listGroupConnections(
                    ProducerV1.ListGroupConnectionsRequest(groupID: group), options: global.callOptions)
                let names = await global.pageNames(
                    groups: Set(response.connections.flatMap { [$0.fromGroupID, $0.toGroupID] }))
                try emit(response, global) {
                    var table = Table("ID", "FROM", "KIND", "TO", "SINCE")
                    for item in response.connections {
                        table.add(
                            item.id, names.label(item.fromGroupID), short(item.kind), names.label(item.toGroupID),
                            show(item.since))
                    }
                    return table.render()
                }
            }
        }
    }

    struct UpdateBuyer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-buyer",
            abstract: "Change a buyer relationship: its kind, yearly purchases or notes, or end it (--ended).")
        @Argument(help: "Producer group id.") var group: String
        @Argument(help: "The relationship's id (br_…), as `buyers` lists it.") var relationship: String
        @Option(help: "Kind.") var kind: ProducerV1.RelationshipKind?
        @Option(parsing: .unconditional, help: "Yearly purchases, e.g. 12000.00.") var purchases: String?
        @Option(help: "ISO 4217 currency of the purchases (default: the one recorded, else USD).") var currency: String?
        @Option(help: "The day the relationship ended, YYYY-MM-DD.") var ended: String?
        @Option(help: "Notes (replace those recorded).") var notes: String?
        @Option(help: "Request id, so that a retried update is applied once (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let listed = try await client.listBuyerRelationships(
                    ProducerV1.ListBuyerRelationshipsRequest(groupID: group), options: global.callOptions)
                guard var changed = listed.relationships.first(where: { $0.id == relationship }) else {
                    throw CommandFailure(
                        description: "NOT_FOUND: group \(group) has no buyer relationship \"\(relationship)\"")
                }
                if let kind { changed.kind = kind }
                if let purchases {
                    changed.yearlyPurchases = try parseMoney(
                        purchases, currency: currency ?? changed.yearlyPurchases?.currency ?? "USD",
                        field: "--purchases")
                }
                if let ended { changed.endedOn = try parseDate(ended, field: "--ended") }
                if let notes { changed.notes = notes }
                let updated = try await client.updateBuyerRelationship(
                    ProducerV1.UpdateBuyerRelationshipRequest(
                        relationship: changed, requestID: requestID ?? RequestID.make()), options: global.callOptions)
                try emit(updated, global) {
                    "updated \(updated.id): \(updated.organisation), \(short(updated.kind)), "
                        + "\(formatMoney(updated.yearlyPurchases))/year"
                        + (updated.endedOn.map { ", ended \(show($0))" } ?? "")
                }
            }
        }
    }
}
