import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerStore: dialogue.
extension ProducerStore {
    /// Records a contact and its follow-ups, `dueOn` holding each follow-up's day in their order.
    func logContact(_ checked: Checked<ProducerV1.DialogueContact>, dueOn: [ISODate], requestID: String) async throws
        -> ProducerV1.DialogueContact
    {
        let contact = checked.record
        return try await database.idempotent(operation: "LogContact", requestID: requestID) { session in
            let group = try await loadGroup(try ProducerGroupID(checking: contact.groupID, "contact.group_id"), session)
            let id = ContactID.mint().text
            try await session.execute(
                """
                INSERT INTO dialogue_contacts (id, group_id, organisation, contact_date, kind, topics, summary, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    .of(id), .of(group.id), .of(contact.organisation),
                    .of(checked.day.description),
                    .of(contact.kind.rawValue), .of(contact.topics.joined(separator: "\n")), .of(contact.summary),
                    .of(Clock.unixMicros()),
                ])
            for (followUp, due) in zip(contact.followUps, dueOn) {
                try await session.execute(
                    """
                    INSERT INTO follow_ups (id, contact_id, group_id, description, due_on, done, done_on)
                    VALUES ($1, $2, $3, $4, $5, 0, NULL)
                    """,
                    [
                        .of(FollowUpID.mint().text), .of(id), .of(group.id), .of(followUp.description),
                        .of(due.description),
                    ])
            }
            return id
        } load: { session, id in
            try await loadContact(id, session)
        }
    }

    func loadContact(_ id: String, _ session: any SQLSession) async throws -> ProducerV1.DialogueContact {
        guard let row = try await session.first("SELECT * FROM dialogue_contacts WHERE id = $1", [.of(id)]) else {
            throw RPCError(.notFound, "contact \"\(id)\" not found")
        }
        let topics = try row.text("topics")
        return ProducerV1.DialogueContact(
            id: id, groupID: try row.text("group_id"), organisation: try row.text("organisation"),
            contactDate: ISODate(iso: try row.text("contact_date"))?.message,
            kind: ProducerV1.ContactKind(rawValue: Int32(try row.int("kind"))),
            topics: topics.isEmpty ? [] : topics.split(separator: "\n").map(String.init),
            summary: try row.text("summary"),
            followUps: try await session.query(
                "SELECT * FROM follow_ups WHERE contact_id = $1 ORDER BY due_on, id",
                [.of(id)]
            ).map(Self.followUp))
    }

    static func followUp(_ row: SQLRow) throws -> ProducerV1.FollowUp {
        ProducerV1.FollowUp(
            id: try row.text("id"), contactID: try row.text("contact_id"), groupID: try row.text("group_id"),
            description: try row.text("description"), dueOn: ISODate(iso: try row.text("due_on"))?.message,
            done: try row.bool("done"), doneOn: try row.optionalText("done_on").flatMap { ISODate(iso: $0)?.message })
    }

    func listContacts(groupID: ProducerGroupID) async throws -> [ProducerV1.DialogueContact] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            var contacts: [ProducerV1.DialogueContact] = []
            for row in try await session.query(
                "SELECT id FROM dialogue_contacts WHERE group_id = $1 ORDER BY contact_date DESC, created_at DESC",
                [.of(group.id)])
            {
                contacts.append(try await loadContact(try row.text("id"), session))
            }
            return contacts
        }
    }

    func overdueFollowUps(asOf: ISODate, organisation: String) async throws -> [ProducerV1.OverdueFollowUp] {
        try await database.read { session in
            var sql = """
                SELECT f.*, c.organisation, g.body FROM follow_ups f
                JOIN dialogue_contacts c ON c.id = f.contact_id
                JOIN producer_groups g ON g.id = f.group_id
                WHERE f.done = 0 AND f.due_on < $1
                """
            var binds: [SQLValue] = [.of(asOf.description)]
            if !organisation.isEmpty {
                sql += " AND c.organisation = $2"
                binds.append(.of(organisation))
            }
            return try await session.query(sql + " ORDER BY f.due_on, f.id", binds).map { row in
                let followUp = try Self.followUp(row)
                let due = try followUp.dueOn.day("due_on")
                return ProducerV1.OverdueFollowUp(
                    followUp: followUp, groupName: try decode(row).name, organisation: try row.text("organisation"),
                    daysOverdue: Int32(asOf.dayNumber - due.dayNumber))
            }
        }
    }

    func completeFollowUp(id: FollowUpID, doneOn: ISODate, requestID: String) async throws -> ProducerV1.FollowUp {
        try await database.answeringOnce("CompleteFollowUp", requestID: requestID) { session in
            let updated = try await session.query(
                "UPDATE follow_ups SET done = 1, done_on = $2 WHERE id = $1 RETURNING *",
                [.of(id.text), .of(doneOn.description)])
            guard let row = updated.first else { throw id.notFound() }
            return try Self.followUp(row)
        }
    }
}
