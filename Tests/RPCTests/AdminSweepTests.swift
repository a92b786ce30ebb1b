import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// Every command that shows records, run on the example data (and a thread, an answer and a retail partner added
/// to it): no record id stands where its name belongs, and no amount is shown in minor units.
@Suite("ftadmin: names and money in every table", .serialized)
struct AdminSweepTests {
    /// A record id as the services make them: two letters, "_", 16 hex digits.
    static let idPattern = try! NSRegularExpression(pattern: "\\b[a-z]{2}_[0-9a-f]{16}\\b")
    /// An amount in a currency of two decimals with no decimals shown: minor units, or a figure cut short.
    static let wholeAmount = try! NSRegularExpression(pattern: "(^|[^0-9.,])[0-9][0-9,]* (USD|GHS|INR|KHR)\\b")

    /// The problems of one command's output: ids of named records with no name beside them on their line (a record's
    /// own id, first on its line or after "id:", needs none), and amounts without their decimals.
    static func problems(_ output: String, names: [String: String]) -> [String] {
        var found: [String] = []
        for line in output.split(separator: "\n").map(String.init) {
            let range = NSRange(line.startIndex..., in: line)
            for match in idPattern.matches(in: line, range: range) {
                let id = String(line[Range(match.range, in: line)!])
                guard let name = names[id] else { continue }
                let before = line[..<Range(match.range, in: line)!.lowerBound]
                    .trimmingCharacters(in: .whitespaces)
                let ownID = before.isEmpty || before.hasSuffix("id:") || before.hasSuffix("ID:")
                if !ownID && !line.contains(name) {
                    found.append("\(id) without its name \"\(name)\": \(line)")
                }
            }
            if line.contains("minor unit") || wholeAmount.firstMatch(in: line, range: range) != nil {
                found.append("an amount in minor units or without its decimals: \(line)")
            }
        }
        return found
    }

    @Test("every command that shows records names them and gives money in currency units")
    func sweep() async throws {
        let services = try await ThreeServices()
        let environment = services.environment
        #expect(try await runTool("ftadmin", ["examples", "load"], environment: environment).status == 0)
        let producer = try services.producer
        let assistance = try services.assistance
        let market = try services.market

        let groups = try await producer.listProducerGroups(.init(pageSize: 500)).groups
        let organisations = try await assistance.listOrganisations(.init()).organisations
        let projects = try await assistance.listProjects(.init()).projects
        let trainings = try await assistance.listTrainings(.init(pageSize: 500)).trainings
        let markets = try await market.listMarkets(.init()).markets
        let discussion = try #require(try await market.listDiscussionGroups(.init()).groups.first)
        let entry = try #require(try await market.searchLibrary(.init(query: "screen printing")).hits.first?.entry)
        let weavers = try #require(groups.first { $0.name == "Bolga Basket Weavers" })
        let village = try #require(groups.first { $0.name == "VillageWorks" })
        let makers = try #require(groups.first { $0.name == "Rural basket makers of the Bolgatanga district" })
        let bolgaProject = try #require(projects.first { $0.title == "Bolga basket weavers: train the trainers" })
        let serrv = try #require(organisations.first { $0.name == "SERRV International" })
        let root = try #require(trainings.first { $0.trainedGroupIDs.contains(weavers.id) && $0.cascadesFrom.isEmpty })
        let bolgatanga = try #require(markets.first { $0.name == "Bolgatanga market" })
        let demand = try #require(try await market.listDemand(.init()).signals.first { $0.product == "baskets" })

        // What the example data does not hold: a thread with a reply, an answer to demand, a retail partner.
        _ = try await market.joinDiscussionGroup(
            .init(
                member: MarketplaceV1.GroupMember(groupID: discussion.id, kind: .producerGroup, member: weavers.id),
                requestID: "sweep-join"))
        let thread = try await market.startThread(
            .init(
                groupID: discussion.id, title: "Dyes that last in the sun",
                firstPost: MarketplaceV1.Post(authorKind: .producerGroup, author: weavers.id, body: "Which dyes hold?"),
                requestID: "sweep-thread")
        ).thread!
        _ = try await market.answerDemand(
            .init(
                answer: MarketplaceV1.DemandAnswer(
                    signalID: demand.id, groupID: weavers.id,
                    offeredPrice: CommonV1.Money(minorUnits: 4_400, currency: "GHS"),
                    quantity: MarketplaceV1.DemandQuantity(amount: 200, unit: "piece")),
                requestID: "sweep-answer"))
        _ = try await market.addRetailPartner(
            .init(
                partner: MarketplaceV1.RetailPartner(
                    name: "Fair Shop Accra", buyerOrganisation: "SERRV International", country: "GH",
                    channel: .retailStore, outlets: 2),
                requestID: "sweep-partner"))

        var names: [String: String] = [:]
        for group in groups { names[group.id] = group.name }
        for organisation in organisations { names[organisation.id] = organisation.name }
        for project in projects { names[project.id] = project.title }
        for training in trainings { names[training.id] = training.title }
        for place in markets { names[place.id] = place.name }
        names[discussion.id] = discussion.name
        names[entry.id] = entry.title
        names[thread.id] = "Dyes that last in the sun"

        let commands: [[String]] = [
            ["producer", "list"], ["producer", "get", weavers.id], ["producer", "duplicates", weavers.id],
            ["producer", "skills"], ["producer", "assessments", village.id], ["producer", "buyers", weavers.id],
            ["producer", "connections", weavers.id], ["producer", "contacts", village.id],
            ["producer", "overdue"], ["producer", "independence", weavers.id],
            ["assistance", "organisations"], ["assistance", "organisation", serrv.id], ["assistance", "projects"],
            ["assistance", "project", bolgaProject.id], ["assistance", "transactions", "--project", bolgaProject.id],
            ["assistance", "transactions", "--group", weavers.id], ["assistance", "totals", "--group", weavers.id],
            ["assistance", "totals", "--project", bolgaProject.id], ["assistance", "equipment"],
            // The makers' training cascades from one they were not trained in: its title is asked for.
            ["assistance", "trainings"], ["assistance", "trainings", "--group", makers.id],
            ["assistance", "training", root.id], ["assistance", "reach", root.id], ["assistance", "referrals"],
            ["assistance", "indicators", "--project", bolgaProject.id],
            ["market", "markets"], ["market", "partners"], ["market", "list-partners"],
            ["market", "stats", "--product", "baskets", "--market", bolgatanga.id], ["market", "alerts"],
            ["market", "demand"], ["market", "match", demand.id], ["market", "answers", demand.id],
            ["market", "search", "train the trainers"], ["market", "practice", entry.id], ["market", "groups"],
            ["market", "members", discussion.id], ["market", "threads", discussion.id],
            ["market", "posts", thread.id], ["market", "bulletin", weavers.id],
            ["report", "capacity", weavers.id], ["report", "capacity", village.id],
        ]
        for command in commands {
            let run = try await runTool("ftadmin", command, environment: environment)
            #expect(run.status == 0, "ftadmin \(command.joined(separator: " ")): \(run.output.suffix(400))")
            #expect(
                !run.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                "ftadmin \(command.joined(separator: " ")) shows nothing")
            let problems = Self.problems(run.output, names: names)
            #expect(problems.isEmpty, "ftadmin \(command.joined(separator: " ")):\n\(problems.joined(separator: "\n"))")
        }
    }

    /// The values `--help` lists for `option` of `command`.
    static func helpValues(_ command: [String], _ option: String, _ environment: [String: String]) async throws
        -> [String]
    {
        let help = try await runTool("ftadmin", command + ["--help"], environment: environment).output
        let all = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let text = try #require(all.range(of: "OPTIONS:").map { all[$0.upperBound...] })
        let start = try #require(text.range(of: "\(option) <"), "\(command) has no \(option)")
        let values = try #require(text[start.upperBound...].range(of: "(values: "), "\(option) lists no values")
        // The list ends at ")" or at "; default: …".
        let end = try #require(text[values.upperBound...].firstIndex { $0 == ")" || $0 == ";" })
        return text[values.upperBound..<end].components(separatedBy: ", ")
    }

    @Test("each enum has one spelling: what --help lists the parser takes, tables, CSV and messages show, imports read")
    func enumSpellings() async throws {
        let services = try await ThreeServices()
        let environment = services.environment
        #expect(try await runTool("ftadmin", ["examples", "load"], environment: environment).status == 0)
        let project = try #require(
            try await services.assistance.listProjects(.init()).projects.first {
                $0.title == "Bolga basket weavers: train the trainers"
            })
        let cases: [(command: [String], option: String, expected: [String])] = [
            (["producer", "list"], "--kind", ["cooperative", "womens-group", "family-enterprise"]),
            (["producer", "list"], "--status", ["active"]),
            (["assistance", "organisations"], "--kind", ["member", "development"]),
            (["assistance", "projects"], "--status", ["implementation", "closed"]),
            (
                ["assistance", "transactions", "--project", project.id], "--type",
                ["advance-payment", "loan-repayment"]
            ),
            (["market", "list-partners"], "--channel", ["retail-store"]),
            (["market", "partners"], "--by", ["country"]),
        ]
        for item in cases {
            let values = try await Self.helpValues(item.command, item.option, environment)
            for value in item.expected { #expect(values.contains(value), "\(item.option) lists \(values)") }
            #expect(values.allSatisfy { !$0.contains("_") && $0 == $0.lowercased() }, "\(values)")
            for value in values {
                let run = try await runTool("ftadmin", item.command + [item.option, value], environment: environment)
                #expect(run.status == 0, "\(item.command) \(item.option) \(value): \(run.output.suffix(300))")
            }
            let wrong = try await runTool(
                "ftadmin", item.command + [item.option, "no-such-value"], environment: environment)
            #expect(wrong.status == 64 && wrong.output.contains("no-such-value"), "\(wrong.output)")
            for value in values {
                #expect(
                    wrong.output.contains("- \(value)\n") || wrong.output.contains("'\(value)'"),
                    "\(value): \(wrong.output)")
            }
        }

        // Tables and CSV show the spelling the parser takes; imports read it (the example data's files use it).
        let list = try await runTool("ftadmin", ["producer", "list"], environment: environment)
        #expect(list.output.contains("womens-group") && !list.output.contains("womens_group"), "\(list.output)")
        let file = services.folder.appendingPathComponent("groups.csv").path
        let export = try await runTool("ftadmin", ["producer", "export", "--file", file], environment: environment)
        #expect(export.status == 0, "\(export.output)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains(",womens-group,"))
        let flows = ReadmeTourTests.root.appendingPathComponent("docs/examples/money-flows.csv").path
        let imported = try await runTool(
            "ftadmin", ["assistance", "import-transactions", flows], environment: environment)
        #expect(imported.status == 0, "\(imported.output)")
        let listed = try await runTool(
            "ftadmin", ["assistance", "transactions", "--project", project.id], environment: environment)
        #expect(
            listed.output.contains("advance-payment") && listed.output.contains("loan-repayment")
                && !listed.output.contains("_payment") && !listed.output.contains("_repayment"), "\(listed.output)")
        // A message names a value as the command line writes it.
        let refused = try await runTool(
            "ftadmin",
            [
                "assistance", "record", "--project", project.id, "--type", "loan-repayment", "--amount", "1.00 USD",
                "--date", "2009-01-01",
            ], environment: environment)
        #expect(refused.status == 1, "\(refused.output)")
        // An amount out of the schema's range is refused before it is sent, in the currency, not in minor units.
        let huge = try await runTool(
            "ftadmin",
            [
                "assistance", "record", "--project", project.id, "--type", "loan", "--amount", "10000000000000.01 USD",
                "--date", "2009-01-01",
            ], environment: environment)
        #expect(
            huge.status == 64 && huge.output.contains("10,000,000,000,000.00 USD") && !huge.output.contains("minor"),
            "\(huge.output)")
        // And in a spreadsheet, by the service, naming the row and column.
        let sheet = services.folder.appendingPathComponent("huge.csv")
        try Data(
            "project,type,amount,currency,date\n\(project.id),loan,10000000000000.01,USD,2009-01-01\n".utf8
        ).write(to: sheet)
        let hugeRow = try await runTool(
            "ftadmin", ["assistance", "import-transactions", sheet.path], environment: environment)
        #expect(
            hugeRow.status == 1 && hugeRow.output.contains("row 2, amount")
                && hugeRow.output.contains("10,000,000,000,000.01 USD is out of the range")
                && !hugeRow.output.contains("minor"), "\(hugeRow.output)")
        #expect(!refused.output.contains("LOAN_REPAYMENT") && !refused.output.contains("loan_repayment"))
    }

    @Test("the check finds an id without its name, and an amount in minor units")
    func checkCanFail() {
        let names = ["pg_0123456789abcdef": "Bolga Basket Weavers"]
        #expect(Self.problems("pg_0123456789abcdef  Bolga Basket Weavers  GH", names: names).isEmpty)
        #expect(Self.problems("id: pg_0123456789abcdef", names: names).isEmpty)
        #expect(Self.problems("trainer  pg_0123456789abcdef  2009-03-02", names: names).count == 1)
        #expect(Self.problems("owes 100000 USD", names: [:]).count == 1)
        #expect(Self.problems("owes 1,000.00 USD", names: [:]).isEmpty)
        #expect(Self.problems("owes 100000 minor units", names: [:]).count == 1)
    }
}
