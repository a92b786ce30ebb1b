import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin market`: discussion groups, their members, threads and posts, where artisans and experts exchange.
extension MarketCommand {
    struct CreateGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-group", abstract: "Start a discussion group.")
        @Option var name: String
        @Option var description: String = ""
        @Option var craft: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let group = try await client.createDiscussionGroup(
                    MarketplaceV1.CreateDiscussionGroupRequest(
                        group: MarketplaceV1.DiscussionGroup(name: name, description: description, crafts: craft),
                        requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(group, global) { "created \(group.id): \(group.name)" }
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Discussion groups.")
        @Option var craft: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listDiscussionGroups(
                    MarketplaceV1.ListDiscussionGroupsRequest(craft: craft), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "CRAFTS", "DESCRIPTION")
                    for group in response.groups {
                        table.add(group.id, group.name, group.crafts.joined(separator: ","), group.description)
                    }
                    return table.render()
                }
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join a discussion group.")
        @Argument var group: String
        @Option(help: "Kind.") var kind: MarketplaceV1.MemberKind
        @Option(help: "Name, or producer group id.") var member: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let joined = try await client.joinDiscussionGroup(
                    MarketplaceV1.JoinDiscussionGroupRequest(
                        member: MarketplaceV1.GroupMember(
                            groupID: group, kind: kind,
                            member: member), requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(joined, global) { "\(joined.member) is a member of \(joined.groupID)" }
            }
        }
    }

    struct StartThread: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start-thread", abstract: "Start a thread with a first post.")
        @Argument var group: String
        @Option var title: String
        @Option(help: "Who wrote it.") var authorKind: MarketplaceV1.MemberKind
        @Option var author: String
        @Option var body: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let started = try await client.startThread(
                    MarketplaceV1.StartThreadRequest(
                        groupID: group, title: title,
                        firstPost: MarketplaceV1.Post(
                            authorKind: authorKind,
                            author: author, body: body), requestID: RequestID.make()), options: global.callOptions)
                try emit(started, global) { "thread \(started.thread?.id ?? ""), post \(started.post?.id ?? "")" }
            }
        }
    }

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Post in a thread (optionally answering a post).")
        @Argument var thread: String
        @Option var authorKind: MarketplaceV1.MemberKind
        @Option var author: String
        @Option var body: String
        @Option(help: "The post this answers.") var to: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let post = try await client.postReply(
                    MarketplaceV1.PostReplyRequest(
                        post: MarketplaceV1.Post(
                            threadID: thread,
                            authorKind: authorKind,
                            author: author, body: body, replyTo: to), requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(post, global) { "posted \(post.id)" }
            }
        }
    }

    struct Threads: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Threads of a discussion group, newest first.")
        @Argument var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listThreads(
                    MarketplaceV1.ListThreadsRequest(groupID: group), options: global.callOptions)
                // A producer group writes under its id: its name is shown.
                let names = await global.pageNames(groups: Set(response.threads.map(\.author)))
                try emit(response, global) {
                    var table = Table("ID", "TITLE", "STARTED BY", "POSTS")
                    for thread in response.threads {
                        table.add(thread.id, thread.title, names.label(thread.author), "\(thread.posts)")
                    }
                    return table.render()
                }
            }
        }
    }

    struct Posts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Posts of a thread, oldest first.")
        @Argument var thread: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listPosts(
                    MarketplaceV1.ListPostsRequest(threadID: thread), options: global.callOptions)
                let names = await global.pageNames(groups: Set(response.posts.map(\.author)))
                try emit(response, global) {
                    response.posts.map { post in
                        "[\(post.id)] \(names.label(post.author))\(post.replyTo.isEmpty ? "" : " (re \(post.replyTo))"): \(post.body)"
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members of a discussion group.")
        @Argument(help: "Discussion group id (dg_…), as `groups` lists it.") var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listMembers(
                    MarketplaceV1.ListMembersRequest(groupID: group), options: global.callOptions)
                // Producer groups are members by id: their names beside.
                let names = await global.pageNames(
                    groups: Set(response.members.filter { $0.kind == .producerGroup }.map(\.member)))
                try emit(response, global) {
                    var table = Table("MEMBER", "NAME", "KIND", "JOINED")
                    for member in response.members {
                        let name = member.kind == .producerGroup ? names.groups[member.member] ?? "" : member.member
                        table.add(member.member, name, short(member.kind), show(day: member.joinedAt))
                    }
                    return response.members.isEmpty ? "no members yet" : table.render()
                }
            }
        }
    }
}
