import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Assistance: trainings and cascades, equipment, referrals, results", .serialized)
struct TrainingTests {
    typealias A = AssistanceV1

    /// The field's example: Trade Aid Integrated trains the best Bolga weavers (12 here, an illustrative figure),
    /// who pass the skills on to 240 rural basket makers in three village trainings.
    @Test(
        "the Bolga train-the-trainers cascade: reach per tier, by sex and in total; completion records skill levels",
        arguments: Backend.allCases)
    func bolgaCascade(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let villages = [
                    try await makeGroup(service.producer, "Sumbrungu basket makers"),
                    try await makeGroup(service.producer, "Zaare basket makers"),
                    try await makeGroup(service.producer, "Gowrie basket makers"),
                ]
                let tradeAid = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
                let first = try await client.recordTraining(
                    A.RecordTrainingRequest(
                        training: A.Training(
                            title: "Train the trainers: basketry", skill: "Basketry", heldOn: date("2025-03-10"),
                            trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                            trainees: A.PeopleCount(women: 10, men: 2)),
                        requestID: "t-1"))
                #expect(first.id.hasPrefix("tr_") && first.status == .planned && first.skill == "basketry")
                let split: [(Int32, Int32)] = [(78, 4), (76, 4), (74, 4)]
                var second: [A.Training] = []
                for (index, village) in villages.enumerated() {
                    second.append(
                        try await client.recordTraining(
                            A.RecordTrainingRequest(
                                training: A.Training(
                                    title: "Basketry in \(village.name)", skill: "basketry",
                                    heldOn: date("2025-0\(5 + index)-01"), trainerGroupID: bolga.id,
                                    trainedGroupIDs: [village.id],
                                    trainees: A.PeopleCount(women: split[index].0, men: split[index].1),
                                    cascadesFrom: first.id),
                                requestID: "t-2-\(index)")))
                }
                let reach = try await client.getCascadeReach(A.GetCascadeReachRequest(trainingID: second[1].id))
                #expect(reach.rootTrainingID == first.id)
                #expect(reach.tiers.map(\.total) == [12, 240])
                #expect(reach.tiers[0].people == A.PeopleCount(women: 10, men: 2))
                #expect(reach.tiers[1].people == A.PeopleCount(women: 228, men: 12) && reach.tiers[1].trainings == 3)
                #expect(reach.tiers[1].multiplierHundredths == 2000)
                #expect(
                    reach.total == 252 && reach.people == A.PeopleCount(women: 238, men: 14) && reach.groupsReached == 4
                )

                // A cascade cannot loop, nor be given by a group the earlier training did not train.
                let loop = await failure {
                    try await client.linkCascade(
                        A.LinkCascadeRequest(
                            trainingID: first.id, cascadesFrom: second[0].id, requestID: RequestID.make()))
                }
                #expect(loop?.code == .failedPrecondition && loop?.message.contains("loop") == true)
                let own = await failure {
                    try await client.linkCascade(
                        A.LinkCascadeRequest(trainingID: first.id, cascadesFrom: first.id, requestID: RequestID.make()))
                }
                #expect(own?.code == .failedPrecondition)
                let wrongTrainer = await failure {
                    try await client.linkCascade(
                        A.LinkCascadeRequest(
                            trainingID: second[2].id, cascadesFrom: second[0].id, requestID: RequestID.make()))
                }
                #expect(
                    wrongTrainer?.code == .failedPrecondition
                        && wrongTrainer?.message.contains("trainer_group_id") == true)
                // Unlinking and relinking (trainings recorded out of order) changes the reach.
                _ = try await client.linkCascade(
                    A.LinkCascadeRequest(trainingID: second[2].id, requestID: RequestID.make()))
                #expect(
                    try await client.getCascadeReach(A.GetCascadeReachRequest(trainingID: first.id)).total == 12 + 82
                        + 80)
                _ = try await client.linkCascade(
                    A.LinkCascadeRequest(trainingID: second[2].id, cascadesFrom: first.id, requestID: RequestID.make()))
                #expect(try await client.getCascadeReach(A.GetCascadeReachRequest(trainingID: first.id)).total == 252)

                // Completing records the trained groups' new levels in the Producer service.
                let done = try await client.completeTraining(
                    A.CompleteTrainingRequest(
                        trainingID: first.id, completedOn: date("2025-03-14"),
                        results: [A.SkillLevel(groupID: bolga.id, level: 4, membersHolding: 12)],
                        requestID: RequestID.make()))
                #expect(done.status == .completed && done.results.count == 1)
                #expect(
                    try await client.completeTraining(
                        A.CompleteTrainingRequest(
                            trainingID: first.id, completedOn: date("2025-03-14"),
                            results: [A.SkillLevel(groupID: bolga.id, level: 4, membersHolding: 12)],
                            requestID: RequestID.make())) == done)
                let assessments = try await service.producer.listSkillAssessments(
                    ProducerV1.ListSkillAssessmentsRequest(groupID: bolga.id)
                ).assessments
                #expect(
                    assessments.count == 1 && assessments[0].skill == "basketry" && assessments[0].level == 4
                        && assessments[0].assessor == "Trade Aid Integrated")
                let missing = await failure {
                    try await client.completeTraining(
                        A.CompleteTrainingRequest(
                            trainingID: second[0].id,
                            completedOn: date("2025-05-02"), requestID: RequestID.make()))
                }
                #expect(missing?.fieldViolations.map(\.field) == ["results"])

                #expect(
                    try await client.listTrainings(A.ListTrainingsRequest(groupID: bolga.id)).trainings.map(\.id)
                        == [first.id] + second.map(\.id))
                #expect(
                    try await client.listTrainings(A.ListTrainingsRequest(groupID: villages[0].id)).trainings.map(\.id)
                        == [second[0].id])
                // Pages of three, in the order held, until the token runs out.
                let firstPage = try await client.listTrainings(A.ListTrainingsRequest(groupID: bolga.id, pageSize: 3))
                #expect(firstPage.trainings.map(\.id) == [first.id] + second.prefix(2).map(\.id))
                #expect(!firstPage.nextPageToken.isEmpty)
                let lastPage = try await client.listTrainings(
                    A.ListTrainingsRequest(groupID: bolga.id, pageSize: 3, pageToken: firstPage.nextPageToken))
                #expect(lastPage.trainings.map(\.id) == [second[2].id] && lastPage.nextPageToken.isEmpty)
                let badPage = await failure {
                    try await client.listTrainings(
                        A.ListTrainingsRequest(pageSize: 1001, pageToken: "x" + firstPage.nextPageToken))
                }
                #expect(Set(badPage?.fieldViolations.map(\.field) ?? []) == ["page_size", "page_token"])

                // Field errors: a skill outside the catalogue, two trainers, an unknown group, nobody trained.
                let unknownSkill = await failure {
                    try await client.recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: "Juggling", skill: "juggling", heldOn: date("2025-03-10"),
                                trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                                trainees: A.PeopleCount(women: 1)), requestID: "t-x"))
                }
                #expect(unknownSkill?.fieldViolations.map(\.field) == ["training.skill"])
                let bad = await failure {
                    try await client.recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: "x", skill: "basketry", heldOn: date("2025-03-10"),
                                trainerOrganisationID: tradeAid.id, trainerGroupID: bolga.id,
                                trainees: A.PeopleCount(women: -1)), requestID: "t-y"))
                }
                // Out of bounds first (docs/LIMITS.md), then the service's own checks.
                #expect(Set(bad?.fieldViolations.map(\.field) ?? []) == ["training.trainees.women"])
                let twoTrainers = await failure {
                    try await client.recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: "x", skill: "basketry", heldOn: date("2025-03-10"),
                                trainerOrganisationID: tradeAid.id, trainerGroupID: bolga.id,
                                trainees: A.PeopleCount(women: 1)), requestID: "t-y2"))
                }
                #expect(
                    Set(twoTrainers?.fieldViolations.map(\.field) ?? []) == [
                        "training.trainer_organisation_id", "training.trained_group_ids",
                    ])
                let ghost = await failure {
                    try await client.recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: "x", skill: "basketry", heldOn: date("2025-03-10"),
                                trainerOrganisationID: tradeAid.id,
                                trainedGroupIDs: [bolga.id, "pg_ffffffffffffffff"],
                                trainees: A.PeopleCount(women: 1)), requestID: "t-z"))
                }
                #expect(ghost?.fieldViolations.map(\.field) == ["training.trained_group_ids[1]"])
            }
        }
    }

    @Test("equipment, referrals and result indicators for VillageWorks", arguments: Backend.allCases)
    func recordsAndResults(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let villageWorks = try await makeGroup(
                    service.producer, "VillageWorks", country: "KH", crafts: ["bags", "scarves"])
                let serrv = try await ProjectTests.organisation(client, "SERRV", .member)
                let development = try await ProjectTests.organisation(client, "Cambodia Microfinance", .development)
                let project = try await ProjectTests.project(
                    client, "Printing workshop", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 800_000, currency: "USD")])

                // Equipment that ended paying an outside printer.
                let press = try await client.recordEquipment(
                    A.RecordEquipmentRequest(
                        equipment: A.Equipment(
                            groupID: villageWorks.id, projectID: project.id,
                            description: "Screen-printing table, screens and dryer",
                            value: CommonV1.Money(minorUnits: 450_000, currency: "usd"),
                            deliveredOn: date("2025-04-01"),
                            replaces: "paying an outside company to screen-print the fabric",
                            yearlyCostReplaced: CommonV1.Money(minorUnits: 300_000, currency: "USD")),
                        requestID: "eq-1"))
                #expect(press.id.hasPrefix("eq_") && press.value?.currency == "USD")
                #expect(
                    try await client.listEquipment(A.ListEquipmentRequest(groupID: villageWorks.id)).equipment == [
                        press
                    ])
                let mixed = await failure {
                    try await client.recordEquipment(
                        A.RecordEquipmentRequest(
                            equipment: A.Equipment(
                                groupID: villageWorks.id, description: "x",
                                value: CommonV1.Money(minorUnits: 1, currency: "USD"), deliveredOn: date("2025-04-01"),
                                yearlyCostReplaced: CommonV1.Money(minorUnits: 1, currency: "KHR")),
                            requestID: "eq-2"))
                }
                #expect(mixed?.fieldViolations.map(\.field) == ["equipment.yearly_cost_replaced.currency"])

                // A referral and its outcome; final outcomes stay final.
                let referral = try await client.createReferral(
                    A.CreateReferralRequest(
                        referral: A.Referral(
                            groupID: villageWorks.id, organisationID: development.id,
                            purpose: "a loan for a second printing table", referredOn: date("2025-05-01")),
                        requestID: "rf-1"))
                #expect(referral.outcome == .pending)
                let accepted = try await client.recordReferralOutcome(
                    A.RecordReferralOutcomeRequest(
                        referralID: referral.id, outcome: .accepted, outcomeOn: date("2025-06-01"),
                        notes: "loan approved", requestID: RequestID.make()))
                #expect(accepted.outcome == .accepted && accepted.outcomeNotes == "loan approved")
                _ = try await client.recordReferralOutcome(
                    A.RecordReferralOutcomeRequest(
                        referralID: referral.id, outcome: .completed, outcomeOn: date("2025-09-01"),
                        requestID: RequestID.make()))
                let reopened = await failure {
                    try await client.recordReferralOutcome(
                        A.RecordReferralOutcomeRequest(
                            referralID: referral.id, outcome: .declined, outcomeOn: date("2025-10-01"),
                            requestID: RequestID.make()))
                }
                #expect(reopened?.code == .failedPrecondition)
                #expect(
                    try await client.listReferrals(A.ListReferralsRequest(organisationID: development.id)).referrals
                        .count == 1)

                // Results: jobs created, counted by sex; money saved in a currency.
                let jobs = try await client.defineIndicator(
                    A.DefineIndicatorRequest(
                        indicator: A.Indicator(
                            projectID: project.id, groupID: villageWorks.id, level: .outcome,
                            measure: .jobsCreated, title: "Jobs in the printing workshop", unit: "jobs",
                            baselineYear: 2024, baseline: A.IndicatorValue(bySex: A.PeopleCount()),
                            periods: [
                                A.IndicatorPeriod(
                                    start: date("2025-01-01"), end: date("2025-12-31"),
                                    target: A.IndicatorValue(bySex: A.PeopleCount(women: 5, men: 1)))
                            ]),
                        requestID: "in-1"))
                #expect(jobs.countsPeople && jobs.periods[0].target?.value == 6)
                let actual = try await client.recordIndicatorPeriod(
                    A.RecordIndicatorPeriodRequest(
                        indicatorID: jobs.id,
                        period: A.IndicatorPeriod(
                            start: date("2025-01-01"), end: date("2025-12-31"),
                            target: A.IndicatorValue(value: 6, bySex: A.PeopleCount(women: 5, men: 1)),
                            actual: A.IndicatorValue(value: 7, bySex: A.PeopleCount(women: 6, men: 1))),
                        requestID: RequestID.make()))
                #expect(
                    actual.replaced && actual.indicator?.periods.count == 1
                        && actual.indicator?.periods[0].actual?.value == 7)
                let added = try await client.recordIndicatorPeriod(
                    A.RecordIndicatorPeriodRequest(
                        indicatorID: jobs.id,
                        period: A.IndicatorPeriod(
                            start: date("2026-01-01"), end: date("2026-12-31"),
                            target: A.IndicatorValue(bySex: A.PeopleCount(women: 8, men: 2))),
                        requestID: RequestID.make()))
                #expect(!added.replaced && added.indicator?.periods.count == 2)
                let overlap = await failure {
                    try await client.recordIndicatorPeriod(
                        A.RecordIndicatorPeriodRequest(
                            indicatorID: jobs.id,
                            period: A.IndicatorPeriod(
                                start: date("2025-06-01"), end: date("2026-05-31"),
                                actual: A.IndicatorValue(bySex: A.PeopleCount(women: 1))), requestID: RequestID.make()))
                }
                #expect(overlap?.code == .failedPrecondition && overlap?.message.contains("overlaps") == true)
                let unsplit = await failure {
                    try await client.recordIndicatorPeriod(
                        A.RecordIndicatorPeriodRequest(
                            indicatorID: jobs.id,
                            period: A.IndicatorPeriod(
                                start: date("2027-01-01"), end: date("2027-12-31"), actual: A.IndicatorValue(value: 3)),
                            requestID: RequestID.make())
                    )
                }
                #expect(unsplit?.fieldViolations.map(\.field) == ["period.actual.by_sex"])
                let wrongSum = await failure {
                    try await client.recordIndicatorPeriod(
                        A.RecordIndicatorPeriodRequest(
                            indicatorID: jobs.id,
                            period: A.IndicatorPeriod(
                                start: date("2027-01-01"), end: date("2027-12-31"),
                                actual: A.IndicatorValue(value: 3, bySex: A.PeopleCount(women: 1))),
                            requestID: RequestID.make()))
                }
                #expect(wrongSum?.fieldViolations.map(\.field) == ["period.actual.value"])
                // By age and by place too, as IATI disaggregates results; each breakdown adds up to the value.
                func period(_ actual: A.IndicatorValue, of indicator: String) -> A.RecordIndicatorPeriodRequest {
                    A.RecordIndicatorPeriodRequest(
                        indicatorID: indicator,
                        period: A.IndicatorPeriod(start: date("2028-01-01"), end: date("2028-12-31"), actual: actual),
                        requestID: RequestID.make())
                }
                let detailed = try await client.recordIndicatorPeriod(
                    period(
                        A.IndicatorValue(
                            bySex: A.PeopleCount(women: 8, men: 2),
                            byAge: [
                                A.AgeBandCount(band: "15-24", people: 4), A.AgeBandCount(band: "25 - 59", people: 5),
                                A.AgeBandCount(band: "60+", people: 1),
                            ],
                            byLocation: [
                                A.LocationCount(location: "kh/Phnom Penh", people: 7),
                                A.LocationCount(location: "KH / Kandal", people: 3),
                            ]), of: jobs.id))
                let stored = detailed.indicator?.periods.last?.actual
                #expect(stored?.value == 10 && stored?.byAge.map(\.band) == ["15-24", "25-59", "60+"])
                #expect(stored?.byLocation.map(\.location) == ["KH/Phnom Penh", "KH/Kandal"])
                let badBreakdown = await failure {
                    try await client.recordIndicatorPeriod(
                        period(
                            A.IndicatorValue(
                                bySex: A.PeopleCount(women: 8, men: 2),
                                byAge: [
                                    A.AgeBandCount(band: "15-24", people: 4), A.AgeBandCount(band: "20-29", people: 5),
                                    A.AgeBandCount(band: "old", people: 0),
                                ],
                                byLocation: [
                                    A.LocationCount(location: "ZZ", people: 5),
                                    A.LocationCount(location: "KH", people: 5),
                                ]), of: jobs.id))
                }
                #expect(
                    Set(badBreakdown?.fieldViolations.map(\.field) ?? []) == [
                        "period.actual.by_age[1].band", "period.actual.by_age[2].band", "period.actual.by_age",
                        "period.actual.by_location[0].location",
                    ])
                #expect(badBreakdown?.message.contains("20-29 overlaps 15-24") == true)
                #expect(badBreakdown?.message.contains("adds up to 9, not to the value 10") == true)
                let saved = try await client.defineIndicator(
                    A.DefineIndicatorRequest(
                        indicator: A.Indicator(
                            projectID: project.id, groupID: villageWorks.id, level: .outcome,
                            measure: .moneySaved, title: "Printing costs saved", unit: "usd"),
                        requestID: "in-2"))
                #expect(saved.unit == "USD" && !saved.countsPeople)
                let moneyByAge = await failure {
                    try await client.recordIndicatorPeriod(
                        period(
                            A.IndicatorValue(value: 100, byAge: [A.AgeBandCount(band: "15-24", people: 1)]),
                            of: saved.id))
                }
                #expect(moneyByAge?.fieldViolations.map(\.field) == ["period.actual.by_age"])
                let badUnit = await failure {
                    try await client.defineIndicator(
                        A.DefineIndicatorRequest(
                            indicator: A.Indicator(
                                projectID: project.id, level: .outcome, measure: .moneySaved, title: "x",
                                unit: "dollars"), requestID: "in-3"))
                }
                #expect(badUnit?.fieldViolations.map(\.field) == ["indicator.unit"])
                #expect(
                    try await client.listIndicators(A.ListIndicatorsRequest(groupID: villageWorks.id)).indicators.count
                        == 2)
                #expect(
                    try await client.listIndicators(A.ListIndicatorsRequest(projectID: project.id)).indicators.count
                        == 2)
            }
        }
    }

    @Test("with the Producer service down, records about groups fail UNAVAILABLE naming it and nothing is written")
    func producerDown() async throws {
        try await withAssistance(.sqlite, producerEndpoint: deadEndpoint()) { service in
            let client = service.client
            let tradeAid = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
            let down = await failure {
                try await client.recordTraining(
                    A.RecordTrainingRequest(
                        training: A.Training(
                            title: "Basketry", skill: "basketry", heldOn: date("2025-03-10"),
                            trainerOrganisationID: tradeAid.id, trainedGroupIDs: ["pg_0123456789abcdef"],
                            trainees: A.PeopleCount(women: 3)), requestID: "t"))
            }
            #expect(down?.code == .unavailable && down?.message.contains("producer-service") == true)
            let referral = await failure {
                try await client.createReferral(
                    A.CreateReferralRequest(
                        referral: A.Referral(
                            groupID: "pg_0123456789abcdef", organisationID: tradeAid.id, purpose: "x",
                            referredOn: date("2025-01-01")), requestID: "r"))
            }
            #expect(referral?.code == .unavailable && referral?.message.contains("producer-service") == true)
            #expect(try await client.listTrainings(A.ListTrainingsRequest()).trainings.isEmpty)
            #expect(try await client.listReferrals(A.ListReferralsRequest()).referrals.isEmpty)
        }
    }

    @Test("people counts too large for a sum are refused, and the service stays up")
    func hugeCounts() async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(.sqlite, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let tradeAid = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
                let error = await failure {
                    try await client.recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: "Weaving", skill: "basketry", heldOn: date("2025-03-10"),
                                trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                                trainees: A.PeopleCount(women: .max, men: 1, other: .max)),
                            requestID: "huge"))
                }
                #expect(error?.code == .invalidArgument)
                #expect(
                    Set(error?.fieldViolations.map(\.field) ?? [])
                        == ["training.trainees.women", "training.trainees.other"])
                let recorded = try await client.recordTraining(
                    A.RecordTrainingRequest(
                        training: A.Training(
                            title: "Weaving", skill: "basketry", heldOn: date("2025-03-10"),
                            trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                            trainees: A.PeopleCount(women: 1_000_000, men: 1_000_000, other: 1_000_000)),
                        requestID: "large"))
                #expect(recorded.id.hasPrefix("tr_"))
            }
        }
    }
}
