import Domain
import RPC
import Schema
import ServiceKit
import Storage

extension MarketplaceStore {
    // MARK: discussion groups

    func createGroup(_ group: MarketplaceV1.DiscussionGroup, requestID: String) async throws
        -> MarketplaceV1.DiscussionGroup
    {
        try await database.idempotent(operation: "CreateDiscussionGroup", requestID: requestID) { session in
            var group = group
            let id = DiscussionGroupID.mint()
            group.id = id.text
            group.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await session.execute(
                "INSERT INTO discussion_groups (id, name, crafts, body) VALUES ($1, $2, $3, $4)",
                [
                    .of(group.id), .of(group.name), .of("|" + group.crafts.joined(separator: "|") + "|"),
                    .blob(group.serializedBytes()),
                ])
            return id
        } load: { session, id in
            try await loadGroup(id, session)
        }
    }

    func loadGroup(_ id: DiscussionGroupID, _ session: any SQLSession) async throws -> MarketplaceV1.DiscussionGroup {
        try await session.message(MarketplaceV1.DiscussionGroup.self, from: "discussion_groups", id: id)
    }

    func listGroups(craft: String) async throws -> [MarketplaceV1.DiscussionGroup] {
        let rows =
            craft.isEmpty
            ? try await database.query("SELECT body FROM discussion_groups ORDER BY name", [])
            : try await database.query(
                "SELECT body FROM discussion_groups WHERE crafts LIKE $1 ORDER BY name",
                [.of("%|" + craft + "|%")])
        return try rows.map { try $0.message(MarketplaceV1.DiscussionGroup.self) }
    }

    /// Adds a member; joining again returns the existing membership.
    func join(_ member: MarketplaceV1.GroupMember, requestID: String) async throws -> MarketplaceV1.GroupMember {
        try await database.answeringOnce("JoinDiscussionGroup", requestID: requestID) { session in
            _ = try await loadGroup(try DiscussionGroupID(checking: member.groupID, "member.group_id"), session)
            if let row = try await session.first(
                "SELECT body FROM group_members WHERE group_id = $1 AND kind = $2 AND member = $3",
                [.of(member.groupID), .of(member.kind.rawValue), .of(member.member)])
            {
                return try row.message(MarketplaceV1.GroupMember.self)
            }
            var member = member
            member.joinedAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await session.execute(
                "INSERT INTO group_members (group_id, kind, member, body) VALUES ($1, $2, $3, $4)",
                [
                    .of(member.groupID), .of(member.kind.rawValue), .of(member.member),
                    .blob(member.serializedBytes()),
                ])
            return member
        }
    }

    func members(groupID: DiscussionGroupID) async throws -> [MarketplaceV1.GroupMember] {
        try await database.read { session in
            _ = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT body FROM group_members WHERE group_id = $1 ORDER BY kind, member",
                [.of(groupID.text)]
            ).map { try $0.message(MarketplaceV1.GroupMember.self) }
        }
    }

    func requireMember(_ groupID: String, _ kind: MarketplaceV1.MemberKind, _ author: String, _ session: any SQLSession)
        async throws
    {
        guard
            try await session.first(
                "SELECT member FROM group_members WHERE group_id = $1 AND kind = $2 AND member = $3",
                [.of(groupID), .of(kind.rawValue), .of(author)]) != nil
        else {
            throw RPCError(
                .failedPrecondition,
                "\(author) is not a member of discussion group \"\(groupID)\"; join it first (JoinDiscussionGroup)")
        }
    }

    func startThread(
        groupID id: DiscussionGroupID, title: String, firstPost: MarketplaceV1.Post, requestID: String
    ) async throws -> Idempotent<MarketplaceV1.StartThreadResponse> {
        try await database.idempotentOutcome(operation: "StartThread", requestID: requestID) { session in
            _ = try await loadGroup(id, session)
            let groupID = id.text
            try await requireMember(groupID, firstPost.authorKind, firstPost.author, session)
            let now = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            let threadID = DiscussionThreadID.mint()
            let thread = MarketplaceV1.DiscussionThread(
                id: threadID.text, groupID: groupID, title: title, authorKind: firstPost.authorKind,
                author: firstPost.author, createdAt: now, posts: 1)
            var post = firstPost
            post.id = PostID.mint().text
            post.threadID = thread.id
            post.groupID = groupID
            post.replyTo = ""
            post.createdAt = now
            try await session.execute(
                "INSERT INTO discussion_threads (id, group_id, created_at, body) VALUES ($1, $2, $3, $4)",
                [.of(thread.id), .of(groupID), .of(now.unixMicros), .blob(thread.serializedBytes())])
            try await insertPost(post, session)
            return threadID
        } load: { session, threadID in
            let thread = try await loadThread(threadID, session)
            let first = try await session.first(
                "SELECT body FROM posts WHERE thread_id = $1 ORDER BY created_at, id LIMIT 1",
                [.of(threadID.text)])
            return MarketplaceV1.StartThreadResponse(
                thread: thread, post: try first.map { try $0.message(MarketplaceV1.Post.self) })
        }
    }

    func insertPost(_ post: MarketplaceV1.Post, _ session: any SQLSession) async throws {
        try await session.execute(
            "INSERT INTO posts (id, thread_id, created_at, body) VALUES ($1, $2, $3, $4)",
            [
                .of(post.id), .of(post.threadID), .of((try post.createdAt.checked("created_at")).unixMicros),
                .blob(post.serializedBytes()),
            ])
    }

    func loadThread(_ id: DiscussionThreadID, _ session: any SQLSession) async throws
        -> MarketplaceV1.DiscussionThread
    {
        try await session.message(MarketplaceV1.DiscussionThread.self, from: "discussion_threads", id: id)
    }

    func reply(_ post: MarketplaceV1.Post, requestID: String) async throws -> Idempotent<MarketplaceV1.Post> {
        try await database.idempotentOutcome(operation: "PostReply", requestID: requestID) { session in
            var thread = try await loadThread(
                try DiscussionThreadID(checking: post.threadID, "post.thread_id"), session)
            try await requireMember(thread.groupID, post.authorKind, post.author, session)
            if !post.replyTo.isEmpty {
                guard
                    let answered = try await session.first("SELECT body FROM posts WHERE id = $1", [.of(post.replyTo)]),
                    try answered.message(MarketplaceV1.Post.self).threadID == thread.id
                else {
                    throw RPCError.invalidArgument(
                        field: "post.reply_to", "\"\(post.replyTo)\" is not a post of this thread")
                }
            }
            var post = post
            post.id = PostID.mint().text
            post.groupID = thread.groupID
            post.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await insertPost(post, session)
            thread.posts += 1
            try await session.execute(
                "UPDATE discussion_threads SET body = $2 WHERE id = $1",
                [.of(thread.id), .blob(thread.serializedBytes())])
            return post.id
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM posts WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "post \(id) vanished")
            }
            return try row.message(MarketplaceV1.Post.self)
        }
    }

    func threads(groupID: DiscussionGroupID) async throws -> [MarketplaceV1.DiscussionThread] {
        try await database.read { session in
            _ = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT body FROM discussion_threads WHERE group_id = $1 ORDER BY created_at DESC, id",
                [.of(groupID.text)]
            )
            .map { try $0.message(MarketplaceV1.DiscussionThread.self) }
        }
    }

    func posts(threadID: DiscussionThreadID) async throws -> [MarketplaceV1.Post] {
        try await database.read { session in
            _ = try await loadThread(threadID, session)
            return try await session.query(
                "SELECT body FROM posts WHERE thread_id = $1 ORDER BY created_at, id", [.of(threadID.text)]
            )
            .map { try $0.message(MarketplaceV1.Post.self) }
        }
    }

    // MARK: for the bulletin

    /// Markets with observations of `product` since `since`.
    func markets(observing product: String, since: ISODate) async throws -> [String] {
        try await database.query(
            "SELECT DISTINCT market_id FROM price_observations WHERE product = $1 AND observed_on >= $2 ORDER BY market_id",
            [.of(product), .of(since.description)]
        ).map { try $0.text("market_id") }
    }

    /// Library entries for `craft` added since `micros`, newest first.
    func entries(craft: String, sinceMicros: Int64, limit: Int) async throws -> [MarketplaceV1.LibraryEntry] {
        try await database.query(
            """
            SELECT body FROM library_entries WHERE crafts LIKE $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3
            """, [.of("%|" + craft + "|%"), .of(sinceMicros), .of(limit)]
        ).map { try $0.message(MarketplaceV1.LibraryEntry.self) }
    }
}
