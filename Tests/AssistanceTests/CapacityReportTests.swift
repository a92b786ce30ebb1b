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
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let producerEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let marketEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let assistanceEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let environment = ["FT_PRODUCER_ENDPOINTS": producerEndpoint, "FT_MARKETPLACE_INFO_ENDPOINTS": marketEndpoint]
        func start(_ executable: String, _ endpoint: String, _ extra: [String] = []) throws -> ChildProcess {
            try ChildProcess(builtExecutable(executable),
                             arguments: ["--endpoint", endpoint, "--data-dir", folder.appendingPathComponent(executable).path,
                                         "--log-level", "warning"] + extra,
                             environment: environment)
        }
        let producerProcess = try start("producer-service", producerEndpoint)
        defer { producerProcess.kill() }
        let marketProcess = try start("marketplace-info-service", marketEndpoint,
                                      ["--events-endpoint", "tcp://127.0.0.1:\(freeLoopbackPort())"])
        defer { marketProcess.kill() }
        let assistanceProcess = try start("assistance-service", assistanceEndpoint)
        defer { assistanceProcess.kill() }
        for endpoint in [producerEndpoint, marketEndpoint, assistanceEndpoint] { try await waitUntilServing(endpoint) }

        func channel(_ endpoint: String) throws -> ClientChannel {
            try ClientChannel(endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(10)), logger: quietLogger)
        }
        let producerChannel = try channel(producerEndpoint), marketChannel = try channel(marketEndpoint)
        let assistanceChannel = try channel(assistanceEndpoint)
        defer { [producerChannel, marketChannel, assistanceChannel].forEach { $0.close() } }
        let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
        let market = MarketplaceV1.MarketplaceInfoServiceClient(channel: marketChannel)
        let assistance = A.AssistanceServiceClient(channel: assistanceChannel)

        // Each service holds part of the Bolga weavers' story.
        let bolga = try await makeGroup(producer, "Bolga basket weavers")
        _ = try await producer.addBuyerRelationship(ProducerV1.AddBuyerRelationshipRequest(
            relationship: ProducerV1.BuyerRelationship(groupID: bolga.id, organisation: "SERRV", since: date("2012-01-01"),
                                                       kind: .directPurchase,
                                                       yearlyPurchases: CommonV1.Money(minorUnits: 4_000_000, currency: "USD")),
            requestID: "buyer-1"))
        let place = try await market.createMarket(MarketplaceV1.CreateMarketRequest(
            market: MarketplaceV1.Market(name: "Bolgatanga", country: "GH", kind: .localMarket), requestID: "mk"))
        _ = try await market.recordPrice(MarketplaceV1.RecordPriceRequest(
            observation: MarketplaceV1.PriceObservation(
                product: "baskets", marketID: place.id, priceType: .producer, unit: "piece",
                price: CommonV1.Money(minorUnits: 4_500, currency: "GHS"), observedOn: date(ISODate.today().description)),
            requestID: "price"))
        let tradeAid = try await assistance.createOrganisation(A.CreateOrganisationRequest(
            organisation: A.Organisation(name: "Trade Aid Integrated", kind: .development), requestID: "ta"))
        let training = try await assistance.recordTraining(A.RecordTrainingRequest(
            training: A.Training(title: "Train the trainers", skill: "basketry", heldOn: date("2025-03-10"),
                                 trainerOrganisationID: tradeAid.id, trainedGroupIDs: [bolga.id],
                                 trainees: A.PeopleCount(women: 10, men: 2)), requestID: "t1"))
        _ = try await assistance.completeTraining(A.CompleteTrainingRequest(
            trainingID: training.id, completedOn: date("2025-03-14"),
            results: [A.SkillLevel(groupID: bolga.id, level: 4, membersHolding: 12)]))

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
        await producerProcess.stop()
        let withoutProducer = try await assistance.getCapacityReport(A.GetCapacityReportRequest(groupID: bolga.id),
                                                                     options: CallOptions(timeout: .seconds(8)))
        #expect(withoutProducer.producer?.status?.available == false)
        #expect(withoutProducer.producer?.status?.service == "producer-service")
        #expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"].contains(withoutProducer.producer?.status?.code ?? ""))
        #expect(withoutProducer.assistance?.status?.available == true && withoutProducer.assistance?.trainings.count == 1)
        #expect(withoutProducer.market?.status?.available == true && withoutProducer.market?.bulletin?.prices.count == 1)
        // And a record about the group now fails UNAVAILABLE naming the Producer service, writing nothing.
        let refused = await failure {
            try await assistance.createReferral(A.CreateReferralRequest(
                referral: A.Referral(groupID: bolga.id, organisationID: tradeAid.id, purpose: "microcredit",
                                     referredOn: date("2025-04-01")), requestID: "rf"))
        }
        #expect(refused?.code == .unavailable && refused?.message.contains("producer-service") == true)
        #expect(try await assistance.listReferrals(A.ListReferralsRequest(groupID: bolga.id)).referrals.isEmpty)

        await marketProcess.stop()
        let alone = try await assistance.getCapacityReport(A.GetCapacityReportRequest(groupID: bolga.id),
                                                           options: CallOptions(timeout: .seconds(8)))
        #expect(alone.market?.status?.available == false && alone.market?.status?.service == "marketplace-info-service")
        #expect(alone.assistance?.status?.available == true)
    }
}
