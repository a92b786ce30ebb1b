import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

extension Role: ExpressibleByArgument {}

/// `ftadmin keys`: CURVE key pairs for people, services and timers, and what each service admits.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Make CURVE key pairs and list the keys each service admits.",
        discussion: """
            Every client (a person's ftadmin, each service calling another, the backup timer) and every service has a \
            key pair. NAME.key is the public certificate: copy it into the authorized keys folder of each service NAME \
            calls (a service's own NAME.key is what its clients name in FT_<SERVICE>_PUBLIC_KEY). NAME.key_secret \
            stays on NAME's host, readable by its owner alone. The files are CZMQ zcert certificates, which pyzmq's \
            zmq.auth.load_certificate reads too.
            """,
        subcommands: [Generate.self, Show.self, List.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key pair: DIR/NAME.key (public) and DIR/NAME.key_secret (mode 0600).")

        @Argument(help: "The key's name, in logs and the audit trail: letters, digits, '.', '-', '_'.")
        var name: String
        @Option(help: "What the key may do: \(Role.names).")
        var role: Role
        @Option(help: "The folder to write into (made if missing).")
        var out: String
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard CurveCertificate.validName(name) else {
                throw ValidationError(
                    "key name \"\(name)\" must be 1 to 64 letters, digits, '.', '-' or '_', not starting with '.'")
            }
        }

        func run() async throws {
            let certificate = CurveCertificate.generate(name: name, role: role)
            let files = try certificateFile { () throws(CertificateError) in
                try certificate.write(directory: out, name: name)
            }
            switch global.output {
            case .json:
                print(
                    JSONValue.object([
                        ("name", .string(name)), ("role", .string(role.rawValue)),
                        ("public_key", .string(certificate.publicKey.z85)), ("public_file", .string(files.publicFile)),
                        ("secret_file", .string(files.secretFile)),
                    ]).text(indent: 0))
            case .human:
                let publicUse =
                    role == .service
                    ? "public certificate: into the authorized keys folder of every service \(name) calls; "
                        + "its clients name it in FT_<SERVICE>_PUBLIC_KEY"
                    : "public certificate: into the authorized keys folder of every service \(name) calls"
                print(
                    """
                    key "\(name)" (role \(role)), public key \(certificate.publicKey.z85)
                      \(files.publicFile)  \(publicUse)
                      \(files.secretFile)  secret (mode 0600): keep it on \(name)'s host; give it with --key or FT_KEY_FILE
                    """)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a certificate's name, role and public key (public or secret file).")

        @Argument(help: "A NAME.key or NAME.key_secret file.") var file: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let certificate = try certificateFile { () throws(CertificateError) in
                file.hasSuffix(".key_secret")
                    ? try CurveCertificate.read(secretFile: file) : try CurveCertificate.read(publicFile: file)
            }
            switch global.output {
            case .json:
                print(
                    JSONValue.object(
                        certificate.metadata.map { ($0.name, JSONValue.string($0.value)) } + [
                            ("public_key", .string(certificate.publicKey.z85)),
                            ("secret", .bool(certificate.keyPair != nil)),
                        ]
                    ).text(indent: 0))
            case .human:
                var table = Table("FIELD", "VALUE")
                for property in certificate.metadata { table.add(property.name, property.value) }
                table.add("public-key", certificate.publicKey.z85)
                table.add("secret", certificate.keyPair != nil ? "yes (keep it private)" : "no: a public certificate")
                print(table.render())
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the keys each service admits, the certificates it could not admit, and its policy.",
            discussion: "Asks each service (admin role): what it read last from its authorized keys folder.")

        @Argument(help: "Services (producer, assistance, marketplace-info); all by default.")
        var services: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let answers = try await global.eachService(try global.services(services)) { _, channel in
                    try await AdminV1.AccessAdminClient(channel: channel).listAuthorizedKeys(
                        AdminV1.ListAuthorizedKeysRequest(), options: global.callOptions)
                }
                switch global.output {
                case .json:
                    let entries = try answers.map { target, answer in
                        switch answer {
                        case .success(let keys):
                            serviceEntry(
                                target, "keys",
                                .success(
                                    try DescriptorJSON.decode(
                                        keys.serializedBytes(), as: AdminV1.ListAuthorizedKeysResponse.protoName)))
                        case .failure(let error): serviceEntry(target, "keys", .failure(error))
                        }
                    }
                    print(JSONValue.array(entries).text(indent: 0))
                case .human:
                    var table = Table("SERVICE", "KEY", "ROLE", "PUBLIC KEY", "FILE")
                    var notes: [String] = []
                    for (target, answer) in answers {
                        switch answer {
                        case .failure(let error):
                            table.add(target.executable, "FAILED (\(error))", "", "", "")
                        case .success(let keys) where !keys.curve:
                            table.add(
                                target.executable, "(no CURVE: admits every caller, on loopback only)", "", "", "")
                        case .success(let keys):
                            for key in keys.keys {
                                table.add(target.executable, key.name, key.role, key.publicKey, key.file)
                            }
                            notes += keys.problems.map {
                                "\(target.executable): not admitted: \($0.file): \($0.problem)"
                            }
                            notes.append(
                                "\(target.executable): its own key \"\(keys.serverKeyName)\" \(keys.serverPublicKey); "
                                    + "\(keys.keys.count) keys from \(keys.directory), read \(show(time: keys.loadedAt))"
                                    + (keys.policyFile.isEmpty
                                        ? "; no policy (the roles' defaults)"
                                        : "; policy \(keys.policyFile): \(keys.policyRules.joined(separator: "; "))"))
                        }
                    }
                    print(table.render())
                    for note in notes { print(note) }
                }
                for case (_, .failure(let error)) in answers { throw fail(error) }
            }
        }
    }
}

/// Runs certificate file work, reporting a file that cannot be used as `error: FAILED_PRECONDITION: …` and exit 1.
func certificateFile<T>(_ body: () throws(CertificateError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError("FAILED_PRECONDITION: \(error)")
        throw ExitCode(1)
    }
}

/// A timestamp for people: "2026-12-04 21:30:05 UTC".
func show(time: CommonV1.Timestamp?) -> String {
    guard let micros = time?.unixMicros else { return "" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
}
