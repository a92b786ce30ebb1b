import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance …`: financial and technical assistance.
struct AssistanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assistance",
        abstract: "Assistance: organisations, projects, money, equipment, trainings, referrals, results.",
        subcommands: [
            CreateOrganisation.self, Organisation.self, Organisations.self, CreateProject.self, Project.self,
            Projects.self,
            UpdateProject.self, Record.self, Transactions.self, Totals.self, AddEquipment.self, Equipment.self,
            Train.self, LinkCascade.self, CompleteTraining.self, Training.self, Trainings.self, Reach.self, Refer.self,
            ReferralOutcome.self, Referrals.self, DefineIndicator.self, RecordPeriod.self, Indicators.self,
            ImportTrainings.self, ImportTransactions.self,
        ])
}

/// Runs `body` with an Assistance client, reporting errors the ftadmin way.
func withAssistance(
    _ command: some AsyncParsableCommand, _ global: GlobalOptions,
    _ body: (AssistanceV1.AssistanceServiceClient) async throws -> Void
) async throws {
    try await command.withClient(
        ServiceDirectory.assistance, global, AssistanceV1.AssistanceServiceClient.init(channel:), body)
}

/// "5000.00 USD" as money.
func parseAmount(_ text: String, field: String) throws -> CommonV1.Money {
    let parts = text.split(separator: " ")
    guard parts.count == 2 else {
        throw ValidationError(
            "\(field): \"\(text)\" is not an amount and a currency, like \"5000.00 USD\""
        )
    }
    return try parseMoney(String(parts[0]), currency: String(parts[1]), field: field)
}

func people(_ count: AssistanceV1.PeopleCount?) -> String {
    guard let count else { return "" }
    let total = Int64(count.women) + Int64(count.men) + Int64(count.other)
    return "\(total) (\(count.women) women, \(count.men) men\(count.other > 0 ? ", \(count.other) other" : ""))"
}

func projectDetail(_ project: AssistanceV1.Project, names: PageNames = PageNames()) -> String {
    var lines = [
        "\(project.title)  [\(project.id), version \(project.version)]\(project.iatiIdentifier.isEmpty ? "" : "  IATI \(project.iatiIdentifier)")",
        "status: \(short(project.status))   reported by: \(names.label(project.reportingOrganisationID))",
        "planned: \(show(project.plannedStart)) to \(show(project.plannedEnd))   actual: \(show(project.actualStart)) to \(show(project.actualEnd))",
        "countries: \(project.countries.joined(separator: ", "))   sectors: \(project.sectors.map { "\($0) \(DACSector.names[$0] ?? "")" }.joined(separator: ", "))",
        "budget: \(project.budget.map(formatMoney).joined(separator: "; "))",
    ]
    for participant in project.participants {
        lines.append("participant: \(names.label(participant.organisationID)) (\(short(participant.role)))")
    }
    if !project.parentID.isEmpty { lines.append("part of: \(names.label(project.parentID)) [\(project.parentID)]") }
    if !project.childIDs.isEmpty {
        lines.append(
            "projects under it: \(project.childIDs.map { "\(names.label($0)) [\($0)]" }.joined(separator: ", "))")
    }
    if !project.description.isEmpty { lines.append(project.description) }
    return lines.joined(separator: "\n")
}

func totalsTable(_ totals: [AssistanceV1.FlowTotals]) -> String {
    var table = Table(
        "YEAR", "CURRENCY", "COMMITTED", "DISBURSED", "SPENT", "LOANS", "REPAID", "OWED", "ADVANCES", "COUNT")
    for line in totals {
        func money(_ minor: Int64) -> String { formatMoney(CommonV1.Money(minorUnits: minor, currency: line.currency)) }
        table.add(
            line.year == 0 ? "all" : String(line.year), line.currency, money(line.commitments),
            money(line.disbursements),
            money(line.expenditure), money(line.loans), money(line.loanRepayments), money(line.loansOutstanding),
            money(line.advancePayments), String(line.transactions))
    }
    return table.render()
}

/// - Parameter names: the names of the organisations and groups the trainings mention, shown instead of ids.
func trainingTable(_ trainings: [AssistanceV1.Training], names: PageNames = PageNames()) -> String {
    var names = names
    for training in trainings { names.trainings[training.id] = training.title }
    var table = Table("ID", "HELD", "SKILL", "TITLE", "TRAINER", "GROUPS", "TRAINEES", "CASCADES FROM", "STATUS")
    for training in trainings {
        table.add(
            training.id, show(training.heldOn), training.skill, training.title,
            names.label(training.trainerOrganisationID + training.trainerGroupID),
            names.labels(training.trainedGroupIDs), people(training.trainees), names.label(training.cascadesFrom),
            short(training.status))
    }
    return table.render()
}

/// The ids of the producer groups trainings mention, to ask their names.
func groupIDs(of trainings: [AssistanceV1.Training]) -> Set<String> {
    Set(trainings.flatMap { $0.trainedGroupIDs + [$0.trainerGroupID] })
}

/// The trainings these cascade from that are not among them, to ask their titles.
func parentIDs(of trainings: [AssistanceV1.Training]) -> Set<String> {
    Set(trainings.map(\.cascadesFrom)).subtracting(trainings.map(\.id))
}

func reachText(_ reach: AssistanceV1.CascadeReach, names: PageNames = PageNames()) -> String {
    var table = Table("TIER", "TRAININGS", "WOMEN", "MEN", "OTHER", "PEOPLE", "MULTIPLIER")
    for tier in reach.tiers {
        let people = tier.people ?? AssistanceV1.PeopleCount()
        table.add(
            String(tier.tier), String(tier.trainings), String(people.women), String(people.men), String(people.other),
            String(tier.total), tier.tier == 1 ? "" : String(format: "%.2fx", Double(tier.multiplierHundredths) / 100))
    }
    return table.render()
        + "\nreach of the cascade from \(names.label(reach.rootTrainingID)): \(people(reach.people)) in "
        + "\(reach.groupsReached) groups"
}

func indicatorText(_ indicators: [AssistanceV1.Indicator], names: PageNames = PageNames()) -> String {
    var table = Table("ID", "PROJECT", "GROUP", "LEVEL", "MEASURE", "TITLE", "UNIT", "PERIOD", "TARGET", "ACTUAL")
    func value(_ value: AssistanceV1.IndicatorValue?, _ indicator: AssistanceV1.Indicator) -> String {
        guard let value else { return "" }
        if indicator.measure == .moneySaved {
            return formatMoney(CommonV1.Money(minorUnits: value.value, currency: indicator.unit))
        }
        var text = value.bySex.map { people($0) } ?? String(value.value)
        if !value.byAge.isEmpty {
            text += "; by age " + value.byAge.map { "\($0.band): \($0.people)" }.joined(separator: ", ")
        }
        if !value.byLocation.isEmpty {
            text += "; by place " + value.byLocation.map { "\($0.location): \($0.people)" }.joined(separator: ", ")
        }
        return text
    }
    for indicator in indicators {
        let baseline = indicator.baseline.map { "baseline \(indicator.baselineYear): \(value($0, indicator))" } ?? ""
        table.add(
            indicator.id, names.label(indicator.projectID), names.label(indicator.groupID), short(indicator.level),
            short(indicator.measure),
            indicator.title, indicator.unit, baseline, "", "")
        for period in indicator.periods {
            table.add(
                "", "", "", "", "", "", "", "\(show(period.start))…\(show(period.end))",
                value(period.target, indicator),
                value(period.actual, indicator))
        }
    }
    return table.render()
}

/// --page-size, --page-token and --all, for list commands.
struct PageOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Records per page (1-1000).") var pageSize: Int32 = 100
    @Option(help: "Page token from a previous page.") var pageToken = ""
    @Flag(help: "Fetch every page.") var all = false

    /// One page's records (every page's with --all) and the token of the page after them.
    func fetch<Record>(_ call: (_ size: Int32, _ token: String) async throws -> ([Record], String)) async throws
        -> ([Record], String)
    {
        var (records, next) = try await call(pageSize, pageToken)
        while all && !next.isEmpty {
            let (more, after) = try await call(pageSize, next)
            records += more
            next = after
        }
        return (records, next)
    }
}

/// The hint printed under a list that has more pages.
func moreLine(_ token: String) -> String { token.isEmpty ? "" : "\nmore: --page-token \(token)" }

/// Fields of a project settable from flags, shared by create and update.
struct ProjectFields: ParsableArguments {
    func validate() throws { try checkCountries(country) }

    @Option(help: "Title.") var title: String?
    @Option(help: "Description.") var description: String?
    @Option(help: "IATI activity identifier.") var iati: String?
    @Option(help: "Status.") var status: AssistanceV1.ProjectStatus?
    @Option(help: "Planned start, e.g. 2025-01-01.") var start: String?
    @Option(help: "Planned end.") var end: String?
    @Option(help: "Actual start.") var actualStart: String?
    @Option(help: "Actual end.") var actualEnd: String?
    @Option(help: "Recipient country (repeatable).") var country: [String] = []
    @Option(parsing: .unconditionalSingleValue, help: "OECD DAC purpose code, e.g. 32140 (repeatable).") var sector:
        [Int32] = []
    @Option(
        parsing: .unconditionalSingleValue,
        help: "Budget in one currency, e.g. \"5000.00 USD\" (repeatable, one per currency).") var budget: [String] =
            []
    @Option(help: "ORGANISATION:ROLE with role funding, accountable, extending or implementing (repeatable).")
    var participant: [String] = []

    func project() throws -> (AssistanceV1.Project, [String]) {
        var project = AssistanceV1.Project()
        var mask = FieldMask()
        mask.set("title", ifGiven: title) { project.title = $0 }
        mask.set("description", ifGiven: description) { project.description = $0 }
        mask.set("iati_identifier", ifGiven: iati) { project.iatiIdentifier = $0 }
        try mask.set("status", ifGiven: status) { status in
            project.status = status
        }
        try mask.set("planned_start", ifGiven: start) { start in
            project.plannedStart = try parseDate(start, field: "--start")
        }
        try mask.set("planned_end", ifGiven: end) { end in project.plannedEnd = try parseDate(end, field: "--end") }
        try mask.set("actual_start", ifGiven: actualStart) { actualStart in
            project.actualStart = try parseDate(actualStart, field: "--actual-start")
        }
        try mask.set("actual_end", ifGiven: actualEnd) { actualEnd in
            project.actualEnd = try parseDate(actualEnd, field: "--actual-end")
        }
        mask.set("countries", ifAny: country) { project.countries = $0 }
        mask.set("sectors", ifAny: sector) { project.sectors = $0 }
        try mask.set("budget", ifAny: budget) { budget in
            project.budget = try budget.map { try parseAmount($0, field: "--budget") }
        }
        try mask.set("participants", ifAny: participant) { participant in
            project.participants = try participant.map { text in
                let parts = text.split(separator: ":")
                guard parts.count == 2 else {
                    throw ValidationError("--participant: \"\(text)\" is not ORGANISATION:ROLE")
                }
                return AssistanceV1.Participation(
                    organisationID: String(parts[0]),
                    role: try parseEnum(String(parts[1]), AssistanceV1.OrganisationRole.self, field: "--participant"))
            }
        }
        return (project, mask.paths)
    }
}

extension AssistanceCommand {
    struct CreateOrganisation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-organisation", abstract: "Record a member, development or funding organisation.")
        @Option(help: "Name.") var name: String
        @Option(help: "Kind.") var kind: AssistanceV1.OrganisationKind
        @Option(help: "IATI organisation identifier, e.g. GB-COH-01234567.") var iati = ""
        @Option(help: "Country code.") var country = ""
        func validate() throws { try checkCountries(country.isEmpty ? [] : [country]) }
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let organisation = try await client.createOrganisation(
                    AssistanceV1.CreateOrganisationRequest(
                        organisation: AssistanceV1.Organisation(
                            name: name, kind: kind,
                            iatiIdentifier: iati, country: country),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                try emit(organisation, global) {
                    "\(organisation.id)  \(organisation.name) (\(short(organisation.kind)))"
                }
            }
        }
    }

    struct Organisations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations.")
        @Option(help: "Only this kind.") var kind: AssistanceV1.OrganisationKind?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var request = AssistanceV1.ListOrganisationsRequest()
                if let kind { request.kind = kind }
                let response = try await client.listOrganisations(request, options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "KIND", "COUNTRY", "IATI")
                    for organisation in response.organisations {
                        table.add(
                            organisation.id, organisation.name, short(organisation.kind), organisation.country,
                            organisation.iatiIdentifier)
                    }
                    return table.render()
                }
            }
        }
    }

    struct CreateProject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-project", abstract: "Record a project (aid activity).")
        @OptionGroup var fields: ProjectFields
        @Option(help: "The reporting organisation's id.") var reporter: String
        @Option(help: "The project it is part of.") var parent = ""
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var (project, _) = try fields.project()
                project.reportingOrganisationID = reporter
                project.parentID = parent
                let created = try await client.createProject(
                    AssistanceV1.CreateProjectRequest(
                        project: project, requestID: requestID ?? RequestID.make()), options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(created, global) { projectDetail(created, names: names) }
            }
        }
    }

    struct Project: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project.")
        @Argument var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let project = try await client.getProject(
                    AssistanceV1.GetProjectRequest(id: id), options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(project, global) { projectDetail(project, names: names) }
            }
        }
    }

    struct Projects: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects, filtered.")
        @Option(help: "Status.") var status: AssistanceV1.ProjectStatus?
        @Option(help: "Recipient country.") var country = ""
        @Option(help: "An organisation reporting or taking part.") var organisation = ""
        @Option(help: "Only projects directly under this one.") var parent = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var request = AssistanceV1.ListProjectsRequest(
                    country: country, organisationID: organisation, parentID: parent)
                if let status { request.status = status }
                let response = try await client.listProjects(request, options: global.callOptions)
                let titles = Dictionary(response.projects.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
                try emit(response, global) {
                    var table = Table("ID", "TITLE", "STATUS", "START", "END", "COUNTRIES", "BUDGET", "PARENT")
                    for project in response.projects {
                        table.add(
                            project.id, project.title, short(project.status), show(project.plannedStart),
                            show(project.plannedEnd), project.countries.joined(separator: ","),
                            project.budget.map(formatMoney).joined(separator: "; "),
                            titles[project.parentID] ?? project.parentID)
                    }
                    return table.render()
                }
            }
        }
    }

    struct UpdateProject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-project", abstract: "Change the fields given; needs the version you read.")
        @Argument var id: String
        @Option(parsing: .unconditional, help: "The version you read.") var version: Int64
        @OptionGroup var fields: ProjectFields
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var (project, mask) = try fields.project()
                guard !mask.isEmpty else { throw ValidationError("name at least one field to change") }
                project.id = id
                let updated = try await client.updateProject(
                    AssistanceV1.UpdateProjectRequest(
                        project: project, updateMask: mask, expectedVersion: version, requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(updated, global) { projectDetail(updated, names: names) }
            }
        }
    }

    struct Organisation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organisation.")
        @Argument(help: "Organisation id (og_…).") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let organisation = try await client.getOrganisation(
                    AssistanceV1.GetOrganisationRequest(id: id), options: global.callOptions)
                try emit(organisation, global) {
                    [
                        "\(organisation.id)  \(organisation.name)", "kind: \(short(organisation.kind))",
                        "country: \(organisation.country)",
                        "IATI identifier: \(organisation.iatiIdentifier.isEmpty ? "none" : organisation.iatiIdentifier)",
                    ].joined(separator: "\n") + (organisation.notes.isEmpty ? "" : "\nnotes: \(organisation.notes)")
                }
            }
        }
    }
}
