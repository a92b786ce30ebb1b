import API
import RPC
import Schema

/// The examples' assistance and market side: SERRV's Africa project with the Bolga cascade, VillageWorks' printing
/// equipment, Handmade Expressions' 2010 gifts, and SERRV's place where artisans exchange practices.
extension ExampleData {
    /// The producer groups `load` made, in its order.
    struct Groups {
        let weavers, makers, villageWorks, india: ProducerV1.ProducerGroup

        init(_ groups: [ProducerV1.ProducerGroup]) {
            (weavers, makers, villageWorks, india) = (groups[0], groups[1], groups[2], groups[3])
        }
    }

    static func usd(_ dollars: Int64) -> CommonV1.Money { CommonV1.Money(minorUnits: dollars * 100, currency: "USD") }

    static func loadAssistance(_ client: AssistanceV1.AssistanceServiceClient, _ groups: Groups, _ options: CallOptions)
        async throws
    {
        typealias A = AssistanceV1
        func organisation(
            _ key: String, _ name: String, _ kind: A.OrganisationKind, _ country: String, iati: String = "",
            notes: String = ""
        ) async throws -> A.Organisation {
            try await client.createOrganisation(
                A.CreateOrganisationRequest(
                    organisation: A.Organisation(
                        name: name, kind: kind, iatiIdentifier: iati, country: country, notes: notes),
                    requestID: "example-\(key)"),
                options: options)
        }
        // The reporting organisation of the projects: an IATI export names its activities after its identifier.
        let serrv = try await organisation(
            "serrv", "SERRV International", .member, "US", iati: "XI-IATI-SERRVEX",
            notes: illustrative + "the IATI organisation identifier, made up for the example data.")
        let tradeAid = try await organisation("trade-aid", "Trade Aid Integrated", .development, "GH")
        let handmade = try await organisation(
            "handmade-expressions", "Handmade Expressions", .member, "US", iati: "XI-IATI-HMEXEX",
            notes: illustrative + "the IATI organisation identifier, made up for the example data.")

        func project(_ key: String, _ project: A.Project) async throws -> A.Project {
            try await client.createProject(
                A.CreateProjectRequest(project: project, requestID: "example-\(key)"),
                options: options)
        }
        func money(
            _ key: String, _ projectID: String, _ type: A.TransactionType, _ value: CommonV1.Money,
            _ date: CommonV1.Date, _ group: String, _ description: String
        ) async throws {
            _ = try await client.recordTransaction(
                A.RecordTransactionRequest(
                    transaction: A.Transaction(
                        projectID: projectID, type: type, value: value, date: date, groupID: group,
                        description: description),
                    requestID: "example-\(key)"), options: options)
        }

        // Ghana: the Africa capacity-building project and its train-the-trainers cascade (20 best weavers, then the
        // 240 rural basket makers they trained).
        let africa = try await project(
            "africa",
            A.Project(
                title: "Africa capacity-building project", description: illustrative + "dates and budget.",
                reportingOrganisationID: serrv.id,
                participants: [
                    A.Participation(organisationID: serrv.id, role: .funding),
                    A.Participation(organisationID: tradeAid.id, role: .implementing),
                ],
                status: .implementation, plannedStart: day(2009, 1, 1), plannedEnd: day(2011, 12, 31),
                countries: ["GH"], sectors: [32140, 32130], budget: [usd(50_000)]))
        let bolga = try await project(
            "bolga-ttt",
            A.Project(
                title: "Bolga basket weavers: train the trainers", description: illustrative + "dates and budget.",
                reportingOrganisationID: serrv.id,
                participants: [A.Participation(organisationID: tradeAid.id, role: .implementing)],
                status: .implementation, plannedStart: day(2009, 1, 1), plannedEnd: day(2010, 12, 31),
                countries: ["GH"], sectors: [32140], budget: [usd(12_000)], parentID: africa.id))
        try await money(
            "africa-commit", africa.id, .commitment, usd(50_000), day(2009, 1, 10), "", "SERRV's commitment")
        try await money(
            "bolga-disburse", bolga.id, .disbursement, usd(8_000), day(2009, 2, 15), groups.weavers.id,
            "Trainers' time, materials and travel to the villages")
        _ = try await client.createReferral(
            A.CreateReferralRequest(
                referral: A.Referral(
                    groupID: groups.weavers.id, organisationID: tradeAid.id,
                    purpose: "train-the-trainers programme in basketry", referredOn: day(2009, 1, 15)),
                requestID: "example-bolga-referral"), options: options)
        let referrals = try await client.listReferrals(
            A.ListReferralsRequest(groupID: groups.weavers.id), options: options)
        if let referral = referrals.referrals.first, referral.outcome == .pending {
            _ = try await client.recordReferralOutcome(
                A.RecordReferralOutcomeRequest(
                    referralID: referral.id, outcome: .completed, outcomeOn: day(2009, 8, 31),
                    notes: "20 weavers trained as trainers; they trained 240 rural basket makers",
                    requestID: "example-bolga-referral-outcome"), options: options)
        }
        let first = try await client.recordTraining(
            A.RecordTrainingRequest(
                training: A.Training(
                    title: "Train the trainers: basketry and teaching", skill: "training-others",
                    heldOn: day(2009, 3, 2), trainerOrganisationID: tradeAid.id,
                    trainedGroupIDs: [groups.weavers.id], trainees: A.PeopleCount(women: 18, men: 2),
                    projectID: bolga.id, notes: illustrative + "20 best weavers, the date."),
                requestID: "example-bolga-tier1"), options: options)
        let second = try await client.recordTraining(
            A.RecordTrainingRequest(
                training: A.Training(
                    title: "Basketry for rural basket makers", skill: "basketry", heldOn: day(2009, 6, 1),
                    trainerGroupID: groups.weavers.id, trainedGroupIDs: [groups.makers.id],
                    trainees: A.PeopleCount(women: 216, men: 24), cascadesFrom: first.id, projectID: bolga.id,
                    notes: "240 rural basket makers (the story's figure); " + illustrative + "the split by sex."),
                requestID: "example-bolga-tier2"), options: options)
        _ = try await client.completeTraining(
            A.CompleteTrainingRequest(
                trainingID: first.id, completedOn: day(2009, 3, 20),
                results: [A.SkillLevel(groupID: groups.weavers.id, level: 4, membersHolding: 20)],
                requestID: "example-bolga-tier1-completed"), options: options)
        _ = try await client.completeTraining(
            A.CompleteTrainingRequest(
                trainingID: second.id, completedOn: day(2009, 9, 30),
                results: [A.SkillLevel(groupID: groups.makers.id, level: 2, membersHolding: 240)],
                requestID: "example-bolga-tier2-completed"), options: options)
        _ = try await client.defineIndicator(
            A.DefineIndicatorRequest(
                indicator: A.Indicator(
                    projectID: bolga.id, groupID: groups.makers.id, level: .output,
                    measure: .artisansTrained, title: "Rural basket makers trained by the Bolga trainers",
                    unit: "people",
                    periods: [
                        A.IndicatorPeriod(
                            start: day(2009, 1, 1), end: day(2009, 12, 31),
                            target: A.IndicatorValue(bySex: A.PeopleCount(women: 200, men: 40)),
                            actual: A.IndicatorValue(bySex: A.PeopleCount(women: 216, men: 24)))
                    ]),
                requestID: "example-bolga-indicator"), options: options)
        _ = try await client.defineIndicator(
            A.DefineIndicatorRequest(
                indicator: A.Indicator(
                    projectID: bolga.id, groupID: groups.weavers.id, level: .outcome, measure: .artisansTrained,
                    title: "Weavers able to teach basketry", unit: "people", baselineYear: 2008,
                    baseline: A.IndicatorValue(bySex: A.PeopleCount()),
                    periods: [
                        A.IndicatorPeriod(
                            start: day(2009, 1, 1), end: day(2009, 12, 31),
                            target: A.IndicatorValue(bySex: A.PeopleCount(women: 16, men: 4)),
                            actual: A.IndicatorValue(bySex: A.PeopleCount(women: 18, men: 2)))
                    ]),
                requestID: "example-bolga-trainers-indicator"), options: options)

        // Cambodia: the equipment that ended paying an outside printer.
        let printing = try await project(
            "villageworks-printing",
            A.Project(
                title: "VillageWorks screen-printing workshop", description: illustrative + "dates, costs and savings.",
                reportingOrganisationID: serrv.id,
                participants: [A.Participation(organisationID: serrv.id, role: .funding)],
                status: .closed, plannedStart: day(2008, 2, 1), plannedEnd: day(2008, 12, 31),
                actualStart: day(2008, 2, 1),
                actualEnd: day(2008, 12, 31), countries: ["KH"], sectors: [32163], budget: [usd(6_500)]))
        _ = try await client.recordEquipment(
            A.RecordEquipmentRequest(
                equipment: A.Equipment(
                    groupID: groups.villageWorks.id, projectID: printing.id,
                    description: "Screen-printing tables, screens, squeegees and a drying rack",
                    value: usd(6_500), deliveredOn: day(2008, 5, 1),
                    replaces: "paying an outside company to screen-print the fabric for bags and scarves",
                    yearlyCostReplaced: usd(3_600), notes: illustrative + "value and yearly cost."),
                requestID: "example-villageworks-equipment"), options: options)
        _ = try await client.defineIndicator(
            A.DefineIndicatorRequest(
                indicator: A.Indicator(
                    projectID: printing.id, groupID: groups.villageWorks.id, level: .outcome,
                    measure: .jobsCreated, title: "Jobs in the printing workshop", unit: "jobs",
                    baselineYear: 2007, baseline: A.IndicatorValue(bySex: A.PeopleCount()),
                    periods: [
                        A.IndicatorPeriod(
                            start: day(2008, 1, 1), end: day(2009, 12, 31),
                            actual: A.IndicatorValue(bySex: A.PeopleCount(women: 6, men: 2)))
                    ]),
                requestID: "example-villageworks-jobs"), options: options)
        _ = try await client.defineIndicator(
            A.DefineIndicatorRequest(
                indicator: A.Indicator(
                    projectID: printing.id, groupID: groups.villageWorks.id, level: .outcome,
                    measure: .moneySaved, title: "Outside printing no longer paid for", unit: "USD",
                    periods: [
                        A.IndicatorPeriod(
                            start: day(2009, 1, 1), end: day(2009, 12, 31),
                            actual: A.IndicatorValue(value: 360_000))
                    ]),
                requestID: "example-villageworks-saved"), options: options)

        // India, 2010: USD 6,000 for health camps and eye check-ups, USD 6,000 for solar panels and lights (the story's
        // figures), and training in sustainable materials.
        let welfare = try await project(
            "he-2010",
            A.Project(
                title: "Artisan health and solar light, 2010", reportingOrganisationID: handmade.id,
                participants: [A.Participation(organisationID: handmade.id, role: .funding)], status: .implementation,
                plannedStart: day(2010, 1, 1), plannedEnd: day(2010, 12, 31), actualStart: day(2010, 1, 1),
                countries: ["IN"], sectors: [32140], budget: [usd(12_000)]))
        // A retried record returns the first one, even once the project is closed.
        try await money(
            "he-health", welfare.id, .disbursement, usd(6_000), day(2010, 4, 1), groups.india.id,
            "Health camps and eye check-ups for artisans")
        try await money(
            "he-solar", welfare.id, .disbursement, usd(6_000), day(2010, 9, 1), groups.india.id,
            "Solar panels and lights in remote villages")
        if welfare.status != .closed {
            var closed = A.Project(id: welfare.id, status: .closed)
            closed.actualEnd = day(2010, 12, 31)
            _ = try await client.updateProject(
                A.UpdateProjectRequest(
                    project: closed, updateMask: ["status", "actual_end"], expectedVersion: welfare.version,
                    requestID: "example-he-welfare-closed"),
                options: options)
        }
        _ = try await client.recordTraining(
            A.RecordTrainingRequest(
                training: A.Training(
                    title: "Environmentally sustainable practices: local, recycled, reused and natural materials",
                    skill: "sustainable-materials", heldOn: day(2010, 8, 15), trainerOrganisationID: handmade.id,
                    trainedGroupIDs: [groups.india.id], trainees: A.PeopleCount(women: 80, men: 40),
                    notes: illustrative + "date and trainees."),
                requestID: "example-he-sustainable"), options: options)
    }

    static func loadMarket(
        _ client: MarketplaceV1.MarketplaceInfoServiceClient, _ groups: Groups, _ options: CallOptions
    )
        async throws
    {
        typealias M = MarketplaceV1
        _ = try await client.createDiscussionGroup(
            M.CreateDiscussionGroupRequest(
                group: M.DiscussionGroup(
                    name: "SERRV artisan exchange",
                    description: "Opened by SERRV in 2009: artisans and experts worldwide exchange best practices.",
                    crafts: ["baskets", "textiles", "bags", "scarves"]),
                requestID: "example-serrv-exchange"), options: options)
        _ = try await client.addLibraryEntry(
            M.AddLibraryEntryRequest(
                entry: M.LibraryEntry(
                    title: "Bringing screen printing in house",
                    body: """
                        VillageWorks paid an outside company to screen-print the fabric for its bags and scarves. The importer \
                        showed the group it could master the process and funded the equipment; the group now runs its own \
                        printing workshop, creating jobs, saving money and reaching more artisans.
                        """,
                    topics: ["equipment", "printing", "savings"], crafts: ["bags", "scarves"],
                    authorKind: .organisation,
                    author: "SERRV International"),
                requestID: "example-lesson-printing"), options: options)
        _ = try await client.addLibraryEntry(
            M.AddLibraryEntryRequest(
                entry: M.LibraryEntry(
                    title: "Train the trainers: how 20 weavers reached 240 basket makers",
                    body: """
                        The best Bolga weavers were trained with Trade Aid Integrated and passed the skills on to 240 rural \
                        basket makers. Choose trainers the community trusts, train them to teach as well as to weave, and \
                        follow up each village training.
                        """,
                    topics: ["training", "trainers", "cascade"], crafts: ["baskets"], authorKind: .organisation,
                    author: "SERRV International"),
                requestID: "example-lesson-cascade"), options: options)
        try await loadMarketFiles(client, options)
    }
}
