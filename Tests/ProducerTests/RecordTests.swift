import API
import RPC
import Schema
import TestSupport
import Testing

@Suite("Skills, buyers, connections, dialogue and independence", .serialized)
struct RecordTests {
    @Test("skills: the catalogue, dated assessments, and the errors that name the field", arguments: Backend.allCases)
    func skills(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let catalogue = try await client.listSkills(ProducerV1.ListSkillsRequest())
            #expect(
                Set(catalogue.skills.map(\.code)).isSuperset(of: [
                    "weaving", "screen-printing", "natural-dyeing",
                    "bookkeeping", "export-pricing", "quality-control",
                ]))
            let added = try await client.addSkill(
                ProducerV1.AddSkillRequest(
                    skill: ProducerV1.SkillCategory(
                        code: "Solar-Maintenance", name: "Solar panel maintenance", category: "business"),
                    requestID: RequestID.make()))
            #expect(added.code == "solar-maintenance")
            let clash = await failure {
                try await client.addSkill(
                    ProducerV1.AddSkillRequest(
                        skill: ProducerV1.SkillCategory(
                            code: "weaving", name: "Something else", category: "craft"), requestID: RequestID.make()))
            }
            #expect(clash?.code == .alreadyExists)
            let group = try await client.create(sampleGroup("VillageWorks", country: "KH", crafts: ["bags"]))
            for (day, level) in [("2023-05-01", 0), ("2024-05-01", 2), ("2025-05-01", 4)] {
                _ = try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: "screen-printing",
                            assessedOn: date(day), level: Int32(level), membersHolding: 12),
                        requestID: "sp-\(day)"))
            }
            let history = try await client.listSkillAssessments(
                ProducerV1.ListSkillAssessmentsRequest(groupID: group.id, skill: "screen-printing"))
            #expect(history.assessments.map(\.level) == [0, 2, 4])
            let unknown = await failure {
                try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: "juggling", assessedOn: date("2025-01-01"),
                            level: 1), requestID: "j"))
            }
            #expect(unknown?.fieldViolations.map(\.field) == ["assessment.skill"])
            let bad = await failure {
                try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: "weaving", assessedOn: date("2025-02-30"),
                            level: 7, membersHolding: -1), requestID: "b"))
            }
            // Out of bounds first (docs/LIMITS.md), then the service's own checks.
            #expect(Set(bad?.fieldViolations.map(\.field) ?? []) == ["assessment.level", "assessment.members_holding"])
            let badDate = await failure {
                try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: "weaving", assessedOn: date("2025-02-30"), level: 2),
                        requestID: "b2"))
            }
            #expect(badDate?.fieldViolations.map(\.field) == ["assessment.assessed_on"])
        }
    }

    @Test("buyers and connections", arguments: Backend.allCases)
    func buyersAndConnections(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let weavers = try await client.create(sampleGroup("Bolga Basket Weavers"))
            let makers = try await client.create(sampleGroup("Rural basket makers of Zuarungu"))
            let serrv = try await client.addBuyerRelationship(
                ProducerV1.AddBuyerRelationshipRequest(
                    relationship: ProducerV1.BuyerRelationship(
                        groupID: weavers.id, organisation: "SERRV International", since: date("2005-01-15"),
                        kind: .directPurchase, yearlyPurchases: CommonV1.Money(minorUnits: 1_200_000, currency: "usd")),
                    requestID: "br-1"))
            #expect(serrv.yearlyPurchases == CommonV1.Money(minorUnits: 1_200_000, currency: "USD"))
            var ended = serrv
            ended.endedOn = date("2020-01-01")
            ended.notes = "paused"
            let updated = try await client.updateBuyerRelationship(
                ProducerV1.UpdateBuyerRelationshipRequest(relationship: ended, requestID: RequestID.make()))
            #expect(updated.endedOn == date("2020-01-01") && updated.notes == "paused")
            let badMoney = await failure {
                try await client.addBuyerRelationship(
                    ProducerV1.AddBuyerRelationshipRequest(
                        relationship: ProducerV1.BuyerRelationship(
                            groupID: weavers.id, organisation: "X", since: date("2020-01-01"), kind: .wholesale,
                            yearlyPurchases: CommonV1.Money(minorUnits: -5, currency: "ZZZ"),
                            endedOn: date("2019-01-01")),
                        requestID: "br-bad"))
            }
            #expect(
                Set(badMoney?.fieldViolations.map(\.field) ?? []) == [
                    "relationship.yearly_purchases.currency", "relationship.yearly_purchases.minor_units",
                    "relationship.ended_on",
                ])
            let tooMuch = await failure {
                try await client.addBuyerRelationship(
                    ProducerV1.AddBuyerRelationshipRequest(
                        relationship: ProducerV1.BuyerRelationship(
                            groupID: weavers.id, organisation: "X", since: date("2020-01-01"), kind: .wholesale,
                            yearlyPurchases: CommonV1.Money(minorUnits: .max, currency: "USD")),
                        requestID: "br-huge"))
            }
            #expect(tooMuch?.fieldViolations.map(\.field) == ["relationship.yearly_purchases.minor_units"])
            let listed = try await client.listBuyerRelationships(
                ProducerV1.ListBuyerRelationshipsRequest(groupID: weavers.id))
            #expect(listed.relationships.map(\.id) == [serrv.id])

            let mentor = try await client.connectGroups(
                ProducerV1.ConnectGroupsRequest(
                    connection: ProducerV1.GroupConnection(
                        fromGroupID: weavers.id, toGroupID: makers.id, kind: .mentor,
                        since: date("2010-06-01")), requestID: "gc-1"))
            let fromMakers = try await client.listGroupConnections(
                ProducerV1.ListGroupConnectionsRequest(groupID: makers.id))
            #expect(fromMakers.connections == [mentor])
            let twice = await failure {
                try await client.connectGroups(
                    ProducerV1.ConnectGroupsRequest(
                        connection: ProducerV1.GroupConnection(
                            fromGroupID: weavers.id, toGroupID: makers.id, kind: .mentor),
                        requestID: "gc-2"))
            }
            #expect(twice?.code == .alreadyExists)
            let selfLink = await failure {
                try await client.connectGroups(
                    ProducerV1.ConnectGroupsRequest(
                        connection: ProducerV1.GroupConnection(
                            fromGroupID: weavers.id, toGroupID: weavers.id, kind: .peer),
                        requestID: "gc-3"))
            }
            #expect(selfLink?.fieldViolations.map(\.field) == ["connection.to_group_id"])
        }
    }

    @Test("the dialogue log: contacts, follow-ups, what is overdue, completing", arguments: Backend.allCases)
    func dialogue(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let group = try await client.create(sampleGroup("VillageWorks", country: "KH"))
            let contact = try await client.logContact(
                ProducerV1.LogContactRequest(
                    contact: ProducerV1.DialogueContact(
                        groupID: group.id, organisation: "SERRV International", contactDate: date("2025-03-10"),
                        kind: .visit,
                        topics: ["screen printing", "pricing"], summary: "Visited the workshop",
                        followUps: [
                            ProducerV1.FollowUp(description: "Send printing quote", dueOn: date("2025-04-01")),
                            ProducerV1.FollowUp(description: "Review samples", dueOn: date("2025-09-01")),
                        ]),
                    requestID: "dc-1"))
            #expect(contact.followUps.count == 2 && contact.topics == ["screen printing", "pricing"])
            let overdue = try await client.listOverdueFollowUps(
                ProducerV1.ListOverdueFollowUpsRequest(asOf: date("2025-05-01")))
            #expect(overdue.followUps.map(\.followUp?.description) == ["Send printing quote"])
            #expect(overdue.followUps.first?.daysOverdue == 30 && overdue.followUps.first?.groupName == "VillageWorks")
            let done = try await client.completeFollowUp(
                ProducerV1.CompleteFollowUpRequest(
                    followUpID: contact.followUps[0].id, doneOn: date("2025-05-02"), requestID: RequestID.make()))
            #expect(done.done && done.doneOn == date("2025-05-02"))
            let after = try await client.listOverdueFollowUps(
                ProducerV1.ListOverdueFollowUpsRequest(asOf: date("2025-10-01")))
            #expect(after.followUps.map(\.followUp?.description) == ["Review samples"])
            let contacts = try await client.listContacts(ProducerV1.ListContactsRequest(groupID: group.id))
            #expect(contacts.contacts.first?.followUps.first?.done == true)
            let bad = await failure {
                try await client.logContact(
                    ProducerV1.LogContactRequest(
                        contact: ProducerV1.DialogueContact(
                            groupID: group.id, organisation: "", kind: .unspecified,
                            followUps: [ProducerV1.FollowUp(description: "")]), requestID: "x"))
            }
            #expect(
                Set(bad?.fieldViolations.map(\.field) ?? []) == [
                    "contact.organisation", "contact.contact_date", "contact.kind", "contact.follow_ups[0].description",
                    "contact.follow_ups[0].due_on",
                ])
        }
    }

    @Test(
        "the independence profile: buyer shares and concentration, in-house share, longest tie, skills a year on",
        arguments: Backend.allCases)
    func independence(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            var input = sampleGroup("Bolga Basket Weavers")
            input.processesInHouse = ["weaving", "dyeing", "finishing"]
            input.processesOutsourced = ["packaging"]
            let group = try await client.create(input)
            for (index, (buyer, since, amount, currency)) in [
                ("SERRV International", "2005-01-15", Int64(800_000), "USD"),
                ("Ten Thousand Villages", "2015-06-01", 200_000, "USD"),
                ("Local market", "2020-01-01", 500_000, "GHS"),
            ].enumerated() {
                _ = try await client.addBuyerRelationship(
                    ProducerV1.AddBuyerRelationshipRequest(
                        relationship: ProducerV1.BuyerRelationship(
                            groupID: group.id, organisation: buyer, since: date(since), kind: .directPurchase,
                            yearlyPurchases: CommonV1.Money(minorUnits: amount, currency: currency)),
                        requestID: "b\(index)"))
            }
            for (day, level) in [("2024-01-10", 1), ("2025-01-10", 3)] {
                _ = try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: "export-pricing", assessedOn: date(day),
                            level: Int32(level), membersHolding: 6), requestID: "e\(day)"))
            }
            let profile = try await client.getIndependenceProfile(
                ProducerV1.GetIndependenceProfileRequest(groupID: group.id, asOf: date("2025-01-15")))
            #expect(profile.currency == "USD" && profile.buyersCounted == 2 && profile.buyersExcluded == 1)
            #expect(profile.largestBuyer == "SERRV International" && profile.largestBuyerShareBp == 8000)
            #expect(profile.buyerConcentrationHhi == 6800)
            #expect(profile.inHouseProcessShareBp == 7500)
            #expect(
                profile.longestRelationshipBuyer == "SERRV International"
                    && profile.longestRelationshipTenthsOfYears == 200)
            #expect(
                profile.skills == [
                    ProducerV1.SkillChange(
                        skill: "export-pricing", levelNow: 3, levelYearAgo: 1,
                        membersHoldingNow: 6)
                ])
            #expect(!profile.method.isEmpty)
        }
    }
}
