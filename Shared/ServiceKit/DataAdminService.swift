import API
import Foundation
import RPC
import Schema
import Storage

/// `fairtrade.admin.v1.DataAdmin`, served by every process that keeps data: online backups of its database (see
/// `Database.backup(named:)`) and its audit trail (`AuditTrail`).
public struct DataAdminService: AdminV1.DataAdminHandler {
    let database: any Database
    /// Names the backup files ("producer-….sqlite").
    let serviceName: String

    public init(database: any Database, serviceName: String) {
        self.database = database
        self.serviceName = serviceName
    }

    public func backup(_ request: AdminV1.BackupRequest, context: ServerContext) async throws -> AdminV1.BackupResponse
    {
        let takenAt = Clock.unixMicros()
        let path = try await storage { try await database.backup(named: serviceName) }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        context.logger.info("backup written", metadata: ["path": "\(path)", "bytes": "\(bytes)"])
        return AdminV1.BackupResponse(path: path, bytes: bytes, takenAt: CommonV1.Timestamp(unixMicros: takenAt))
    }

    public func listAuditEvents(_ request: AdminV1.ListAuditEventsRequest, context: ServerContext) async throws
        -> AdminV1.ListAuditEventsResponse
    {
        try await AuditTrail.list(request, in: database)
    }
}
