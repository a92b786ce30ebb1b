import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: results.
extension AssistanceHandler {
    public func defineIndicator(_ request: AssistanceV1.DefineIndicatorRequest, context: ServerContext) async throws
        -> AssistanceV1.Indicator
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var indicator = Self.validated(request.indicator ?? AssistanceV1.Indicator(), &check) { "indicator.\($0)" }
        check.id(indicator.projectID, "indicator.project_id", ProjectID.self, required: false)
        check.id(indicator.groupID, "indicator.group_id", ProducerGroupID.self, required: false)
        try check.check()
        if !indicator.groupID.isEmpty {
            indicator.groupID = try await producer.requireGroup(
                indicator.groupID, field: "indicator.group_id",
                purpose: "an indicator for a producer group"
            ).id
        }
        let checked = indicator
        return try await storage { try await store.defineIndicator(checked, requestID: request.requestID) }
    }

    /// A clean copy of `input` with its periods merged in start order, each problem reported under `name(field)`
    /// for its field in Indicator ("project_id", "title", "unit", "baseline", "periods[0]", …). The project and the
    /// group are checked apart.
    static func validated(_ input: AssistanceV1.Indicator, _ check: inout FieldValidator, name: (String) -> String)
        -> AssistanceV1.Indicator
    {
        var indicator = input
        required(indicator.projectID, name("project_id"), &check)
        check.specified(indicator.level, name("level"))
        check.specified(indicator.measure, name("measure"))
        indicator.title = check.text(indicator.title, name("title"), required: true)
        if indicator.measure == .moneySaved {
            indicator.unit = check.currency(indicator.unit, name("unit"))
        } else {
            indicator.unit = check.text(indicator.unit, name("unit"), required: true, maxLength: 30).lowercased()
        }
        if IndicatorRules.peopleMeasures.contains(indicator.measure) { indicator.countsPeople = true }
        if indicator.baselineYear != 0 { check.range(indicator.baselineYear, 1950...2100, name("baseline_year")) }
        IndicatorRules.normalise(
            &indicator.baseline, countsPeople: indicator.countsPeople, field: name("baseline"), &check)
        let periods = indicator.periods
        indicator.periods = []
        for (index, var period) in periods.enumerated() {
            let before = check.violations.count
            IndicatorRules.checkPeriod(
                &period, countsPeople: indicator.countsPeople, field: name("periods[\(index)]"), &check)
            guard check.violations.count == before else { continue }
            do throws(DomainError) {
                _ = try IndicatorRules.merge(period, into: &indicator)
            } catch {
                check.fail(name("periods[\(index)]"), error.message)
            }
        }
        return indicator
    }

    public func recordIndicatorPeriod(_ request: AssistanceV1.RecordIndicatorPeriodRequest, context: ServerContext)
        async throws
        -> AssistanceV1.RecordIndicatorPeriodResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let indicatorID = check.id(request.indicatorID, "indicator_id", IndicatorID.self)
        if request.period == nil { check.fail("period", "is required (start, end, and a target or an actual)") }
        try check.check()
        let (id, period) = (try indicatorID.checked("indicator_id"), try request.period.checked("period"))
        return try await storage {
            try await store.recordPeriod(id, period, requestID: request.requestID)
        }
    }

    public func listIndicators(_ request: AssistanceV1.ListIndicatorsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListIndicatorsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, IndicatorID.self, of: "ListIndicators")
        var filter = SQLConditions()
        filter.equal(
            "project_id", try FieldValidator.filter(request.projectID, "project_id", ProjectID.self)?.text ?? "")
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        let (rows, next) = try await storage {
            try await store.database.page(
                "indicators", filter, sortColumn: "id", after: after, limit: limit, as: AssistanceV1.Indicator.self)
        }
        return AssistanceV1.ListIndicatorsResponse(indicators: rows, nextPageToken: Self.token(next))
    }
}
