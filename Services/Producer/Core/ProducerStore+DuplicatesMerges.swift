import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerStore: duplicates and merges.
extension ProducerStore {
    /// Active groups in `country` other than `excluding`, minus pairs already judged not to be duplicates.
    func duplicateCandidates(of group: Group) async throws -> [Group] {
        try await database.read { session in
            let rejected = Set(
                try await session.query(
                    """
                    SELECT group_a, group_b FROM duplicate_rejections WHERE group_a = $1 OR group_b = $1
                    """, [.of(group.id)]
                ).map { row in
                    let a = try row.text("group_a")
                    let b = try row.text("group_b")
                    return a == group.id ? b : a
                })
            return try await session.query(
                """
                SELECT body FROM producer_groups WHERE country = $1 AND status IN (1, 2) AND id <> $2
                """, [.of(group.country), .of(group.id)]
            )
            .map(decode).filter { !rejected.contains($0.id) }
        }
    }

    func rejectDuplicate(_ a: ProducerGroupID, _ b: ProducerGroupID, requestID: String) async throws
        -> CommonV1.Empty
    {
        let (first, second) = a < b ? (a.text, b.text) : (b.text, a.text)
        return try await database.answeringOnce("RejectDuplicate", requestID: requestID) { session in
            for id in [a, b] { _ = try await loadGroup(id, session) }
            try await session.execute(
                """
                INSERT INTO duplicate_rejections (group_a, group_b, rejected_at) VALUES ($1, $2, $3)
                ON CONFLICT (group_a, group_b) DO NOTHING
                """, [.of(first), .of(second), .of(Clock.unixMicros())])
            return CommonV1.Empty()
        }
    }

    /// Merges `mergedID` into `survivorID`: the merged id resolves to the survivor from now on, and everything
    /// recorded about the merged group (skills, buyers, connections, dialogue) moves to the survivor. The fields it
    /// fills or extends on the survivor note the merged group's source, under `callRequestID`.
    func merge(survivorID: ProducerGroupID, mergedID: ProducerGroupID, requestID: String, callRequestID: String)
        async throws -> Group
    {
        try await database.idempotent(operation: "MergeProducerGroups", requestID: requestID) { session in
            guard
                let survivorRow = try await session.first(
                    "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(survivorID.text)])
            else { throw survivorID.notFound() }
            guard
                let mergedRow = try await session.first(
                    "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(mergedID.text)])
            else { throw mergedID.notFound() }
            if let into = try survivorRow.optionalText("merged_into") {
                throw RPCError(.failedPrecondition, "survivor \"\(survivorID)\" was itself merged into \"\(into)\"")
            }
            if let into = try mergedRow.optionalText("merged_into") {
                throw RPCError(.failedPrecondition, "\"\(mergedID)\" was already merged into \"\(into)\"")
            }
            var survivor = try decode(survivorRow)
            var merged = try decode(mergedRow)
            let now = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            let survivorVersion = survivor.version
            let mergedVersion = merged.version
            let before = survivor
            survivor.mergedIDs = Array(Set(survivor.mergedIDs + [merged.id] + merged.mergedIDs)).sorted()
            Self.resolve(&survivor, with: merged)
            FieldSources.note(
                FieldSources.changed(from: before, to: survivor), of: &survivor,
                source: { field in
                    (FieldSources.source(of: field, in: merged).map { "\($0); " } ?? "") + "merged in from \(merged.id)"
                }, requestID: callRequestID, at: now)
            survivor.version += 1
            survivor.updatedAt = now
            merged.status = .merged
            merged.mergedInto = survivor.id
            merged.mergedIDs = []
            merged.version += 1
            merged.updatedAt = now
            try await write(survivor, expectedVersion: survivorVersion, session)
            try await write(merged, expectedVersion: mergedVersion, session)
            try await replaceCrafts(survivor, session)
            try await session.execute("DELETE FROM group_crafts WHERE group_id = $1", [.of(merged.id)])
            // Ids merged earlier into the merged group now point straight at the survivor: one hop at most.
            try await session.execute(
                "UPDATE producer_groups SET merged_into = $1 WHERE merged_into = $2",
                [.of(survivor.id), .of(merged.id)])
            for table in ["skill_assessments", "buyer_relationships", "dialogue_contacts", "follow_ups"] {
                try await session.execute(
                    "UPDATE \(table) SET group_id = $1 WHERE group_id = $2",
                    [.of(survivor.id), .of(merged.id)])
            }
            try await session.execute(
                """
                UPDATE group_connections SET from_group = $1 WHERE from_group = $2
                  AND NOT EXISTS (SELECT 1 FROM group_connections o WHERE o.from_group = $1
                                  AND o.to_group = group_connections.to_group AND o.kind = group_connections.kind)
                """, [.of(survivor.id), .of(merged.id)])
            try await session.execute(
                """
                UPDATE group_connections SET to_group = $1 WHERE to_group = $2
                  AND NOT EXISTS (SELECT 1 FROM group_connections o WHERE o.to_group = $1
                                  AND o.from_group = group_connections.from_group AND o.kind = group_connections.kind)
                """, [.of(survivor.id), .of(merged.id)])
            try await session.execute(
                "DELETE FROM group_connections WHERE from_group = $1 OR to_group = $1",
                [.of(merged.id)])
            try await session.execute("DELETE FROM group_connections WHERE from_group = to_group")
            return survivorID
        } load: { session, id in
            try await loadGroup(id, session)
        }
    }

    /// The one rule a merge follows for every field the two groups may disagree on (docs: MergeProducerGroups):
    /// what the survivor holds stands, and the merged group fills what the survivor leaves empty; lists are joined.
    /// Where joining could contradict itself, the combined group's capacity wins: a process either group does
    /// in-house is in-house, and no longer bought in. Member counts move as one whole (the survivor's, or the merged
    /// group's when the survivor has none), never mixed field by field, so that they always add up.
    static func resolve(_ survivor: inout Group, with merged: Group) {
        survivor.crafts = union(survivor.crafts, merged.crafts)
        survivor.processesInHouse = union(survivor.processesInHouse, merged.processesInHouse)
        let inHouse = Set(survivor.processesInHouse)
        survivor.processesOutsourced = union(survivor.processesOutsourced, merged.processesOutsourced).filter {
            !inHouse.contains($0)
        }
        survivor.certifications += merged.certifications.filter { cert in
            !survivor.certifications.contains { $0.scheme == cert.scheme && $0.reference == cert.reference }
        }
        if survivor.localName.isEmpty { survivor.localName = merged.localName }
        if survivor.region.isEmpty { survivor.region = merged.region }
        if survivor.foundedYear == 0 { survivor.foundedYear = merged.foundedYear }
        if survivor.leadTimeDays == 0 { survivor.leadTimeDays = merged.leadTimeDays }
        if (survivor.minimumOrder?.amount ?? 0) == 0, let order = merged.minimumOrder, order.amount > 0 {
            survivor.minimumOrder = order
        }
        let counted = { (members: ProducerV1.MemberCounts?) in
            (members?.women ?? 0) > 0 || (members?.men ?? 0) > 0 || (members?.other ?? 0) > 0
        }
        if !counted(survivor.members) && counted(merged.members) { survivor.members = merged.members }
        var contact = survivor.contact ?? ProducerV1.ContactDetails()
        let other = merged.contact ?? ProducerV1.ContactDetails()
        if contact.person.isEmpty { contact.person = other.person }
        if contact.phone.isEmpty { contact.phone = other.phone }
        if contact.email.isEmpty { contact.email = other.email }
        if contact.address.isEmpty { contact.address = other.address }
        if contact != ProducerV1.ContactDetails() { survivor.contact = contact }
        if survivor.notes.isEmpty { survivor.notes = merged.notes }
    }

    static func union(_ a: [String], _ b: [String]) -> [String] {
        var seen = Set<String>()
        return (a + b).filter { seen.insert($0).inserted }
    }
}
