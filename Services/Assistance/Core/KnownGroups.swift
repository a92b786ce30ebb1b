import Schema
import Synchronization

/// What this instance last heard from the Producer service about each group it reports on (id, name, country,
/// crafts, merged ids), in memory in front of the `known_groups` table, so that the capacity report can send the
/// market its question at once instead of after a database read. A stale entry costs at most one report's market
/// section using the crafts of the previous report; the table stays the record that survives restarts.
final class KnownGroups: Sendable {
    private let groups = Mutex<[String: ProducerV1.ProducerGroup]>([:])

    /// The group `id` is or was merged into.
    func group(_ id: String) -> ProducerV1.ProducerGroup? {
        groups.withLock { $0[id] }
    }

    /// Remembers the group under its id and every id merged into it; true when something changed.
    @discardableResult
    func remember(_ group: ProducerV1.ProducerGroup) -> Bool {
        let facts = ProducerV1.ProducerGroup(
            id: group.id, name: group.name, country: group.country, crafts: group.crafts,
            mergedIDs: group.mergedIDs)
        return groups.withLock { groups in
            guard groups[group.id] != facts else { return false }
            for id in [group.id] + group.mergedIDs { groups[id] = facts }
            return true
        }
    }
}
