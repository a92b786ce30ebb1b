import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// ftadmin's commands for the methods that had none: ending a buyer relationship, an organisation, a library
/// entry, a discussion group's members (with the names of the producer groups among them).
@Suite("ftadmin: a command for every method", .serialized)
struct AdminSubcommandTests {
    @Test("update-buyer ends a relationship; organisation, practice and members show what they hold, in names")
    func commands() async throws {
        let services = try await ThreeServices()
        let environment = services.environment
        #expect(try await runTool("ftadmin", ["examples", "load"], environment: environment).status == 0)
        let weavers = try #require(
            try await services.producer.listProducerGroups(.init(nameContains: "Bolga Basket Weavers")).groups.first)
        let buyer = try #require(
            try await services.producer.listBuyerRelationships(.init(groupID: weavers.id)).relationships.first)

        let ended = try await runTool(
            "ftadmin",
            ["producer", "update-buyer", weavers.id, buyer.id, "--ended", "2025-12-31", "--purchases", "9000"],
            environment: environment)
        #expect(
            ended.status == 0 && ended.output.contains("9,000.00 USD/year")
                && ended.output.contains("ended 2025-12-31"),
            "\(ended.output)")
        let stored = try await services.producer.listBuyerRelationships(.init(groupID: weavers.id)).relationships
        #expect(stored.first { $0.id == buyer.id }?.endedOn == date("2025-12-31"))
        let unknown = try await runTool(
            "ftadmin", ["producer", "update-buyer", weavers.id, "br_0000000000000000", "--ended", "2025-12-31"],
            environment: environment)
        #expect(unknown.status == 1 && unknown.output.contains("NOT_FOUND"), "\(unknown.output)")

        let organisation = try #require(
            try await services.assistance.listOrganisations(.init()).organisations.first {
                $0.name == "SERRV International"
            })
        let shown = try await runTool(
            "ftadmin", ["assistance", "organisation", organisation.id], environment: environment)
        #expect(
            shown.status == 0 && shown.output.contains("SERRV International") && shown.output.contains("kind: member"))

        let hit = try #require(
            try await services.market.searchLibrary(.init(query: "train the trainers")).hits.first?.entry)
        let practice = try await runTool("ftadmin", ["market", "practice", hit.id], environment: environment)
        #expect(practice.status == 0 && practice.output.contains(hit.title) && practice.output.contains(hit.body))

        let group = try #require(try await services.market.listDiscussionGroups(.init()).groups.first)
        _ = try await services.market.joinDiscussionGroup(
            .init(
                member: MarketplaceV1.GroupMember(groupID: group.id, kind: .producerGroup, member: weavers.id),
                requestID: "join-1"))
        let members = try await runTool("ftadmin", ["market", "members", group.id], environment: environment)
        #expect(members.status == 0 && members.output.contains("Bolga Basket Weavers"), "\(members.output)")

        // Retail partners are listed, filtered and paged, not only counted.
        for (index, (name, country, channel)) in [
            ("Fair Shop Accra", "GH", MarketplaceV1.SalesChannel.retailStore),
            ("Kumasi Crafts", "GH", .wholesaler), ("Nairobi Gifts", "KE", .retailStore),
        ].enumerated() {
            _ = try await services.market.addRetailPartner(
                .init(
                    partner: MarketplaceV1.RetailPartner(
                        name: name, buyerOrganisation: "SERRV International", country: country, channel: channel,
                        outlets: 2),
                    requestID: "partner-\(index)"))
        }
        let ghana = try await runTool(
            "ftadmin", ["market", "list-partners", "--country", "GH"], environment: environment)
        #expect(
            ghana.status == 0 && ghana.output.contains("Fair Shop Accra") && ghana.output.contains("Kumasi Crafts")
                && !ghana.output.contains("Nairobi"), "\(ghana.output)")
        let shops = try await runTool(
            "ftadmin", ["market", "list-partners", "--channel", "retail-store", "--page-size", "1"],
            environment: environment)
        #expect(shops.status == 0 && shops.output.contains("more: --page-token rp_"), "\(shops.output)")
        let every = try await runTool(
            "ftadmin", ["market", "list-partners", "--page-size", "1", "--all"], environment: environment)
        #expect(["Fair Shop Accra", "Kumasi Crafts", "Nairobi Gifts"].allSatisfy { every.output.contains($0) })

        // Tables name the records they point to: trainers, trained groups, projects, organisations.
        for (arguments, names) in [
            (
                ["assistance", "trainings", "--group", weavers.id],
                ["Trade Aid Integrated", "Rural basket makers of the"]
            ),
            (["assistance", "transactions", "--group", weavers.id], ["Bolga basket weavers: train the trainers"]),
            (["assistance", "referrals", "--group", weavers.id], ["Trade Aid Integrated", "Bolga Basket Weavers"]),
            (["report", "capacity", weavers.id], ["Trade Aid Integrated", "Rural basket makers of the"]),
        ] {
            let shown = try await runTool("ftadmin", arguments, environment: environment)
            #expect(shown.status == 0, "\(arguments): \(shown.output)")
            for name in names { #expect(shown.output.contains(name), "\(arguments) lacks \(name): \(shown.output)") }
            let foreign = shown.output.ranges(of: /\b(og|pj|mk)_[0-9a-f]{16}\b/).map { String(shown.output[$0]) }
            #expect(foreign.isEmpty, "\(arguments) shows ids where names belong: \(foreign)")
        }

        // A negative amount reaches the service as a value (not "Missing value"), and is refused in currency units.
        let market = try await services.market.createMarket(
            .init(
                market: MarketplaceV1.Market(name: "Bolgatanga market", country: "GH", kind: .localMarket),
                requestID: "m"))
        let negative = try await runTool(
            "ftadmin",
            [
                "market", "record-price", "--product", "baskets", "--market", market.id, "--type", "producer",
                "--unit", "piece", "--price", "-5", "--currency", "GHS",
            ], environment: environment)
        #expect(
            negative.status == 1 && negative.output.contains("must not be negative, got -5.00 GHS"),
            "\(negative.output)")
    }
}

/// Progress of long work: redrawn in place on a terminal, plain lines otherwise, nothing for quick work.
@Suite("ftadmin: progress of imports", .serialized)
struct ProgressTests {
    @Test("an import shows its progress on a pseudo-terminal, in place, and as plain lines without one")
    func importProgress() async throws {
        try await withProducerProcess { endpoint in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-progress-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let countries = ["GH", "KE", "UG", "TZ", "RW", "ET", "NG", "SN", "ML", "BF", "IN", "NP", "BD", "PE", "BO"]
            var csv = "name,kind,country,crafts\n"
            // Enough rows that checking them takes a few seconds, so that a plain line comes (after one second).
            for index in 0..<8_000 { csv += "Group \(index),cooperative,\(countries[index % 15]),baskets\n" }
            let file = folder.appendingPathComponent("groups.csv")
            try Data(csv.utf8).write(to: file)
            let ftadmin = builtExecutable("ftadmin").path
            // No terminal: plain lines on standard error, once the import has run a second.
            let plain = try await runTool(
                "ftadmin", ["producer", "import", file.path, "--dry-run", "--endpoint", endpoint])
            #expect(plain.status == 0, "\(plain.output)")
            #expect(plain.output.contains("checking groups.csv… "), "\(plain.output.prefix(300))")
            #expect(!plain.output.contains("\r"))
            // A pseudo-terminal (script(1) gives one): the line is redrawn in place, and cleared at the end.
            let terminal = try await runProgram(
                URL(fileURLWithPath: "/usr/bin/script"),
                ["-qec", "\(ftadmin) producer import \(file.path) --dry-run --endpoint \(endpoint)", "/dev/null"])
            #expect(terminal.status == 0, "\(terminal.output.suffix(300))")
            #expect(
                terminal.output.contains("\rchecking groups.csv… ") || terminal.output.contains("\r\u{1B}[Kchecking"))
            #expect(terminal.output.contains("dry run: nothing written"))
        }
    }
}
