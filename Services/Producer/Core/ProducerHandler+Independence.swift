import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: independence.
extension ProducerHandler {
    public func getIndependenceProfile(_ request: ProducerV1.GetIndependenceProfileRequest, context: ServerContext)
        async throws -> ProducerV1.IndependenceProfile
    {
        var check = FieldValidator()
        let groupID = check.id(request.groupID, "group_id", ProducerGroupID.self)
        let asOf = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        let id = try groupID.checked("group_id")
        return try await storage {
            let group = try await store.getGroup(id)
            return Independence.profile(
                group: group, relationships: try await store.listRelationships(groupID: id),
                assessments: try await store.listAssessments(groupID: id, skill: ""), asOf: asOf)
        }
    }
}
