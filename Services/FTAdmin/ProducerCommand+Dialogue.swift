import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin producer`: the dialogue log of visits, calls and workshops, and their follow-ups.
extension ProducerCommand {
    struct LogContact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log-contact", abstract: "Record a visit, call, message or workshop, with follow-ups.")
        @Argument var group: String
        @Option var organisation: String
        @Option(help: "YYYY-MM-DD.") var date: String
        @Option(help: "Kind.") var kind: ProducerV1.ContactKind
        @Option(help: "A topic (repeatable).") var topic: [String] = []
        @Option var summary: String = ""
        @Option(help: "A follow-up as \"what@YYYY-MM-DD\" (repeatable).") var followUp: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let followUps = try followUp.map { text -> ProducerV1.FollowUp in
                    guard let at = text.lastIndex(of: "@") else {
                        throw ValidationError("--follow-up \"\(text)\" must be \"what@YYYY-MM-DD\"")
                    }
                    return ProducerV1.FollowUp(
                        description: String(text[..<at]),
                        dueOn: try parseDate(String(text[text.index(after: at)...]), field: "--follow-up"))
                }
                let contact = try await client.logContact(
                    ProducerV1.LogContactRequest(
                        contact: ProducerV1.DialogueContact(
                            groupID: group, organisation: organisation,
                            contactDate: try parseDate(date, field: "--date"),
                            kind: kind, topics: topic,
                            summary: summary,
                            followUps: followUps), requestID: RequestID.make()), options: global.callOptions)
                try emit(contact, global) { "recorded \(contact.id) with \(contact.followUps.count) follow-up(s)" }
            }
        }
    }

    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dialogue log of a group, newest first.")
        @Argument var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listContacts(
                    ProducerV1.ListContactsRequest(groupID: group), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("DATE", "KIND", "ORGANISATION", "TOPICS", "FOLLOW-UPS", "SUMMARY")
                    for item in response.contacts {
                        let open = item.followUps.filter { !$0.done }.count
                        table.add(
                            show(item.contactDate), short(item.kind), item.organisation,
                            item.topics.joined(separator: ", "),
                            "\(item.followUps.count) (\(open) open)", item.summary)
                    }
                    return table.render()
                }
            }
        }
    }

    struct Overdue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow-ups past their due date and not done.")
        @Option(help: "YYYY-MM-DD (default today).") var asOf: String?
        @Option var organisation: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listOverdueFollowUps(
                    ProducerV1.ListOverdueFollowUpsRequest(
                        asOf: try asOf.map { try parseDate($0, field: "--as-of") }, organisation: organisation),
                    options: global.callOptions)
                try emit(response, global) {
                    var table = Table("FOLLOW-UP", "DUE", "DAYS LATE", "GROUP", "AGREED WITH", "WHAT")
                    for item in response.followUps {
                        table.add(
                            item.followUp?.id ?? "", show(item.followUp?.dueOn), "\(item.daysOverdue)", item.groupName,
                            item.organisation, item.followUp?.description ?? "")
                    }
                    return response.followUps.isEmpty ? "nothing overdue" : table.render()
                }
            }
        }
    }

    struct CompleteFollowUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "complete-follow-up", abstract: "Mark a follow-up done.")
        @Argument var id: String
        @Option(help: "YYYY-MM-DD (default today).") var on: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let done = try await client.completeFollowUp(
                    ProducerV1.CompleteFollowUpRequest(
                        followUpID: id, doneOn: try on.map { try parseDate($0, field: "--on") },
                        requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(done, global) { "done on \(show(done.doneOn)): \(done.description)" }
            }
        }
    }
}
