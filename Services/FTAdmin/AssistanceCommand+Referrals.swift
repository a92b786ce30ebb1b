import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance`: referrals of producer groups to development organisations, and what came of them.
extension AssistanceCommand {
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
                    AssistanceV1.CreateReferralRequest(
                        referral: AssistanceV1.Referral(
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
        @Option(help: "Outcome.") var outcome: AssistanceV1.ReferralOutcome
        @Option(help: "Date.") var on: String
        @Option(help: "Notes.") var notes = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let updated = try await client.recordReferralOutcome(
                    AssistanceV1.RecordReferralOutcomeRequest(
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
                        AssistanceV1.ListReferralsRequest(
                            groupID: group, organisationID: organisation, pageSize: size,
                            pageToken: token),
                        options: global.callOptions)
                    return (answer.referrals, answer.nextPageToken)
                }
                let response = AssistanceV1.ListReferralsResponse(referrals: rows, nextPageToken: next)
                let names = await global.pageNames(groups: Set(response.referrals.map(\.groupID)))
                try emit(response, global) { referralTable(response.referrals, names: names) + moreLine(next) }
            }
        }
    }
}

func referralTable(_ referrals: [AssistanceV1.Referral], names: PageNames = PageNames()) -> String {
    var table = Table("ID", "DATE", "GROUP", "ORGANISATION", "PURPOSE", "OUTCOME", "ON", "NOTES")
    for referral in referrals {
        table.add(
            referral.id, show(referral.referredOn), names.label(referral.groupID),
            names.label(referral.organisationID), referral.purpose,
            short(referral.outcome), show(referral.outcomeOn), referral.outcomeNotes)
    }
    return table.render()
}
