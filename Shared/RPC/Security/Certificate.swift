import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A CURVE certificate in CZMQ's `zcert` text format (ZPL, ZeroMQ RFC 4), which pyzmq's `zmq.auth` reads and writes
/// too: a `metadata` section (this system's certificates carry `name` and `role`) and a `curve` section with the
/// `public-key` and, in a secret certificate, the `secret-key`, both in Z85.
///
/// A key pair lives in two files: `NAME.key`, the public certificate, which servers keep in their authorized keys
/// folder and clients use to name the server they expect; and `NAME.key_secret`, readable by its owner alone.
public struct CurveCertificate: Sendable {
    public let publicKey: CurvePublicKey
    /// The key pair, for a secret certificate; nil for a public one.
    public let keyPair: CurveKeyPair?
    /// The metadata section, in file order.
    public let metadata: [Property]

    /// One `name = "value"` line of the metadata section.
    public struct Property: Sendable, Hashable {
        public let name: String
        public let value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The metadata value `name`, if the certificate has it.
    public subscript(metadata name: String) -> String? { metadata.first { $0.name == name }?.value }

    /// The certificate's `name`.
    public var name: String? { self[metadata: "name"] }
    /// The certificate's `role`, if it names one of `Role`.
    public var role: Role? { self[metadata: "role"].flatMap(Role.init(rawValue:)) }

    /// A new key pair with this name and role.
    public static func generate(name: String, role: Role) -> CurveCertificate {
        let pair = CurveKeyPair.generate()
        return CurveCertificate(
            publicKey: pair.publicKey, keyPair: pair,
            metadata: [Property("name", name), Property("role", role.rawValue)])
    }

    init(publicKey: CurvePublicKey, keyPair: CurveKeyPair?, metadata: [Property]) {
        self.publicKey = publicKey
        self.keyPair = keyPair
        self.metadata = metadata
    }

    /// Names a key may have: they become file names and appear in logs and the audit trail.
    public static func validName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F
            } && !name.hasPrefix(".")
    }

    // MARK: reading

    /// Reads a public (or secret) certificate: the public key and the metadata.
    public static func read(publicFile path: String) throws(CertificateError) -> CurveCertificate {
        let parsed = try parse(path)
        return CurveCertificate(publicKey: parsed.publicKey, keyPair: nil, metadata: parsed.metadata)
    }

    /// Reads a secret certificate, refusing one that anyone but its owner may read.
    public static func read(secretFile path: String) throws(CertificateError) -> CurveCertificate {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw CertificateError(file: path, problem: "cannot be read: \(String(cString: strerror(errno)))")
        }
        let mode = status.st_mode & 0o777
        // systemd's credentials folder is private to the service; where it grants read access through an ACL the
        // group bits show the ACL's mask, which is no one else.
        let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"].map { $0 + "/" }
        let managed = credentials.map { path.hasPrefix($0) } ?? false
        if mode & (managed ? 0o007 : 0o077) != 0 {
            throw CertificateError(
                file: path,
                problem:
                    "is readable by others than its owner (mode \(String(mode, radix: 8))): a secret key must be "
                    + "private; run `chmod 600 \(path)`")
        }
        let parsed = try parse(path)
        guard let secret = parsed.secretKey else {
            throw CertificateError(
                file: path,
                problem:
                    "holds no secret-key: it is a public certificate (the secret one is NAME.key_secret, beside it)")
        }
        guard let pair = CurveKeyPair(secretZ85: secret.value) else {
            throw CertificateError(file: path, line: secret.line, problem: "secret-key is not 40 characters of Z85")
        }
        guard pair.publicKey == parsed.publicKey else {
            throw CertificateError(
                file: path, line: secret.line, problem: "secret-key does not belong to the public-key of the file")
        }
        return CurveCertificate(publicKey: parsed.publicKey, keyPair: pair, metadata: parsed.metadata)
    }

    /// Whether the file holds a secret key, which a public certificate must not.
    static func holdsSecretKey(_ path: String) -> Bool { (try? parse(path))?.secretKey != nil }

    private struct Parsed {
        var publicKey: CurvePublicKey
        var secretKey: (value: String, line: Int)?
        var metadata: [Property]
    }

    /// ZPL as zcert writes it: sections at the left margin, `name = value` lines indented beneath them, `#`
    /// comments. Only `metadata` and `curve` mean anything here; other sections are read past.
    private static func parse(_ path: String) throws(CertificateError) -> Parsed {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CertificateError(file: path, problem: "cannot be read as UTF-8 text: \(error.localizedDescription)")
        }
        var section = ""
        var metadata: [Property] = []
        var publicKey: CurvePublicKey?
        var secretKey: (String, Int)?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let content = line.drop { $0 == " " || $0 == "\t" }
            if content.isEmpty || content.hasPrefix("#") { continue }
            let indented = content.startIndex != line.startIndex
            guard indented else {
                section = String(content.prefix { $0 != " " && $0 != "#" })
                continue
            }
            guard let equals = content.firstIndex(of: "=") else {
                // A nested section name: nothing this system reads.
                continue
            }
            let name = content[..<equals].trimmingCharacters(in: .whitespaces)
            guard let value = unquote(content[content.index(after: equals)...]) else {
                throw CertificateError(
                    file: path, line: number, problem: "the value of \(name) is not closed by a quote")
            }
            switch (section, name) {
            case ("metadata", _):
                metadata.append(Property(name, value))
            case ("curve", "public-key"):
                guard let key = CurvePublicKey(z85: value) else {
                    throw CertificateError(file: path, line: number, problem: "public-key is not 40 characters of Z85")
                }
                publicKey = key
            case ("curve", "secret-key"):
                secretKey = (value, number)
            default:
                continue
            }
        }
        guard let publicKey else {
            throw CertificateError(
                file: path, problem: "holds no public-key in a curve section: it is not a CURVE certificate")
        }
        return Parsed(publicKey: publicKey, secretKey: secretKey.map { (value: $0.0, line: $0.1) }, metadata: metadata)
    }

    /// A ZPL value: quoted with `"` or `'` (no escapes), or bare up to a space or a comment.
    private static func unquote(_ raw: Substring) -> String? {
        let value = raw.drop { $0 == " " || $0 == "\t" }
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            return String(value.prefix { $0 != " " && $0 != "\t" && $0 != "#" })
        }
        let rest = value.dropFirst()
        guard let end = rest.firstIndex(of: quote) else { return nil }
        return String(rest[..<end])
    }

    // MARK: writing

    /// Writes `directory/NAME.key` (the public certificate, mode 0644) and `directory/NAME.key_secret` (mode 0600),
    /// refusing to replace files that exist. Returns both paths.
    public func write(directory: String, name: String) throws(CertificateError) -> (
        publicFile: String, secretFile: String
    ) {
        guard let pair = keyPair else {
            throw CertificateError(file: directory, problem: "cannot take a public certificate: it has no secret key")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CertificateError(file: directory, problem: "cannot be made: \(error.localizedDescription)")
        }
        let publicFile = (directory as NSString).appendingPathComponent(name + ".key")
        let secretFile = (directory as NSString).appendingPathComponent(name + ".key_secret")
        for file in [publicFile, secretFile] where FileManager.default.fileExists(atPath: file) {
            throw CertificateError(
                file: file, problem: "exists already: remove it first, or give the new key another name")
        }
        try Self.create(secretFile, mode: 0o600, contents: text(secret: pair))
        try Self.create(publicFile, mode: 0o644, contents: text(secret: nil))
        return (publicFile, secretFile)
    }

    /// The certificate as zcert writes it; with the secret key for the secret file.
    func text(secret pair: CurveKeyPair?) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var lines = ["#   ****  Generated on \(formatter.string(from: Date())) UTC by fairtrade (ftadmin keys)  ****"]
        if pair == nil {
            lines += [
                "#   ZeroMQ CURVE Public Certificate",
                "#   Exchange securely, or use a secure mechanism to verify the contents",
                "#   of this file after exchange. Store public certificates in your home",
                "#   directory, in the .curve subdirectory.",
            ]
        } else {
            lines += [
                "#   ZeroMQ CURVE **Secret** Certificate",
                "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
            ]
        }
        lines += ["", "metadata"]
        lines += metadata.map { "    \($0.name) = \"\($0.value)\"" }
        lines += ["curve", "    public-key = \"\(publicKey.z85)\""]
        if let pair { lines.append("    secret-key = \"\(pair.secretZ85)\"") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Creates `path` with `mode` from the start (never readable by others, not even for a moment).
    private static func create(_ path: String, mode: mode_t, contents: String) throws(CertificateError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw CertificateError(file: path, problem: "cannot be created: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have taken bits away from a public certificate; a secret one keeps 0600 either way.
        fchmod(fd, mode)
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw CertificateError(file: path, problem: "cannot be written: \(String(cString: strerror(errno)))")
        }
    }
}

/// A certificate file that cannot be used, naming the file, the line when one is at fault, and what to do.
public struct CertificateError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let problem: String

    public init(file: String, line: Int? = nil, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        line.map { "\(file), line \($0): \(problem)" } ?? "\(file) \(problem)"
    }
}
