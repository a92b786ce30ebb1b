import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: groups.
extension ProducerHandler {
    public func createProducerGroup(_ request: ProducerV1.CreateProducerGroupRequest, context: ServerContext)
        async throws -> Group
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let source = check.text(request.source, "source", maxLength: 200)
        guard let input = request.group else {
            check.fail("group", "is required")
            try check.check()
            throw RPCError(.invalidArgument, "group is required")
        }
        var group = Self.validated(input, prefix: "group", &check)
        try check.check()
        FieldSources.note(
            changesFrom: nil, in: &group, source: source, requestID: context.requestID,
            at: CommonV1.Timestamp(unixMicros: Clock.unixMicros()))
        let checked = group
        return try await storage { try await store.createGroup(checked, requestID: request.requestID) }
    }

    public func getProducerGroup(_ request: ProducerV1.GetProducerGroupRequest, context: ServerContext) async throws
        -> Group
    {
        let id = try FieldValidator.id(request.id, "id", ProducerGroupID.self)
        return try await storage { try await store.getGroup(id) }
    }

    /// Fields an update may name, as in the .proto.
    static let updatableFields: Set<String> = [
        "name", "local_name", "kind", "country", "region", "crafts", "processes_in_house", "processes_outsourced",
        "members", "founded_year", "contact", "certifications", "minimum_order", "lead_time_days", "status", "notes",
    ]
    /// Paths an update may name to change one member count and keep the others.
    static let memberCountPaths: Set<String> = ["members.women", "members.men", "members.other"]

    public func updateProducerGroup(_ request: ProducerV1.UpdateProducerGroupRequest, context: ServerContext)
        async throws -> Group
    {
        var check = FieldValidator()
        guard let input = request.group, !input.id.isEmpty else {
            throw RPCError.invalidArgument(field: "group.id", "must name the group to update")
        }
        let groupID = check.id(input.id, "group.id", ProducerGroupID.self)
        check.requestID(request.requestID)
        let mask = request.updateMask.isEmpty ? Self.updatableFields : Set(request.updateMask)
        let known = Self.updatableFields.union(Self.memberCountPaths)
        for field in mask.subtracting(known).sorted() {
            check.fail(
                "update_mask", "\"\(field)\" cannot be updated (fields: \(known.sorted().joined(separator: ", ")))")
        }
        if request.expectedVersion <= 0 {
            check.fail("expected_version", "is required: the version you read, so that concurrent edits are not lost")
        }
        if mask.contains("status") && input.status == .merged {
            check.fail("group.status", "groups are merged with MergeProducerGroups, not by setting the status")
        }
        if mask.contains("status") && input.status == .unspecified {
            check.fail("group.status", "must be GROUP_STATUS_ACTIVE or GROUP_STATUS_INACTIVE")
        }
        let source = check.text(request.source, "source", maxLength: 200)
        // A member count's path has the counts checked as "members" has.
        let checked = mask.isDisjoint(with: Self.memberCountPaths) ? mask : mask.union(["members"])
        let clean = Self.validated(input, prefix: "group", &check, only: checked)
        try check.check()
        let id = try groupID.checked("group.id")
        let requestID = context.requestID
        return try await storage {
            try await store.updateGroup(
                id: id, expectedVersion: request.expectedVersion, requestID: request.requestID
            ) { group in
                let before = group
                for field in mask { Self.copy(field, from: clean, to: &group) }
                FieldSources.note(
                    changesFrom: before, in: &group, source: source, requestID: requestID,
                    at: CommonV1.Timestamp(unixMicros: Clock.unixMicros()))
            }
        }
    }

    public func listProducerGroups(_ request: ProducerV1.ListProducerGroupsRequest, context: ServerContext)
        async throws -> ProducerV1.ListProducerGroupsResponse
    {
        let filter = try Self.listFilter(request, pageSizes: 1...500, defaultPageSize: 50)
        let (groups, next) = try await storage { try await store.listGroups(filter) }
        return ProducerV1.ListProducerGroupsResponse(
            groups: groups, nextPageToken: next.map { PageToken.encode($0.0, $0.1) } ?? "")
    }

    /// The store's filter for a list or export request, every field checked.
    static func listFilter(
        _ request: ProducerV1.ListProducerGroupsRequest, pageSizes: ClosedRange<Int32>, defaultPageSize: Int
    ) throws -> ProducerStore.ListFilter {
        var check = FieldValidator()
        var filter = ProducerStore.ListFilter()
        if !request.country.isEmpty { filter.country = check.country(request.country, "country") }
        filter.craft = request.craft.trimmingWhitespace().lowercased()
        filter.kind = request.kind.rawValue
        filter.nameContains = check.text(request.nameContains, "name_contains", maxLength: 100)
        filter.status = request.status.rawValue
        if request.pageSize != 0 { check.range(request.pageSize, pageSizes, "page_size") }
        filter.pageSize = request.pageSize == 0 ? defaultPageSize : Int(request.pageSize)
        if !request.pageToken.isEmpty {
            if let decoded = PageToken.decode(request.pageToken, of: ProducerGroupID.self) {
                filter.after = (nameKey: decoded.sortKey, id: decoded.id)
            } else {
                check.fail("page_token", "is not a token from a previous answer")
            }
        }
        try check.check()
        return filter
    }
}
