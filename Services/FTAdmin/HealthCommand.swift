import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin health [SERVICE…] [--watch]`: every instance of every service, each asked on its own: whether it
/// serves, what it runs, since when, and whether it reaches its database.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that every instance of every service is up, serving and reaching its database.",
        discussion: """
            Each instance listed in FT_<SERVICE>_ENDPOINTS (or given with --endpoint) is asked on its own. STATUS is \
            SERVING, NOT_SERVING (up, but shutting down or without its database) or UNREACHABLE (no answer within \
            --timeout, default 2 s). The exit status is 1 when any instance is not SERVING.
            """)

    @Argument(help: "Services to check (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []

    @Flag(help: "Check again every --interval seconds until interrupted (Ctrl-C).")
    var watch = false

    @Option(help: "Seconds between checks with --watch.")
    var interval: Double = 2

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard interval.isFinite, interval >= 0.2, interval <= 3600 else {
            throw ValidationError("--interval \(interval) is not a number of seconds from 0.2 to 3600")
        }
    }

    /// What one instance answered.
    struct Instance {
        let service: ServiceAddress
        let endpoint: String
        var status = "UNREACHABLE"
        var description: ReflectionV1.InstanceStatus?
        var error: RPCError?
    }

    func run() async throws {
        try await reportingErrors {
            let targets = try global.services(services)
            guard watch else {
                let instances = await check(targets)
                print(render(instances))
                let down = instances.filter { $0.status != "SERVING" }
                if !down.isEmpty {
                    throw CommandFailure(
                        description: "UNAVAILABLE: \(down.count) of \(instances.count) instances not serving: "
                            + down.map { "\($0.service.executable) at \($0.endpoint)" }.joined(separator: ", "))
                }
                return
            }
            let terminal = isatty(STDOUT_FILENO) == 1
            while true {
                let instances = await check(targets)
                // On a terminal the table is redrawn in place; otherwise each check follows the last.
                if terminal { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                if global.output == .human {
                    print("\(Self.clock(Date())) — every \(Self.seconds(interval)), Ctrl-C to stop")
                }
                print(render(instances))
                if !terminal { print() }
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
    }

    /// Asks every instance of `targets` at once.
    func check(_ targets: [ServiceAddress]) async -> [Instance] {
        let asked = targets.flatMap { target in
            (global.endpoint.isEmpty ? target.endpoints(environment: processEnvironment) : global.endpoint).map {
                (target, $0)
            }
        }
        var options = global.callOptions(defaultSeconds: 2)
        options.retryEnabled = false
        let settled = options
        return await withTaskGroup(of: (Int, Instance).self) { group in
            for (index, (service, endpoint)) in asked.enumerated() {
                group.addTask {
                    var instance = Instance(service: service, endpoint: endpoint)
                    do {
                        let channel = try global.channel(to: service, endpoints: [endpoint])
                        defer { channel.close() }
                        async let health = HealthV1.HealthClient(channel: channel).check(
                            HealthV1.HealthCheckRequest(), options: settled)
                        async let described = ReflectionV1.ServerReflectionClient(channel: channel).describeInstance(
                            ReflectionV1.DescribeInstanceRequest(), options: settled)
                        instance.status = Self.short(try await health.status)
                        instance.description = try? await described
                    } catch let error as RPCError {
                        instance.error = error
                    } catch {
                        instance.error = RPCError(.unavailable, "\(error)")
                    }
                    return (index, instance)
                }
            }
            var instances: [(Int, Instance)] = []
            for await instance in group { instances.append(instance) }
            return instances.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func render(_ instances: [Instance]) -> String {
        switch global.output {
        case .json:
            return JSONValue.array(instances.map(json)).text(indent: 0)
        case .human:
            var table = Table("SERVICE", "INSTANCE", "STATUS", "VERSION", "UP", "DATABASE")
            for instance in instances {
                let described = instance.description
                table.add(
                    instance.service.executable, instance.endpoint, instance.status, described?.version ?? "-",
                    described?.startedAt.map { Self.uptime(since: $0) } ?? "-",
                    instance.error.map { "\($0.code): \($0.message)" }
                        ?? described?.database.map(Self.database) ?? "-")
            }
            return table.render()
        }
    }

    func json(_ instance: Instance) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("service", .string(instance.service.executable)), ("endpoint", .string(instance.endpoint)),
            ("status", .string(instance.status)),
        ]
        if let described = instance.description {
            members += [
                ("version", .string(described.version)), ("instance_id", .string(described.instanceID)),
                ("calls_in_flight", .unsigned(described.callsInFlight)),
            ]
            if let started = described.startedAt {
                members.append(("uptime_seconds", .integer(max(0, Self.nowMicros() - started.unixMicros) / 1_000_000)))
            }
            if let database = described.database {
                members.append(
                    (
                        "database",
                        .object([
                            ("backend", .string(database.backend)), ("location", .string(database.location)),
                            ("reachable", .bool(database.reachable)), ("error", .string(database.error)),
                        ])
                    ))
            }
        }
        if let error = instance.error { members.append(("error", .string(error.description))) }
        return .object(members)
    }

    static func short(_ status: HealthV1.ServingStatus) -> String {
        status.protoName.replacingOccurrences(of: "SERVING_STATUS_", with: "")
    }

    static func database(_ database: ReflectionV1.DatabaseStatus) -> String {
        let place = "\(database.backend == "postgres" ? "PostgreSQL" : "SQLite") \(database.location)"
        return database.reachable ? "\(place): reachable" : "\(place): UNREACHABLE (\(database.error))"
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// How long since `start`, to the two largest units: "3d 4h", "2h 13m", "45s".
    static func uptime(since start: CommonV1.Timestamp) -> String {
        let seconds = max(0, nowMicros() - start.unixMicros) / 1_000_000
        let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(seconds % 60)s" }
        return "\(seconds)s"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    static func clock(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
