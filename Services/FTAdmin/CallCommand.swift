import ArgumentParser
import Logging
import RPC
import Schema
import ServiceKit

/// `ftadmin call SERVICE METHOD --json '{…}'`: calls any method of any service. The JSON becomes the request
/// message and the response becomes JSON, both through the protoc-c descriptors (field names as in the .proto).
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Call any method with a JSON request.",
        discussion: """
            SERVICE is a process (producer, assistance, marketplace-info) or a fully qualified RPC service name \
            (with --endpoint). METHOD is a method of the process's main service, of fairtrade.health.v1.Health or \
            of fairtrade.reflection.v1.ServerReflection, or Service/Method.
            Example: ftadmin call producer Check --json '{"service": ""}'
            """)

    @Argument(help: "The process or RPC service to call.")
    var service: String

    @Argument(help: "The method: Name or fully.qualified.Service/Name.")
    var method: String

    @Option(help: "The request as JSON; {} for an empty request.")
    var json: String = "{}"

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            let (address, schema, method) = try resolve()
            let request: [UInt8]
            do {
                request = try DescriptorJSON.encode(try JSONValue.parse(json), as: method.inputType)
            } catch {
                throw ValidationError("request for \(schema.name)/\(method.name): \(error)")
            }
            let channel =
                try address.map { try global.channel(to: $0) }
                ?? ClientChannel(
                    endpoints: global.endpoint, configuration: .init(targetName: schema.name),
                    logger: .init(label: "ftadmin", factory: { _ in SwiftLogNoOpLogHandler() }))
            defer { channel.close() }
            let response = try await channel.call(
                service: schema.name, method: method.name, idempotent: method.idempotent, payload: request,
                options: global.callOptions)
            let document = try DescriptorJSON.decode(response, as: method.outputType)
            print(document.text(indent: global.output == .json ? 0 : 2))
        }
    }

    /// Which process to reach, and which service and method to call there.
    private func resolve() throws -> (ServiceAddress?, ServiceSchema, ServiceSchema.Method) {
        let address = ServiceDirectory.find(service)
        var candidates: [ServiceSchema]
        if let address {
            candidates = [address.rpcService, "fairtrade.health.v1.Health", "fairtrade.reflection.v1.ServerReflection"]
                .compactMap(SchemaRegistry.service(named:))
        } else if let schema = SchemaRegistry.service(named: service) {
            guard !global.endpoint.isEmpty else {
                throw ValidationError("calling \(service) directly needs --endpoint")
            }
            candidates = [schema]
        } else {
            let processes = ServiceDirectory.all.map(\.shortName).joined(separator: ", ")
            throw ValidationError(
                "unknown service \"\(service)\": name a process (\(processes)) or an RPC service of the schema")
        }
        var methodName = method
        if let slash = method.lastIndex(of: "/") {
            let serviceName = String(method[..<slash])
            methodName = String(method[method.index(after: slash)...])
            guard let schema = SchemaRegistry.service(named: serviceName) else {
                throw ValidationError("unknown RPC service \"\(serviceName)\"")
            }
            candidates = [schema]
        }
        for schema in candidates {
            if let found = schema.method(named: methodName) { return (address, schema, found) }
        }
        let known = candidates.flatMap { schema in schema.methods.map { "\(schema.name)/\($0.name)" } }
        throw ValidationError("no method \"\(methodName)\" here; methods: \(known.joined(separator: ", "))")
    }
}
