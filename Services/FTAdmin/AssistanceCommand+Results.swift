import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance`: result indicators of projects, with their targets and actuals by period.
extension AssistanceCommand {
    struct DefineIndicator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "define-indicator",
            abstract: "Define a result indicator of a project (optionally for one group).")
        @Option(help: "Project id.") var project: String
        @Option(help: "Producer group id.") var group = ""
        @Option(help: "Result level.") var level: AssistanceV1.ResultLevel
        @Option(help: "jobs-created, money-saved, artisans-trained, income-change, people-reached or other.")
        var measure: AssistanceV1.Measure
        @Option(help: "Title.") var title: String
        @Option(help: "Unit: jobs, people, percent… or a currency for money saved.") var unit: String
        @Option(parsing: .unconditional, help: "Baseline year.") var baselineYear: Int32 = 0
        @OptionGroup var baseline: ValueFlags
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let indicator = try await client.defineIndicator(
                    AssistanceV1.DefineIndicatorRequest(
                        indicator: AssistanceV1.Indicator(
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
                let period = AssistanceV1.IndicatorPeriod(
                    start: try parseDate(start, field: "--start"), end: try parseDate(end, field: "--end"),
                    target: try ValueFlags.value(
                        target, targetWomen, targetMen, targetOther, ages: targetAge, locations: targetLocation,
                        flag: "--target"),
                    actual: try ValueFlags.value(
                        actual, actualWomen, actualMen, actualOther, ages: actualAge, locations: actualLocation,
                        flag: "--actual"))
                let response = try await client.recordIndicatorPeriod(
                    AssistanceV1.RecordIndicatorPeriodRequest(
                        indicatorID: indicator, period: period, requestID: RequestID.make()),
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
                        AssistanceV1.ListIndicatorsRequest(
                            projectID: project, groupID: group, pageSize: size, pageToken: token),
                        options: global.callOptions)
                    return (answer.indicators, answer.nextPageToken)
                }
                let response = AssistanceV1.ListIndicatorsResponse(indicators: rows, nextPageToken: next)
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

    func value() -> AssistanceV1.IndicatorValue? { Self.value(baselineValue, baselineWomen, baselineMen) }

    static func value(_ value: Int64?, _ women: Int32?, _ men: Int32?, _ other: Int32? = nil) -> AssistanceV1
        .IndicatorValue?
    {
        if value == nil && women == nil && men == nil && other == nil { return nil }
        var result = AssistanceV1.IndicatorValue(value: value ?? 0)
        if women != nil || men != nil || other != nil {
            result.bySex = AssistanceV1.PeopleCount(women: women ?? 0, men: men ?? 0, other: other ?? 0)
        }
        return result
    }

    /// A value with its breakdowns by age band and location, each given as "NAME=PEOPLE".
    static func value(
        _ value: Int64?, _ women: Int32?, _ men: Int32?, _ other: Int32?, ages: [String], locations: [String],
        flag: String
    ) throws -> AssistanceV1.IndicatorValue? {
        guard var result = Self.value(value, women, men, other) ?? (ages.isEmpty && locations.isEmpty ? nil : .init())
        else { return nil }
        result.byAge = try ages.map {
            let (band, people) = try breakdown($0, flag: "\(flag)-age")
            return AssistanceV1.AgeBandCount(band: band, people: people)
        }
        result.byLocation = try locations.map {
            let (location, people) = try breakdown($0, flag: "\(flag)-location")
            return AssistanceV1.LocationCount(location: location, people: people)
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
