import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

/// Where a report page goes: `--html FILE` and/or `--pdf FILE`.
struct ReportFileOptions: ParsableArguments {
    @Option(help: "Write the report as one self-contained HTML page (styles and charts inline) to this file.")
    var html: String?
    @Option(help: "Write the report as PDF (A4) to this file, printed by headless Chromium (Debian's chromium).")
    var pdf: String?

    var wanted: Bool { html != nil || pdf != nil }

    /// Writes `page` where asked, printing where it went.
    func write(_ page: String) throws {
        if let html {
            try write(Data(page.utf8), to: html)
            print("wrote \(html)")
        }
        if let pdf {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ftadmin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let source = folder.appendingPathComponent("report.html")
            try write(Data(page.utf8), to: source.path)
            try Chromium.printToPDF(source, pdf)
            print("wrote \(pdf)")
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure(description: "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Headless Chromium, run as a separate process to print a page to PDF.
enum Chromium {
    static let candidates = ["chromium", "chromium-browser", "google-chrome"]

    /// The browser's path, from `FT_CHROMIUM` or the PATH.
    static func executable() -> String? {
        if let chosen = processEnvironment["FT_CHROMIUM"], !chosen.isEmpty { return chosen }
        let path = (processEnvironment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in candidates {
            for folder in path where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }

    static func printToPDF(_ page: URL, _ output: String) throws {
        guard let browser = executable() else {
            throw CommandFailure(
                description:
                    "--pdf needs Chromium to print the page, and none was found (looked for \(candidates.joined(separator: ", ")) on the PATH, and FT_CHROMIUM): install it (apt-get install chromium), or write --html and print that"
            )
        }
        let output = URL(fileURLWithPath: output).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf=\(output)",
            page.absoluteString,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CommandFailure(description: "cannot start \(browser): \(error.localizedDescription)")
        }
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: output) else {
            let tail = String(decoding: said.suffix(800), as: UTF8.self)
            throw CommandFailure(
                description:
                    "\(browser) could not print the page to \(output) (exit \(process.terminationStatus)): \(tail)")
        }
    }
}

extension GlobalOptions {
    /// The answer of `call` to `service`, or nil when the service cannot be asked (a name then shows as not
    /// available instead of the whole page failing).
    func ask<Client, T>(
        _ service: ServiceAddress, _ makeClient: (ClientChannel) -> Client, _ call: (Client) async throws -> T
    ) async -> T? {
        guard let channel = try? channel(to: service) else { return nil }
        defer { channel.close() }
        return try? await call(makeClient(channel))
    }

    /// The names of every organisation, project and market, of the producer groups `groupIDs` and the titles of
    /// the trainings `trainingIDs`.
    func pageNames(groups groupIDs: Set<String>, trainings trainingIDs: Set<String> = []) async -> PageNames {
        var names = PageNames()
        let options = callOptions
        // Organisations, projects and trainings over one channel to the Assistance service.
        let assistance = await ask(ServiceDirectory.assistance, AssistanceV1.AssistanceServiceClient.init(channel:)) {
            client in
            var trainings: [String: String] = [:]
            for id in trainingIDs.sorted() where !id.isEmpty {
                if let training = try? await client.getTraining(
                    AssistanceV1.GetTrainingRequest(id: id), options: options)
                {
                    trainings[id] = training.title
                }
            }
            return (
                try await client.listOrganisations(AssistanceV1.ListOrganisationsRequest(), options: options)
                    .organisations,
                try await client.listProjects(AssistanceV1.ListProjectsRequest(), options: options).projects, trainings
            )
        }
        for organisation in assistance?.0 ?? [] { names.organisations[organisation.id] = organisation.name }
        for project in assistance?.1 ?? [] { names.projects[project.id] = project.title }
        names.trainings = assistance?.2 ?? [:]
        let markets = await ask(ServiceDirectory.marketplaceInfo, MarketplaceV1.MarketplaceInfoServiceClient.init) {
            try await $0.listMarkets(MarketplaceV1.ListMarketsRequest(), options: options).markets
        }
        for market in markets ?? [] { names.markets[market.id] = market.name }
        let groups = await ask(ServiceDirectory.producer, ProducerV1.ProducerServiceClient.init(channel:)) { client in
            var found: [String: String] = [:]
            for id in groupIDs.sorted() where !id.isEmpty {
                if let group = try? await client.getProducerGroup(
                    ProducerV1.GetProducerGroupRequest(id: id), options: options)
                {
                    found[id] = group.name
                }
            }
            return found
        }
        names.groups = groups ?? [:]
        return names
    }
}
