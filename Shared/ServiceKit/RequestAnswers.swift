import RPC
import Schema
import Storage

/// Answers kept per request id, so that a change retried — by the runtime on another instance after a connection
/// was lost, or by a person after a timeout — answers as its first attempt did and is never applied twice.
///
/// Creates keep the id of what they made in the request log and load it again (`Database.idempotent`); changes
/// to what exists (an update, a completion, a status) keep their whole answer here instead, since loading the
/// record again would show later changes, or fail a version check the first attempt passed. The answer is written
/// in the change's own transaction: a committed change always has it, a rolled-back one never does.
public enum RequestAnswers {
    /// The migration that makes the table; each service lists it among its own, with a version of its own.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "answers to changes, by request id") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                """
                CREATE TABLE request_answers (
                    operation TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    answer \(blob) NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (operation, request_id))
                """
            ]
        }
    }
}

extension Database {
    /// Runs `change` in a transaction once per (operation, request id) and answers a replay with the answer the
    /// first attempt gave, without running it again. The transaction claims the request id before it changes
    /// anything: two attempts racing on two instances meet at the table's key, the second waits for the first,
    /// and once the first commits its insert fails and its second try reads the first's answer (had it gone on, it
    /// would have failed on what the first changed, a version say).
    public func answeringOnce<Answer: ProtoMessage>(
        _ operation: String, requestID: String,
        _ change: @escaping @Sendable (any SQLSession) async throws -> Answer
    ) async throws -> Answer {
        for attempt in 1...2 {
            do {
                return try await transaction { session in
                    if let answer = try await Self.storedAnswer(Answer.self, operation, requestID, session) {
                        return answer
                    }
                    try await session.execute(
                        """
                        INSERT INTO request_answers (operation, request_id, answer, created_at)
                        VALUES ($1, $2, $3, $4)
                        """, [.of(operation), .of(requestID), .blob([]), .of(Clock.unixMicros())])
                    let answer = try await change(session)
                    try await session.execute(
                        "UPDATE request_answers SET answer = $3 WHERE operation = $1 AND request_id = $2",
                        [.of(operation), .of(requestID), .blob(answer.serializedBytes())])
                    return answer
                }
            } catch let error as StorageError where error.kind == .uniqueViolation && attempt == 1 {
                continue
            }
        }
        throw StorageError(.other, "request \(requestID) of \(operation) could be neither applied nor found")
    }

    /// The answer kept for (operation, request id), if a first attempt was committed: for handlers that check
    /// something before their change (a version read, a call to another service) that a replay would fail.
    public func keptAnswer<Answer: ProtoMessage>(_ type: Answer.Type, _ operation: String, requestID: String)
        async throws -> Answer?
    {
        try await read { session in try await Self.storedAnswer(type, operation, requestID, session) }
    }

    private static func storedAnswer<Answer: ProtoMessage>(
        _ type: Answer.Type, _ operation: String, _ requestID: String, _ session: any SQLSession
    ) async throws -> Answer? {
        guard
            let row = try await session.first(
                "SELECT answer FROM request_answers WHERE operation = $1 AND request_id = $2",
                [.of(operation), .of(requestID)])
        else { return nil }
        return try row.message(Answer.self, column: "answer")
    }
}
