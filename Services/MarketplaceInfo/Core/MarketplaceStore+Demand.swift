import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceStore: demand.
extension MarketplaceStore {
    func postDemand(_ signal: MarketplaceV1.DemandSignal, requestID: String) async throws -> Idempotent<
        MarketplaceV1.DemandSignal
    > {
        try await database.idempotentOutcome(operation: "PostDemand", requestID: requestID) { session in
            var signal = signal
            let id = DemandSignalID.mint()
            signal.id = id.text
            signal.status = .open
            signal.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await session.execute(
                "INSERT INTO demand_signals (id, product, status, created_at, body) VALUES ($1, $2, $3, $4, $5)",
                [
                    .of(signal.id), .of(signal.product), .of(signal.status.rawValue),
                    .of((try signal.createdAt.checked("created_at")).unixMicros),
                    .blob(signal.serializedBytes()),
                ])
            return id
        } load: { session, id in
            try await loadSignal(id, session)
        }
    }

    func loadSignal(_ id: DemandSignalID, _ session: any SQLSession) async throws -> MarketplaceV1.DemandSignal {
        try await session.message(MarketplaceV1.DemandSignal.self, from: "demand_signals", id: id)
    }

    func getSignal(_ id: DemandSignalID) async throws -> MarketplaceV1.DemandSignal {
        try await database.read { session in try await loadSignal(id, session) }
    }

    func listDemand(product: String, status: MarketplaceV1.DemandStatus) async throws -> [MarketplaceV1.DemandSignal] {
        var conditions = SQLConditions()
        if status == .unspecified {
            conditions.add("status IN (1, 2)")
        } else {
            conditions.add("status = \(conditions.bind(.of(status.rawValue)))")
        }
        conditions.equal("product", product)
        return try await database.query(
            "SELECT body FROM demand_signals \(conditions.whereClause) ORDER BY created_at DESC", conditions.binds
        )
        .map { try $0.message(MarketplaceV1.DemandSignal.self) }
    }

    /// Demand signals a producer group was matched to, newest first.
    func matchedDemand(groupID: String, limit: Int = 50) async throws -> [MarketplaceV1.DemandSignal] {
        try await database.query(
            """
            SELECT s.body FROM demand_matches m JOIN demand_signals s ON s.id = m.signal_id
            WHERE m.group_id = $1 ORDER BY s.created_at DESC, s.id LIMIT \(limit)
            """, [.of(groupID)]
        ).map { try $0.message(MarketplaceV1.DemandSignal.self) }
    }

    /// Replaces a signal's matches and marks an open signal MATCHED when there are any, in one transaction.
    func saveMatches(signalID id: DemandSignalID, _ matches: [MarketplaceV1.DemandMatch], requestID: String)
        async throws -> MarketplaceV1.MatchDemandResponse
    {
        try await database.answeringOnce("MatchDemand", requestID: requestID) { session in
            // Matching, answering and closing a signal read its status and then write: one at a time per signal.
            try await session.lock("signal \(id)")
            var signal = try await loadSignal(id, session)
            let signalID = id.text
            try await session.execute("DELETE FROM demand_matches WHERE signal_id = $1", [.of(signalID)])
            for match in matches {
                try await session.execute(
                    "INSERT INTO demand_matches (signal_id, group_id, body) VALUES ($1, $2, $3)",
                    [.of(signalID), .of(match.groupID), .blob(match.serializedBytes())])
            }
            if signal.status == .open && !matches.isEmpty {
                signal.status = .matched
                try await writeSignal(signal, session)
            }
            return MarketplaceV1.MatchDemandResponse(signal: signal, matches: matches)
        }
    }

    func writeSignal(_ signal: MarketplaceV1.DemandSignal, _ session: any SQLSession) async throws {
        try await session.execute(
            "UPDATE demand_signals SET status = $2, body = $3 WHERE id = $1",
            [.of(signal.id), .of(signal.status.rawValue), .blob(signal.serializedBytes())])
    }

    func setStatus(signalID: DemandSignalID, _ status: MarketplaceV1.DemandStatus, requestID: String) async throws
        -> MarketplaceV1.DemandSignal
    {
        try await database.answeringOnce("SetDemandStatus", requestID: requestID) { session in
            try await session.lock("signal \(signalID)")
            var signal = try await loadSignal(signalID, session)
            if signal.status == .fulfilled || signal.status == .withdrawn, signal.status != status {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signalID)\" is already \(CSV.cell(signal.status)) and cannot change")
            }
            signal.status = status
            try await writeSignal(signal, session)
            return signal
        }
    }

    func answer(_ answer: MarketplaceV1.DemandAnswer, requestID: String) async throws -> MarketplaceV1.DemandAnswer {
        try await database.idempotent(operation: "AnswerDemand", requestID: requestID) { session in
            try await session.lock("signal \(answer.signalID)")
            let signal = try await loadSignal(
                try DemandSignalID(checking: answer.signalID, "answer.signal_id"), session)
            guard signal.status == .open || signal.status == .matched else {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signal.id)\" is \(CSV.cell(signal.status)): it takes no answers")
            }
            var answer = answer
            answer.id = DemandAnswerID.mint().text
            try await session.execute(
                "INSERT INTO demand_answers (id, signal_id, body) VALUES ($1, $2, $3)",
                [.of(answer.id), .of(answer.signalID), .blob(answer.serializedBytes())])
            return answer.id
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM demand_answers WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "answer \(id) vanished")
            }
            return try row.message(MarketplaceV1.DemandAnswer.self)
        }
    }

    func answers(signalID: DemandSignalID) async throws -> [MarketplaceV1.DemandAnswer] {
        try await database.read { session in
            _ = try await loadSignal(signalID, session)
            return try await session.query(
                "SELECT body FROM demand_answers WHERE signal_id = $1 ORDER BY id", [.of(signalID.text)]
            )
            .map { try $0.message(MarketplaceV1.DemandAnswer.self) }
        }
    }
}
