import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin producer …`: the registry of producer groups.
struct ProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer", abstract: "Producer groups: registry, skills, buyers, connections, dialogue.",
        subcommands: [
            Create.self, Get.self, List.self, Update.self, Duplicates.self, RejectDuplicate.self, Merge.self,
            Skills.self, AddSkill.self, Assess.self, Assessments.self, AddBuyer.self, Buyers.self, UpdateBuyer.self,
            Connect.self,
            Connections.self, LogContact.self, Contacts.self, Overdue.self, CompleteFollowUp.self, Independence.self,
            Import.self, Export.self,
        ])
}

/// Runs `body` with a Producer client, reporting errors the ftadmin way.
func withProducer(
    _ command: some AsyncParsableCommand, _ global: GlobalOptions,
    _ body: (ProducerV1.ProducerServiceClient) async throws -> Void
) async throws {
    try await command.withClient(
        ServiceDirectory.producer, global, ProducerV1.ProducerServiceClient.init(channel:), body)
}

private func groupTable(_ groups: [ProducerV1.ProducerGroup]) -> String {
    var table = Table("ID", "NAME", "KIND", "COUNTRY", "REGION", "CRAFTS", "MEMBERS (W/M)", "STATUS")
    for group in groups {
        let members = group.members.map { "\($0.women)/\($0.men)" } ?? ""
        table.add(
            group.id, group.name, short(group.kind), group.country, group.region,
            group.crafts.joined(separator: ", "), members, short(group.status))
    }
    return table.render()
}

private func groupDetail(_ group: ProducerV1.ProducerGroup) -> String {
    var lines = [
        "\(group.name)\(group.localName.isEmpty ? "" : " (\(group.localName))")  [\(group.id), version \(group.version)]",
        "kind: \(short(group.kind))   status: \(short(group.status))   country: \(group.country) \(CountryCode.names[group.country] ?? "")   region: \(group.region)",
        "crafts: \(group.crafts.joined(separator: ", "))",
        "in house: \(group.processesInHouse.joined(separator: ", "))   bought in: \(group.processesOutsourced.joined(separator: ", "))",
    ]
    if let members = group.members {
        let total = Int64(members.women) + Int64(members.men) + Int64(members.other)
        lines.append(
            "members: \(total) (\(members.women) women, \(members.men) men\(members.other > 0 ? ", \(members.other) other" : ""))"
        )
    }
    if group.foundedYear > 0 { lines.append("founded: \(group.foundedYear)") }
    if let order = group.minimumOrder, order.amount > 0 {
        lines.append("minimum order: \(order.amount) \(order.unit)   lead time: \(group.leadTimeDays) days")
    }
    for certification in group.certifications {
        lines.append(
            "certified: \(certification.scheme) \(certification.reference) until \(show(certification.validUntil))")
    }
    if let contact = group.contact { lines.append("contact: \(contact.person) \(contact.phone) \(contact.email)") }
    if !group.mergedIDs.isEmpty { lines.append("merged into this group: \(group.mergedIDs.joined(separator: ", "))") }
    if !group.notes.isEmpty { lines.append("notes: \(group.notes)") }
    // Where the values came from, one line per source and day: the fields it set.
    let bySource = Dictionary(grouping: group.fieldSources) {
        "\($0.source.isEmpty ? "(no source given)" : $0.source), \(show(day: $0.recordedAt))"
    }
    for (source, fields) in bySource.sorted(by: { $0.key < $1.key }) {
        lines.append("source: \(source): \(fields.map(\.field).joined(separator: ", "))")
    }
    return lines.joined(separator: "\n")
}

/// Fields of a group settable from flags, shared by create and update.
struct GroupFields: ParsableArguments {
    func validate() throws { try checkCountries(country.map { [$0] } ?? []) }

    @Option(help: "Name.") var name: String?
    @Option(help: "Where the values come from (a survey, a visit, a document); noted for each field set.")
    var source: String?
    @Option(help: "Name in the local language.") var localName: String?
    @Option(help: "Kind of group.") var kind: ProducerV1.GroupKind?
    @Option(help: "ISO 3166-1 alpha-2 country code, e.g. GH.") var country: String?
    @Option(help: "Region or district.") var region: String?
    @Option(help: "A craft or product category (repeatable).") var craft: [String] = []
    @Option(help: "A process done in house (repeatable).") var inHouse: [String] = []
    @Option(help: "A process bought in (repeatable).") var outsourced: [String] = []
    @Option(parsing: .unconditional, help: "Women members.") var women: Int32?
    @Option(parsing: .unconditional, help: "Men members.") var men: Int32?
    @Option(parsing: .unconditional, help: "Members of another sex, or who did not say.") var other: Int32?
    @Option(parsing: .unconditional, help: "Year founded.") var founded: Int32?
    @Option(parsing: .unconditional, help: "Lead time in days.") var leadTimeDays: Int32?
    @Option(help: "Notes.") var notes: String?

    /// The group the flags describe and the names of the fields they set.
    func group() throws -> (ProducerV1.ProducerGroup, [String]) {
        var group = ProducerV1.ProducerGroup()
        var mask = FieldMask()
        mask.set("name", ifGiven: name) { group.name = $0 }
        mask.set("local_name", ifGiven: localName) { group.localName = $0 }
        try mask.set("kind", ifGiven: kind) { kind in
            group.kind = kind
        }
        mask.set("country", ifGiven: country) { group.country = $0 }
        mask.set("region", ifGiven: region) { group.region = $0 }
        mask.set("crafts", ifAny: craft) { group.crafts = $0 }
        mask.set("processes_in_house", ifAny: inHouse) { group.processesInHouse = $0 }
        mask.set("processes_outsourced", ifAny: outsourced) { group.processesOutsourced = $0 }
        if women != nil || men != nil || other != nil {
            group.members = ProducerV1.MemberCounts(women: women ?? 0, men: men ?? 0, other: other ?? 0)
            mask.add("members")
        }
        mask.set("founded_year", ifGiven: founded) { group.foundedYear = $0 }
        mask.set("lead_time_days", ifGiven: leadTimeDays) { group.leadTimeDays = $0 }
        mask.set("notes", ifGiven: notes) { group.notes = $0 }
        return (group, mask.paths)
    }
}

extension ProducerCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a producer group.")
        @OptionGroup var fields: GroupFields
        @Option(help: "Request id, so that running the command again never makes a second group (default: new).")
        var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let (group, _) = try fields.group()
                let created = try await client.createProducerGroup(
                    ProducerV1.CreateProducerGroupRequest(
                        group: group, requestID: requestID ?? RequestID.make(), source: fields.source ?? ""),
                    options: global.callOptions)
                try emit(created, global) { groupDetail(created) }
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a producer group (merged ids resolve).")
        @Argument var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let group = try await client.getProducerGroup(
                    ProducerV1.GetProducerGroupRequest(id: id), options: global.callOptions)
                try emit(group, global) { groupDetail(group) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List producer groups, filtered.")
        @Option(help: "Country code.") var country: String?
        @Option(help: "Craft.") var craft: String?
        @Option(help: "Kind.") var kind: ProducerV1.GroupKind?
        @Option(help: "Text in the name.") var name: String?
        @Option(help: "Status.") var status: ProducerV1.GroupStatus?
        @Option(parsing: .unconditional, help: "Groups per page (1-500).") var pageSize: Int32 = 50
        @Option(help: "Page token from a previous page.") var pageToken: String?
        @Flag(help: "Fetch every page.") var all = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                var request = ProducerV1.ListProducerGroupsRequest(
                    country: country ?? "", craft: craft ?? "", nameContains: name ?? "", pageSize: pageSize,
                    pageToken: pageToken ?? "")
                if let kind { request.kind = kind }
                if let status { request.status = status }
                var response = try await client.listProducerGroups(request, options: global.callOptions)
                while all && !response.nextPageToken.isEmpty {
                    request.pageToken = response.nextPageToken
                    let next = try await client.listProducerGroups(request, options: global.callOptions)
                    response.groups += next.groups
                    response.nextPageToken = next.nextPageToken
                }
                try emit(response, global) {
                    groupTable(response.groups)
                        + (response.nextPageToken.isEmpty ? "" : "\nmore: --page-token \(response.nextPageToken)")
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the fields given; needs the version you read (shown by get).")
        @Argument var id: String
        @Option(parsing: .unconditional, help: "The version you read.") var version: Int64
        @OptionGroup var fields: GroupFields
        @Option(help: "active or inactive.") var status: ProducerV1.GroupStatus?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                var (group, mask) = try fields.group()
                group.id = id
                // Only the counts given change; the others keep what is stored.
                if let index = mask.firstIndex(of: "members") {
                    mask.remove(at: index)
                    for (path, count) in [
                        ("members.women", fields.women), ("members.men", fields.men), ("members.other", fields.other),
                    ] where count != nil {
                        mask.append(path)
                    }
                }
                if let status {
                    group.status = status
                    mask.append("status")
                }
                guard !mask.isEmpty else { throw ValidationError("name at least one field to change") }
                let updated = try await client.updateProducerGroup(
                    ProducerV1.UpdateProducerGroupRequest(
                        group: group, updateMask: mask, expectedVersion: version, source: fields.source ?? "",
                        requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(updated, global) { groupDetail(updated) }
            }
        }
    }

    struct Duplicates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Groups that are likely the same as this one.")
        @Argument var id: String
        @Option(parsing: .unconditional, help: "Lowest similarity shown, 0-1.") var min: Double = 0
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.findDuplicates(
                    ProducerV1.FindDuplicatesRequest(groupID: id, minSimilarity: min), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "SIMILARITY", "WHY")
                    for candidate in response.candidates {
                        table.add(
                            candidate.group?.id ?? "", candidate.group?.name ?? "",
                            percent(candidate.similarity), candidate.reason)
                    }
                    return response.candidates.isEmpty ? "no likely duplicates" : table.render()
                }
            }
        }
    }

    struct RejectDuplicate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reject-duplicate", abstract: "Record that two groups are not the same.")
        @Argument var id: String
        @Argument var other: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let answer = try await client.rejectDuplicate(
                    ProducerV1.RejectDuplicateRequest(groupID: id, otherGroupID: other, requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(answer, global) { "\(id) and \(other) will not be offered as duplicates again" }
            }
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge MERGED into SURVIVOR: MERGED's id then resolves to SURVIVOR.")
        @Argument var survivor: String
        @Argument var merged: String
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let group = try await client.mergeProducerGroups(
                    ProducerV1.MergeProducerGroupsRequest(
                        survivorID: survivor, mergedID: merged, requestID: requestID ?? RequestID.make()),
                    options: global.callOptions)
                try emit(group, global) { groupDetail(group) }
            }
        }
    }
}
