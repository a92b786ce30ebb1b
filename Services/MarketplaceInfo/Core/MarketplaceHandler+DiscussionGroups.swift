import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: discussion groups.
extension MarketplaceHandler {
    public func createDiscussionGroup(_ request: MarketplaceV1.CreateDiscussionGroupRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.DiscussionGroup
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var group = request.group ?? MarketplaceV1.DiscussionGroup()
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

    public func listDiscussionGroups(_ request: MarketplaceV1.ListDiscussionGroupsRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.ListDiscussionGroupsResponse
    {
        MarketplaceV1.ListDiscussionGroupsResponse(
            groups: try await storage {
                try await store.listGroups(craft: request.craft.trimmingWhitespace().lowercased())
            })
    }

    public func joinDiscussionGroup(_ request: MarketplaceV1.JoinDiscussionGroupRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.GroupMember
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var member = request.member ?? MarketplaceV1.GroupMember()
        check.id(member.groupID, "member.group_id", DiscussionGroupID.self)
        check.specified(member.kind, "member.kind")
        member.member = check.text(member.member, "member.member", required: true)
        if member.kind == .producerGroup && !member.member.isEmpty {
            check.id(member.member, "member.member", ProducerGroupID.self)
        }
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

    public func listMembers(_ request: MarketplaceV1.ListMembersRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListMembersResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", DiscussionGroupID.self)
        return MarketplaceV1.ListMembersResponse(
            members: try await storage { try await store.members(groupID: groupID) })
    }

    static func validatePost(_ post: inout MarketplaceV1.Post, prefix: String, _ check: inout FieldValidator) {
        check.specified(post.authorKind, "\(prefix).author_kind")
        post.author = check.text(post.author, "\(prefix).author", required: true)
        if post.authorKind == .producerGroup && !post.author.isEmpty {
            check.id(post.author, "\(prefix).author", ProducerGroupID.self)
        }
        post.body = check.text(post.body, "\(prefix).body", required: true, maxLength: 20_000)
    }

    public func startThread(_ request: MarketplaceV1.StartThreadRequest, context: ServerContext) async throws
        -> MarketplaceV1.StartThreadResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let groupID = check.id(request.groupID, "group_id", DiscussionGroupID.self)
        let title = check.text(request.title, "title", required: true)
        var post = request.firstPost ?? MarketplaceV1.Post()
        Self.validatePost(&post, prefix: "first_post", &check)
        try check.check()
        let (group, firstPost) = (try groupID.checked("group_id"), post)
        let outcome = try await storage {
            try await store.startThread(
                groupID: group, title: title, firstPost: firstPost, requestID: request.requestID)
        }
        if outcome.created, let first = outcome.value.post {
            events?.publish(topic: Topic.posts(request.groupID), MarketplaceV1.MarketEvent(kind: .post, post: first))
        }
        return outcome.value
    }

    public func postReply(_ request: MarketplaceV1.PostReplyRequest, context: ServerContext) async throws
        -> MarketplaceV1.Post
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var post = request.post ?? MarketplaceV1.Post()
        check.id(post.threadID, "post.thread_id", DiscussionThreadID.self)
        Self.validatePost(&post, prefix: "post", &check)
        try check.check()
        let outcome = try await storage { try await store.reply(post, requestID: request.requestID) }
        if outcome.created {
            events?.publish(
                topic: Topic.posts(outcome.value.groupID), MarketplaceV1.MarketEvent(kind: .post, post: outcome.value))
        }
        return outcome.value
    }

    public func listThreads(_ request: MarketplaceV1.ListThreadsRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListThreadsResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", DiscussionGroupID.self)
        return MarketplaceV1.ListThreadsResponse(
            threads: try await storage { try await store.threads(groupID: groupID) })
    }

    public func listPosts(_ request: MarketplaceV1.ListPostsRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListPostsResponse
    {
        let threadID = try FieldValidator.id(request.threadID, "thread_id", DiscussionThreadID.self)
        return MarketplaceV1.ListPostsResponse(
            posts: try await storage { try await store.posts(threadID: threadID) })
    }

    public func getEventEndpoints(_ request: MarketplaceV1.GetEventEndpointsRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.GetEventEndpointsResponse
    {
        MarketplaceV1.GetEventEndpointsResponse(endpoints: events?.boundEndpoints ?? [])
    }
}
