import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// `ftadmin export iati` against three running services, its file checked as IATI checks one: xmllint against the
/// official 2.03 schema, then every code against IATI's codelists and every rule of IATI's standard ruleset
/// (Tests/IATI/check_iati.py, over IATI's own files copied unchanged into Tests/IATI/reference).
@Suite("IATI export", .serialized)
struct IATIExportTests {
    typealias A = AssistanceV1

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("IATI")

    /// The example data and more: every kind of money flow, a project in two countries, and results broken down by
    /// sex, age and place.
    static func richServices() async throws -> ThreeServices {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        #expect(load.status == 0, "\(load.output)")
        let assistance = try services.assistance
        let organisations = try await assistance.listOrganisations(.init()).organisations
        let serrv = try #require(organisations.first { $0.name == "SERRV International" })
        let tradeAid = try #require(organisations.first { $0.name == "Trade Aid Integrated" })
        let weavers = try #require(
            try await services.producer.listProducerGroups(.init(nameContains: "Bolga Basket Weavers")).groups.first)
        let project = try await assistance.createProject(
            .init(
                project: A.Project(
                    title: "West Africa basketry markets", description: "Loans and pre-finance for basket groups.",
                    reportingOrganisationID: serrv.id,
                    participants: [
                        A.Participation(organisationID: serrv.id, role: .funding),
                        A.Participation(organisationID: tradeAid.id, role: .implementing),
                    ],
                    status: .implementation, plannedStart: date("2024-03-01"), plannedEnd: date("2026-06-30"),
                    actualStart: date("2024-03-15"), countries: ["GH", "BF"], sectors: [32140, 32130],
                    budget: [CommonV1.Money(minorUnits: 9_000_000, currency: "USD")]),
                requestID: "rich-project"))
        for (index, (type, amount, day, group)) in [
            (A.TransactionType.commitment, 6_000_000, "2024-03-20", ""),
            (.disbursement, 1_500_000, "2024-04-02", weavers.id), (.expenditure, 250_000, "2024-05-10", ""),
            (.loan, 1_000_000, "2024-06-01", weavers.id), (.loanRepayment, 400_000, "2025-06-01", weavers.id),
            (.advancePayment, 300_000, "2025-02-01", weavers.id),
        ].enumerated() {
            _ = try await assistance.recordTransaction(
                .init(
                    transaction: A.Transaction(
                        projectID: project.id, type: type,
                        value: CommonV1.Money(minorUnits: Int64(amount), currency: "USD"), date: date(day),
                        groupID: group, description: "flow \(index)"),
                    requestID: "rich-flow-\(index)"))
        }
        let indicator = try await assistance.defineIndicator(
            .init(
                indicator: A.Indicator(
                    projectID: project.id, groupID: weavers.id, level: .outcome, measure: .jobsCreated,
                    title: "Jobs in basket groups", unit: "jobs", countsPeople: true, baselineYear: 2023,
                    baseline: A.IndicatorValue(value: 10, bySex: A.PeopleCount(women: 8, men: 2))),
                requestID: "rich-indicator"))
        _ = try await assistance.recordIndicatorPeriod(
            .init(
                indicatorID: indicator.id,
                period: A.IndicatorPeriod(
                    start: date("2024-03-01"), end: date("2025-02-28"),
                    target: A.IndicatorValue(value: 30, bySex: A.PeopleCount(women: 24, men: 6)),
                    actual: A.IndicatorValue(
                        value: 26, bySex: A.PeopleCount(women: 21, men: 5),
                        byAge: [A.AgeBandCount(band: "15-24", people: 9), A.AgeBandCount(band: "25-59", people: 17)],
                        byLocation: [
                            A.LocationCount(location: "GH/Bolgatanga", people: 20),
                            A.LocationCount(location: "BF/Ouagadougou", people: 6),
                        ])),
                requestID: "rich-period"))
        _ = try await assistance.defineIndicator(
            .init(
                indicator: A.Indicator(
                    projectID: project.id, level: .impact, measure: .incomeChange, title: "Income of basket makers",
                    unit: "basis-points", baselineYear: 2023, baseline: A.IndicatorValue(value: 0),
                    periods: [
                        A.IndicatorPeriod(
                            start: date("2024-03-01"), end: date("2025-02-28"),
                            target: A.IndicatorValue(value: 1500), actual: A.IndicatorValue(value: 1250))
                    ]),
                requestID: "rich-income"))
        return services
    }

    @Test("every project as IATI 2.03: the schema, the codelists and IATI's ruleset accept it")
    func exportPassesIATIChecks() async throws {
        let services = try await Self.richServices()
        let file = services.folder.appendingPathComponent("activities.xml")
        let export = try await runTool(
            "ftadmin", ["export", "iati", "--file", file.path], environment: services.environment)
        #expect(export.status == 0 && export.output.contains("5 activities"), "\(export.output)")
        let schema = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/xmllint"),
            [
                "--noout", "--schema", Self.folder.appendingPathComponent("reference/iati-activities-schema.xsd").path,
                file.path,
            ])
        #expect(schema.status == 0 && schema.output.contains("validates"), "\(schema.output)")
        let checked = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [Self.folder.appendingPathComponent("check_iati.py").path, file.path])
        #expect(checked.status == 0, "\(checked.output)")
        let report = try JSONSerialization.jsonObject(with: Data(checked.output.utf8)) as? [String: Any]
        #expect((report?["broken"] as? [Any])?.isEmpty == true, "rules broken: \(checked.output)")
        #expect((report?["checked"] as? Int ?? 0) > 200)

        let xml = try String(contentsOf: file, encoding: .utf8)
        for expected in [
            "<iati-identifier>XI-IATI-SERRVEX-pj_", "<reporting-org ref=\"XI-IATI-SERRVEX\" type=\"21\">",
            "<transaction-type code=\"2\"/>", "<transaction-type code=\"3\"/>", "<transaction-type code=\"4\"/>",
            "<transaction-type code=\"6\"/>", "<finance-type code=\"421\"/>", "related-activity",
            "type=\"1\"/>", "<recipient-country code=\"GH\" percentage=\"50\"/>",
            "<value currency=\"USD\" value-date=\"2024-04-02\">15000.00</value>",
            "<dimension name=\"sex\" value=\"female\"/>", "<dimension name=\"age\" value=\"15-24\"/>",
            "<dimension name=\"place\" value=\"GH/Bolgatanga\"/>", "<actual value=\"12.50\">",
            "<narrative>Bolga Basket Weavers</narrative>",
        ] {
            #expect(xml.contains(expected), "the file lacks \(expected)")
        }
        // Budgets come in periods of at most a year (checked by the ruleset), and add up to the project's budget.
        let budgets = xml.ranges(of: /<budget type="1" status="1">/).count
        #expect(budgets >= 3 + 3 + 2)

        let one = services.folder.appendingPathComponent("one.xml")
        let project = try #require(
            try await services.assistance.listProjects(.init()).projects.first {
                $0.title == "West Africa basketry markets"
            })
        let single = try await runTool(
            "ftadmin", ["export", "iati", "--project", project.id, "--file", one.path],
            environment: services.environment)
        #expect(single.status == 0 && single.output.contains("1 activities"), "\(single.output)")
        let missing = try await runTool(
            "ftadmin", ["export", "iati", "--project", "pj_0000000000000000", "--file", one.path],
            environment: services.environment)
        #expect(missing.status == 1 && missing.output.contains("NOT_FOUND: project \"pj_0000000000000000\""))
    }

    @Test("a project whose reporting organisation has no IATI identifier is named, with the fix")
    func missingIdentifier() async throws {
        let services = try await ThreeServices()
        let assistance = try services.assistance
        let organisation = try await assistance.createOrganisation(
            .init(organisation: A.Organisation(name: "Small Importer", kind: .member, country: "GB"), requestID: "o"))
        _ = try await assistance.createProject(
            .init(
                project: A.Project(
                    title: "Looms", reportingOrganisationID: organisation.id, status: .pipeline,
                    plannedStart: date("2027-01-01"), plannedEnd: date("2027-12-31"), countries: ["GH"],
                    sectors: [32140], budget: [CommonV1.Money(minorUnits: 100_000, currency: "GBP")]),
                requestID: "p"))
        let file = services.folder.appendingPathComponent("none.xml")
        let export = try await runTool(
            "ftadmin", ["export", "iati", "--file", file.path], environment: services.environment)
        #expect(
            export.status == 1 && export.output.contains("Small Importer has no IATI organisation identifier")
                && export.output.contains("--iati"), "\(export.output)")
        #expect(!FileManager.default.fileExists(atPath: file.path))
        // Codes are checked on the way in: a sector that is not a DAC purpose code is refused naming the field.
        let refused = await failure {
            try await assistance.createProject(
                .init(
                    project: A.Project(
                        title: "Bad sector", reportingOrganisationID: organisation.id, status: .pipeline,
                        countries: ["GH"], sectors: [32199], budget: [CommonV1.Money(minorUnits: 1, currency: "GBP")]),
                    requestID: "q"))
        }
        #expect(refused?.code == .invalidArgument && refused?.message.contains("project.sectors[0]") == true)
    }
}
