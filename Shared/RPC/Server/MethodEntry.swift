import CZeroMQ
import Logging
import Metrics
import Schema
import Synchronization

/// A method's handler with its metrics and who may call it; a class, so that a call holds it by one reference.
final class MethodEntry: Sendable {
    let handler: MethodHandler
    let metrics: ServerMetrics.MethodMetrics
    /// The roles the .proto gives it (docs/ACCESS.md).
    let roles: RoleSet
    let noSideEffects: Bool

    init(handler: MethodHandler, schema: ServiceSchema.Method?, metrics: ServerMetrics.MethodMetrics) {
        self.handler = handler
        self.metrics = metrics
        self.roles = RoleSet((schema?.roles ?? []).compactMap(Role.init(rawValue:)))
        self.noSideEffects = schema?.noSideEffects ?? false
    }
}
