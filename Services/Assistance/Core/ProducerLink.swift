import API
import Domain
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
        // Each answer is kept as a Result so that one failure does not cancel the others.
        let answers = Dictionary(
            await Self.concurrently(ids) { id in
                let answer = await GroupAnswer(id: id, client: client)
                return (answer.id, answer.result)
            }, uniquingKeysWith: { first, _ in first })
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

    /// The groups whose name or local name is each of `names` (in any letter case; merged groups left out), by
    /// the name asked for. UNAVAILABLE naming `purpose` when the Producer service does not answer.
    func groupsNamed(_ names: [String], purpose: String) async throws -> [String: [ProducerV1.ProducerGroup]] {
        let client = self.client
        let answers = await Self.concurrently(Array(Set(names))) { name in
            // The Producer service's filter takes at most 100 characters; no name is longer.
            guard name.count <= 100 else { return (name, Result<[ProducerV1.ProducerGroup], RPCError>.success([])) }
            let wanted = name.lowercased()
            var found: [ProducerV1.ProducerGroup] = []
            var token = ""
            do {
                repeat {
                    let page = try await client.listProducerGroups(
                        ProducerV1.ListProducerGroupsRequest(nameContains: name, pageSize: 500, pageToken: token))
                    found += page.groups.filter {
                        $0.name.lowercased() == wanted || $0.localName.lowercased() == wanted
                    }
                    token = page.nextPageToken
                } while !token.isEmpty
                return (name, .success(found))
            } catch let error as RPCError {
                return (name, .failure(error))
            } catch {
                return (name, .failure(RPCError(.internalError, "\(error)")))
            }
        }
        var groups: [String: [ProducerV1.ProducerGroup]] = [:]
        for (name, answer) in answers {
            switch answer {
            case .success(let found): groups[name] = found
            case .failure(let error): throw Self.unavailable(error, purpose)
            }
        }
        return groups
    }

    /// Runs `body` for every item, at most `limit` at a time (a spreadsheet's thousands of groups must not become
    /// thousands of calls at once); the results in no particular order.
    static func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], limit: Int = 16, _ body: @escaping @Sendable (Item) async -> Result
    ) async -> [Result] {
        await withTaskGroup(of: Result.self) { tasks in
            var results: [Result] = []
            for (index, item) in items.enumerated() {
                if index >= limit, let result = await tasks.next() { results.append(result) }
                tasks.addTask { await body(item) }
            }
            for await result in tasks { results.append(result) }
            return results
        }
    }

    func requireGroup(_ id: String, field: String, purpose: String) async throws -> ProducerV1.ProducerGroup {
        guard let group = try await requireGroups([(id, field)], purpose: purpose)[id] else {
            throw DomainError(.broken, "\(field): the Producer service's answer left out group \(id)")
        }
        return group
    }

    /// The skill codes of the Producer service's catalogue.
    func skillCodes(purpose: String) async throws -> [String] {
        try await skills(purpose: purpose).map(\.code)
    }

    /// The Producer service's skills catalogue.
    func skills(purpose: String) async throws -> [ProducerV1.SkillCategory] {
        do {
            return try await client.listSkills(ProducerV1.ListSkillsRequest()).skills
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
