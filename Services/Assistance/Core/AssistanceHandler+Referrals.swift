import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: referrals.
extension AssistanceHandler {
    public func createReferral(_ request: AssistanceV1.CreateReferralRequest, context: ServerContext) async throws
        -> AssistanceV1.Referral
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var referral = request.referral ?? AssistanceV1.Referral()
        check.id(referral.groupID, "referral.group_id", ProducerGroupID.self)
        check.id(referral.organisationID, "referral.organisation_id", OrganisationID.self)
        referral.purpose = check.text(referral.purpose, "referral.purpose", required: true, maxLength: 500)
        Self.notInFuture(check.date(referral.referredOn, "referral.referred_on"), "referral.referred_on", &check)
        referral.outcomeOn = nil
        referral.outcomeNotes = ""
        try check.check()
        try await requireOrganisations([(referral.organisationID, "referral.organisation_id")])
        referral.groupID = try await producer.requireGroup(
            referral.groupID, field: "referral.group_id",
            purpose: "referring a producer group"
        ).id
        let checked = try Checked(referral, day: referral.referredOn, "referral.referred_on")
        return try await storage { try await store.createReferral(checked, requestID: request.requestID) }
    }

    public func recordReferralOutcome(_ request: AssistanceV1.RecordReferralOutcomeRequest, context: ServerContext)
        async throws
        -> AssistanceV1.Referral
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let referralID = check.id(request.referralID, "referral_id", ReferralID.self)
        if request.outcome == .unspecified || request.outcome == .pending {
            check.fail("outcome", "must be REFERRAL_OUTCOME_ACCEPTED, _DECLINED or _COMPLETED")
        }
        let day = check.date(request.outcomeOn, "outcome_on")
        Self.notInFuture(day, "outcome_on", &check)
        let notes = check.text(request.notes, "notes", maxLength: 2000)
        try check.check()
        let id = try referralID.checked("referral_id")
        return try await storage {
            try await store.recordOutcome(
                id, request.outcome, on: try day.checked("outcome_on"), notes: notes,
                requestID: request.requestID)
        }
    }

    public func listReferrals(_ request: AssistanceV1.ListReferralsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListReferralsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, ReferralID.self, of: "ListReferrals")
        var filter = SQLConditions()
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        filter.equal(
            "organisation_id",
            try FieldValidator.filter(request.organisationID, "organisation_id", OrganisationID.self)?.text ?? "")
        let (rows, next) = try await storage {
            try await store.database.page(
                "referrals", filter, sortColumn: "day", after: after, limit: limit, as: AssistanceV1.Referral.self)
        }
        return AssistanceV1.ListReferralsResponse(referrals: rows, nextPageToken: Self.token(next))
    }
}
