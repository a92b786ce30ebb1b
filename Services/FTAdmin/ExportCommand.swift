import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin export …`: the organisation's records in the formats others read.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export records in standard formats.", subcommands: [IATI.self])

    struct IATI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "iati",
            abstract: "Write projects as an IATI 2.03 activities file, to publish or send to a funder.",
            discussion: """
                One activity per project: its identifier (the reporting organisation's IATI identifier, a hyphen, \
                the project's id, unless the project has its own), organisations and roles, status, dates, \
                countries and DAC sectors, budgets per year, every transaction, parent and child projects, and \
                results with targets and actuals by sex, age and place. Every project by default.
                """)
        @Option(name: .customLong("project"), help: "A project to export (repeatable); all by default.")
        var projects: [String] = []
        @Option(help: "The file to write.") var file: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let source = try await gather()
                let document: String
                do {
                    document = try IATIActivities.document(source, generatedAt: Date())
                } catch let error as IATIExportError {
                    throw CommandFailure(description: "FAILED_PRECONDITION: \(error.description)")
                }
                do {
                    try Data(document.utf8).write(to: URL(fileURLWithPath: file))
                } catch {
                    throw CommandFailure(description: "cannot write \(file): \(error.localizedDescription)")
                }
                let flows = source.transactions.values.reduce(0) { $0 + $1.count }
                let results = source.indicators.values.reduce(0) { $0 + $1.count }
                print("wrote \(file): \(source.projects.count) activities, \(flows) transactions, \(results) results")
            }
        }

        func gather() async throws -> IATISource {
            var source = IATISource()
            let options = global.callOptions(defaultSeconds: 120)
            let channel = try global.channel(to: ServiceDirectory.assistance)
            defer { channel.close() }
            let client = AssistanceV1.AssistanceServiceClient(channel: channel)
            for organisation in try await client.listOrganisations(.init(), options: options).organisations {
                source.organisations[organisation.id] = organisation
            }
            let all = try await client.listProjects(.init(), options: options).projects
            source.allProjects = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            if projects.isEmpty {
                source.projects = all.sorted {
                    ($0.parentID.isEmpty ? 0 : 1, $0.title) < ($1.parentID.isEmpty ? 0 : 1, $1.title)
                }
            } else {
                source.projects = try projects.map { id in
                    guard let project = source.allProjects[id] else {
                        throw CommandFailure(description: "NOT_FOUND: project \"\(id)\" not found")
                    }
                    return project
                }
            }
            var groups = Set<String>()
            let progress = Progress()
            defer { progress.finish() }
            for (index, project) in source.projects.enumerated() {
                progress.update("projects read", done: index, of: source.projects.count)
                var flows: [AssistanceV1.Transaction] = []
                var request = AssistanceV1.ListTransactionsRequest(projectID: project.id, pageSize: 1000)
                repeat {
                    let page = try await client.listTransactions(request, options: options)
                    flows += page.transactions
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty
                source.transactions[project.id] = flows
                var indicators: [AssistanceV1.Indicator] = []
                var listing = AssistanceV1.ListIndicatorsRequest(projectID: project.id)
                repeat {
                    let page = try await client.listIndicators(listing, options: options)
                    indicators += page.indicators
                    listing.pageToken = page.nextPageToken
                } while !listing.pageToken.isEmpty
                source.indicators[project.id] = indicators
                groups.formUnion(flows.map(\.groupID) + indicators.map(\.groupID))
            }
            source.groupNames = await global.pageNames(groups: groups).groups
            return source
        }
    }
}
