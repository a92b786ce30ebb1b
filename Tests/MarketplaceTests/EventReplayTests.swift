import API
import Foundation
import MarketplaceCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

/// A retried call answers as the first did, and its event went out with the first: a follower counts each post,
/// alert and demand once, however often the call that raised it is replayed.
@Suite("Events of replayed calls")
struct EventReplayTests {
    @Test("every event-raising call, replayed with its request id, publishes its event once")
    func replaysPublishNothing() async throws {
        try await withPublishingMarketplace { client, eventEndpoint in
            let follower = EventSubscriber(endpoints: [eventEndpoint], topics: [""])
            try follower.start()
            defer { follower.close() }
            try await Task.sleep(for: .milliseconds(300))  // the subscription reaches the publisher

            let market = try await client.createMarket(
                .init(
                    market: MarketplaceV1.Market(name: "Bolgatanga market", country: "GH", kind: .localMarket),
                    requestID: "market"))
            for day in 1...5 {
                _ = try await recordPrice(
                    client, market: market.id, 1000, "2026-11-0\(day)", requestID: "history-\(day)")
            }
            // Each call twice with the same request id: the answers agree, the event goes out once.
            func twice<Answer: Equatable & Sendable>(_ call: () async throws -> Answer) async throws {
                let first = try await call()
                let replay = try await call()
                #expect(first == replay)
            }
            try await twice { try await recordPrice(client, market: market.id, 5000, "2026-11-20", requestID: "spike") }
            try await twice {
                try await client.postDemand(
                    .init(
                        signal: MarketplaceV1.DemandSignal(
                            buyer: "SERRV International", product: "baskets",
                            quantity: MarketplaceV1.DemandQuantity(amount: 200, unit: "piece"),
                            neededBy: date("2027-06-01"), countries: ["GH"]),
                        requestID: "demand"))
            }
            let group = try await client.createDiscussionGroup(
                .init(group: MarketplaceV1.DiscussionGroup(name: "Basketry"), requestID: "group"))
            _ = try await client.joinDiscussionGroup(
                .init(
                    member: MarketplaceV1.GroupMember(groupID: group.id, kind: .expert, member: "Ama"),
                    requestID: "join"))
            let started = try await client.startThread(
                .init(
                    groupID: group.id, title: "Natural dyes",
                    firstPost: MarketplaceV1.Post(authorKind: .expert, author: "Ama", body: "first post"),
                    requestID: "thread"))
            try await twice {
                try await client.startThread(
                    .init(
                        groupID: group.id, title: "Natural dyes",
                        firstPost: MarketplaceV1.Post(authorKind: .expert, author: "Ama", body: "first post"),
                        requestID: "thread"))
            }
            try await twice {
                try await client.postReply(
                    .init(
                        post: MarketplaceV1.Post(
                            threadID: started.thread!.id, authorKind: .expert, author: "Ama", body: "a reply"),
                        requestID: "reply"))
            }
            let sheet = Array(
                """
                product,market,price_type,unit,price,currency,observed_on
                baskets,\(market.id),producer,piece,60.00,GHS,2026-11-25

                """.utf8)
            try await twice { try await client.importPrices(.init(csv: sheet, requestID: "sheet")) }

            // Two alerts (the spike, the imported row), one demand, two posts (the thread's first, the reply).
            var counts: [MarketplaceV1.EventKind: Int] = [:]
            let reader = Task {
                var seen: [MarketplaceV1.EventKind: Int] = [:]
                for await delivery in follower.deliveries {
                    guard case .event(_, _, let payload) = delivery,
                        let event = try? MarketplaceV1.MarketEvent(serializedBytes: payload)
                    else { continue }
                    seen[event.kind, default: 0] += 1
                }
                return seen
            }
            try await Task.sleep(for: .seconds(1))
            follower.close()
            counts = await reader.value
            #expect(counts == [.priceAlert: 2, .demand: 1, .post: 2], "\(counts)")
        }
    }
}
