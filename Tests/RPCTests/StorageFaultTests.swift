import API
import Foundation
import RPC
import Schema
import Storage
import TestSupport
import Testing

/// Storage faults are reported for what they are: a database file deleted, a disk turned read-only or full, a
/// PostgreSQL server stopped. Writes answer UNAVAILABLE naming the cause (at once, not at the call's deadline), health
/// turns NOT_SERVING for as long as the service cannot write, and nothing is acknowledged that a restart would not
/// find. Disk faults need root (a tmpfs of the test's own); CI runs as root.
@Suite("Storage faults", .serialized)
struct StorageFaultTests {
    static var isRoot: Bool { getuid() == 0 }

    /// Runs a shell command; its exit status and output.
    static func shell(_ command: String) async throws -> (status: Int32, output: String) {
        try await runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
    }

    /// Runs a shell command that leaves a daemon behind (pg_ctl start), its output discarded: the daemon would hold
    /// an output pipe open for ever. Its exit status.
    static func daemon(_ command: String) async throws -> Int32 {
        try await offPool {
            let process = Process()
            // Through Python's subprocess with close_fds: the daemon must inherit none of this process's descriptors
            // (Foundation watches its child through one, and never sees it end while the daemon holds a copy).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [
                "-c",
                "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1], shell=True, close_fds=True, "
                    + "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))",
                command,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static func group(_ name: String) -> ProducerV1.CreateProducerGroupRequest {
        .init(
            group: ProducerV1.ProducerGroup(name: name, kind: .cooperative, country: "GH", crafts: ["baskets"]),
            requestID: RequestID.make())
    }

    /// Waits (up to 10 s) for the process's health to be `status`; true if it came.
    static func health(_ client: HealthV1.HealthClient, becomes status: HealthV1.ServingStatus) async throws -> Bool {
        for _ in 0..<100 {
            if (try? await client.check(.init(), options: CallOptions(timeout: .seconds(2))).status) == status {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("the SQLite file deleted under the service: writes refused UNAVAILABLE naming it, health NOT_SERVING")
    func fileDeleted() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-fault-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withServiceProcess("producer-service", arguments: ["--data-dir", folder.path]) { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            let health = HealthV1.HealthClient(channel: channel)
            _ = try await producer.createProducerGroup(Self.group("Before"))
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(
                    atPath: folder.appendingPathComponent("producer.sqlite").path + suffix)
            }
            let error = await failure {
                try await producer.createProducerGroup(Self.group("After"), options: CallOptions(retryEnabled: false))
            }
            #expect(
                error?.code == .unavailable && error?.message.contains("was deleted") == true,
                "\(String(describing: error))")
            #expect(try await Self.health(health, becomes: .notServing))
        }
    }

    @Test("a disk that fills up, then turns read-only: writes UNAVAILABLE naming why, health NOT_SERVING")
    func diskFaults() async throws {
        guard Self.isRoot else {
            Issue.record("this test mounts a file system of its own, which needs root (CI runs as root)")
            return
        }
        // A small ext4 on a loop device: full when a filler takes its room; read-only when ext4 meets an error
        // (mounted errors=remount-ro, as Debian mounts its disks; the error is ext4's own test trigger).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-disk-\(UUID())")
        let image = folder.path + ".img"
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let made = try await Self.shell(
            "dd if=/dev/zero of='\(image)' bs=1M count=8 2>/dev/null && device=$(losetup -f --show '\(image)') && "
                + "blockdev --setrw \"$device\" && mkfs.ext4 -q \"$device\" && mount -o errors=remount-ro \"$device\" '\(folder.path)' && echo \"$device\""
        )
        try #require(made.status == 0, "a loop device could not be mounted: \(made.output)")
        let device = made.output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            Task {
                _ = try? await Self.shell(
                    "umount -l '\(folder.path)'; blockdev --setrw \(device); losetup -d \(device); rm -rf '\(folder.path)' '\(image)'"
                )
            }
        }
        try await withServiceProcess("producer-service", arguments: ["--data-dir", folder.path]) { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            let health = HealthV1.HealthClient(channel: channel)
            _ = try await producer.createProducerGroup(Self.group("Before"))

            // Full.
            _ = try await Self.shell("dd if=/dev/zero of='\(folder.path)/filler' bs=64k 2>/dev/null; sync")
            var large = ProducerV1.ProducerGroup(name: "Full", kind: .cooperative, country: "GH")
            large.notes = String(repeating: "x", count: 5000)
            let full = await failure {
                for index in 0..<200 {
                    large.name = "Full \(index)"
                    _ = try await producer.createProducerGroup(
                        .init(group: large, requestID: RequestID.make()), options: CallOptions(retryEnabled: false))
                }
            }
            #expect(full?.code == .unavailable && full?.message.contains("full") == true, "\(String(describing: full))")
            #expect(try await Self.health(health, becomes: .notServing))
            try FileManager.default.removeItem(atPath: folder.path + "/filler")
            #expect(try await Self.health(health, becomes: .serving))
            _ = try await producer.createProducerGroup(Self.group("Room again"))

            // Read-only.
            let name = URL(fileURLWithPath: device).lastPathComponent
            let broken = try await Self.shell("echo test > /sys/fs/ext4/\(name)/trigger_fs_error")
            try #require(broken.status == 0, "\(broken.output)")
            let failing = await failure {
                for index in 0..<20 {
                    _ = try await producer.createProducerGroup(
                        Self.group("Failing \(index)"), options: CallOptions(retryEnabled: false))
                }
            }
            #expect(
                failing?.code == .unavailable && failing?.message.contains("disk") == true,
                "\(String(describing: failing))")
            #expect(try await Self.health(health, becomes: .notServing))
        }
    }

    @Test("PostgreSQL slow to take connections: opening waits for its first one, longer than work waits for one")
    func postgresSlowToConnect() async throws {
        guard let url = ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"],
            var components = URLComponents(string: url), let port = components.port
        else {
            Issue.record(
                "FT_TEST_POSTGRES_URL is not set: run `make test`, which starts a PostgreSQL server for the tests")
            return
        }
        // Every connection through the relay waits 2.5 s before PostgreSQL hears of it: more than the 1 s work waits
        // for a connection of a pool that is up, as a first connection may on a loaded machine.
        let relay = try TCPRelay(to: "tcp://127.0.0.1:\(port)", delayingConnections: .milliseconds(2500))
        defer { relay.stop() }
        components.port = relay.port
        let started = ContinuousClock.now
        let database = try await openDatabase(.postgres(url: components.string!), migrations: [], logger: quietLogger)
        let waited = ContinuousClock.now - started
        let rows: [SQLRow]
        do {
            rows = try await database.query("SELECT 1 AS one", [])
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        #expect(rows.count == 1)
        #expect(waited >= .seconds(2), "the relay held the connection only \(waited)")
    }

    @Test("PostgreSQL stopped: calls UNAVAILABLE within about a second, health NOT_SERVING, and back once it starts")
    func postgresDown() async throws {
        guard Self.isRoot else {
            Issue.record("this test runs a PostgreSQL server of its own as the postgres user, which needs root")
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-pgdown-\(UUID())")
        let port = freeLoopbackPort()
        let bin = "/usr/lib/postgresql/15/bin"
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pg = "runuser -u postgres -- \(bin)/pg_ctl -D '\(folder.path)/data' -l '\(folder.path)/log' -w -t 60"
        let options = "-o \"-p \(port) -k '\(folder.path)' -c listen_addresses=127.0.0.1\""
        let made = try await Self.daemon(
            "chown postgres '\(folder.path)' && runuser -u postgres -- \(bin)/initdb -D '\(folder.path)/data' "
                + "-U postgres --auth=trust && \(pg) \(options) start")
        try #require(made == 0, "PostgreSQL did not start (\(made))")
        defer {
            Task {
                _ = try? await Self.daemon("\(pg) -m immediate stop; rm -rf '\(folder.path)'")
            }
        }
        let url = "postgres://postgres@127.0.0.1:\(port)/postgres"
        try await withServiceProcess("producer-service", arguments: ["--database-url", url]) { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            let health = HealthV1.HealthClient(channel: channel)
            _ = try await producer.createProducerGroup(Self.group("Before"))
            let stopped = try await Self.shell("\(pg) -m fast stop 2>&1")
            try #require(stopped.status == 0, "\(stopped.output)")
            let started = ContinuousClock.now
            let error = await failure {
                try await producer.createProducerGroup(
                    Self.group("While down"), options: CallOptions(timeout: .seconds(20), retryEnabled: false))
            }
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(3), "the call waited \(ContinuousClock.now - started)")
            #expect(try await Self.health(health, becomes: .notServing))
            let restarted = try await Self.daemon("\(pg) \(options) start")
            try #require(restarted == 0, "PostgreSQL did not start again (\(restarted))")
            #expect(try await Self.health(health, becomes: .serving))
            _ = try await producer.createProducerGroup(Self.group("After"))
        }
    }
}
