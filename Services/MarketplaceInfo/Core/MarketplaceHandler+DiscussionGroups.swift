import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: discussion groups.
extension MarketplaceHandler {
    public func createDiscussionGroup(_ request: M.CreateDiscussionGroupRequest, context: ServerContext) async throws
        -> M.DiscussionGroup
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var group = request.group ?? M.DiscussionGroup()
        group.name = check.text(group.name, "group.name", required: true)
        group.description = check.text(group.description, "group.description", maxLength: 2000)
        group.crafts = group.crafts.enumerated().map { index, craft in
            let clean = check.text(craft, "group.crafts[\(index)]", required: true, maxLength: 60).lowercased()
            if clean.contains("|") { check.fail("group.crafts[\(index)]", "must not contain |") }
            return clean
        }
        try check.check()
        return try await storage { try await store.createGroup(group, requestID: request.requestID) }
    }

    public func listDiscussionGroups(_ request: M.ListDiscussionGroupsRequest, context: ServerContext) async throws
        -> M.ListDiscussionGroupsResponse
    {
        M.ListDiscussionGroupsResponse(
            groups: try await storage {
                try await store.listGroups(craft: request.craft.trimmingWhitespace().lowercased())
            })
    }

    public func joinDiscussionGroup(_ request: M.JoinDiscussionGroupRequest, context: ServerContext) async throws
        -> M.GroupMember
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var member = request.member ?? M.GroupMember()
        if member.groupID.isEmpty { check.fail("member.group_id", "must not be empty") }
        check.specified(member.kind, "member.kind")
        member.member = check.text(member.member, "member.member", required: true)
        try check.check()
        if member.kind == .producerGroup {
            try await requireProducerGroup(member.member, field: "member.member")
        }
        let checked = member
        return try await storage { try await store.join(checked, requestID: request.requestID) }
    }

    /// A producer group must exist: asked of the Producer service, with the remaining deadline and request id.
    func requireProducerGroup(_ id: String, field: String) async throws {
        do {
            _ = try await producer.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: id))
        } catch {
            if error.code == .notFound { throw RPCError.invalidArgument(field: field, error.message) }
            throw RPCError(
                .unavailable,
                "checking the producer group needs producer-service, which did not answer: \(error.message)")
        }
    }

    public func listMembers(_ request: M.ListMembersRequest, context: ServerContext) async throws
        -> M.ListMembersResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return M.ListMembersResponse(members: try await storage { try await store.members(groupID: request.groupID) })
    }

    static func validatePost(_ post: inout M.Post, prefix: String, _ check: inout FieldValidator) {
        check.specified(post.authorKind, "\(prefix).author_kind")
        post.author = check.text(post.author, "\(prefix).author", required: true)
        post.body = check.text(post.body, "\(prefix).body", required: true, maxLength: 20_000)
    }

    public func startThread(_ request: M.StartThreadRequest, context: ServerContext) async throws
        -> M.StartThreadResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
        let title = check.text(request.title, "title", required: true)
        var post = request.firstPost ?? M.Post()
        Self.validatePost(&post, prefix: "first_post", &check)
        try check.check()
        let outcome = try await storage {
            try await store.startThread(
                groupID: request.groupID, title: title, firstPost: post, requestID: request.requestID)
        }
        if outcome.created, let first = outcome.value.post {
            events?.publish(topic: Topic.posts(request.groupID), M.MarketEvent(kind: .post, post: first))
        }
        return outcome.value
    }

    public func postReply(_ request: M.PostReplyRequest, context: ServerContext) async throws -> M.Post {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var post = request.post ?? M.Post()
        if post.threadID.isEmpty { check.fail("post.thread_id", "must not be empty") }
        Self.validatePost(&post, prefix: "post", &check)
        try check.check()
        let outcome = try await storage { try await store.reply(post, requestID: request.requestID) }
        if outcome.created {
            events?.publish(topic: Topic.posts(outcome.value.groupID), M.MarketEvent(kind: .post, post: outcome.value))
        }
        return outcome.value
    }

    public func listThreads(_ request: M.ListThreadsRequest, context: ServerContext) async throws
        -> M.ListThreadsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return M.ListThreadsResponse(threads: try await storage { try await store.threads(groupID: request.groupID) })
    }

    public func listPosts(_ request: M.ListPostsRequest, context: ServerContext) async throws -> M.ListPostsResponse {
        guard !request.threadID.isEmpty else { throw RPCError.invalidArgument(field: "thread_id", "must not be empty") }
        return M.ListPostsResponse(posts: try await storage { try await store.posts(threadID: request.threadID) })
    }

    public func getEventEndpoints(_ request: M.GetEventEndpointsRequest, context: ServerContext) async throws
        -> M.GetEventEndpointsResponse
    {
        M.GetEventEndpointsResponse(endpoints: events?.boundEndpoints ?? [])
    }
}
