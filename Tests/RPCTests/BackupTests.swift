import Foundation
import Storage
import TestSupport
import Testing

/// `ftadmin backup` against a running producer-service: the copy is a whole, consistent database, and putting it
/// back in place of the service's file (OPERATIONS.md's restore) brings back exactly what was there when it was taken.
@Suite("Backups of a service's database")
struct BackupTests {
    @Test("a backup taken while the service serves restores what was there when it was taken")
    func backupAndRestore() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-backup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let databasePath = folder.appendingPathComponent("producer.sqlite").path
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/examples/producer-groups.csv"
        ).standardizedFileURL.path
        let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        func startService() async throws -> ChildProcess {
            let service = try ChildProcess(
                builtExecutable("producer-service"),
                arguments: ["--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "warning"])
            try await waitUntilServing(endpoint)
            return service
        }
        func ftadmin(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await runTool("ftadmin", arguments, environment: ["FT_PRODUCER_ENDPOINTS": endpoint])
        }

        var service = try await startService()
        let imported = try await ftadmin(["producer", "import", example])
        #expect(imported.status == 0, "\(imported.output)")
        let backup = try await ftadmin(["backup", "producer", "--output", "json"])
        #expect(backup.status == 0, "\(backup.output)")
        let path = try #require(
            backup.output.split(separator: "\"").first { $0.hasSuffix(".sqlite") }.map(String.init),
            "\(backup.output)")
        #expect(path.hasPrefix(folder.appendingPathComponent("backups").path))
        // A second backup in the same second gets a name of its own.
        let second = try await ftadmin(["backup", "producer"])
        #expect(second.status == 0 && !second.output.contains(path + " "), "\(second.output)")

        // The copy is a whole database: it opens, passes SQLite's integrity check and holds the three groups.
        let copy = try await openDatabase(.sqlite(path: path), migrations: [], logger: quietLogger)
        let integrity = try await copy.query("PRAGMA integrity_check", [])
        let groups = try await copy.query("SELECT id FROM producer_groups", [])
        await copy.close()
        #expect(try integrity.first?.text("integrity_check") == "ok")
        #expect(groups.count == 3)

        // Written after the backup: gone once the backup is restored.
        let later = try await ftadmin([
            "producer", "create", "--name", "Later Group", "--kind", "workshop", "--country", "KH",
        ])
        #expect(later.status == 0, "\(later.output)")
        await service.stop(signal: SIGTERM)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
        try FileManager.default.copyItem(atPath: path, toPath: databasePath)
        service = try await startService()
        let list = try await ftadmin(["producer", "list", "--output", "json"])
        #expect(list.status == 0 && list.output.contains("Bolga Basket Weavers"), "\(list.output)")
        #expect(!list.output.contains("Later Group"), "\(list.output)")
        await service.stop()
    }
}
