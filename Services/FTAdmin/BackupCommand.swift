import API
import ArgumentParser
import RPC
import Schema
import ServiceKit

/// `ftadmin backup [SERVICE…]`: an online backup of each service's embedded database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up each service's SQLite database while it keeps serving.",
        discussion: """
            Each service writes a consistent copy of its database into a "backups" folder beside its database file \
            (on its own host), named after it and the time: var/backups/producer-20261130T034512Z.sqlite. To \
            restore, stop the service, replace its database file with the copy (deleting the -wal and -shm files \
            beside it), and start it again. A service on PostgreSQL refuses: back PostgreSQL up with pg_dump.
            """)

    @Argument(help: "Services to back up (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            let results = try await global.eachService(try global.services(services)) { _, channel in
                try await AdminV1.DataAdminClient(channel: channel).backup(
                    AdminV1.BackupRequest(),
                    options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
            }
            switch global.output {
            case .json:
                let entries: [JSONValue] = results.map { target, result in
                    var members: [(String, JSONValue)] = [("service", .string(target.executable))]
                    switch result {
                    case .success(let backup):
                        members += [("path", .string(backup.path)), ("bytes", .integer(backup.bytes))]
                    case .failure(let error): members.append(("error", .string(error.description)))
                    }
                    return .object(members)
                }
                print(JSONValue.array(entries).text(indent: 0))
            case .human:
                var table = Table("SERVICE", "BACKUP", "SIZE")
                for (target, result) in results {
                    switch result {
                    case .success(let backup): table.add(target.executable, backup.path, "\(backup.bytes) bytes")
                    case .failure(let error): table.add(target.executable, "FAILED (\(error))", "")
                    }
                }
                print(table.render())
            }
            for case (_, .failure(let error)) in results { throw fail(error) }
        }
    }
}
