import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance` trainings and cascades, referrals and result indicators.
extension AssistanceCommand {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a training (planned until completed).")
        @Option(help: "Title.") var title: String
        @Option(help: "Skill code from the Producer catalogue (ftadmin producer skills).") var skill: String
        @Option(help: "Date held.") var held: String
        @Option(help: "Trainer organisation id.") var trainerOrganisation = ""
        @Option(help: "Trainer producer group id (for a cascade: a group trained in the earlier training).")
        var trainerGroup = ""
        @Option(help: "A producer group trained (repeatable).") var group: [String] = []
        @Option(parsing: .unconditional, help: "Women trained.") var women: Int32 = 0
        @Option(parsing: .unconditional, help: "Men trained.") var men: Int32 = 0
        @Option(parsing: .unconditional, help: "Others trained.") var other: Int32 = 0
        @Option(help: "The training this one cascades from.") var cascadesFrom = ""
        @Option(help: "Project id.") var project = ""
        @Option(help: "Notes.") var notes = ""
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let training = try await client.recordTraining(
                    A.RecordTrainingRequest(
                        training: A.Training(
                            title: title, skill: skill, heldOn: try parseDate(held, field: "--held"),
                            trainerOrganisationID: trainerOrganisation, trainerGroupID: trainerGroup,
                            trainedGroupIDs: group, trainees: A.PeopleCount(women: women, men: men, other: other),
                            cascadesFrom: cascadesFrom, projectID: project, notes: notes),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                let names = await global.pageNames(
                    groups: groupIDs(of: [training]), trainings: parentIDs(of: [training]))
                try emit(training, global) { trainingTable([training], names: names) }
            }
        }
    }

    struct LinkCascade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "link-cascade", abstract: "Set which training TRAINING cascades from (none: unlink).")
        @Argument var training: String
        @Option(help: "The earlier training.") var from = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let linked = try await client.linkCascade(
                    A.LinkCascadeRequest(trainingID: training, cascadesFrom: from, requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: groupIDs(of: [linked]), trainings: parentIDs(of: [linked]))
                try emit(linked, global) { trainingTable([linked], names: names) }
            }
        }
    }

    struct CompleteTraining: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "complete-training",
            abstract: "Mark a training done and record each trained group's new skill level in the Producer service.")
        @Argument var training: String
        @Option(help: "Completion date.") var on: String
        @Option(help: "GROUP:LEVEL[:MEMBERS] for each trained group; level 0-4 (repeatable).") var result: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let results = try result.map { text -> A.SkillLevel in
                    let parts = text.split(separator: ":")
                    guard (2...3).contains(parts.count), let level = Int32(parts[1]),
                        parts.count == 2 || Int32(parts[2]) != nil
                    else {
                        throw ValidationError("--result: \"\(text)\" is not GROUP:LEVEL[:MEMBERS]")
                    }
                    return A.SkillLevel(
                        groupID: String(parts[0]), level: level,
                        membersHolding: parts.count == 3 ? Int32(parts[2])! : 0)
                }
                let done = try await client.completeTraining(
                    A.CompleteTrainingRequest(
                        trainingID: training, completedOn: try parseDate(on, field: "--on"), results: results,
                        requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: groupIDs(of: [done]), trainings: parentIDs(of: [done]))
                try emit(done, global) { trainingTable([done], names: names) }
            }
        }
    }

    struct Trainings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List trainings, filtered.")
        @Option(help: "A group trained or training.") var group = ""
        @Option(help: "Project id.") var project = ""
        @Option(help: "Skill code.") var skill = ""
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let (rows, next) = try await page.fetch { size, token in
                    let answer = try await client.listTrainings(
                        A.ListTrainingsRequest(
                            groupID: group, projectID: project, skill: skill, pageSize: size,
                            pageToken: token),
                        options: global.callOptions)
                    return (answer.trainings, answer.nextPageToken)
                }
                let response = A.ListTrainingsResponse(trainings: rows, nextPageToken: next)
                let names = await global.pageNames(
                    groups: groupIDs(of: response.trainings), trainings: parentIDs(of: response.trainings))
                try emit(response, global) { trainingTable(response.trainings, names: names) + moreLine(next) }
            }
        }
    }

    struct Training: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a training: its trainer, the groups trained, the people by sex, what it cascades from.")
        @Argument var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let training = try await client.getTraining(A.GetTrainingRequest(id: id), options: global.callOptions)
                let names = await global.pageNames(
                    groups: groupIDs(of: [training]), trainings: parentIDs(of: [training]))
                try emit(training, global) {
                    trainingTable([training], names: names)
                        + (training.notes.isEmpty ? "" : "\nnotes: \(training.notes)")
                }
            }
        }
    }

    struct Reach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The reach of a train-the-trainers cascade: people per tier, by sex, and the multipliers.")
        @Argument var training: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let reach = try await client.getCascadeReach(
                    A.GetCascadeReachRequest(trainingID: training),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [], trainings: [reach.rootTrainingID])
                try emit(reach, global) { reachText(reach, names: names) }
            }
        }
    }

    struct Refer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a producer group was put in touch with a development organisation.")
        @Option(help: "Producer group id.") var group: String
        @Option(help: "Organisation id.") var organisation: String
        @Option(help: "What for.") var purpose: String
        @Option(help: "Date.") var on: String
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let referral = try await client.createReferral(
                    A.CreateReferralRequest(
                        referral: A.Referral(
                            groupID: group, organisationID: organisation, purpose: purpose,
                            referredOn: try parseDate(on, field: "--on")),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                let names = await global.pageNames(groups: [referral.groupID])
                try emit(referral, global) { referralTable([referral], names: names) }
            }
        }
    }

    struct ReferralOutcome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "referral-outcome",
            abstract: "Record what came of a referral: accepted, declined or completed.")
        @Argument var referral: String
        @Option(help: "Outcome.") var outcome: A.ReferralOutcome
        @Option(help: "Date.") var on: String
        @Option(help: "Notes.") var notes = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let updated = try await client.recordReferralOutcome(
                    A.RecordReferralOutcomeRequest(
                        referralID: referral,
                        outcome: outcome,
                        outcomeOn: try parseDate(on, field: "--on"), notes: notes, requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [updated.groupID])
                try emit(updated, global) { referralTable([updated], names: names) }
            }
        }
    }

    struct Referrals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List referrals.")
        @Option(help: "Producer group id.") var group = ""
        @Option(help: "Organisation id.") var organisation = ""
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let (rows, next) = try await page.fetch { size, token in
                    let answer = try await client.listReferrals(
                        A.ListReferralsRequest(
                            groupID: group, organisationID: organisation, pageSize: size,
                            pageToken: token),
                        options: global.callOptions)
                    return (answer.referrals, answer.nextPageToken)
                }
                let response = A.ListReferralsResponse(referrals: rows, nextPageToken: next)
                let names = await global.pageNames(groups: Set(response.referrals.map(\.groupID)))
                try emit(response, global) { referralTable(response.referrals, names: names) + moreLine(next) }
            }
        }
    }

    struct DefineIndicator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "define-indicator",
            abstract: "Define a result indicator of a project (optionally for one group).")
        @Option(help: "Project id.") var project: String
        @Option(help: "Producer group id.") var group = ""
        @Option(help: "Result level.") var level: A.ResultLevel
        @Option(help: "jobs-created, money-saved, artisans-trained, income-change, people-reached or other.")
        var measure: A.Measure
        @Option(help: "Title.") var title: String
        @Option(help: "Unit: jobs, people, percent… or a currency for money saved.") var unit: String
        @Option(parsing: .unconditional, help: "Baseline year.") var baselineYear: Int32 = 0
        @OptionGroup var baseline: ValueFlags
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let indicator = try await client.defineIndicator(
                    A.DefineIndicatorRequest(
                        indicator: A.Indicator(
                            projectID: project, groupID: group,
                            level: level,
                            measure: measure,
                            title: title, unit: unit, baselineYear: baselineYear, baseline: baseline.value()),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                let names = await global.pageNames(groups: [indicator.groupID])
                try emit(indicator, global) { indicatorText([indicator], names: names) }
            }
        }
    }

    struct RecordPeriod: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record-period",
            abstract: "Give an indicator's target and/or actual for a period; the same dates overwrite, others add.")
        @Argument var indicator: String
        @Option(help: "Period start.") var start: String
        @Option(help: "Period end.") var end: String
        @Option(parsing: .unconditional, help: "Target value (people: give --target-women/--target-men instead).")
        var target: Int64?
        @Option(parsing: .unconditional) var targetWomen: Int32?
        @Option(parsing: .unconditional) var targetMen: Int32?
        @Option(parsing: .unconditional, help: "People of another sex, or who did not say.") var targetOther: Int32?
        @Option(help: "People of an age band, e.g. 15-24=6 or 60+=2 (repeatable; they add up to the target).")
        var targetAge: [String] = []
        @Option(help: "People in a place, e.g. \"GH/Upper East=8\" (repeatable; they add up to the target).")
        var targetLocation: [String] = []
        @Option(parsing: .unconditional, help: "Actual value (people: give --actual-women/--actual-men instead).")
        var actual: Int64?
        @Option(parsing: .unconditional) var actualWomen: Int32?
        @Option(parsing: .unconditional) var actualMen: Int32?
        @Option(parsing: .unconditional, help: "People of another sex, or who did not say.") var actualOther: Int32?
        @Option(help: "People of an age band, e.g. 15-24=6 or 60+=2 (repeatable; they add up to the actual).")
        var actualAge: [String] = []
        @Option(help: "People in a place, e.g. \"GH/Upper East=8\" (repeatable; they add up to the actual).")
        var actualLocation: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let period = A.IndicatorPeriod(
                    start: try parseDate(start, field: "--start"), end: try parseDate(end, field: "--end"),
                    target: try ValueFlags.value(
                        target, targetWomen, targetMen, targetOther, ages: targetAge, locations: targetLocation,
                        flag: "--target"),
                    actual: try ValueFlags.value(
                        actual, actualWomen, actualMen, actualOther, ages: actualAge, locations: actualLocation,
                        flag: "--actual"))
                let response = try await client.recordIndicatorPeriod(
                    A.RecordIndicatorPeriodRequest(indicatorID: indicator, period: period, requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(response, global) {
                    (response.replaced ? "replaced the stored period\n" : "added a period\n")
                        + indicatorText(response.indicator.map { [$0] } ?? [])
                }
            }
        }
    }

    struct Indicators: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List result indicators with their periods.")
        @Option(help: "Project id.") var project = ""
        @Option(help: "Producer group id.") var group = ""
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let (rows, next) = try await page.fetch { size, token in
                    let answer = try await client.listIndicators(
                        A.ListIndicatorsRequest(projectID: project, groupID: group, pageSize: size, pageToken: token),
                        options: global.callOptions)
                    return (answer.indicators, answer.nextPageToken)
                }
                let response = A.ListIndicatorsResponse(indicators: rows, nextPageToken: next)
                let names = await global.pageNames(groups: Set(response.indicators.map(\.groupID)))
                try emit(response, global) { indicatorText(response.indicators, names: names) + moreLine(next) }
            }
        }
    }
}

/// A baseline given by flags: a plain value, or people by sex.
struct ValueFlags: ParsableArguments {
    @Option(parsing: .unconditional, help: "Baseline value.") var baselineValue: Int64?
    @Option(parsing: .unconditional, help: "Baseline women (for indicators counting people).") var baselineWomen: Int32?
    @Option(parsing: .unconditional, help: "Baseline men.") var baselineMen: Int32?

    func value() -> A.IndicatorValue? { Self.value(baselineValue, baselineWomen, baselineMen) }

    static func value(_ value: Int64?, _ women: Int32?, _ men: Int32?, _ other: Int32? = nil) -> A.IndicatorValue? {
        if value == nil && women == nil && men == nil && other == nil { return nil }
        var result = A.IndicatorValue(value: value ?? 0)
        if women != nil || men != nil || other != nil {
            result.bySex = A.PeopleCount(women: women ?? 0, men: men ?? 0, other: other ?? 0)
        }
        return result
    }

    /// A value with its breakdowns by age band and location, each given as "NAME=PEOPLE".
    static func value(
        _ value: Int64?, _ women: Int32?, _ men: Int32?, _ other: Int32?, ages: [String], locations: [String],
        flag: String
    ) throws -> A.IndicatorValue? {
        guard var result = Self.value(value, women, men, other) ?? (ages.isEmpty && locations.isEmpty ? nil : .init())
        else { return nil }
        result.byAge = try ages.map {
            let (band, people) = try breakdown($0, flag: "\(flag)-age")
            return A.AgeBandCount(band: band, people: people)
        }
        result.byLocation = try locations.map {
            let (location, people) = try breakdown($0, flag: "\(flag)-location")
            return A.LocationCount(location: location, people: people)
        }
        return result
    }

    /// "15-24=6" as ("15-24", 6).
    private static func breakdown(_ text: String, flag: String) throws -> (String, Int32) {
        guard let equals = text.lastIndex(of: "="), let people = Int32(text[text.index(after: equals)...]) else {
            throw ValidationError("\(flag) \"\(text)\": give NAME=PEOPLE, e.g. 15-24=6")
        }
        return (String(text[..<equals]), people)
    }
}

func referralTable(_ referrals: [A.Referral], names: PageNames = PageNames()) -> String {
    var table = Table("ID", "DATE", "GROUP", "ORGANISATION", "PURPOSE", "OUTCOME", "ON", "NOTES")
    for referral in referrals {
        table.add(
            referral.id, show(referral.referredOn), names.label(referral.groupID),
            names.label(referral.organisationID), referral.purpose,
            short(referral.outcome), show(referral.outcomeOn), referral.outcomeNotes)
    }
    return table.render()
}
