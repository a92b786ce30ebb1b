import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin audit [SERVICE…]`: each service's audit trail — every change and every refused call, who made it.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "List the audit trail: every change to the data, and every refused call.",
        discussion: """
            Each service keeps its own trail in its database: the time, the caller's key name and role, the method, \
            the request id, the status (OK for a change, PERMISSION_DENIED or UNAUTHENTICATED for a refused call) \
            and the ids the change wrote. A change's entry is written in the change's own transaction. Only the admin \
            role may read it. Here --key filters by key name; your own secret certificate is FT_KEY_FILE or \
            --key-file.
            """)

    @Argument(help: "Services (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []
    @Option(help: "Entries from this day (YYYY-MM-DD, UTC) or time (YYYY-MM-DDTHH:MM:SSZ) on.")
    var since: String?
    @Option(help: "Only the calls of this key name.")
    var key: String?
    @Option(help: "Only this method: its name (MergeProducerGroups) or Service/Method.")
    var method: String?
    @Option(help: "At most this many entries per service (default 100, oldest first).")
    var limit = 100

    @Option(help: "Output format: human (tables) or json.")
    var output: GlobalOptions.Output = .human
    @Option(help: "Seconds to wait for each answer.")
    var timeout: Double?
    @Option(help: "Call this endpoint instead of the service's configured ones (repeatable).")
    var endpoint: [String] = []
    @Option(help: "Your secret certificate (NAME.key_secret; default FT_KEY_FILE).")
    var keyFile: String?

    func validate() throws {
        guard limit > 0 && limit <= 100_000 else { throw ValidationError("--limit must be 1 to 100000, got \(limit)") }
        if let since { _ = try Self.micros(since) }
    }

    /// The options every other command takes, from this command's own (`--key` here filters, so it cannot be the
    /// key file as it is elsewhere).
    var global: GlobalOptions {
        get throws {
            var arguments = ["--output", output.rawValue]
            if let timeout { arguments += ["--timeout", "\(timeout)"] }
            for endpoint in endpoint { arguments += ["--endpoint", endpoint] }
            if let keyFile { arguments += ["--key-file", keyFile] }
            return try GlobalOptions.parse(arguments)
        }
    }

    /// A day or a time as microseconds since 1970, UTC.
    static func micros(_ text: String) throws -> Int64 {
        if let day = ISODate(iso: text) { return Int64(day.dayNumber) * 86_400_000_000 }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) else {
            throw ValidationError(
                "--since: \"\(text)\" is neither a day (2026-12-01) nor a time (2026-12-01T08:00:00Z)")
        }
        return Int64(date.timeIntervalSince1970 * 1_000_000)
    }

    func run() async throws {
        let global = try self.global
        try await reportingErrors {
            let query = AdminV1.ListAuditEventsRequest(
                since: try since.map { CommonV1.Timestamp(unixMicros: try Self.micros($0)) }, keyName: key ?? "",
                method: method ?? "", pageSize: Int32(min(limit, 1000)))
            let results = try await global.eachService(try global.services(services)) { _, channel in
                let client = AdminV1.DataAdminClient(channel: channel)
                var events: [AdminV1.AuditEvent] = []
                var request = query
                repeat {
                    let page = try await client.listAuditEvents(request, options: global.callOptions)
                    events += page.events
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty && events.count < limit
                return Array(events.prefix(limit))
            }
            switch global.output {
            case .json:
                var entries: [JSONValue] = []
                for (target, result) in results {
                    switch result {
                    case .success(let events):
                        for event in events {
                            entries.append(
                                serviceEntry(
                                    target, "event",
                                    .success(
                                        try DescriptorJSON.decode(
                                            event.serializedBytes(), as: AdminV1.AuditEvent.protoName))))
                        }
                    case .failure(let error):
                        entries.append(serviceEntry(target, "event", .failure(error)))
                    }
                }
                print(JSONValue.array(entries).text(indent: 0))
            case .human:
                var table = Table("SERVICE", "TIME", "KEY", "ROLE", "METHOD", "STATUS", "REQUEST ID", "IDS")
                for (target, result) in results {
                    switch result {
                    case .success(let events):
                        for event in events {
                            let ids =
                                event.ids.joined(separator: " ")
                                + (Int64(event.idsTotal) > Int64(event.ids.count)
                                    ? " (+\(Int64(event.idsTotal) - Int64(event.ids.count)) more)" : "")
                            table.add(
                                target.executable, show(time: event.at), event.keyName.isEmpty ? "-" : event.keyName,
                                event.role.isEmpty ? "-" : event.role,
                                String(event.method.split(separator: "/").last ?? ""), event.status, event.requestID,
                                event.status == "OK" ? ids : event.detail)
                        }
                    case .failure(let error):
                        table.add(target.executable, "FAILED (\(error))", "", "", "", "", "", "")
                    }
                }
                print(table.render())
            }
            for case (_, .failure(let error)) in results { throw fail(error) }
        }
    }
}
