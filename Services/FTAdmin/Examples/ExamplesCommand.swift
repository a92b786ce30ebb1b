import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin examples load`: the field's own examples as example data (DOMAIN.md), read from docs/examples (the
/// story's requests, spreadsheets and IATI file, then markets, prices and demand) and sent through the services'
/// public methods with fixed request ids, so that loading twice changes nothing.
struct ExamplesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "examples", abstract: "The field's own examples, as example data.", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Load the examples into all three services: the Bolga cascade, VillageWorks' printing workshop, \
                Handmade Expressions' artisans; and, from docs/examples, markets, a year of prices with one alert \
                and buyers' demand matched to the groups. Loading again changes nothing.
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                try await ExampleStory().load(global)
                let market = try global.channel(to: ServiceDirectory.marketplaceInfo)
                defer { market.close() }
                try await ExampleData.loadMarketFiles(
                    MarketplaceV1.MarketplaceInfoServiceClient(channel: market), global.callOptions)
                let producer = try global.channel(to: ServiceDirectory.producer)
                defer { producer.close() }
                // The story's groups, in the order of its spreadsheet (the name is its first column).
                let names = try CSV.parse(Array((ExampleFiles.files["story/groups.csv"] ?? "").utf8)).dropFirst()
                    .compactMap(\.fields.first)
                let listed = try await ProducerV1.ProducerServiceClient(channel: producer).listProducerGroups(
                    ProducerV1.ListProducerGroupsRequest(pageSize: 500), options: global.callOptions)
                let groups = names.compactMap { name in listed.groups.first { $0.name == name } }
                var table = Table("ID", "GROUP", "COUNTRY")
                for group in groups { table.add(group.id, group.name, group.country) }
                print(table.render())
                if let weavers = groups.first { print("try: ftadmin report capacity \(weavers.id)") }
            }
        }
    }
}

/// The example data's files (docs/examples, held by ftadmin as ExampleFiles) and what loading them needs.
enum ExampleData {}
