import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// The README's ten-minute tour, run as a script after `examples load`: every command as the README writes it, the
/// ids it leaves as `pg_…` filled in from the example data, each exiting 0; and none of them makes a duplicate.
@Suite("The README's tour", .serialized)
struct ReadmeTourTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The tour's commands: the `ftadmin` lines of the shell blocks between "A ten-minute tour" and the next section,
    /// without their comments.
    static func tourCommands() throws -> [String] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "## A ten-minute tour"))
        let tour = readme[start.upperBound...]
        let end = tour.range(of: "\n## ")?.lowerBound ?? tour.endIndex
        return tour[..<end].split(separator: "\n").map(String.init).filter { $0.hasPrefix("ftadmin ") }.map { line in
            // A comment starts at " # " outside quotes.
            var inQuotes = false
            var kept = ""
            let characters = Array(line)
            var index = 0
            while index < characters.count {
                let character = characters[index]
                if character == "\"" { inQuotes.toggle() }
                if !inQuotes && character == "#" && index > 0 && characters[index - 1] == " " { break }
                kept.append(character)
                index += 1
            }
            return kept.trimmingCharacters(in: .whitespaces)
        }
    }

    @Test("every command of the tour runs on the example data, and none makes a duplicate")
    func tour() async throws {
        let services = try await ThreeServices()
        let environment = services.environment
        #expect(try await runTool("ftadmin", ["examples", "load"], environment: environment).status == 0)
        let producer = try services.producer
        let weavers = try #require(
            try await producer.listProducerGroups(.init(nameContains: "Bolga Basket Weavers")).groups.first)
        let training = try #require(
            try await services.assistance.listTrainings(.init(groupID: weavers.id)).trainings.first {
                $0.cascadesFrom.isEmpty
            })
        let market = try #require(
            try await services.market.listMarkets(.init()).markets.first { $0.name == "Bolgatanga market" })
        let demand = try #require(
            try await services.market.listDemand(.init()).signals.first { $0.product == "baskets" })
        func counts() async throws -> [Int] {
            [
                try await producer.listProducerGroups(.init(pageSize: 500)).groups.count,
                try await services.assistance.listProjects(.init()).projects.count,
                try await services.assistance.listOrganisations(.init()).organisations.count,
                try await services.market.listMarkets(.init()).markets.count,
                try await services.market.listDemand(.init()).signals.count,
                try await services.assistance.listTrainings(.init(pageSize: 1000)).trainings.count,
            ]
        }
        let before = try await counts()

        let folder = services.folder.appendingPathComponent("tour")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let commands = try Self.tourCommands()
        #expect(commands.count >= 20, "the tour has \(commands.count) commands")
        let ftadmin = builtExecutable("ftadmin").path
        for command in commands {
            let filled =
                command
                .replacingOccurrences(of: "pg_…", with: weavers.id).replacingOccurrences(of: "tr_…", with: training.id)
                .replacingOccurrences(of: "mk_…", with: market.id).replacingOccurrences(of: "ds_…", with: demand.id)
                .replacingOccurrences(
                    of: "docs/examples/", with: Self.root.appendingPathComponent("docs/examples").path + "/"
                )
                // The funder's file of the last line: the file the tour has just exported.
                .replacingOccurrences(of: "funder.xml", with: "activities.xml")
            #expect(!filled.contains("…"), "a placeholder the test does not fill: \(filled)")
            let run = try await runProgram(
                URL(fileURLWithPath: "/bin/sh"),
                ["-c", "cd '\(folder.path)' && " + filled.replacingOccurrences(of: "ftadmin ", with: "'\(ftadmin)' ")],
                environment: environment)
            #expect(run.status == 0, "\(filled) exited \(run.status): \(run.output.suffix(600))")
        }
        let after = try await counts()
        #expect(before == after, "the tour made records: \(before) → \(after)")
        for file in ["bolga.html", "bolga.pdf", "portfolio.html", "activities.xml"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "no \(file)")
        }
    }
}
