import API
import RPC
import Schema
import TestSupport
import Testing

/// Open Supply Hub records where each field of a facility came from; the registry does so for each field of a
/// group: the source the caller named, when, and the request that set it.
@Suite("Where each field of a group came from", .serialized)
struct FieldSourceTests {
    typealias P = ProducerV1

    static func sources(_ group: P.ProducerGroup) -> [String: String] {
        Dictionary(group.fieldSources.map { ($0.field, $0.source) }, uniquingKeysWith: { first, _ in first })
    }

    @Test(
        "create notes every field it sets, update only the fields it changes, import and merge theirs",
        arguments: Backend.allCases)
    func provenance(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            // A caller cannot write the sources itself.
            var input = sampleGroup("Bolga Basket Weavers")
            input.region = ""
            input.fieldSources = [P.FieldSource(field: "notes", source: "forged")]
            let created = try await client.createProducerGroup(
                P.CreateProducerGroupRequest(group: input, requestID: "c-1", source: "SERRV field visit, March 2025"))
            let set = [
                "name", "kind", "country", "crafts", "processes_in_house", "processes_outsourced", "members",
                "founded_year", "minimum_order", "lead_time_days",
            ]
            #expect(created.fieldSources.map(\.field) == set.sorted())
            #expect(Set(Self.sources(created).values) == ["SERRV field visit, March 2025"])
            let first = try #require(created.fieldSources.first)
            #expect(first.requestID.count == 16 && (first.recordedAt?.unixMicros ?? 0) > 0)

            // An update notes only the fields whose value it changes.
            var change = P.ProducerGroup(id: created.id, name: created.name)
            change.members = P.MemberCounts(women: 41, men: 4)
            let updated = try await client.updateProducerGroup(
                P.UpdateProducerGroupRequest(
                    group: change, updateMask: ["name", "members"], expectedVersion: created.version,
                    source: "2026 member census", requestID: RequestID.make()))
            #expect(Self.sources(updated)["members"] == "2026 member census")
            #expect(Self.sources(updated)["name"] == "SERRV field visit, March 2025")
            #expect(updated.fieldSources.count == set.count)
            // One member count by its path: the others stay.
            var men = P.ProducerGroup(id: created.id)
            men.members = P.MemberCounts(men: 6)
            let menOnly = try await client.updateProducerGroup(
                P.UpdateProducerGroupRequest(
                    group: men, updateMask: ["members.men"], expectedVersion: updated.version,
                    source: "2026 member census", requestID: RequestID.make()))
            #expect(menOnly.members == P.MemberCounts(women: 41, men: 6))
            let negative = await failure {
                try await client.updateProducerGroup(
                    P.UpdateProducerGroupRequest(
                        group: P.ProducerGroup(id: created.id, members: P.MemberCounts(other: -1)),
                        updateMask: ["members.other"], expectedVersion: menOnly.version, requestID: RequestID.make()))
            }
            #expect(negative?.fieldViolations.map(\.field) == ["group.members.other"])

            // An import notes its source for the cells it changes.
            let csv = "id,region,lead_time_days\n\(created.id),Upper East,45\n"
            let imported = try await client.importProducerGroups(
                P.ImportProducerGroupsRequest(
                    csv: Array((csv).utf8), mode: .update, requestID: "i-1", source: "groups-2026.csv"))
            #expect(imported.rows.first?.changedFields == ["region"])
            let afterImport = try await client.getProducerGroup(P.GetProducerGroupRequest(id: created.id))
            #expect(Self.sources(afterImport)["region"] == "groups-2026.csv")
            #expect(Self.sources(afterImport)["lead_time_days"] == "SERRV field visit, March 2025")

            // A merge fills the survivor's empty fields from the merged group, with the merged group's source.
            var other = sampleGroup("Bolga Basket-Weavers Co-op")
            other.localName = "Bolgatanga kɔlɔ"
            let duplicate = try await client.createProducerGroup(
                P.CreateProducerGroupRequest(group: other, requestID: "c-2", source: "Trade Aid list"))
            let merged = try await client.mergeProducerGroups(
                P.MergeProducerGroupsRequest(survivorID: created.id, mergedID: duplicate.id, requestID: "m-1"))
            #expect(merged.localName == "Bolgatanga kɔlɔ")
            #expect(Self.sources(merged)["local_name"] == "Trade Aid list; merged in from \(duplicate.id)")
            #expect(Self.sources(merged)["members"] == "2026 member census")

            let tooLong = await failure {
                try await client.createProducerGroup(
                    P.CreateProducerGroupRequest(
                        group: sampleGroup("Zaare Weavers"), requestID: "c-3",
                        source: String(repeating: "s", count: 201)))
            }
            #expect(tooLong?.fieldViolations.map(\.field) == ["source"])
        }
    }
}
