import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: spreadsheets.
extension ProducerHandler {
    public func importProducerGroups(_ request: ProducerV1.ImportProducerGroupsRequest, context: ServerContext)
        async throws -> ProducerV1.ImportProducerGroupsResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(
                validateOnly: request.validateOnly, requestID: request.requestID, source: request.source)
            let mode = request.mode == .unspecified ? .add : request.mode
            if !mode.isRecognized { check.fail("mode", "unknown import mode \(mode.rawValue)") }
            try check.check()
            let groupImport = GroupImport(
                csv: request.csv, mode: mode, source: source, requestID: context.requestID, &check)
            try check.check()
            return try await storage {
                try await store.importGroups(
                    groupImport, validateOnly: request.validateOnly, requestID: request.requestID, source: source,
                    rowsFrom: request.rowsFrom)
            }
        }
    }

    public func exportProducerGroups(_ request: ProducerV1.ExportProducerGroupsRequest, context: ServerContext)
        async throws -> ProducerV1.ExportProducerGroupsResponse
    {
        try await offTheIOThread {
            let filter = try Self.listFilter(
                ProducerV1.ListProducerGroupsRequest(
                    country: request.country, craft: request.craft, kind: request.kind,
                    nameContains: request.nameContains, status: request.status, pageSize: request.pageSize,
                    pageToken: request.pageToken),
                pageSizes: 1...5000, defaultPageSize: 1000)
            let (groups, next) = try await storage { try await store.listGroups(filter) }
            return ProducerV1.ExportProducerGroupsResponse(
                csv: CSV.line(GroupCSV.columns) + groups.map { CSV.line(GroupCSV.cells($0)) }.joined(),
                count: Int32(groups.count), nextPageToken: next.map { PageToken.encode($0.0, $0.1) } ?? "")
        }
    }

    public func findDuplicates(_ request: ProducerV1.FindDuplicatesRequest, context: ServerContext) async throws
        -> ProducerV1.FindDuplicatesResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let groupID = check.id(request.groupID, "group_id", ProducerGroupID.self)
            if request.minSimilarity < 0 || request.minSimilarity > 1 {
                check.fail("min_similarity", "must be between 0 and 1, got \(request.minSimilarity)")
            }
            try check.check()
            let threshold = request.minSimilarity == 0 ? 0.75 : request.minSimilarity
            let id = try groupID.checked("group_id")
            return try await storage {
                let group = try await store.getGroup(id)
                let candidates = try await store.duplicateCandidates(of: group).compactMap {
                    other -> ProducerV1.DuplicateCandidate? in
                    let score = max(
                        NameSimilarity.score(group.name, other.name),
                        group.localName.isEmpty || other.localName.isEmpty
                            ? 0
                            : NameSimilarity.score(group.localName, other.localName))
                    guard score >= threshold else { return nil }
                    var reasons = [
                        "same country (\(group.country))", String(format: "names %.0f%% alike", score * 100),
                    ]
                    if !Set(group.crafts).isDisjoint(with: other.crafts) { reasons.append("shared crafts") }
                    if !group.region.isEmpty && group.region.lowercased() == other.region.lowercased() {
                        reasons.append("same region")
                    }
                    return ProducerV1.DuplicateCandidate(
                        group: other, similarity: score, reason: reasons.joined(separator: ", "))
                }
                return ProducerV1.FindDuplicatesResponse(
                    candidates: candidates.sorted { $0.similarity > $1.similarity })
            }
        }
    }

    public func rejectDuplicate(_ request: ProducerV1.RejectDuplicateRequest, context: ServerContext) async throws
        -> CommonV1.Empty
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let groupID = check.id(request.groupID, "group_id", ProducerGroupID.self)
        let otherID = check.id(request.otherGroupID, "other_group_id", ProducerGroupID.self)
        if let groupID, groupID == otherID { check.fail("other_group_id", "must differ from group_id") }
        try check.check()
        let (one, other) = (try groupID.checked("group_id"), try otherID.checked("other_group_id"))
        return try await storage {
            try await store.rejectDuplicate(one, other, requestID: request.requestID)
        }
    }

    public func mergeProducerGroups(_ request: ProducerV1.MergeProducerGroupsRequest, context: ServerContext)
        async throws -> Group
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let survivorID = check.id(request.survivorID, "survivor_id", ProducerGroupID.self)
        let mergedID = check.id(request.mergedID, "merged_id", ProducerGroupID.self)
        if let survivorID, survivorID == mergedID { check.fail("merged_id", "a group cannot be merged into itself") }
        try check.check()
        let (survivor, merged) = (try survivorID.checked("survivor_id"), try mergedID.checked("merged_id"))
        return try await storage {
            try await store.merge(
                survivorID: survivor, mergedID: merged, requestID: request.requestID,
                callRequestID: context.requestID)
        }
    }
}
