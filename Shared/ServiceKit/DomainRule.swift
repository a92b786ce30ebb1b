import Domain
import RPC

/// Runs a rule of the field's (which throws DomainError) inside code that answers with RPC statuses.
public func rpc<Value>(_ rule: () throws(DomainError) -> Value) throws(RPCError) -> Value {
    do {
        return try rule()
    } catch {
        throw error.rpcError
    }
}
