import Logging
import Schema

/// A service's methods bound to a handler, ready to be served by `RPCServer`. Generated per service as
/// `Handler.registration`.
public struct ServiceRegistration: Sendable {
    public let schema: ServiceSchema
    let methods: [String: MethodHandler]

    public init(schema: ServiceSchema, methods: [MethodHandler]) {
        self.schema = schema
        self.methods = Dictionary(methods.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var name: String { schema.name }
}

/// One method of a registration: decodes the request, runs the handler, encodes the response.
public struct MethodHandler: Sendable {
    let name: String
    let invoke:
        @Sendable (_ payload: [UInt8], _ options: DecodeOptions, _ context: ServerContext) async throws -> [UInt8]

    public static func unary<Request, Response>(
        _ method: UnaryMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) -> MethodHandler {
        MethodHandler(name: method.method) { payload, options, context in
            let request: Request
            do throws(SchemaError) {
                request = try Request(serializedBytes: payload, options: options)
            } catch {
                throw RPCError(requestDecodingFailure: error, messageName: Request.protoName)
            }
            return try await body(request, context).serializedBytes()
        }
    }
}

extension RPCError {
    /// The status for a request payload that cannot be decoded: INVALID_ARGUMENT, or RESOURCE_EXHAUSTED when it
    /// is over a limit.
    init(requestDecodingFailure error: SchemaError, messageName: String) {
        switch error.code {
        case .messageTooLarge, .allocationBudgetExceeded:
            self.init(.resourceExhausted, "request refused: \(error)")
        case .unknownEnumValue(let field, let value):
            self = .invalidArgument(field: field, "unknown enum value \(value)")
        case .invalidFields(let problems):
            self.init(
                .invalidArgument, problems.map { "\($0.field): \($0.reason)" }.joined(separator: "; "),
                fieldViolations: problems.map { FieldViolation(field: $0.field, description: $0.reason) })
        default:
            self.init(.invalidArgument, "request is not a valid \(messageName): \(error)")
        }
    }
}
