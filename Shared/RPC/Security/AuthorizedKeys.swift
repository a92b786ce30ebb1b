import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The public certificates a server admits: a folder of `NAME.key` files, read as CZMQ's `zcertstore` reads one,
/// and read again when it changes (`refresh`), so that keys are added and revoked without a restart.
///
/// Each certificate must carry a `name` (unique in the folder) and a `role`; a file that does not is left out and
/// listed among the `problems`, and so is a file that holds a secret key (only public certificates belong here).
/// Secret certificates (`*.key_secret`) and other files are not read.
public final class AuthorizedKeys: Sendable {
    /// One admitted key.
    public struct Key: Sendable, Hashable {
        public let name: String
        public let role: Role
        public let publicKey: CurvePublicKey
        /// The file it was read from.
        public let file: String
    }

    /// A file that is not admitted, and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let file: String
        public let problem: String
        public var description: String { "\(file): \(problem)" }
    }

    /// The folder as it was at one reading.
    public struct Snapshot: Sendable {
        /// Sorted by name.
        public let keys: [Key]
        public let problems: [Problem]
        /// When it was read, in microseconds since 1970.
        public let loadedAtUnixMicros: Int64
        /// Counts the readings that changed what is admitted; a server compares it with what it cached per
        /// connection.
        public let generation: UInt64
        let byPublicKey: [String: Key]
        let stamps: [String: FileStamp]

        /// The key with this public key, if admitted.
        public func key(_ publicKey: String) -> Key? { byPublicKey[publicKey] }
    }

    /// What identifies a file's content cheaply: a change of any of these means it is read again.
    struct FileStamp: Hashable {
        let inode: UInt64
        let size: Int64
        let modified: Int64
    }

    /// What one reading changed.
    public struct Change: Sendable {
        public let added: [Key]
        public let removed: [Key]
        public let problems: [Problem]
        public var isEmpty: Bool { added.isEmpty && removed.isEmpty }
    }

    public let directory: String
    private let state: Mutex<Snapshot>

    /// Reads `directory`; throws when it is not a readable folder (a server does not start without its keys).
    public init(directory: String) throws(CertificateError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw CertificateError(
                file: directory, problem: "is not a folder: give the folder of the public certificates to admit")
        }
        self.directory = directory
        let stamps = Self.stamps(directory)
        state = Mutex(Self.read(directory, stamps: stamps, generation: 1))
    }

    /// What is admitted now.
    public var current: Snapshot { state.withLock { $0 } }

    /// The generation of `current`, without copying it.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Reads the folder again when a certificate was added, removed or changed since the last reading (or always,
    /// with `force`); returns what changed, nil when nothing was read.
    @discardableResult
    public func refresh(force: Bool = false) -> Change? {
        let stamps = Self.stamps(directory)
        let previous = current
        guard force || stamps != previous.stamps else { return nil }
        let next = Self.read(directory, stamps: stamps, generation: previous.generation + 1)
        let before = Set(previous.keys)
        let after = Set(next.keys)
        state.withLock { $0 = next }
        return Change(
            added: next.keys.filter { !before.contains($0) }, removed: previous.keys.filter { !after.contains($0) },
            problems: next.problems)
    }

    private static func certificateFiles(_ directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".key") && !$0.hasPrefix(".") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    private static func stamps(_ directory: String) -> [String: FileStamp] {
        var stamps: [String: FileStamp] = [:]
        for file in certificateFiles(directory) {
            var status = stat()
            guard stat(file, &status) == 0 else { continue }
            stamps[file] = FileStamp(
                inode: UInt64(status.st_ino), size: Int64(status.st_size),
                modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
        }
        return stamps
    }

    private static func read(_ directory: String, stamps: [String: FileStamp], generation: UInt64) -> Snapshot {
        var keys: [Key] = []
        var problems: [Problem] = []
        var byPublicKey: [String: Key] = [:]
        var byName: [String: Key] = [:]
        for file in certificateFiles(directory) {
            func refuse(_ problem: String) { problems.append(Problem(file: file, problem: problem)) }
            let certificate: CurveCertificate
            do {
                certificate = try CurveCertificate.read(publicFile: file)
            } catch {
                refuse(error.line.map { "line \($0): \(error.problem)" } ?? error.problem)
                continue
            }
            if CurveCertificate.holdsSecretKey(file) {
                refuse("holds a secret key: only public certificates (NAME.key) belong in the authorized keys folder")
                continue
            }
            guard let name = certificate.name, CurveCertificate.validName(name) else {
                refuse("has no valid name in its metadata (name = \"...\": letters, digits, '.', '-', '_')")
                continue
            }
            guard let roleName = certificate[metadata: "role"] else {
                refuse("has no role in its metadata (role = \"...\": one of \(Role.names))")
                continue
            }
            guard let role = Role(rawValue: roleName) else {
                refuse("role \"\(roleName)\" is not one of \(Role.names)")
                continue
            }
            if let other = byPublicKey[certificate.publicKey.z85] {
                refuse("holds the same public key as \(other.file)")
                continue
            }
            if let other = byName[name] {
                refuse("names the key \"\(name)\", as \(other.file) does: key names must be unique")
                continue
            }
            let key = Key(name: name, role: role, publicKey: certificate.publicKey, file: file)
            keys.append(key)
            byPublicKey[key.publicKey.z85] = key
            byName[name] = key
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Snapshot(
            keys: keys.sorted { $0.name < $1.name }, problems: problems,
            loadedAtUnixMicros: Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000, generation: generation,
            byPublicKey: byPublicKey, stamps: stamps)
    }
}
