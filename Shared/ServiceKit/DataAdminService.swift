import API
import Foundation
import RPC
import Schema
import Storage

/// `fairtrade.admin.v1.DataAdmin`, served by every process that keeps data: online backups of its SQLite file into
/// a `backups` folder beside it.
public struct DataAdminService: AdminV1.DataAdminHandler {
    let database: any Database
    let location: DatabaseLocation
    /// Names the backup files ("producer-….sqlite").
    let serviceName: String

    public init(database: any Database, location: DatabaseLocation, serviceName: String) {
        self.database = database
        self.location = location
        self.serviceName = serviceName
    }

    public func backup(_ request: AdminV1.BackupRequest, context: ServerContext) async throws -> AdminV1.BackupResponse
    {
        guard case .sqlite(let databasePath) = location else {
            // PostgreSQL: the store says why it does not, as FAILED_PRECONDITION.
            try await storage { try await database.backup(to: "") }
            throw RPCError(.failedPrecondition, "this service's database cannot be backed up by the service")
        }
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("backups")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RPCError(
                .failedPrecondition, "cannot make the backup folder \(folder.path): \(error.localizedDescription)")
        }
        let takenAt = Clock.unixMicros()
        let path = Self.freshPath(in: folder.path, service: serviceName, unixMicros: takenAt)
        try await storage { try await database.backup(to: path) }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        context.logger.info("backup written", metadata: ["path": "\(path)", "bytes": "\(bytes)"])
        return AdminV1.BackupResponse(path: path, bytes: bytes, takenAt: CommonV1.Timestamp(unixMicros: takenAt))
    }

    /// `folder/service-YYYYMMDDTHHMMSSZ.sqlite`, with "-2", "-3", … added when a backup of that second exists.
    static func freshPath(in folder: String, service: String, unixMicros: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        let stamp = formatter.string(from: Date(timeIntervalSince1970: Double(unixMicros) / 1_000_000))
        var path = "\(folder)/\(service)-\(stamp).sqlite"
        var copy = 1
        while FileManager.default.fileExists(atPath: path) {
            copy += 1
            path = "\(folder)/\(service)-\(stamp)-\(copy).sqlite"
        }
        return path
    }
}
