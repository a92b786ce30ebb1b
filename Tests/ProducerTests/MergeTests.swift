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
