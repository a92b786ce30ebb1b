import API
import ArgumentParser
import Foundation
import RPC
import Schema

/// Spreadsheets (CSV) in and out: `ftadmin producer import` and `export`, `ftadmin market import-prices`.
extension ProducerCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or update producer groups from a CSV file; all rows or none.",
            discussion: """
                The first row names the columns: id, version, name, local_name, kind, country, region, crafts, \
                processes_in_house, processes_outsourced, members_women, members_men, members_other, \
                founded_year, contact_person, contact_phone, contact_email, contact_address, certifications, \
                minimum_order_amount, minimum_order_unit, lead_time_days, status, notes (any order; lists \
                separated by ";"; a certification is scheme|reference|valid until, as in \
                "WFTO Guaranteed Fair Trade|GH-017|2027-06-30"). `producer export` writes the same columns.

                --mode add (the default) adds every row as a new group. --mode update changes the groups the id \
                column names: non-empty cells overwrite, empty cells keep what is stored, and a version cell must \
                still match. --mode add-or-update updates rows with an id and adds the others. Any wrong cell \
                fails the whole import, naming its row and column; --dry-run shows what would happen.
                """)
        @OptionGroup var input: ImportFile
        @Option(help: "Whether rows add groups, update them, or both.") var mode: ProducerV1.ImportMode = .add
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let csv = try input.bytes()
            let importMode = mode
            try await withProducer(self, global) { client in
                // An answer too long for one message comes in parts: the rest is asked for again with the same
                // request id (a retry, which reads the kept answer and imports nothing twice) from its next row.
                var response = ProducerV1.ImportProducerGroupsResponse()
                var rowsFrom: Int32 = 0
                let requestID = input.requestID ?? RequestID.make()
                let progress = Progress()
                repeat {
                    if rowsFrom > 0 {
                        let rows = Int(response.created + response.updated + response.unchanged)
                        progress.update("rows of the answer read", done: response.rows.count, of: rows)
                    }
                    let part = try await input.send(requestID: requestID, progress: progress) { requestID in
                        try await client.importProducerGroups(
                            ProducerV1.ImportProducerGroupsRequest(
                                csv: csv, mode: importMode, validateOnly: input.dryRun, requestID: requestID,
                                source: input.source, rowsFrom: rowsFrom),
                            options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
                    }
                    let rows = response.rows + part.rows
                    response = part
                    response.rows = rows
                    rowsFrom = part.nextRow
                } while rowsFrom > 0
                // The groups a row may duplicate, by name as well.
                let names = await global.pageNames(groups: Set(response.rows.flatMap(\.possibleDuplicates)))
                try emit(response, global) { importSummary(response, names: names) }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write producer groups as CSV, the columns `producer import` reads (id and version included).")
        @Option(help: "Country code.") var country: String?
        @Option(help: "Craft.") var craft: String?
        @Option(help: "Kind.") var kind: ProducerV1.GroupKind?
        @Option(help: "Text in the name.") var name: String?
        @Option(help: "Status.") var status: ProducerV1.GroupStatus?
        @Option(name: .customLong("file"), help: "Write to this file instead of standard output.") var path: String?
        @Option(parsing: .unconditional, help: "Groups fetched per call (1-5000).") var pageSize: Int32 = 1000
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            // A path that cannot be written is found before any call.
            if let path, !FileManager.default.createFile(atPath: path, contents: nil) {
                throw ValidationError("--file: cannot write \(path) (no such directory, or no permission)")
            }
            try await withProducer(self, global) { client in
                var request = ProducerV1.ExportProducerGroupsRequest(
                    country: country ?? "", craft: craft ?? "", nameContains: name ?? "", pageSize: pageSize)
                if let kind { request.kind = kind }
                if let status { request.status = status }
                var csv = ""
                var count = 0
                let progress = Progress()
                repeat {
                    let page = try await client.exportProducerGroups(
                        request, options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
                    // Each page is a whole file; keep the first header only. (Lines end in CRLF, one Character.)
                    if csv.isEmpty {
                        csv = page.csv
                    } else if let header = page.csv.range(of: "\r\n") {
                        csv += page.csv[header.upperBound...]
                    }
                    count += Int(page.count)
                    request.pageToken = page.nextPageToken
                    if !request.pageToken.isEmpty { progress.update("groups exported so far", done: count) }
                } while !request.pageToken.isEmpty
                progress.finish()
                if let path {
                    do {
                        try csv.write(toFile: path, atomically: true, encoding: .utf8)
                    } catch {
                        throw CommandFailure(
                            description: "INTERNAL: cannot write \(path): \(error.localizedDescription)")
                    }
                    FileHandle.standardError.write(Data("\(count) groups written to \(path)\n".utf8))
                } else {
                    print(csv, terminator: "")
                }
            }
        }
    }
}

extension MarketCommand {
    struct ImportPrices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-prices", abstract: "Record price observations from a CSV file; all rows or none.",
            discussion: """
                The first row names the columns: product, market (id or name), price_type (producer, wholesale, \
                retail), unit, price (e.g. 40.00), currency, observed_on (YYYY-MM-DD) and, optional, source. An \
                import only adds: rows already recorded (equal in every column) are skipped, so a file imported \
                twice records nothing twice. Any wrong cell fails the whole import, naming its row and column; \
                --dry-run shows what would happen.
                """)
        @OptionGroup var input: ImportFile
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let csv = try input.bytes()
            try await withMarket(self, global) { client in
                let response = try await input.send { requestID in
                    try await client.importPrices(
                        MarketplaceV1.ImportPricesRequest(
                            csv: csv, validateOnly: input.dryRun, requestID: requestID, source: input.source),
                        options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
                }
                let names = await global.pageNames(groups: [])
                try emit(response, global) {
                    var lines: [String] = []
                    if !response.alerts.isEmpty {
                        var table = Table("ALERT", "PRODUCT", "MARKET", "DATE", "PRICE", "90-DAY MEDIAN", "RATIO")
                        for alert in response.alerts {
                            table.add(
                                short(alert.direction), alert.product, names.label(alert.marketID),
                                show(alert.observedOn),
                                formatMoney(alert.price), formatMoney(alert.trailingMedian),
                                String(format: "%.2f×", Double(alert.ratioBp) / 10000))
                        }
                        lines.append(table.render())
                    }
                    let skipped =
                        response.alreadyRecordedRows.isEmpty
                        ? ""
                        : "; already recorded, skipped: row "
                            + response.alreadyRecordedRows.map(String.init).joined(separator: ", ")
                    lines.append(
                        importOutcome(
                            response.validateOnly, response.importID,
                            wouldBe: "\(response.recorded) observations would be recorded\(skipped)",
                            was: "\(response.recorded) observations recorded, \(response.alerts.count) "
                                + "\(response.alerts.count == 1 ? "alert" : "alerts")\(skipped)"))
                    return lines.joined(separator: "\n")
                }
            }
        }
    }
}

extension AssistanceCommand {
    struct ImportTrainings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-trainings", abstract: "Record trainings from a CSV file; all rows or none.",
            discussion: """
                The first row names the columns: title, skill (code or name), held_on (YYYY-MM-DD), \
                trainer_organisation or trainer_group (an id or exact name, one per row), trained_groups (group ids \
                or names separated by ";"), women, men and, optional, other, cascades_from (a training id, or \
                "row N" for another row of the file), project and notes. An import only adds: rows equal to a \
                training already recorded are skipped, so a file imported twice records nothing twice. Any wrong \
                cell fails the whole import, naming its row and column; --dry-run shows what would happen.
                """)
        @OptionGroup var input: ImportFile
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let csv = try input.bytes()
            try await withAssistance(self, global) { client in
                let response = try await input.send { requestID in
                    try await client.importTrainings(
                        AssistanceV1.ImportTrainingsRequest(
                            csv: csv, validateOnly: input.dryRun, requestID: requestID, source: input.source),
                        options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
                }
                try emit(response, global) {
                    let table = importedRows(
                        "TRAINING", response.rows.map { ($0.row, $0.trainingID, $0.alreadyRecorded) })
                    let people = response.trainees ?? AssistanceV1.PeopleCount()
                    let trained =
                        "\(Int64(people.women) + Int64(people.men) + Int64(people.other)) people trained (women \(people.women), men \(people.men), other \(people.other))"
                    return table + "\n"
                        + importOutcome(
                            response.validateOnly, response.importID,
                            wouldBe: "\(response.recorded) trainings would be recorded, \(trained)",
                            was: "\(response.recorded) trainings recorded, \(trained)")
                }
            }
        }
    }
}

extension AssistanceCommand {
    struct ImportTransactions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-transactions", abstract: "Record money flows from a CSV file; all rows or none.",
            discussion: """
                The first row names the columns: project (id, IATI identifier or exact title), type (commitment, \
                disbursement, expenditure, loan, loan-repayment, advance-payment), amount (e.g. 8000.00), currency, \
                date (YYYY-MM-DD) and, optional, group (id or exact name; required for loans, repayments and \
                advance payments), provider (an organisation's id or exact name) and description. Rows are checked \
                in date order, so a loan repaid later in the file counts. An import only adds: rows equal to a \
                recorded flow are skipped, so a ledger imported twice records nothing twice. Any wrong cell fails \
                the whole import, naming its row and column; --dry-run shows what would happen.
                """)
        @OptionGroup var input: ImportFile
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let csv = try input.bytes()
            try await withAssistance(self, global) { client in
                let response = try await input.send { requestID in
                    try await client.importTransactions(
                        AssistanceV1.ImportTransactionsRequest(
                            csv: csv, validateOnly: input.dryRun, requestID: requestID, source: input.source),
                        options: global.callOptions(defaultSeconds: GlobalOptions.bulkTimeoutSeconds))
                }
                try emit(response, global) {
                    let table = importedRows(
                        "FLOW", response.rows.map { ($0.row, $0.transactionID, $0.alreadyRecorded) })
                    let totals =
                        response.recordedTotals.isEmpty
                        ? "nothing" : response.recordedTotals.map(formatMoney).joined(separator: ", ")
                    return table + "\n"
                        + importOutcome(
                            response.validateOnly, response.importID,
                            wouldBe: "\(response.recorded) flows would be recorded: \(totals)",
                            was: "\(response.recorded) flows recorded: \(totals)")
                }
            }
        }
    }
}

/// What an import did with each row: the record it became, or the one it equals when already recorded.
private func importedRows(_ noun: String, _ rows: [(row: Int32, id: String, alreadyRecorded: Bool)]) -> String {
    var table = Table("ROW", noun, "NOTE")
    for row in rows {
        let id = row.id.isEmpty ? (row.alreadyRecorded ? "(as an earlier row)" : "(new)") : row.id
        table.add(String(row.row), id, row.alreadyRecorded ? "already recorded, skipped" : "")
    }
    return table.render()
}

/// What every import command takes: the file, `--dry-run` and `--request-id`.
struct ImportFile: ParsableArguments {
    @Argument(help: "The file (CSV; XML for IATI), or - for standard input.") var file: String
    @Flag(help: "Check every row and show what would happen, writing nothing.") var dryRun = false
    @Option(help: "Request id, so that a retried import writes nothing twice (default: new).") var requestID: String?

    /// The file's bytes ("-": standard input), sent as they are: the service checks they are UTF-8 and names the
    /// row and column of any cell that is not.
    func bytes() throws -> [UInt8] {
        if file == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw ValidationError("\(file): cannot be read (no such file, or no permission)")
        }
        return [UInt8](contents)
    }

    /// How the import records where its rows came from.
    var source: String { file == "-" ? "standard input" : URL(fileURLWithPath: file).lastPathComponent }

    /// Makes the import call with its request id. One that timed out or found no server may have been written
    /// without its answer arriving: the error then says which request id finds out without importing twice.
    /// `requestID` (default: --request-id, or a new one) is the one a command's calls share when it makes several.
    func send<Response>(
        requestID: String? = nil, progress: Progress = Progress(),
        _ call: (_ requestID: String) async throws -> Response
    ) async throws -> Response {
        let requestID = requestID ?? self.requestID ?? RequestID.make()
        defer { progress.finish() }
        do {
            return try await progress.waiting("\(dryRun ? "checking" : "importing") \(source)") {
                try await call(requestID)
            }
        } catch let error as RPCError where !dryRun && [.deadlineExceeded, .unavailable].contains(error.code) {
            throw CommandFailure(
                description:
                    "\(error.code): \(error.message); the import may or may not have been written: run it again with --request-id \(requestID) to get its answer without importing twice"
            )
        }
    }
}

private func importSummary(_ response: ProducerV1.ImportProducerGroupsResponse, names: PageNames) -> String {
    var table = Table("ROW", "ACTION", "GROUP", "NAME", "DETAILS")
    for row in response.rows {
        var details: [String] = []
        if !row.changedFields.isEmpty { details.append("changed: " + row.changedFields.joined(separator: ", ")) }
        func more(_ total: Int32, _ listed: Int) -> String {
            Int(total) > listed ? " and \(Int(total) - listed) more" : ""
        }
        if !row.possibleDuplicates.isEmpty {
            details.append(
                "possible duplicate of "
                    + row.possibleDuplicates.map { id in names.groups[id].map { "\($0) (\(id))" } ?? id }
                    .joined(separator: ", ")
                    + more(row.possibleDuplicatesTotal, row.possibleDuplicates.count))
        }
        if !row.duplicateOfRows.isEmpty {
            details.append(
                "alike to row " + row.duplicateOfRows.map(String.init).joined(separator: ", ")
                    + more(row.duplicateOfRowsTotal, row.duplicateOfRows.count))
        }
        table.add(
            String(row.row), short(row.action), row.groupID.isEmpty ? "-" : row.groupID, row.name,
            details.joined(separator: "; "))
    }
    let totals = "\(response.created) added, \(response.updated) updated, \(response.unchanged) unchanged"
    return table.render() + "\n"
        + importOutcome(
            response.validateOnly, response.importID, wouldBe: "the import would make \(totals)", was: totals)
}

/// The last line of an import's answer: what a dry run would have done, or what the import did, under its id.
func importOutcome(_ validateOnly: Bool, _ importID: String, wouldBe: String, was: String) -> String {
    validateOnly ? "dry run: nothing written; \(wouldBe)" : "imported (\(importID)): \(was)"
}
