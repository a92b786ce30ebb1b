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
        if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
        let asOf = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        return try await storage {
            let group = try await store.getGroup(request.groupID)
            return Independence.profile(
                group: group, relationships: try await store.listRelationships(groupID: group.id),
                assessments: try await store.listAssessments(groupID: group.id, skill: ""), asOf: asOf)
        }
    }
}
