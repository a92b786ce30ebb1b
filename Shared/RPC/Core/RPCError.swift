import Schema

/// The outcome of a call that did not succeed: a gRPC status code and a sentence a person can act on.
///
/// Handlers throw it to answer with a status; clients receive it. Anything else a handler throws becomes INTERNAL,
/// without its text reaching the client.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 17 status codes of gRPC, with their numbers.
    public enum Code: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case ok = 0
        case cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
            permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, internalError,
            unavailable, dataLoss, unauthenticated

        /// The upper-case name gRPC uses, e.g. `"DEADLINE_EXCEEDED"`.
        public var description: String { RpcV1.StatusCode(rawValue: rawValue).protoName }

        /// The code named `name` (`"NOT_FOUND"`), or with this number.
        public init?(name: String) {
            guard let code = Code.allCases.first(where: { $0.description == name.uppercased() }) else { return nil }
            self = code
        }

        var wire: RpcV1.StatusCode { RpcV1.StatusCode(rawValue: rawValue) }

        init(wire: RpcV1.StatusCode) { self = Code(rawValue: wire.rawValue) ?? .unknown }
    }

    public var code: Code
    public var message: String
    /// Which request fields were wrong, for INVALID_ARGUMENT.
    public var fieldViolations: [FieldViolation]
    /// Trailing metadata that came with the status.
    public var trailers: Metadata

    public init(
        _ code: Code, _ message: String, fieldViolations: [FieldViolation] = [], trailers: Metadata = Metadata()
    ) {
        self.code = code
        self.message = message
        self.fieldViolations = fieldViolations
        self.trailers = trailers
    }

    /// Whether a client may retry the call as it is: only UNAVAILABLE, as gRPC's default retry policy.
    public var isRetriable: Bool { code == .unavailable }

    /// `CODE: message`, the form `ftadmin` prints.
    public var description: String { "\(code): \(message)" }

    /// INVALID_ARGUMENT naming the field that is wrong and why.
    public static func invalidArgument(field: String, _ description: String) -> RPCError {
        RPCError(
            .invalidArgument, "\(field): \(description)",
            fieldViolations: [FieldViolation(field: field, description: description)])
    }
}

/// One wrong field of a request (after google.rpc.BadRequest.FieldViolation).
public struct FieldViolation: Sendable, Hashable {
    /// The field's path in the request, as in the .proto, e.g. `"group.country"`.
    public var field: String
    public var description: String

    public init(field: String, description: String) {
        self.field = field
        self.description = description
    }
}

/// An error of a layer beneath the transport (the field's rules, storage) that knows the status it stands for. A
/// server answers a handler's such error with `rpcError`; the conformance lives where both layers meet (ServiceKit).
public protocol RPCStatusConvertible: Error {
    var rpcError: RPCError { get }
}

/// A status is its own status: code that takes any error with a status need not ask for RPCError apart.
extension RPCError: RPCStatusConvertible {
    public var rpcError: RPCError { self }
}
