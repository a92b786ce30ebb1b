import API
import Domain
import Foundation
import MarketplaceCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite("Discussion groups, live events and the bulletin", .serialized)
struct DiscussionTests {
    typealias M = MarketplaceV1

    @Test(
        "members start threads and reply; non-members cannot; producer-group members are checked",
        arguments: Backend.allCases)
    func discussions(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withMarketplace(backend, producerEndpoint: producerEndpoint) { market in
                let client = market.client
                let weavers = try await market.createWeavers()
                let group = try await client.createDiscussionGroup(
                    M.CreateDiscussionGroupRequest(
                        group: M.DiscussionGroup(
                            name: "Natural dyes", description: "Colours from plants", crafts: ["Baskets"]),
                        requestID: "dg"))
                #expect(group.crafts == ["baskets"])
                _ = try await client.joinDiscussionGroup(
                    M.JoinDiscussionGroupRequest(
                        member: M.GroupMember(
                            groupID: group.id, kind: .producerGroup, member: weavers.id), requestID: RequestID.make()))
                _ = try await client.joinDiscussionGroup(
                    M.JoinDiscussionGroupRequest(
                        member: M.GroupMember(
                            groupID: group.id, kind: .expert, member: "Dr. Mensah"), requestID: RequestID.make()))
                let unknown = await failure {
                    try await client.joinDiscussionGroup(
                        M.JoinDiscussionGroupRequest(
                            member: M.GroupMember(
                                groupID: group.id, kind: .producerGroup, member: "pg_nobody"),
                            requestID: RequestID.make()))
                }
                #expect(unknown?.fieldViolations.map(\.field) == ["member.member"])
                #expect(try await client.listMembers(M.ListMembersRequest(groupID: group.id)).members.count == 2)

                let started = try await client.startThread(
                    M.StartThreadRequest(
                        groupID: group.id, title: "Fixing indigo",
                        firstPost: M.Post(
                            authorKind: .producerGroup, author: weavers.id, body: "Our blue fades. Ideas?"),
                        requestID: "t1"))
                let reply = try await client.postReply(
                    M.PostReplyRequest(
                        post: M.Post(
                            threadID: started.thread!.id, authorKind: .expert, author: "Dr. Mensah",
                            body: "Try an alum mordant.", replyTo: started.post!.id), requestID: "r1"))
                #expect(reply.groupID == group.id)
                let posts = try await client.listPosts(M.ListPostsRequest(threadID: started.thread!.id))
                #expect(posts.posts.map(\.body) == ["Our blue fades. Ideas?", "Try an alum mordant."])
                #expect(try await client.listThreads(M.ListThreadsRequest(groupID: group.id)).threads.first?.posts == 2)
                let stranger = await failure {
                    try await client.postReply(
                        M.PostReplyRequest(
                            post: M.Post(
                                threadID: started.thread!.id, authorKind: .organisation, author: "Someone", body: "Hi"),
                            requestID: "r2"))
                }
                #expect(stranger?.code == .failedPrecondition)
                let badReply = await failure {
                    try await client.postReply(
                        M.PostReplyRequest(
                            post: M.Post(
                                threadID: started.thread!.id, authorKind: .expert, author: "Dr. Mensah", body: "x",
                                replyTo: "ps_nope"), requestID: "r3"))
                }
                #expect(badReply?.fieldViolations.map(\.field) == ["post.reply_to"])
            }
        }
    }

    @Test(
        "live events: two subscribers get posts of their group; one that stops reading blocks nobody and sees a gap marker"
    )
    func liveEvents() async throws {
        try await withPublishingMarketplace { client, eventEndpoint in
            #expect(try await client.getEventEndpoints(M.GetEventEndpointsRequest()).endpoints == [eventEndpoint])
            let dyes = try await client.createDiscussionGroup(
                M.CreateDiscussionGroupRequest(
                    group: M.DiscussionGroup(name: "Dyes"), requestID: "g1"))
            let pricing = try await client.createDiscussionGroup(
                M.CreateDiscussionGroupRequest(
                    group: M.DiscussionGroup(name: "Pricing"), requestID: "g2"))
            for group in [dyes, pricing] {
                _ = try await client.joinDiscussionGroup(
                    M.JoinDiscussionGroupRequest(
                        member: M.GroupMember(groupID: group.id, kind: .expert, member: "Ama"),
                        requestID: RequestID.make()))
            }
            let follower = EventSubscriber(
                endpoints: [eventEndpoint], topics: [MarketplaceHandler.Topic.posts(dyes.id)])
            let other = EventSubscriber(
                endpoints: [eventEndpoint], topics: [MarketplaceHandler.Topic.posts(pricing.id)])
            // Stops reading: a small buffer of its own, and it is never consumed until the end.
            let stalled = EventSubscriber(
                endpoints: [eventEndpoint], topics: [MarketplaceHandler.Topic.posts(dyes.id)],
                bufferSize: 5, receiveHighWaterMark: 5)
            for subscriber in [follower, other, stalled] { try subscriber.start() }
            defer { for subscriber in [follower, other, stalled] { subscriber.close() } }
            try await Task.sleep(for: .milliseconds(300))  // subscriptions reach the publisher

            let thread = try await client.startThread(
                M.StartThreadRequest(
                    groupID: dyes.id, title: "Indigo",
                    firstPost: M.Post(authorKind: .expert, author: "Ama", body: "post 0"), requestID: "t"))
            _ = try await client.startThread(
                M.StartThreadRequest(
                    groupID: pricing.id, title: "Costs",
                    firstPost: M.Post(authorKind: .expert, author: "Ama", body: "pricing post"), requestID: "tp"))
            let replies = 40
            let start = ContinuousClock.now
            for index in 1...replies {
                _ = try await client.postReply(
                    M.PostReplyRequest(
                        post: M.Post(
                            threadID: thread.thread!.id, authorKind: .expert, author: "Ama", body: "post \(index)"),
                        requestID: "r\(index)"))
            }
            // The stalled subscriber holds nothing up: 40 posts through the RPC answer (a publisher blocked on it
            // would hold the first post until its deadline); loosely bounded, as the machine may be busy.
            #expect(ContinuousClock.now - start < .seconds(15))

            /// Reads deliveries until `count` posts are accounted for (delivered or missed), or 5 seconds pass.
            func collect(_ subscriber: EventSubscriber, until count: Int) async throws -> (
                posts: [String], missed: UInt64
            ) {
                let reader = Task {
                    var posts: [String] = []
                    var missed: UInt64 = 0
                    for await delivery in subscriber.deliveries {
                        switch delivery {
                        case .event(_, _, let payload):
                            posts.append((try? M.MarketEvent(serializedBytes: payload))?.post?.body ?? "")
                        case .gap(_, _, let count):
                            missed += count
                        case .refused(let endpoint, let reason):
                            Issue.record("subscription refused at \(endpoint): \(reason)")
                        }
                        if posts.count + Int(missed) >= count { break }
                    }
                    return (posts, missed)
                }
                let timer = Task {
                    try await Task.sleep(for: .seconds(5))
                    reader.cancel()
                }
                defer { timer.cancel() }
                return await reader.value
            }
            let followed = try await collect(follower, until: replies + 1)
            #expect(followed.posts == (0...replies).map { "post \($0)" } && followed.missed == 0)
            let otherGroup = try await collect(other, until: 1)
            #expect(otherGroup.posts == ["pricing post"])
            // The stalled subscriber reads again; the next post after its buffer overflowed carries the gap.
            let drain = Task { try await collect(stalled, until: replies + 2) }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await client.postReply(
                M.PostReplyRequest(
                    post: M.Post(threadID: thread.thread!.id, authorKind: .expert, author: "Ama", body: "post after"),
                    requestID: "r-after"))
            let late = try await drain.value
            #expect(late.missed > 0, "the stalled subscriber should have been told what it missed")
            #expect(
                late.posts.count + Int(late.missed) == replies + 2,
                "every post is either delivered or counted as missed")
            #expect(late.posts.last == "post after")
        }
    }

    @Test(
        "the bulletin: prices for a group's crafts, open demand that fits it, new practices",
        arguments: Backend.allCases)
    func bulletin(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withMarketplace(backend, producerEndpoint: producerEndpoint) { market in
                let client = market.client
                let weavers = try await market.createWeavers()
                let place = try await client.createMarket(
                    M.CreateMarketRequest(
                        market: M.Market(name: "Bolga", country: "GH", kind: .localMarket), requestID: "mk"))
                _ = try await client.recordPrice(
                    M.RecordPriceRequest(
                        observation: M.PriceObservation(
                            product: "baskets", marketID: place.id, priceType: .producer, unit: "piece",
                            price: CommonV1.Money(minorUnits: 4000, currency: "GHS"),
                            observedOn: ISODate.today().message),
                        requestID: "p"))
                let needed = ISODate.today().adding(days: 60).message
                var signals: [M.DemandSignal] = []
                for (key, countries) in [("d1", ["GH"]), ("d2", ["KE"]), ("d3", [])] {
                    signals.append(
                        try await client.postDemand(
                            M.PostDemandRequest(
                                signal: M.DemandSignal(
                                    buyer: "SERRV", product: "baskets",
                                    quantity: M.DemandQuantity(amount: 100, unit: "piece"),
                                    neededBy: needed, countries: countries), requestID: key)))
                }
                _ = try await client.matchDemand(
                    M.MatchDemandRequest(signalID: signals[0].id, requestID: RequestID.make()))
                _ = try await client.addLibraryEntry(
                    M.AddLibraryEntryRequest(
                        entry: M.LibraryEntry(
                            title: "Pricing baskets", body: "Count the hours.", crafts: ["baskets"],
                            authorKind: .organisation,
                            author: "SERRV"), requestID: "l"))
                let bulletin = try await client.getMarketBulletin(M.GetMarketBulletinRequest(groupID: weavers.id))
                #expect(bulletin.groupName == "Bolga Basket Weavers" && bulletin.crafts == ["baskets"])
                #expect(bulletin.prices.map { $0.median?.minorUnits } == [4000])
                #expect(bulletin.openDemand.count == 2, "demand for Kenya only must not reach a Ghanaian group")
                #expect(bulletin.newPractices.map(\.title) == ["Pricing baskets"])
                #expect(
                    bulletin.matchedDemand.map(\.id) == [signals[0].id], "the buyers' demand the group was matched to")
                // A caller that knows the group's crafts passes them, and the bulletin does not need producer-service.
                let given = try await client.getMarketBulletin(
                    M.GetMarketBulletinRequest(
                        groupID: weavers.id, crafts: ["baskets"], country: "GH", groupName: "Bolga Basket Weavers"))
                #expect(
                    given.prices == bulletin.prices && given.openDemand.count == 2 && given.matchedDemand.count == 1)
            }
        }
    }
}

extension Marketplace {
    /// The Bolga Basket Weavers, registered with the Producer service behind this marketplace.
    fileprivate func createWeavers() async throws -> ProducerV1.ProducerGroup {
        try await producer.createProducerGroup(
            ProducerV1.CreateProducerGroupRequest(
                group: ProducerV1.ProducerGroup(
                    name: "Bolga Basket Weavers", kind: .cooperative, country: "GH", crafts: ["baskets"]),
                requestID: "pg"))
    }
}
