import ArgumentParser
import Foundation

/// `ftadmin`: the admin client of the fair trade system. It calls every service: health, the listing of services
/// and methods, metrics, and any method by name with a JSON request.
@main
struct FTAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftadmin",
        abstract: "Administer the fair trade capacity-building services.",
        discussion: """
            Services are found at their default endpoints (tcp://127.0.0.1:7101 producer, :7102 assistance, \
            :7103 marketplace-info) or at FT_PRODUCER_ENDPOINTS, FT_ASSISTANCE_ENDPOINTS, \
            FT_MARKETPLACE_INFO_ENDPOINTS (comma-separated), or at --endpoint. With a key (--key or FT_KEY_FILE) \
            calls go over CURVE, to the servers whose public certificates FT_PRODUCER_PUBLIC_KEY, \
            FT_ASSISTANCE_PUBLIC_KEY and FT_MARKETPLACE_INFO_PUBLIC_KEY name.
            On an error ftadmin prints "error: CODE: message" on stderr and exits non-zero.
            """,
        subcommands: [
            HealthCommand.self, ServicesCommand.self, CallCommand.self, MetricsCommand.self, ProducerCommand.self,
            AssistanceCommand.self, MarketCommand.self, ReportCommand.self, ExamplesCommand.self, BackupCommand.self,
            KeysCommand.self, AuditCommand.self, ExportCommand.self, ImportCommand.self,
        ])

    /// Parses and runs the command like swift-argument-parser's own `main`, except that a usage error is reported
    /// like every other error, `error: INVALID_ARGUMENT: …` on stderr, so that scripts read one format. Usage
    /// errors are the parser's (a missing or unknown option) and every `ValidationError` a command throws about
    /// its arguments (a date, an amount or an enum value it cannot read, a method that does not exist). A parse
    /// error is followed by the command's usage. The exit status stays 64 (EX_USAGE); a failed call exits 1.
    static func main() async {
        let parsed: any ParsableCommand
        do { parsed = try parseAsRoot() } catch {
            exit(reporting: error, message: { fullMessage(for: $0) })
        }
        do {
            var command = parsed
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            // Found while running (an unknown method, say): the message names the problem; the usage would be
            // the subcommand's without its parents, so it is left out.
            exit(reporting: error, message: { message(for: $0) })
        }
    }

    private static func exit(reporting error: any Error, message: (any Error) -> String) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        var text = message(error)
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        FileHandle.standardError.write(Data("error: INVALID_ARGUMENT: \(text)\n".utf8))
        exit(withError: ExitCode.validationFailure)
    }
}
