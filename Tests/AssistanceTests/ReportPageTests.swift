import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// The capacity report and the portfolio as pages, written by the built ftadmin from three running services and
/// opened in a real browser (Debian's headless Chromium): every section and chart is in the DOM, names stand where
/// the records hold ids, nothing is fetched, the screenshot is not blank, and a PDF comes out.
@Suite("Report pages in a browser", .serialized)
struct ReportPageTests {
    typealias A = AssistanceV1
    typealias M = MarketplaceV1

    /// The example data (markets, a year of prices with one alert, demand matched to the weavers), and results for
    /// the weavers against targets by sex over two years.
    static func storyServices() async throws -> (services: ThreeServices, weavers: String) {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        #expect(load.status == 0, "\(load.output)")
        let weavers = try #require(
            try await services.producer.listProducerGroups(.init(nameContains: "Bolga Basket Weavers")).groups.first)
        let assistance = try services.assistance
        let project = try #require(try await assistance.listProjects(.init()).projects.first)
        let indicator = try await assistance.defineIndicator(
            .init(
                indicator: A.Indicator(
                    projectID: project.id, groupID: weavers.id, level: .output, measure: .artisansTrained,
                    title: "Basket makers trained", unit: "people", countsPeople: true, baselineYear: 2008,
                    baseline: A.IndicatorValue(value: 0, bySex: A.PeopleCount())),
                requestID: "indicator-1"))
        for (index, (start, end, target, actual)) in [
            ("2009-01-01", "2009-12-31", (100, 20), (120, 14)), ("2010-01-01", "2010-12-31", (120, 20), (96, 10)),
        ].enumerated() {
            _ = try await assistance.recordIndicatorPeriod(
                .init(
                    indicatorID: indicator.id,
                    period: A.IndicatorPeriod(
                        start: date(start), end: date(end),
                        target: A.IndicatorValue(
                            value: Int64(target.0 + target.1),
                            bySex: A.PeopleCount(women: Int32(target.0), men: Int32(target.1))),
                        actual: A.IndicatorValue(
                            value: Int64(actual.0 + actual.1),
                            bySex: A.PeopleCount(women: Int32(actual.0), men: Int32(actual.1)))),
                    requestID: "period-\(index)"))
        }
        return (services, weavers.id)
    }

    @Test("the capacity report and the portfolio as pages: sections, charts, names, nothing fetched, a PDF")
    func pagesInChromium() async throws {
        let (services, weavers) = try await Self.storyServices()
        let folder = services.folder.appendingPathComponent("pages")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let capacity = folder.appendingPathComponent("capacity.html")
        let pdf = folder.appendingPathComponent("capacity.pdf")
        let written = try await runTool(
            "ftadmin", ["report", "capacity", weavers, "--html", capacity.path, "--pdf", pdf.path],
            environment: services.environment)
        #expect(written.status == 0, "\(written.output)")
        let portfolio = folder.appendingPathComponent("portfolio.html")
        let portfolioWritten = try await runTool(
            "ftadmin", ["report", "portfolio", "--html", portfolio.path], environment: services.environment)
        #expect(portfolioWritten.status == 0, "\(portfolioWritten.output)")

        let capacityDOM = try await Chromium.dumpDOM(capacity)
        Self.expectSelfContained(capacityDOM, "capacity")
        for section in ["profile", "skills", "buyers", "assistance", "trainings", "results", "prices", "demand"] {
            #expect(capacityDOM.contains("<section id=\"\(section)\">"), "capacity page: no section \(section)")
        }
        // Each section's chart is drawn (buyers: shares and concentration; trainings: the tree and the tiers).
        #expect(
            Self.count("<svg", in: capacityDOM) >= 9, "capacity page: \(Self.count("<svg", in: capacityDOM)) charts")
        for name in [
            "Bolga Basket Weavers", "Trade Aid Integrated", "Rural basket makers of the Bolgatanga district",
            "Bolgatanga market", "SERRV International", "Ten Thousand Villages", "8,000.00 USD", "68.00 GHS",
            "Price alert", "Basket makers trained", "People reached per tier of the cascade, by sex",
        ] {
            #expect(capacityDOM.contains(escapeForHTML(name)), "capacity page: \"\(name)\" missing")
        }
        #expect(!capacityDOM.contains("not available"), "a name could not be found")

        let portfolioDOM = try await Chromium.dumpDOM(portfolio)
        Self.expectSelfContained(portfolioDOM, "portfolio")
        for section in ["groups", "trained", "money", "cascades", "skills"] {
            #expect(portfolioDOM.contains("<section id=\"\(section)\">"), "portfolio page: no section \(section)")
        }
        #expect(Self.count("<svg", in: portfolioDOM) >= 5)
        for text in ["Ghana", "Cambodia", "234", "50,000.00 USD", "Trade Aid Integrated", "13.0×"] {
            #expect(portfolioDOM.contains(text), "portfolio page: \"\(text)\" missing")
        }

        for page in [capacity, portfolio] {
            let picture = try await Chromium.screenshot(page)
            let check = try await runProgram(
                URL(fileURLWithPath: "/usr/bin/python3"), [Self.pngCheck, picture.path])
            let figures = try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any]
            let colours = figures?["colours"] as? Int ?? 0
            let drawn = figures?["drawn_share"] as? Double ?? 0
            #expect(colours > 20 && drawn > 0.05, "\(page.lastPathComponent): \(check.output)")
            if let keep = ProcessInfo.processInfo.environment["FT_SAVE_PAGE_SCREENSHOTS"] {
                let name = page.deletingPathExtension().lastPathComponent + "-page.png"
                try? FileManager.default.removeItem(atPath: keep + "/" + name)
                try FileManager.default.copyItem(atPath: picture.path, toPath: keep + "/" + name)
                try? FileManager.default.removeItem(atPath: keep + "/" + page.lastPathComponent)
                try FileManager.default.copyItem(atPath: page.path, toPath: keep + "/" + page.lastPathComponent)
            }
        }
        let printed = try Data(contentsOf: pdf)
        #expect(printed.starts(with: Data("%PDF".utf8)) && printed.count > 20_000, "PDF of \(printed.count) bytes")
    }

    @Test("with Marketplace-Info down, its sections say so and the rest of the page renders")
    func serviceDown() async throws {
        let (services, weavers) = try await Self.storyServices()
        await services.stopMarket()
        let page = services.folder.appendingPathComponent("capacity-down.html")
        let written = try await runTool(
            "ftadmin", ["report", "capacity", weavers, "--html", page.path, "--timeout", "5"],
            environment: services.environment)
        #expect(written.status == 0, "\(written.output)")
        let dom = try await Chromium.dumpDOM(page)
        #expect(Self.count("Not available: marketplace-info-service", in: dom) == 2, "\(dom)")
        #expect(dom.contains("Trade Aid Integrated") && Self.count("<svg", in: dom) >= 6)
        let printed = try await runTool(
            "ftadmin", ["report", "portfolio"], environment: services.environment)
        #expect(printed.status == 64 && printed.output.contains("--html FILE"), "\(printed.output)")
    }

    static let pngCheck = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Pages/png_check.py").path

    /// No script, nothing loaded from anywhere (no src, href or CSS url), and no record id where a name belongs.
    static func expectSelfContained(_ dom: String, _ page: String) {
        #expect(!dom.contains("<script"), "\(page): a script")
        for reference in [" src=", " href=", "url(", "@import"] {
            #expect(!dom.contains(reference), "\(page): \(reference) loads something")
        }
        let ids = dom.ranges(of: /\b(pg|tr|or|pj|mk|in|ds|po|pa|eq|rf|tx)_[0-9a-f]{16}\b/).map { String(dom[$0]) }
        #expect(ids.isEmpty, "\(page): ids where names belong: \(ids.prefix(5))")
        #expect(!dom.contains("minor units"), "\(page): an amount in minor units")
    }

    static func count(_ needle: String, in text: String) -> Int { text.ranges(of: needle).count }
}

/// `text` as it reads in HTML (ampersands and quotes escaped).
func escapeForHTML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "'", with: "&#39;")
}

/// Debian's Chromium, headless, as the tests drive it.
enum Chromium {
    static func run(_ arguments: [String]) async throws -> Data {
        try await offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
    }

    /// The page's DOM once Chromium has loaded it.
    static func dumpDOM(_ page: URL) async throws -> String {
        String(decoding: try await run(["--dump-dom", page.absoluteString]), as: UTF8.self)
    }

    /// A screenshot of the page's top 3,000 pixels, 800 wide.
    static func screenshot(_ page: URL) async throws -> URL {
        let picture = page.deletingPathExtension().appendingPathExtension("png")
        _ = try await run(["--window-size=800,3000", "--screenshot=\(picture.path)", page.absoluteString])
        return picture
    }
}
