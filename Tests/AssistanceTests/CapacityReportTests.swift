import API
import Domain
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// The three services as separate processes, as deployed: the capacity report gathers from all three, and when the
/// Producer service (then Marketplace-Info) stops, its section is marked unavailable while the rest comes back.
@Suite("Assistance: the capacity report across three processes", .serialized)
struct CapacityReportTests {
    typealias A = AssistanceV1

    @Test("a report from three processes; with producer-service stopped, then marketplace-info-service too")
    func threeProcesses() async throws {
        let services = try await ThreeServices()
        let producer = try services.producer
        let market = try services.market
        let assistance = try services.assistance

        // Each service holds part of the Bolga weavers' story.
        let bolga = try await makeGroup(producer, "Bolga basket weavers")
        _ = try await producer.addBuyerRelationship(
            ProducerV1.AddBuyerRelationshipRequest(
                relationship: ProducerV1.BuyerRelationship(
                    groupID: bolga.id, organisation: "SERRV", since: date("2012-01-01"),
                    kind: .directPurchase,
                    yearlyPurchases: CommonV1.Money(minorUnits: 4_000_000, currency: "USD")),
                requestID: "buyer-1"))
        let place = try await market.createMarket(
            MarketplaceV1.CreateMarketRequest(
                market: MarketplaceV1.Market(name: "Bolgatanga", country: "GH", kind: .localMarket), requestID: "mk"))
        _ = try await market.recordPrice(
            MarketplaceV1.RecordPriceRequest(
                observation: MarketplaceV1.PriceObservation(
                    product: "baskets", marketID: place.id, priceType: .producer, unit: "piece",
                    price: CommonV1.Money(minorUnits: 4_500, currency: "GHS"),
                    observedOn: date(ISODate.today().description)),
                requestID: "price"))
        let tradeAid = try await assistance.createOrganisation(
            A.CreateOrganisationRequest(
                organisation: A.Organisation(name: "Trade Aid Integrated", kind: .development), requestID: "ta"))
        let training = try await assistance.recordTraining(
            A.RecordTrainingRequest(
                training: A.Training(
                    title: "Train the trainers", skill: "basketry", heldOn: date("2025-03-10"),
                    trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                    trainees: A.PeopleCount(women: 10, men: 2)), requestID: "t1"))
        _ = try await assistance.completeTraining(
            A.CompleteTrainingRequest(
                trainingID: training.id, completedOn: date("2025-03-14"),
                results: [A.SkillLevel(groupID: bolga.id, level: 4, membersHolding: 12)], requestID: RequestID.make()))

        let report = try await assistance.getCapacityReport(A.GetCapacityReportRequest(groupID: bolga.id))
        #expect(report.producer?.status?.available == true && report.producer?.profile?.name == "Bolga basket weavers")
        #expect(report.producer?.skills.map(\.skill) == ["basketry"] && report.producer?.buyers.count == 1)
        #expect(report.producer?.independence?.largestBuyer == "SERRV")
        #expect(report.assistance?.status?.available == true && report.assistance?.trainings.map(\.id) == [training.id])
        #expect(report.market?.status?.available == true && report.market?.bulletin?.crafts == ["baskets"])
        #expect(report.market?.bulletin?.prices.first?.median?.minorUnits == 4_500)
        let unknown = await failure {
            try await assistance.getCapacityReport(A.GetCapacityReportRequest(groupID: "pg_0000000000000000"))
        }
        #expect(unknown?.code == .notFound)

        // Producer stopped: its section says so; Assistance's and the market's (from the crafts it already knows)
        // still come back, within the call's deadline.
        await services.stopProducer()
        let withoutProducer = try await assistance.getCapacityReport(
            A.GetCapacityReportRequest(groupID: bolga.id),
            options: CallOptions(timeout: .seconds(8)))
        #expect(withoutProducer.producer?.status?.available == false)
        #expect(withoutProducer.producer?.status?.service == "producer-service")
        #expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"].contains(withoutProducer.producer?.status?.code ?? ""))
        #expect(
            withoutProducer.assistance?.status?.available == true && withoutProducer.assistance?.trainings.count == 1)
        #expect(
            withoutProducer.market?.status?.available == true && withoutProducer.market?.bulletin?.prices.count == 1)
        // And a record about the group now fails UNAVAILABLE naming the Producer service, writing nothing.
        let refused = await failure {
            try await assistance.createReferral(
                A.CreateReferralRequest(
                    referral: A.Referral(
                        groupID: bolga.id, organisationID: tradeAid.id, purpose: "microcredit",
                        referredOn: date("2025-04-01")), requestID: "rf"))
        }
        #expect(refused?.code == .unavailable && refused?.message.contains("producer-service") == true)
        #expect(try await assistance.listReferrals(A.ListReferralsRequest(groupID: bolga.id)).referrals.isEmpty)

        await services.stopMarket()
        let alone = try await assistance.getCapacityReport(
            A.GetCapacityReportRequest(groupID: bolga.id),
            options: CallOptions(timeout: .seconds(8)))
        #expect(alone.market?.status?.available == false && alone.market?.status?.service == "marketplace-info-service")
        #expect(alone.assistance?.status?.available == true)
    }

    @Test("ftadmin loads the field's examples into all three services (twice, changing nothing) and prints the report")
    func examplesThroughFTAdmin() async throws {
        let services = try await ThreeServices()
        for _ in 0..<2 {
            let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
            #expect(load.status == 0, "\(load.output)")
        }
        let groups = try await services.producer.listProducerGroups(
            ProducerV1.ListProducerGroupsRequest(nameContains: "Bolga Basket"))
        let weavers = try #require(groups.groups.first)
        let trainings = try await services.assistance.listTrainings(A.ListTrainingsRequest(groupID: weavers.id))
            .trainings
        #expect(trainings.count == 2, "a second load must not add trainings")
        let reach = try await runTool(
            "ftadmin", ["assistance", "reach", trainings[1].id], environment: services.environment)
        #expect(
            reach.status == 0 && reach.output.contains("260 (234 women, 26 men)") && reach.output.contains("12.00x"),
            "\(reach.output)")
        let report = try await runTool(
            "ftadmin", ["report", "capacity", weavers.id], environment: services.environment)
        #expect(
            report.status == 0 && report.output.contains("Trade Aid Integrated")
                && report.output.contains("8,000.00 USD"),
            "\(report.output)")
        let json = try await runTool(
            "ftadmin", ["report", "capacity", weavers.id, "--output", "json"],
            environment: services.environment)
        #expect(
            json.output.contains("\"available\": true") || json.output.contains("\"available\":true"), "\(json.output)")
        // The example data tells the whole story (docs/examples' spreadsheets, through the import methods), once
        // however often it is loaded: markets, a year of prices with one alert, demand matched to the weavers,
        // results for them, and the library entry the README's search finds.
        let market = try services.market
        let markets = try await market.listMarkets(.init()).markets
        #expect(Set(markets.map(\.name)) == ["Bolgatanga market", "Phnom Penh craft market"])
        let alerts = try await market.listPriceAlerts(.init(product: "baskets")).alerts
        #expect(alerts.count == 1 && alerts.first?.price?.minorUnits == 6_800, "\(alerts)")
        let bulletin = try await market.getMarketBulletin(.init(groupID: weavers.id))
        #expect(bulletin.prices.contains { $0.count > 0 } && bulletin.matchedDemand.count == 1, "\(bulletin)")
        let demand = try await market.listDemand(.init()).signals
        #expect(demand.count == 2, "\(demand.count) demand signals after two loads")
        let results = try await services.assistance.listIndicators(.init(groupID: weavers.id)).indicators
        #expect(results.contains { $0.title == "Weavers able to teach basketry" && !$0.periods.isEmpty })
        #expect(try await market.searchLibrary(.init(query: "train the trainers")).hits.isEmpty == false)
        let missing = try await runTool(
            "ftadmin", ["report", "capacity", "pg_0000000000000000"], environment: services.environment)
        #expect(missing.status != 0 && missing.output.contains("error: NOT_FOUND"), "\(missing.output)")
    }
}
