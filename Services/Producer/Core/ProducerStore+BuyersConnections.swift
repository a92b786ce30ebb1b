import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerStore: buyers and connections.
extension ProducerStore {
    func addRelationship(_ checked: Checked<ProducerV1.BuyerRelationship>, requestID: String) async throws
        -> ProducerV1.BuyerRelationship
    {
        try await database.idempotent(operation: "AddBuyerRelationship", requestID: requestID) { session in
            let group = try await loadGroup(
                try ProducerGroupID(checking: checked.record.groupID, "relationship.group_id"), session)
            let id = BuyerRelationshipID.mint()
            try await session.execute(
                """
                INSERT INTO buyer_relationships (id, group_id, organisation, since, kind, purchases_minor,
                    purchases_currency, ended_on, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, [.of(id.text), .of(group.id)] + Self.relationshipValues(checked))
            return id
        } load: { session, id in
            try await loadRelationship(id, session)
        }
    }

    static func relationshipValues(_ checked: Checked<ProducerV1.BuyerRelationship>) -> [SQLValue] {
        let relationship = checked.record
        return [
            .of(relationship.organisation), .of(checked.day.description),
            .of(relationship.kind.rawValue), .of(relationship.yearlyPurchases?.minorUnits),
            .of(relationship.yearlyPurchases?.currency), .of(relationship.endedOn.flatMap(ISODate.init)?.description),
            .of(relationship.notes),
        ]
    }

    func loadRelationship(_ id: BuyerRelationshipID, _ session: any SQLSession) async throws
        -> ProducerV1.BuyerRelationship
    {
        guard let row = try await session.first("SELECT * FROM buyer_relationships WHERE id = $1", [.of(id.text)])
        else { throw id.notFound() }
        return try Self.relationship(row)
    }

    static func relationship(_ row: SQLRow) throws -> ProducerV1.BuyerRelationship {
        var relationship = ProducerV1.BuyerRelationship(
            id: try row.text("id"), groupID: try row.text("group_id"), organisation: try row.text("organisation"),
            since: ISODate(iso: try row.text("since"))?.message,
            kind: ProducerV1.RelationshipKind(rawValue: Int32(try row.int("kind"))), notes: try row.text("notes"))
        if let minor = try row.optionalInt("purchases_minor"), let currency = try row.optionalText("purchases_currency")
        {
            relationship.yearlyPurchases = CommonV1.Money(minorUnits: minor, currency: currency)
        }
        relationship.endedOn = try row.optionalText("ended_on").flatMap { ISODate(iso: $0)?.message }
        return relationship
    }

    func updateRelationship(
        _ id: BuyerRelationshipID, to relationship: ProducerV1.BuyerRelationship, requestID: String
    ) async throws -> ProducerV1.BuyerRelationship {
        try await database.answeringOnce("UpdateBuyerRelationship", requestID: requestID) { session in
            let stored = try await loadRelationship(id, session)
            var updated = relationship
            updated.groupID = stored.groupID
            if updated.since == nil { updated.since = stored.since }
            if updated.organisation.isEmpty { updated.organisation = stored.organisation }
            try await session.execute(
                """
                UPDATE buyer_relationships SET organisation = $2, since = $3, kind = $4, purchases_minor = $5,
                    purchases_currency = $6, ended_on = $7, notes = $8 WHERE id = $1
                """,
                [.of(id.text)]
                    + Self.relationshipValues(try Checked(updated, day: updated.since, "relationship.since")))
            return try await loadRelationship(id, session)
        }
    }

    func listRelationships(groupID: ProducerGroupID) async throws -> [ProducerV1.BuyerRelationship] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT * FROM buyer_relationships WHERE group_id = $1 ORDER BY since, organisation", [.of(group.id)]
            )
            .map(Self.relationship)
        }
    }

    func connect(_ connection: ProducerV1.GroupConnection, requestID: String) async throws -> ProducerV1.GroupConnection
    {
        try await database.idempotent(operation: "ConnectGroups", requestID: requestID) { session in
            let from = try await loadGroup(
                try ProducerGroupID(checking: connection.fromGroupID, "connection.from_group_id"), session)
            let to = try await loadGroup(
                try ProducerGroupID(checking: connection.toGroupID, "connection.to_group_id"), session)
            guard from.id != to.id else {
                throw RPCError.invalidArgument(field: "connection.to_group_id", "a group cannot be connected to itself")
            }
            if let existing = try await session.first(
                """
                SELECT id FROM group_connections WHERE from_group = $1 AND to_group = $2 AND kind = $3
                """, [.of(from.id), .of(to.id), .of(connection.kind.rawValue)])
            {
                throw RPCError(
                    .alreadyExists,
                    "\(from.id) and \(to.id) are already connected as \(CSV.cell(connection.kind)) (\(try existing.text("id")))"
                )
            }
            let id = GroupConnectionID.mint().text
            try await session.execute(
                """
                INSERT INTO group_connections (id, from_group, to_group, kind, since, notes) VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [
                    .of(id), .of(from.id), .of(to.id), .of(connection.kind.rawValue),
                    .of(connection.since.flatMap(ISODate.init)?.description), .of(connection.notes),
                ])
            return id
        } load: { session, id in
            guard let row = try await session.first("SELECT * FROM group_connections WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "connection \(id) vanished")
            }
            return try Self.connection(row)
        }
    }

    static func connection(_ row: SQLRow) throws -> ProducerV1.GroupConnection {
        ProducerV1.GroupConnection(
            id: try row.text("id"), fromGroupID: try row.text("from_group"), toGroupID: try row.text("to_group"),
            kind: ProducerV1.ConnectionKind(rawValue: Int32(try row.int("kind"))),
            since: try row.optionalText("since").flatMap { ISODate(iso: $0)?.message }, notes: try row.text("notes"))
    }

    func listConnections(groupID: ProducerGroupID) async throws -> [ProducerV1.GroupConnection] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT * FROM group_connections WHERE from_group = $1 OR to_group = $1 ORDER BY kind, id",
                [.of(group.id)]
            )
            .map(Self.connection)
        }
    }
}
