import API
import Foundation
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

/// Every change the three services make, sent again with the same request id — as the runtime does after a lost
/// connection, on another instance, or a person after a timeout — answers as the first attempt did and writes
/// nothing.
@Suite("Replays of every change", .serialized)
struct ReplayTests {
    /// The changes that keep their whole answer (RequestAnswers): a replay's answer is byte for byte the first.
    /// Creates load what they made again, which later changes may have moved on: their replay names the same record.
    static let answersKept: Set<String> = [
        "UpdateProducerGroup", "RejectDuplicate", "AddSkill", "UpdateBuyerRelationship", "CompleteFollowUp",
        "UpdateProject", "LinkCascade", "CompleteTraining", "RecordReferralOutcome", "RecordIndicatorPeriod",
        "MatchDemand", "SetDemandStatus", "JoinDiscussionGroup",
    ]

    /// The `id` member of an answer, if it has one.
    static func id(_ json: JSONValue) -> JSONValue? {
        guard case .object(let members) = json else { return nil }
        return members.first { $0.0 == "id" }?.1
    }

    /// Calls `change` with `request`, then again with the same request (a new call, the same request id in its
    /// body) and answers both; the second call's header carries a replay's request id, for the audit check.
    static func twice<Request: Sendable, Answer: Equatable & Sendable>(
        _ request: Request, _ change: (Request, CallOptions) async throws -> Answer
    ) async throws -> (first: Answer, replay: Answer) {
        var options = CallOptions(timeout: .seconds(10))
        let first = try await change(request, options)
        options.requestID = "replay-" + RequestID.make()
        return (first, try await change(request, options))
    }

    @Test("each change that keeps its answer, replayed after it committed, answers byte for byte as the first time")
    func answersKeptReplayed() async throws {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        try #require(load.status == 0, "\(load.output)")
        let producer = try services.producer
        let market = try services.market
        let assistance = try services.assistance
        let rid = { RequestID.make() }
        var replayed: Set<String> = []
        func check<Answer: Equatable>(_ method: String, _ answers: (first: Answer, replay: Answer)) {
            #expect(answers.first == answers.replay, "\(method): the replay answered differently")
            replayed.insert(method)
        }

        // Producer.
        let groups = try await producer.listProducerGroups(.init(pageSize: 10)).groups
        try #require(groups.count >= 2)
        var group = groups[0]
        group.notes = "checked by the replay test"
        let update = ProducerV1.UpdateProducerGroupRequest(
            group: group, updateMask: ["notes"], expectedVersion: group.version, requestID: rid())
        check(
            "UpdateProducerGroup",
            try await Self.twice(update) { try await producer.updateProducerGroup($0, options: $1) })
        // Without the kept answer the same change would now fail: the version it expected has moved on.
        var again = update
        again.requestID = rid()
        #expect(await failure { try await producer.updateProducerGroup(again) }?.code == .aborted)
        check(
            "RejectDuplicate",
            try await Self.twice(
                ProducerV1.RejectDuplicateRequest(groupID: groups[0].id, otherGroupID: groups[1].id, requestID: rid())
            ) { try await producer.rejectDuplicate($0, options: $1) })
        check(
            "AddSkill",
            try await Self.twice(
                ProducerV1.AddSkillRequest(
                    skill: ProducerV1.SkillCategory(code: "replay-craft", name: "Replay craft", category: "craft"),
                    requestID: rid())
            ) { try await producer.addSkill($0, options: $1) })
        let relationship = try await producer.addBuyerRelationship(
            .init(
                relationship: ProducerV1.BuyerRelationship(
                    groupID: groups[0].id, organisation: "Replay Imports",
                    since: CommonV1.Date(year: 2020, month: 1, day: 1),
                    kind: .directPurchase),
                requestID: rid()))
        var ended = relationship
        ended.endedOn = CommonV1.Date(year: 2024, month: 6, day: 30)
        check(
            "UpdateBuyerRelationship",
            try await Self.twice(ProducerV1.UpdateBuyerRelationshipRequest(relationship: ended, requestID: rid())) {
                try await producer.updateBuyerRelationship($0, options: $1)
            })
        let contact = try await producer.logContact(
            .init(
                contact: ProducerV1.DialogueContact(
                    groupID: groups[0].id, organisation: "Replay Imports",
                    contactDate: CommonV1.Date(year: 2025, month: 3, day: 10), kind: .visit, topics: ["pricing"],
                    followUps: [
                        ProducerV1.FollowUp(
                            description: "Send a quote", dueOn: CommonV1.Date(year: 2025, month: 4, day: 1))
                    ]),
                requestID: rid()))
        let followUp = try #require(contact.followUps.first)
        check(
            "CompleteFollowUp",
            try await Self.twice(
                ProducerV1.CompleteFollowUpRequest(
                    followUpID: followUp.id, doneOn: CommonV1.Date(year: 2025, month: 3, day: 20), requestID: rid())
            ) { try await producer.completeFollowUp($0, options: $1) })

        // Assistance.
        let project = try #require(try await assistance.listProjects(.init()).projects.first)
        var retitled = project
        retitled.title += " (replayed)"
        let projectUpdate = AssistanceV1.UpdateProjectRequest(
            project: retitled, updateMask: ["title"], expectedVersion: project.version, requestID: rid())
        check(
            "UpdateProject", try await Self.twice(projectUpdate) { try await assistance.updateProject($0, options: $1) }
        )
        var projectAgain = projectUpdate
        projectAgain.requestID = rid()
        #expect(await failure { try await assistance.updateProject(projectAgain) }?.code == .aborted)
        let trainings = try await assistance.listTrainings(.init()).trainings
        // A copy of a training that cascades, recorded unlinked and then linked as the original is.
        let cascading = try #require(trainings.first { !$0.cascadesFrom.isEmpty })
        var fresh = cascading
        fresh.id = ""
        fresh.title = "Replayed training"
        fresh.status = .unspecified
        fresh.completedOn = nil
        fresh.results = []
        fresh.cascadesFrom = ""
        let training = try await assistance.recordTraining(.init(training: fresh, requestID: rid()))
        check(
            "LinkCascade",
            try await Self.twice(
                AssistanceV1.LinkCascadeRequest(
                    trainingID: training.id, cascadesFrom: cascading.cascadesFrom, requestID: rid())
            ) {
                try await assistance.linkCascade($0, options: $1)
            })
        check(
            "CompleteTraining",
            try await Self.twice(
                AssistanceV1.CompleteTrainingRequest(
                    trainingID: training.id, completedOn: training.heldOn,
                    results: training.trainedGroupIDs.map {
                        AssistanceV1.SkillLevel(groupID: $0, level: 3, membersHolding: 1)
                    },
                    requestID: rid())
            ) { try await assistance.completeTraining($0, options: $1) })
        let example = try #require(try await assistance.listReferrals(.init()).referrals.first)
        let referral = try await assistance.createReferral(
            .init(
                referral: AssistanceV1.Referral(
                    groupID: example.groupID, organisationID: example.organisationID, purpose: "replayed referral",
                    referredOn: example.referredOn),
                requestID: rid()))
        check(
            "RecordReferralOutcome",
            try await Self.twice(
                AssistanceV1.RecordReferralOutcomeRequest(
                    referralID: referral.id, outcome: .accepted, outcomeOn: referral.referredOn,
                    notes: "replayed", requestID: rid())
            ) { try await assistance.recordReferralOutcome($0, options: $1) })
        let indicator = try #require(try await assistance.listIndicators(.init()).indicators.first)
        var period = try #require(indicator.periods.first)
        period.start = CommonV1.Date(year: 2030, month: 1, day: 1)
        period.end = CommonV1.Date(year: 2030, month: 12, day: 31)
        check(
            "RecordIndicatorPeriod",
            try await Self.twice(
                AssistanceV1.RecordIndicatorPeriodRequest(indicatorID: indicator.id, period: period, requestID: rid())
            ) {
                try await assistance.recordIndicatorPeriod($0, options: $1)
            })

        // Marketplace-Info.
        let signal = try await market.postDemand(
            .init(
                signal: MarketplaceV1.DemandSignal(
                    buyer: "Replay Imports", product: "baskets",
                    quantity: MarketplaceV1.DemandQuantity(amount: 500, unit: "piece"),
                    neededBy: CommonV1.Date(year: 2099, month: 1, day: 1), countries: ["GH"]),
                requestID: rid()))
        check(
            "MatchDemand",
            try await Self.twice(MarketplaceV1.MatchDemandRequest(signalID: signal.id, requestID: rid())) {
                try await market.matchDemand($0, options: $1)
            })
        check(
            "SetDemandStatus",
            try await Self.twice(
                MarketplaceV1.SetDemandStatusRequest(signalID: signal.id, status: .fulfilled, requestID: rid())
            ) {
                try await market.setDemandStatus($0, options: $1)
            })
        let discussion = try #require(try await market.listDiscussionGroups(.init()).groups.first)
        check(
            "JoinDiscussionGroup",
            try await Self.twice(
                MarketplaceV1.JoinDiscussionGroupRequest(
                    member: MarketplaceV1.GroupMember(groupID: discussion.id, kind: .expert, member: "Replay Tester"),
                    requestID: rid())
            ) { try await market.joinDiscussionGroup($0, options: $1) })

        #expect(replayed == Self.answersKept, "not covered: \(Self.answersKept.subtracting(replayed))")
        try await Self.expectNoReplayWrote(services)
    }

    /// No audit entry carries a replay's request id, in any service: nothing a replay did was a change.
    static func expectNoReplayWrote(_ services: ThreeServices) async throws {
        for executable in ["producer-service", "marketplace-info-service", "assistance-service"] {
            let database = try await openDatabase(
                .sqlite(path: services.databaseFile(executable)), migrations: [], logger: quietLogger)
            let entries = try await database.query(
                "SELECT method, request_id FROM audit_log WHERE request_id LIKE 'replay-%'", [])
            await database.close()
            #expect(entries.isEmpty, "\(executable): replays wrote \(entries)")
        }
    }

    @Test("every change answered OK, replayed with its request id, answers as before and writes nothing")
    func everyChangeReplayed() async throws {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        try #require(load.status == 0, "\(load.output)")
        let sweep = try ExtremeValueTests.Sweep(services)
        try await sweep.harvestLists()
        try await sweep.run([.one])
        let channels = Dictionary(uniqueKeysWithValues: sweep.targets.map { ($0.schema.name, $0.channel) })
        var replayed: Set<String> = []
        for (index, call) in sweep.answered.enumerated() where !call.method.noSideEffects {
            var options = CallOptions(timeout: .seconds(10))
            options.requestID = "replay-\(index)"
            let what = "\(call.service.name)/\(call.method.name)"
            let answer: [UInt8]
            do {
                answer = try await channels[call.service.name]!.call(
                    service: call.service.name, method: call.method.name, idempotent: false, payload: call.request,
                    options: options)
            } catch {
                Issue.record("\(what) answered OK, and its replay \(error.code): \(error.message)")
                continue
            }
            replayed.insert(call.method.name)
            if Self.answersKept.contains(call.method.name) {
                #expect(answer == call.answer, "\(what): the replay answered differently")
            } else {
                let first = try DescriptorJSON.decode(call.answer, as: call.method.outputType)
                let again = try DescriptorJSON.decode(answer, as: call.method.outputType)
                #expect(Self.id(first) == Self.id(again), "\(what): the replay named another record")
            }
        }
        #expect(replayed.count >= 10, "replayed only: \(replayed)")
        try await Self.expectNoReplayWrote(services)
    }
}
