import CProtobufC

/// A service of the schema as protoc-c describes it: its name and methods with their message types.
public struct ServiceSchema: Sendable, Hashable {
    /// One method of a service.
    public struct Method: Sendable, Hashable {
        public let name: String
        /// Fully qualified message names.
        public let inputType: String
        public let outputType: String
        /// Marked NO_SIDE_EFFECTS or IDEMPOTENT in the .proto: safe to retry on UNAVAILABLE.
        public let idempotent: Bool
        public let serverStreaming: Bool
        /// Marked NO_SIDE_EFFECTS in the .proto: it changes nothing (a reader may call it).
        public let noSideEffects: Bool
        /// The roles whose keys may call it by default, from the `roles:` line of its comment in the .proto
        /// (docs/ACCESS.md): "admin", "editor", "reader", "service", "backup".
        public let roles: [String]
    }

    /// The fully qualified name, e.g. `"fairtrade.health.v1.Health"`.
    public let name: String
    public let methods: [Method]

    package init(
        _ descriptor: UnsafePointer<ProtobufCServiceDescriptor>, idempotent: Set<String>,
        serverStreaming: Set<String>, noSideEffects: Set<String>, roles: [String: [String]]
    ) {
        let service = descriptor.pointee
        name = String(cString: service.name)
        methods = (0..<Int(service.n_methods)).map { index in
            let method = service.methods[index]
            let methodName = String(cString: method.name)
            return Method(
                name: methodName,
                inputType: String(cString: method.input.pointee.name),
                outputType: String(cString: method.output.pointee.name),
                idempotent: idempotent.contains(methodName),
                serverStreaming: serverStreaming.contains(methodName),
                noSideEffects: noSideEffects.contains(methodName), roles: roles[methodName] ?? [])
        }
    }

    public func method(named name: String) -> Method? { methods.first { $0.name == name } }
}

extension SchemaRegistry {
    /// The service with this fully qualified name, if the schema has one.
    public static func service(named name: String) -> ServiceSchema? { servicesByName[name] }

    private static let servicesByName = Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0) })
}
