import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// `ftadmin export iati` against three running services, its file checked as IATI checks one: xmllint against the
/// official 2.03 schema, then every code against IATI's codelists and every rule of IATI's standard ruleset
/// (Tests/IATI/check_iati.py, over IATI's own files copied unchanged into Tests/IATI/reference); and `ftadmin
/// import iati` bringing the file into an empty system, which then exports the same activities.
@Suite("IATI export and import", .serialized)
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
            "<dimension name=\"place\" value=\"GH/Bolgatanga\"/>", "<actual value=\"12.50\"/>",
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

    /// The activities of an IATI file, without the root's generated-datetime.
    static func activities(_ file: URL) throws -> String {
        let text = try String(contentsOf: file, encoding: .utf8)
        return String(text[text.range(of: "<iati-activity ")!.lowerBound...])
    }

    @Test("export, import into an empty system, export again: the same activities; dry run, replay and re-import")
    func roundTrip() async throws {
        let first = try await Self.richServices()
        let exported = first.folder.appendingPathComponent("first.xml")
        let export = try await runTool(
            "ftadmin", ["export", "iati", "--file", exported.path], environment: first.environment)
        #expect(export.status == 0, "\(export.output)")

        // An empty system holding only the producer groups (the flows to groups name them).
        let second = try await ThreeServices()
        var request = ProducerV1.ListProducerGroupsRequest(pageSize: 500)
        for group in try await first.producer.listProducerGroups(request).groups {
            var copy = group
            copy.id = ""
            copy.fieldSources = []
            _ = try await second.producer.createProducerGroup(.init(group: copy, requestID: "copy-\(group.id)"))
        }
        request.pageToken = ""
        let dryRun = try await runTool(
            "ftadmin", ["import", "iati", exported.path, "--dry-run"], environment: second.environment)
        #expect(
            dryRun.status == 0 && dryRun.output.contains("the import would record 5 activities")
                && dryRun.output.contains("organisation to record: SERRV International (XI-IATI-SERRVEX)"),
            "\(dryRun.output)")
        #expect(try await second.assistance.listProjects(.init()).projects.isEmpty, "a dry run wrote projects")
        #expect(try await second.assistance.listOrganisations(.init()).organisations.isEmpty)

        let imported = try await runTool(
            "ftadmin", ["import", "iati", exported.path, "--request-id", "iati-1"], environment: second.environment)
        #expect(imported.status == 0 && imported.output.contains("5 activities recorded"), "\(imported.output)")
        let again = second.folder.appendingPathComponent("second.xml")
        let reexport = try await runTool(
            "ftadmin", ["export", "iati", "--file", again.path], environment: second.environment)
        #expect(reexport.status == 0, "\(reexport.output)")
        let before = try Self.activities(exported)
        let after = try Self.activities(again)
        #expect(before == after, "the activities differ after the round trip")
        if before != after {
            let lines = zip(before.split(separator: "\n"), after.split(separator: "\n"))
            if let difference = lines.first(where: { $0.0 != $0.1 }) { Issue.record("first difference: \(difference)") }
        }
        let checked = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [Self.folder.appendingPathComponent("check_iati.py").path, again.path])
        #expect(checked.status == 0, "\(checked.output)")

        // A retry with the same request id answers as the first; a new import of the same file records nothing.
        let replay = try await runTool(
            "ftadmin", ["import", "iati", exported.path, "--request-id", "iati-1", "--output", "json"],
            environment: second.environment)
        let firstID = imported.output.firstMatch(of: /import (ii_[0-9a-f]+)/)?.1
        #expect(firstID != nil && replay.output.contains(String(firstID ?? "?")), "\(replay.output)")
        let twice = try await runTool(
            "ftadmin", ["import", "iati", exported.path], environment: second.environment)
        #expect(twice.status == 0 && twice.output.contains("0 activities recorded"), "\(twice.output)")
        #expect(try await second.assistance.listProjects(.init()).projects.count == 5)
    }

    @Test("a wrong file is refused whole, each problem naming its activity and element")
    func wrongFiles() async throws {
        let services = try await ThreeServices()
        let folder = services.folder
        func importing(_ xml: String) async throws -> (status: Int32, output: String) {
            let file = folder.appendingPathComponent("wrong-\(UUID().uuidString).xml")
            try Data(xml.utf8).write(to: file)
            return try await runTool("ftadmin", ["import", "iati", file.path], environment: services.environment)
        }
        let broken = try await importing("<iati-activities version=\"2.03\"><iati-activity>")
        #expect(broken.status == 1 && broken.output.contains("xml: is not well-formed XML: line"), "\(broken.output)")
        let other = try await importing("<iati-organisations version=\"2.03\"/>")
        #expect(other.output.contains("is not an IATI 2.0x activities file"), "\(other.output)")
        let wrongFile = """
            <iati-activities version="2.03">
              <iati-activity default-currency="USD">
                <iati-identifier>XM-TEST-1</iati-identifier>
                <reporting-org ref="XM-TEST" type="21"><narrative>Test funder</narrative></reporting-org>
                <title><narrative>A loan</narrative></title>
                <participating-org role="9"><narrative>Someone</narrative></participating-org>
                <activity-status code="8"/>
                <activity-date iso-date="2024-01-01" type="1"/>
                <recipient-country code="GH"/>
                <sector code="32140"/>
                <budget><period-start iso-date="2024-01-01"/><period-end iso-date="2024-12-31"/><value>1000.00</value></budget>
                <transaction>
                  <transaction-type code="3"/><transaction-date iso-date="2024-02-01"/><value>500.00</value>
                  <receiver-org><narrative>No such group</narrative></receiver-org><finance-type code="421"/>
                </transaction>
                <transaction>
                  <transaction-type code="3"/><transaction-date iso-date="2024-02-01"/><value>5.001</value>
                </transaction>
              </iati-activity>
            </iati-activities>
            """
        let wrong = try await importing(wrongFile)
        #expect(wrong.status == 1, "\(wrong.output)")
        for expected in [
            "activity 1 (XM-TEST-1), participating-org 1: role \"9\" is not an IATI organisation role",
            "activity 1 (XM-TEST-1), activity-status: code \"8\"",
            "activity 1 (XM-TEST-1), transaction 2, value: \"5.001\" is not an amount in USD",
        ] {
            #expect(wrong.output.contains(expected), "missing \(expected) in \(wrong.output)")
        }
        // Fixed but for the group: the loan's receiver must be a producer group recorded here.
        let unknown = try await importing(
            wrongFile.replacingOccurrences(of: "role=\"9\"", with: "role=\"1\" ref=\"XM-TEST\"")
                .replacingOccurrences(of: "<activity-status code=\"8\"/>", with: "<activity-status code=\"2\"/>")
                .replacingOccurrences(
                    of: "type=\"1\"/>", with: "type=\"1\"/><activity-date iso-date=\"2024-12-31\" type=\"3\"/>"
                )
                .replacingOccurrences(of: "<value>5.001</value>", with: "<value>5.00</value>")
                .replacingOccurrences(of: "</iati-activity>", with: "<location/></iati-activity>"))
        #expect(
            unknown.status == 1
                && unknown.output.contains(
                    "activity 1 (XM-TEST-1), transaction 1: no producer group has the id or name \"No such group\""),
            "\(unknown.output)")
        #expect(try await services.assistance.listProjects(.init()).projects.isEmpty)
        #expect(try await services.assistance.listOrganisations(.init()).organisations.isEmpty)
    }
}
