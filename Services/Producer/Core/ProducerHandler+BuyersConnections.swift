import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: buyers and connections.
extension ProducerHandler {
    public func addBuyerRelationship(_ request: ProducerV1.AddBuyerRelationshipRequest, context: ServerContext)
        async throws -> ProducerV1.BuyerRelationship
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var relationship = request.relationship ?? ProducerV1.BuyerRelationship()
        check.id(relationship.groupID, "relationship.group_id", ProducerGroupID.self)
        Self.validate(&relationship, &check)
        try check.check()
        let checked = try Checked(relationship, day: relationship.since, "relationship.since")
        return try await storage { try await store.addRelationship(checked, requestID: request.requestID) }
    }

    static func validate(_ relationship: inout ProducerV1.BuyerRelationship, _ check: inout FieldValidator) {
        relationship.organisation = check.text(relationship.organisation, "relationship.organisation", required: true)
        let since = check.date(relationship.since, "relationship.since")
        check.specified(relationship.kind, "relationship.kind")
        if let money = relationship.yearlyPurchases {
            relationship.yearlyPurchases =
                check.money(money, "relationship.yearly_purchases", positive: false)?.message ?? money
        }
        if let ended = check.date(relationship.endedOn, "relationship.ended_on", required: false), let since,
            ended < since
        {
            check.fail("relationship.ended_on", "\(ended) is before the relationship began (\(since))")
        }
        relationship.notes = check.text(relationship.notes, "relationship.notes", maxLength: 2000)
    }

    public func updateBuyerRelationship(_ request: ProducerV1.UpdateBuyerRelationshipRequest, context: ServerContext)
        async throws -> ProducerV1.BuyerRelationship
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var relationship = request.relationship ?? ProducerV1.BuyerRelationship()
        let relationshipID = check.id(relationship.id, "relationship.id", BuyerRelationshipID.self, required: false)
        if relationship.id.isEmpty {
            check.fail("relationship.id", "must name the relationship to update")
        }
        Self.validate(&relationship, &check)
        try check.check()
        let id = try relationshipID.checked("relationship.id")
        let changed = relationship
        return try await storage { try await store.updateRelationship(id, to: changed, requestID: request.requestID) }
    }

    public func listBuyerRelationships(_ request: ProducerV1.ListBuyerRelationshipsRequest, context: ServerContext)
        async throws -> ProducerV1.ListBuyerRelationshipsResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", ProducerGroupID.self)
        return ProducerV1.ListBuyerRelationshipsResponse(
            relationships: try await storage {
                try await store.listRelationships(groupID: groupID)
            })
    }

    public func connectGroups(_ request: ProducerV1.ConnectGroupsRequest, context: ServerContext) async throws
        -> ProducerV1.GroupConnection
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var connection = request.connection ?? ProducerV1.GroupConnection()
        check.id(connection.fromGroupID, "connection.from_group_id", ProducerGroupID.self)
        check.id(connection.toGroupID, "connection.to_group_id", ProducerGroupID.self)
        check.specified(connection.kind, "connection.kind")
        _ = check.date(connection.since, "connection.since", required: false)
        connection.notes = check.text(connection.notes, "connection.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.connect(connection, requestID: request.requestID) }
    }

    public func listGroupConnections(_ request: ProducerV1.ListGroupConnectionsRequest, context: ServerContext)
        async throws -> ProducerV1.ListGroupConnectionsResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", ProducerGroupID.self)
        return ProducerV1.ListGroupConnectionsResponse(
            connections: try await storage {
                try await store.listConnections(groupID: groupID)
            })
    }
}
