import Domain
import RPC

/// The one place where the field's rules meet the transport: a rule's problem becomes INVALID_ARGUMENT with every
/// field violation (AIP-193), a name that fits no record NOT_FOUND, what the records
/// as they stand do not allow FAILED_PRECONDITION, and a contradiction of the rules INTERNAL.
extension DomainError: RPCStatusConvertible {
    public var rpcError: RPCError {
        let code: RPCError.Code =
            switch kind {
            case .invalid: .invalidArgument
            case .notFound: .notFound
            case .refused: .failedPrecondition
            case .broken: .internalError
            }
        return RPCError(
            code, message,
            fieldViolations: violations.map { FieldViolation(field: $0.field, description: $0.description) })
    }
}
