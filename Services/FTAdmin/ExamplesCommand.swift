import API
import ArgumentParser
import RPC
import Schema
import ServiceKit

/// `ftadmin examples load`: the field's own examples as example data (DOMAIN.md), loaded through the services'
/// public methods with fixed request ids, so that loading twice changes nothing.
struct ExamplesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "examples", abstract: "The field's own examples, as example data.", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Load the examples into all three services: the Bolga cascade, VillageWorks' printing workshop, \
                Handmade Expressions' artisans; and, from docs/examples, markets, a year of prices with one alert \
                and buyers' demand matched to the groups. Loading again changes nothing.
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let producer = try global.channel(to: ServiceDirectory.producer)
                let assistance = try global.channel(to: ServiceDirectory.assistance)
                let market = try global.channel(to: ServiceDirectory.marketplaceInfo)
                defer { [producer, assistance, market].forEach { $0.close() } }
                let loaded = try await ExampleData.load(
                    ProducerV1.ProducerServiceClient(channel: producer), global.callOptions)
                let groups = ExampleData.Groups(loaded)
                try await ExampleData.loadAssistance(
                    AssistanceV1.AssistanceServiceClient(channel: assistance), groups,
                    global.callOptions)
                try await ExampleData.loadMarket(
                    MarketplaceV1.MarketplaceInfoServiceClient(channel: market), groups,
                    global.callOptions)
                var table = Table("ID", "GROUP", "COUNTRY")
                for group in loaded { table.add(group.id, group.name, group.country) }
                print(table.render())
                print("try: ftadmin report capacity \(groups.weavers.id)")
            }
        }
    }
}

enum ExampleData {
    static let illustrative = "Illustrative figures (the story gives none): "

    static func day(_ year: Int32, _ month: Int32, _ day: Int32) -> CommonV1.Date {
        CommonV1.Date(year: year, month: month, day: day)
    }

    static func load(_ client: ProducerV1.ProducerServiceClient, _ options: CallOptions) async throws
        -> [ProducerV1.ProducerGroup]
    {
        func create(_ key: String, _ group: ProducerV1.ProducerGroup) async throws -> ProducerV1.ProducerGroup {
            try await client.createProducerGroup(
                ProducerV1.CreateProducerGroupRequest(
                    group: group, requestID: "example-\(key)",
                    source: "example data: the field's published stories, illustrative figures marked in the notes"),
                options: options)
        }
        // SERRV's Africa capacity-building project, Ghana: the best Bolga weavers, trained with Trade Aid Integrated,
        // pass the skills on to 240 rural basket makers.
        let weavers = try await create(
            "bolga-weavers",
            ProducerV1.ProducerGroup(
                name: "Bolga Basket Weavers", kind: .cooperative, country: "GH", region: "Upper East (Bolgatanga)",
                crafts: ["baskets"], processesInHouse: ["weaving", "dyeing"], processesOutsourced: ["straw harvesting"],
                members: ProducerV1.MemberCounts(women: 18, men: 2), foundedYear: 1995,
                minimumOrder: ProducerV1.Quantity(amount: 50, unit: "piece"), leadTimeDays: 60,
                notes: illustrative + "member counts (20 best weavers trained as trainers), founding year, order terms."
            ))
        let makers = try await create(
            "bolga-rural-makers",
            ProducerV1.ProducerGroup(
                name: "Rural basket makers of the Bolgatanga district", kind: .womensGroup, country: "GH",
                region: "Upper East", crafts: ["baskets"], processesInHouse: ["weaving"],
                members: ProducerV1.MemberCounts(women: 216, men: 24),
                notes: "240 rural basket makers reached by the train-the-trainers programme (figure from the story). "
                    + illustrative + "the split by sex."))
        // Cambodia: VillageWorks used to pay an outside company to screen-print; the importer funded equipment and the
        // group now runs its own printing workshop.
        let villageWorks = try await create(
            "villageworks",
            ProducerV1.ProducerGroup(
                name: "VillageWorks", kind: .workshop, country: "KH", region: "Phnom Penh",
                crafts: ["bags", "scarves", "textiles"], processesInHouse: ["sewing", "screen printing"],
                members: ProducerV1.MemberCounts(women: 45, men: 10), leadTimeDays: 45,
                notes: "Runs its own screen-printing workshop since the importer funded the equipment. "
                    + illustrative + "member counts, lead time."))
        // India: artisans working with Handmade Expressions (health camps, solar lights, sustainable materials).
        let india = try await create(
            "handmade-expressions-artisans",
            ProducerV1.ProducerGroup(
                name: "Rural artisans of Handmade Expressions", kind: .association, country: "IN",
                region: "rural India",
                crafts: ["textiles", "home decor", "jewellery"], processesInHouse: ["block printing", "stitching"],
                members: ProducerV1.MemberCounts(women: 160, men: 90),
                notes:
                    "Works with Handmade Expressions, which sells to over 1,000 retail partners in the United States. "
                    + illustrative + "member counts."))

        let buyers: [ExampleBuyer] = [
            ExampleBuyer(
                key: "serrv-bolga", group: weavers, buyer: "SERRV International", since: day(2004, 3, 1),
                kind: .directPurchase, purchases: 1_800_000),
            ExampleBuyer(
                key: "serrv-villageworks", group: villageWorks, buyer: "SERRV International", since: day(2006, 9, 1),
                kind: .directPurchase, purchases: 2_400_000),
            ExampleBuyer(
                key: "he-india", group: india, buyer: "Handmade Expressions", since: day(2006, 1, 1), kind: .wholesale,
                purchases: 9_500_000),
        ]
        for item in buyers {
            _ = try await client.addBuyerRelationship(
                ProducerV1.AddBuyerRelationshipRequest(
                    relationship: ProducerV1.BuyerRelationship(
                        groupID: item.group.id, organisation: item.buyer, since: item.since, kind: item.kind,
                        yearlyPurchases: CommonV1.Money(minorUnits: item.purchases, currency: "USD"),
                        notes: illustrative + "start date and yearly purchases."),
                    requestID: "example-\(item.key)"), options: options)
        }
        let connections = try await client.listGroupConnections(
            ProducerV1.ListGroupConnectionsRequest(groupID: makers.id), options: options)
        if !connections.connections.contains(where: { $0.fromGroupID == weavers.id && $0.kind == .mentor }) {
            _ = try await client.connectGroups(
                ProducerV1.ConnectGroupsRequest(
                    connection: ProducerV1.GroupConnection(
                        fromGroupID: weavers.id, toGroupID: makers.id, kind: .mentor, since: day(2009, 6, 1),
                        notes: "Train-the-trainers with Trade Aid Integrated, SERRV's Africa capacity-building project"),
                    requestID: "example-bolga-mentor"), options: options)
        }
        let assessments: [ExampleAssessment] = [
            ExampleAssessment(
                key: "vw-print-2008", group: villageWorks, skill: "screen-printing", date: day(2008, 1, 15),
                level: 0, members: 0),
            ExampleAssessment(
                key: "vw-print-2010", group: villageWorks, skill: "screen-printing", date: day(2010, 1, 15),
                level: 3, members: 8),
            ExampleAssessment(
                key: "bolga-teach", group: weavers, skill: "training-others", date: day(2010, 6, 1), level: 4,
                members: 20),
            ExampleAssessment(
                key: "makers-weave-2009", group: makers, skill: "basketry", date: day(2009, 6, 1), level: 1,
                members: 60),
            ExampleAssessment(
                key: "makers-weave-2011", group: makers, skill: "basketry", date: day(2011, 6, 1), level: 3,
                members: 240),
            ExampleAssessment(
                key: "india-materials", group: india, skill: "sustainable-materials", date: day(2010, 9, 1),
                level: 2, members: 120),
        ]
        for item in assessments {
            _ = try await client.recordSkillAssessment(
                ProducerV1.RecordSkillAssessmentRequest(
                    assessment: ProducerV1.SkillAssessment(
                        groupID: item.group.id, skill: item.skill, assessedOn: item.date, level: item.level,
                        membersHolding: item.members, notes: illustrative + "dates and levels."),
                    requestID: "example-\(item.key)"), options: options)
        }
        _ = try await client.logContact(
            ProducerV1.LogContactRequest(
                contact: ProducerV1.DialogueContact(
                    groupID: villageWorks.id, organisation: "SERRV International", contactDate: day(2008, 2, 1),
                    kind: .visit,
                    topics: ["screen printing", "equipment funding"],
                    summary: "Showed the group it could master screen printing; agreed to fund the equipment.",
                    followUps: [
                        ProducerV1.FollowUp(
                            description: "Confirm equipment order and installation", dueOn: day(2008, 4, 1))
                    ]),
                requestID: "example-vw-visit"), options: options)
        return [weavers, makers, villageWorks, india]
    }
}

/// A buyer relationship of the examples.
private struct ExampleBuyer {
    let key: String, group: ProducerV1.ProducerGroup, buyer: String, since: CommonV1.Date
    let kind: ProducerV1.RelationshipKind, purchases: Int64
}

/// A skill assessment of the examples.
private struct ExampleAssessment {
    let key: String, group: ProducerV1.ProducerGroup, skill: String, date: CommonV1.Date
    let level: Int32, members: Int32
}
