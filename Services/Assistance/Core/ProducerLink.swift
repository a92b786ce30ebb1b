import API
import RPC
import Schema
import ServiceKit

/// The Assistance service's calls to the Producer service: every record about a producer group first checks that
/// the group exists (the deadline and request id pass on through ServerContext), before anything is written.
struct ProducerLink: Sendable {
    let client: ProducerV1.ProducerServiceClient
    let store: AssistanceStore
    /// What the Producer service last said about each group, in front of the store's `known_groups` table.
    let known = KnownGroups()

    /// Keeps what the Producer service said of `group` — its merged ids, and the facts the capacity report's market
    /// section needs — in memory and in the table, writing only when something changed. A failure here costs
    /// nothing but a stale entry until the next answer.
    func remember(_ group: ProducerV1.ProducerGroup) async {
        if known.remember(group) { try? await store.remember(group) }
    }

    /// UNAVAILABLE naming producer-service and what needed it.
    static func unavailable(_ error: RPCError, _ purpose: String) -> RPCError {
        RPCError(
            .unavailable, "\(purpose) needs producer-service, which did not answer: \(error.code): \(error.message)")
    }

    /// Looks up every (id, field) at once. A group that does not exist is INVALID_ARGUMENT naming its field (all of
    /// them together); an unreachable Producer service is UNAVAILABLE. Returns the groups by the id asked for — a
    /// merged id answers with the group it now lives on as — and remembers their merged ids and facts.
    func requireGroups(_ references: [(id: String, field: String)], purpose: String) async throws
        -> [String: ProducerV1.ProducerGroup]
    {
        let ids = Array(Set(references.map(\.id)))
        guard !ids.isEmpty else { return [:] }
        let client = self.client
        // Every lookup at once; each answer is kept as a Result so that one failure does not cancel the others.
        let answers = await withTaskGroup(of: GroupAnswer.self) { tasks in
            for id in ids {
                tasks.addTask { await GroupAnswer(id: id, client: client) }
            }
            var answers: [String: Result<ProducerV1.ProducerGroup, RPCError>] = [:]
            for await answer in tasks { answers[answer.id] = answer.result }
            return answers
        }
        var groups: [String: ProducerV1.ProducerGroup] = [:]
        var violations: [FieldViolation] = []
        for (id, field) in references {
            switch answers[id] ?? .failure(RPCError(.internalError, "no answer for group \(id)")) {
            case .success(let group): groups[id] = group
            case .failure(let error) where error.code == .notFound || error.code == .invalidArgument:
                violations.append(
                    FieldViolation(
                        field: field, description: "producer group \"\(id)\" does not exist: \(error.message)"))
            case .failure(let error):
                throw Self.unavailable(error, purpose)
            }
        }
        if !violations.isEmpty {
            throw RPCError(
                .invalidArgument, violations.map { "\($0.field): \($0.description)" }.joined(separator: "; "),
                fieldViolations: violations)
        }
        for group in groups.values { await remember(group) }
        return groups
    }

    func requireGroup(_ id: String, field: String, purpose: String) async throws -> ProducerV1.ProducerGroup {
        try await requireGroups([(id, field)], purpose: purpose)[id]!
    }

    /// The skill codes of the Producer service's catalogue.
    func skillCodes(purpose: String) async throws -> [String] {
        do {
            return try await client.listSkills(ProducerV1.ListSkillsRequest()).skills.map(\.code)
        } catch {
            throw Self.unavailable(error, purpose)
        }
    }
}

/// The Producer service's answer about one group.
private struct GroupAnswer: Sendable {
    let id: String
    let result: Result<ProducerV1.ProducerGroup, RPCError>

    init(id: String, client: ProducerV1.ProducerServiceClient) async {
        self.id = id
        do {
            result = .success(try await client.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: id)))
        } catch {
            result = .failure(error)
        }
    }
}
