import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin market`: the library of lessons learned and best practices.
extension MarketCommand {
    struct AddPractice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-practice", abstract: "Add a lesson or best practice.")
        @Option var title: String
        @Option var body: String
        @Option var topic: [String] = []
        @Option var craft: [String] = []
        @Option(help: "Who wrote it.") var authorKind: MarketplaceV1.AuthorKind = .organisation
        @Option var author: String
        @Option(help: "Evidence: a result id or a link (repeatable).") var evidence: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let entry = try await client.addLibraryEntry(
                    MarketplaceV1.AddLibraryEntryRequest(
                        entry: MarketplaceV1.LibraryEntry(
                            title: title, body: body, topics: topic, crafts: craft,
                            authorKind: authorKind,
                            author: author,
                            evidence: evidence), requestID: RequestID.make()), options: global.callOptions)
                try emit(entry, global) { "added \(entry.id)" }
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search the library, most relevant first.")
        @Argument var query: String
        @Option var craft: String = ""
        @Option var topic: String = ""
        @Option(parsing: .unconditional) var limit: Int32 = 20
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.searchLibrary(
                    MarketplaceV1.SearchLibraryRequest(
                        query: query, craft: craft, topic: topic, limit: limit), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "TITLE", "CRAFTS", "TOPICS", "AUTHOR", "SCORE")
                    for hit in response.hits {
                        let entry = hit.entry ?? MarketplaceV1.LibraryEntry()
                        table.add(
                            entry.id, entry.title, entry.crafts.joined(separator: ","),
                            entry.topics.joined(separator: ","),
                            entry.author, String(format: "%.3f", hit.score))
                    }
                    return response.hits.isEmpty ? "nothing found" : table.render()
                }
            }
        }
    }

    struct Practice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a library entry (a lesson or best practice).")
        @Argument(help: "Library entry id (le_…), as `search` lists it.") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let entry = try await client.getLibraryEntry(
                    MarketplaceV1.GetLibraryEntryRequest(id: id), options: global.callOptions)
                try emit(entry, global) {
                    var lines = [
                        entry.title, "by \(entry.author) (\(short(entry.authorKind))), \(show(day: entry.createdAt))",
                        "crafts: \(entry.crafts.joined(separator: ", "))  topics: \(entry.topics.joined(separator: ", "))",
                        "", entry.body,
                    ]
                    if !entry.evidence.isEmpty { lines += ["", "evidence:"] + entry.evidence.map { "- \($0)" } }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }
}
