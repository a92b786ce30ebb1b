import API
import ArgumentParser
import RPC
import Schema
import ServiceKit

/// `ftadmin health [SERVICE…]`: the serving status of each service process.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Check that services are up and serving.")

    @Argument(help: "Services to check (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            let targets = try global.services(services)
            let results = await withTaskGroup(of: (Int, Result<HealthV1.ServingStatus, RPCError>).self) { group in
                for (index, target) in targets.enumerated() {
                    group.addTask {
                        do {
                            let channel = try global.channel(to: target)
                            defer { channel.close() }
                            let client = HealthV1.HealthClient(channel: channel)
                            let response = try await client.check(
                                HealthV1.HealthCheckRequest(service: target.rpcService), options: global.callOptions)
                            return (index, .success(response.status))
                        } catch let error as RPCError {
                            return (index, .failure(error))
                        } catch {
                            return (index, .failure(RPCError(.unavailable, "\(error)")))
                        }
                    }
                }
                var results: [(Int, Result<HealthV1.ServingStatus, RPCError>)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }.map(\.1)
            }
            let endpoints = targets.map {
                global.endpoint.isEmpty ? $0.endpoints(environment: processEnvironment) : global.endpoint
            }
            switch global.output {
            case .json:
                let entries: [JSONValue] = zip(targets, zip(endpoints, results)).map { target, pair in
                    var members: [(String, JSONValue)] = [
                        ("service", .string(target.executable)),
                        ("endpoints", .array(pair.0.map { .string($0) })),
                    ]
                    switch pair.1 {
                    case .success(let status): members.append(("status", .string(status.protoName)))
                    case .failure(let error):
                        members.append(("status", .string("UNREACHABLE")))
                        members.append(("error", .string(error.description)))
                    }
                    return .object(members)
                }
                print(JSONValue.array(entries).text(indent: 0))
            case .human:
                var table = Table("SERVICE", "ENDPOINTS", "STATUS")
                for (target, (endpoints, result)) in zip(targets, zip(endpoints, results)) {
                    let status =
                        switch result {
                        case .success(let status):
                            status.protoName.replacingOccurrences(of: "SERVING_STATUS_", with: "")
                        case .failure(let error): "UNREACHABLE (\(error))"
                        }
                    table.add(target.executable, endpoints.joined(separator: ","), status)
                }
                print(table.render())
            }
            if let failure = results.lazy.compactMap({ result -> RPCError? in
                if case .failure(let error) = result { return error }
                return nil
            }).first {
                throw fail(failure)
            }
            if results.contains(where: { (try? $0.get()) != .serving }) {
                throw CommandFailure(description: "UNAVAILABLE: not every service is serving")
            }
        }
    }
}
