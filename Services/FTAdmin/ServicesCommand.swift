import API
import ArgumentParser
import RPC
import Schema
import ServiceKit

/// `ftadmin services [SERVICE…]`: what each process serves — services, methods, message types.
struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services", abstract: "List the services and methods each process serves.")

    @Argument(help: "Services to list (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            var documents: [JSONValue] = []
            var text: [String] = []
            for target in try global.services(services) {
                let channel = try global.channel(to: target)
                defer { channel.close() }
                let listing = try await ReflectionV1.ServerReflectionClient(channel: channel)
                    .listServices(ReflectionV1.ListServicesRequest(), options: global.callOptions)
                documents.append(
                    try DescriptorJSON.decode(
                        listing.serializedBytes(), as: ReflectionV1.ListServicesResponse.protoName))
                var table = Table("METHOD", "REQUEST", "RESPONSE", "IDEMPOTENT")
                for service in listing.services {
                    for method in service.methods {
                        table.add(
                            "\(service.name)/\(method.name)", method.inputType, method.outputType,
                            method.idempotent ? "yes" : "no")
                    }
                    if service.methods.isEmpty { table.add("\(service.name) (no methods yet)", "", "", "") }
                }
                text.append(
                    "\(listing.process) \(listing.version) instance \(listing.instanceID) at \(listing.endpoints.joined(separator: ", "))\n"
                        + table.render())
            }
            switch global.output {
            case .json: print(JSONValue.array(documents).text(indent: 0))
            case .human: print(text.joined(separator: "\n\n"))
            }
        }
    }
}
