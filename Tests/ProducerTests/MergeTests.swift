import API
import RPC
import Schema
import TestSupport
import Testing

@Suite("Duplicates and merges", .serialized)
struct MergeTests {
    @Test(
        "likely duplicates: same country and alike names, not other crafts' groups or other countries",
        arguments: Backend.allCases)
    func findDuplicates(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let original = try await client.create(sampleGroup("Bolga Basket Weavers Cooperative"))
            let variant = try await client.create(sampleGroup("Bolga basket-weavers co-op."))
            _ = try await client.create(sampleGroup("Bolga Leather Workers", crafts: ["leather"]))
            _ = try await client.create(sampleGroup("Bolga Basket Weavers", country: "KE"))
            let found = try await client.findDuplicates(ProducerV1.FindDuplicatesRequest(groupID: original.id))
            #expect(found.candidates.map(\.group?.id) == [variant.id])
            #expect(found.candidates.first.map { $0.similarity > 0.9 } == true)
            _ = try await client.rejectDuplicate(
                ProducerV1.RejectDuplicateRequest(
                    groupID: variant.id, otherGroupID: original.id, requestID: RequestID.make()))
            let afterReject = try await client.findDuplicates(ProducerV1.FindDuplicatesRequest(groupID: original.id))
            #expect(afterReject.candidates.isEmpty, "a rejected pair was offered again")
        }
    }

    @Test("a merge keeps the survivor's values, fills what it lacks from the merged group, and adds up")
    func mergeRule() async throws {
        try await withProducer(.sqlite) { client, _ in
            var first = ProducerV1.ProducerGroup(
                name: "Tamale Weavers", kind: .cooperative, country: "GH", crafts: ["baskets"],
                processesInHouse: ["weaving"], processesOutsourced: ["dyeing", "finishing"])
            first.contact = ProducerV1.ContactDetails(person: "Ama")
            var second = ProducerV1.ProducerGroup(
                name: "Tamale Weavers Group", kind: .womensGroup, country: "GH", region: "Northern",
                crafts: ["hats"], processesInHouse: ["dyeing"], processesOutsourced: ["finishing"],
                members: ProducerV1.MemberCounts(women: 30, men: 5), foundedYear: 2001, leadTimeDays: 30)
            second.contact = ProducerV1.ContactDetails(person: "Abena", phone: "+233 20 000 0000")
            second.notes = "met at the 2024 fair"
            let survivor = try await client.create(first)
            let other = try await client.create(second)
            let merged = try await client.mergeProducerGroups(
                .init(survivorID: survivor.id, mergedID: other.id, requestID: RequestID.make()))
            #expect(merged.name == "Tamale Weavers" && merged.kind == .cooperative, "the survivor's values stand")
            #expect(merged.region == "Northern" && merged.foundedYear == 2001 && merged.leadTimeDays == 30)
            #expect(merged.contact?.person == "Ama" && merged.contact?.phone == "+233 20 000 0000")
            #expect(merged.members == ProducerV1.MemberCounts(women: 30, men: 5), "counts move as one whole")
            #expect(merged.notes == "met at the 2024 fair")
            #expect(merged.crafts == ["baskets", "hats"])
            #expect(
                Set(merged.processesInHouse) == ["weaving", "dyeing"] && merged.processesOutsourced == ["finishing"])
        }
    }

    @Test("a merged id resolves to the survivor, and its records move with it", arguments: Backend.allCases)
    func merge(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let survivor = try await client.create(sampleGroup("Bolga Basket Weavers", crafts: ["baskets"]))
            var duplicateInput = sampleGroup("Bolga Basket-Weavers", crafts: ["baskets", "hats"])
            duplicateInput.processesInHouse = ["dyeing"]
            let duplicate = try await client.create(duplicateInput)
            let third = try await client.create(sampleGroup("Sirigu Women Potters", crafts: ["pottery"]))
            _ = try await client.recordSkillAssessment(
                ProducerV1.RecordSkillAssessmentRequest(
                    assessment: ProducerV1.SkillAssessment(
                        groupID: duplicate.id, skill: "weaving", assessedOn: date("2024-03-01"),
                        level: 3, membersHolding: 20), requestID: "sa-1"))
            _ = try await client.connectGroups(
                ProducerV1.ConnectGroupsRequest(
                    connection: ProducerV1.GroupConnection(
                        fromGroupID: duplicate.id, toGroupID: third.id, kind: .mentor),
                    requestID: "gc-1"))
            let merge = ProducerV1.MergeProducerGroupsRequest(
                survivorID: survivor.id, mergedID: duplicate.id, requestID: "m-1")
            let merged = try await client.mergeProducerGroups(merge)
            #expect(merged.id == survivor.id && merged.mergedIDs == [duplicate.id])
            #expect(merged.crafts == ["baskets", "hats"] && Set(merged.processesInHouse) == ["weaving", "dyeing"])
            // The survivor bought dyeing in; the merged group dyes in-house: together they dye in-house, and only.
            #expect(
                merged.processesOutsourced.isEmpty, "dyeing both in-house and bought in: \(merged.processesOutsourced)")
            #expect(
                try await client.mergeProducerGroups(merge).id == survivor.id, "a retried merge must answer the same")
            let resolved = try await client.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: duplicate.id))
            #expect(resolved.id == survivor.id)
            let skills = try await client.listSkillAssessments(
                ProducerV1.ListSkillAssessmentsRequest(groupID: survivor.id))
            #expect(skills.assessments.map(\.groupID) == [survivor.id])
            let connections = try await client.listGroupConnections(
                ProducerV1.ListGroupConnectionsRequest(groupID: third.id))
            #expect(connections.connections.map(\.fromGroupID) == [survivor.id])
            let listed = try await client.listProducerGroups(ProducerV1.ListProducerGroupsRequest(country: "GH"))
            #expect(!listed.groups.contains { $0.id == duplicate.id }, "a merged group is still listed")

            let again = await failure {
                try await client.mergeProducerGroups(
                    ProducerV1.MergeProducerGroupsRequest(
                        survivorID: third.id, mergedID: duplicate.id, requestID: "m-2"))
            }
            #expect(again?.code == .failedPrecondition)
            let update = await failure {
                try await client.updateProducerGroup(
                    ProducerV1.UpdateProducerGroupRequest(
                        group: ProducerV1.ProducerGroup(id: duplicate.id, notes: "x"), updateMask: ["notes"],
                        expectedVersion: 2, requestID: RequestID.make()))
            }
            #expect(update?.code == .failedPrecondition && update?.message.contains(survivor.id) == true)

            // Merging the survivor on: ids merged before follow in one hop.
            let final = try await client.mergeProducerGroups(
                ProducerV1.MergeProducerGroupsRequest(
                    survivorID: third.id, mergedID: survivor.id, requestID: "m-3"))
            #expect(Set(final.mergedIDs) == [survivor.id, duplicate.id])
            #expect(
                try await client.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: duplicate.id)).id == third.id)
        }
    }
}
