import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// `fairtrade.producer.v1.ProducerService`: validates each request field by field, then hands it to the store.
public struct ProducerHandler: ProducerV1.ProducerServiceHandler {
    let store: ProducerStore

    public init(database: any Database) { self.store = ProducerStore(database: database) }

    public typealias Group = ProducerV1.ProducerGroup

    // MARK: groups

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
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.getGroup(request.id) }
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
        let requestID = context.requestID
        return try await storage {
            try await store.updateGroup(
                id: input.id, expectedVersion: request.expectedVersion, requestID: request.requestID
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
            if let decoded = PageToken.decode(request.pageToken, idPrefix: "pg_") {
                filter.after = (nameKey: decoded.sortKey, id: decoded.id)
            } else {
                check.fail("page_token", "is not a token from a previous answer")
            }
        }
        try check.check()
        return filter
    }

    // MARK: spreadsheets

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
            if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
            if request.minSimilarity < 0 || request.minSimilarity > 1 {
                check.fail("min_similarity", "must be between 0 and 1, got \(request.minSimilarity)")
            }
            try check.check()
            let threshold = request.minSimilarity == 0 ? 0.75 : request.minSimilarity
            return try await storage {
                let group = try await store.getGroup(request.groupID)
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
        if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
        if request.otherGroupID.isEmpty { check.fail("other_group_id", "must not be empty") }
        if !request.groupID.isEmpty && request.groupID == request.otherGroupID {
            check.fail("other_group_id", "must differ from group_id")
        }
        try check.check()
        return try await storage {
            try await store.rejectDuplicate(request.groupID, request.otherGroupID, requestID: request.requestID)
        }
    }

    public func mergeProducerGroups(_ request: ProducerV1.MergeProducerGroupsRequest, context: ServerContext)
        async throws -> Group
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        if request.survivorID.isEmpty { check.fail("survivor_id", "must not be empty") }
        if request.mergedID.isEmpty { check.fail("merged_id", "must not be empty") }
        if !request.survivorID.isEmpty && request.survivorID == request.mergedID {
            check.fail("merged_id", "a group cannot be merged into itself")
        }
        try check.check()
        return try await storage {
            try await store.merge(
                survivorID: request.survivorID, mergedID: request.mergedID, requestID: request.requestID,
                callRequestID: context.requestID)
        }
    }

    // MARK: skills

    public func listSkills(_ request: ProducerV1.ListSkillsRequest, context: ServerContext) async throws
        -> ProducerV1.ListSkillsResponse
    {
        ProducerV1.ListSkillsResponse(skills: try await storage { try await store.listSkills() })
    }

    public func addSkill(_ request: ProducerV1.AddSkillRequest, context: ServerContext) async throws
        -> ProducerV1.SkillCategory
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let input = request.skill ?? ProducerV1.SkillCategory()
        var skill = ProducerV1.SkillCategory()
        skill.code = check.text(input.code, "skill.code", required: true, maxLength: 40).lowercased()
        if !skill.code.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            check.fail("skill.code", "may hold only letters, digits and hyphens, e.g. \"leather-tanning\"")
        }
        skill.name = check.text(input.name, "skill.name", required: true, maxLength: 80)
        skill.category = check.text(input.category, "skill.category", required: true, maxLength: 40).lowercased()
        skill.description = check.text(input.description, "skill.description", maxLength: 500)
        try check.check()
        return try await storage { try await store.addSkill(skill, requestID: request.requestID) }
    }

    public func recordSkillAssessment(_ request: ProducerV1.RecordSkillAssessmentRequest, context: ServerContext)
        async throws -> ProducerV1.SkillAssessment
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var assessment = request.assessment ?? ProducerV1.SkillAssessment()
        if assessment.groupID.isEmpty { check.fail("assessment.group_id", "must not be empty") }
        assessment.skill = check.text(assessment.skill, "assessment.skill", required: true, maxLength: 40).lowercased()
        _ = check.date(assessment.assessedOn, "assessment.assessed_on")
        check.range(assessment.level, 0...4, "assessment.level")
        check.nonNegative(assessment.membersHolding, "assessment.members_holding")
        assessment.assessor = check.text(assessment.assessor, "assessment.assessor", maxLength: 200)
        assessment.notes = check.text(assessment.notes, "assessment.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.recordAssessment(assessment, requestID: request.requestID) }
    }

    public func listSkillAssessments(_ request: ProducerV1.ListSkillAssessmentsRequest, context: ServerContext)
        async throws -> ProducerV1.ListSkillAssessmentsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return ProducerV1.ListSkillAssessmentsResponse(
            assessments: try await storage {
                try await store.listAssessments(groupID: request.groupID, skill: request.skill.lowercased())
            })
    }

    // MARK: buyers and connections

    public func addBuyerRelationship(_ request: ProducerV1.AddBuyerRelationshipRequest, context: ServerContext)
        async throws -> ProducerV1.BuyerRelationship
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var relationship = request.relationship ?? ProducerV1.BuyerRelationship()
        if relationship.groupID.isEmpty { check.fail("relationship.group_id", "must not be empty") }
        Self.validate(&relationship, &check)
        try check.check()
        return try await storage { try await store.addRelationship(relationship, requestID: request.requestID) }
    }

    static func validate(_ relationship: inout ProducerV1.BuyerRelationship, _ check: inout FieldValidator) {
        relationship.organisation = check.text(relationship.organisation, "relationship.organisation", required: true)
        let since = check.date(relationship.since, "relationship.since")
        check.specified(relationship.kind, "relationship.kind")
        if var money = relationship.yearlyPurchases {
            money.currency = check.currency(money.currency, "relationship.yearly_purchases.currency")
            check.amount(
                money.minorUnits, "relationship.yearly_purchases.minor_units", positive: false, currency: money.currency
            )
            relationship.yearlyPurchases = money
        }
        if let ended = check.date(relationship.endedOn, "relationship.ended_on", required: false), let since,
            ended < since
        {
            check.fail("relationship.ended_on", "\(ended) is before the relationship began (\(since))")
        }
        relationship.notes = check.text(relationship.notes, "relationship.notes", maxLength: 2000)
    }

    public func updateBuyerRelationship(_ request: ProducerV1.UpdateBuyerRelationshipRequest, context: ServerContext)
        async throws -> ProducerV1.BuyerRelationship
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var relationship = request.relationship ?? ProducerV1.BuyerRelationship()
        if relationship.id.isEmpty { check.fail("relationship.id", "must name the relationship to update") }
        Self.validate(&relationship, &check)
        try check.check()
        return try await storage { try await store.updateRelationship(relationship, requestID: request.requestID) }
    }

    public func listBuyerRelationships(_ request: ProducerV1.ListBuyerRelationshipsRequest, context: ServerContext)
        async throws -> ProducerV1.ListBuyerRelationshipsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return ProducerV1.ListBuyerRelationshipsResponse(
            relationships: try await storage {
                try await store.listRelationships(groupID: request.groupID)
            })
    }

    public func connectGroups(_ request: ProducerV1.ConnectGroupsRequest, context: ServerContext) async throws
        -> ProducerV1.GroupConnection
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var connection = request.connection ?? ProducerV1.GroupConnection()
        if connection.fromGroupID.isEmpty { check.fail("connection.from_group_id", "must not be empty") }
        if connection.toGroupID.isEmpty { check.fail("connection.to_group_id", "must not be empty") }
        check.specified(connection.kind, "connection.kind")
        _ = check.date(connection.since, "connection.since", required: false)
        connection.notes = check.text(connection.notes, "connection.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.connect(connection, requestID: request.requestID) }
    }

    public func listGroupConnections(_ request: ProducerV1.ListGroupConnectionsRequest, context: ServerContext)
        async throws -> ProducerV1.ListGroupConnectionsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return ProducerV1.ListGroupConnectionsResponse(
            connections: try await storage {
                try await store.listConnections(groupID: request.groupID)
            })
    }

    // MARK: dialogue

    public func logContact(_ request: ProducerV1.LogContactRequest, context: ServerContext) async throws
        -> ProducerV1.DialogueContact
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var contact = request.contact ?? ProducerV1.DialogueContact()
        if contact.groupID.isEmpty { check.fail("contact.group_id", "must not be empty") }
        contact.organisation = check.text(contact.organisation, "contact.organisation", required: true)
        _ = check.date(contact.contactDate, "contact.contact_date")
        check.specified(contact.kind, "contact.kind")
        contact.topics = contact.topics.enumerated().map { index, topic in
            let clean = check.text(topic, "contact.topics[\(index)]", required: true, maxLength: 100)
            if clean.contains("\n") { check.fail("contact.topics[\(index)]", "must be one line") }
            return clean
        }
        contact.summary = check.text(contact.summary, "contact.summary", maxLength: 5000)
        for index in contact.followUps.indices {
            contact.followUps[index].description = check.text(
                contact.followUps[index].description, "contact.follow_ups[\(index)].description", required: true,
                maxLength: 1000)
            _ = check.date(contact.followUps[index].dueOn, "contact.follow_ups[\(index)].due_on")
        }
        try check.check()
        return try await storage { try await store.logContact(contact, requestID: request.requestID) }
    }

    public func listContacts(_ request: ProducerV1.ListContactsRequest, context: ServerContext) async throws
        -> ProducerV1.ListContactsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return ProducerV1.ListContactsResponse(
            contacts: try await storage { try await store.listContacts(groupID: request.groupID) })
    }

    public func listOverdueFollowUps(_ request: ProducerV1.ListOverdueFollowUpsRequest, context: ServerContext)
        async throws -> ProducerV1.ListOverdueFollowUpsResponse
    {
        var check = FieldValidator()
        let asOf = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        return ProducerV1.ListOverdueFollowUpsResponse(
            followUps: try await storage {
                try await store.overdueFollowUps(asOf: asOf, organisation: request.organisation.trimmingWhitespace())
            })
    }

    public func completeFollowUp(_ request: ProducerV1.CompleteFollowUpRequest, context: ServerContext) async throws
        -> ProducerV1.FollowUp
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        if request.followUpID.isEmpty { check.fail("follow_up_id", "must not be empty") }
        let doneOn = check.date(request.doneOn, "done_on", required: false) ?? ISODate.today()
        try check.check()
        return try await storage {
            try await store.completeFollowUp(id: request.followUpID, doneOn: doneOn, requestID: request.requestID)
        }
    }

    // MARK: independence

    public func getIndependenceProfile(_ request: ProducerV1.GetIndependenceProfileRequest, context: ServerContext)
        async throws -> ProducerV1.IndependenceProfile
    {
        var check = FieldValidator()
        if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
        let asOf = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        return try await storage {
            let group = try await store.getGroup(request.groupID)
            return Independence.profile(
                group: group, relationships: try await store.listRelationships(groupID: group.id),
                assessments: try await store.listAssessments(groupID: group.id, skill: ""), asOf: asOf)
        }
    }

    // MARK: validation

    /// A clean copy of `input` for storage, with every problem reported to `check` under `prefix`; only the
    /// fields in `only` are checked (all when nil).
    static func validated(
        _ input: Group, prefix: String, _ check: inout FieldValidator, only: Set<String>? = nil
    ) -> Group {
        func wanted(_ field: String) -> Bool { only?.contains(field) ?? true }
        func field(_ name: String) -> String { "\(prefix).\(name)" }
        var group = input
        // The service keeps these; what a caller sends is ignored.
        group.fieldSources = []
        if wanted("name") { group.name = check.text(input.name, field("name"), required: true) }
        if wanted("local_name") { group.localName = check.text(input.localName, field("local_name")) }
        if wanted("kind") { check.specified(input.kind, field("kind")) }
        if wanted("country") { group.country = check.country(input.country, field("country")) }
        if wanted("region") { group.region = check.text(input.region, field("region"), maxLength: 100) }
        for (name, list) in [
            ("crafts", input.crafts), ("processes_in_house", input.processesInHouse),
            ("processes_outsourced", input.processesOutsourced),
        ] where wanted(name) {
            let clean = ProducerStore.union(
                list.enumerated().map { index, value in
                    check.text(value, field("\(name)[\(index)]"), required: true, maxLength: 60).lowercased()
                }, [])
            switch name {
            case "crafts": group.crafts = clean
            case "processes_in_house": group.processesInHouse = clean
            default: group.processesOutsourced = clean
            }
        }
        if wanted("members"), let members = input.members {
            check.nonNegative(members.women, field("members.women"))
            check.nonNegative(members.men, field("members.men"))
            check.nonNegative(members.other, field("members.other"))
        }
        if wanted("founded_year") && input.foundedYear != 0 {
            check.range(input.foundedYear, 1800...Int32(ISODate.today().year), field("founded_year"))
        }
        if wanted("contact"), let contact = input.contact {
            if !contact.email.isEmpty && !(contact.email.contains("@") && contact.email.contains(".")) {
                check.fail(field("contact.email"), "\"\(contact.email)\" is not an email address")
            }
        }
        if wanted("certifications") {
            for (index, certification) in input.certifications.enumerated() {
                _ = check.text(certification.scheme, field("certifications[\(index)].scheme"), required: true)
                _ = check.date(certification.validUntil, field("certifications[\(index)].valid_until"), required: false)
            }
        }
        if wanted("minimum_order"), let order = input.minimumOrder {
            check.nonNegative(order.amount, field("minimum_order.amount"))
            if order.amount > 0 && order.unit.trimmingWhitespace().isEmpty {
                check.fail(field("minimum_order.unit"), "is required with an amount (e.g. \"piece\", \"kg\")")
            }
        }
        if wanted("lead_time_days") { check.range(input.leadTimeDays, 0...730, field("lead_time_days")) }
        if wanted("notes") { group.notes = check.text(input.notes, field("notes"), maxLength: 5000) }
        return group
    }

    /// `group`'s member counts with the ones given replaced.
    private static func memberCounts(
        of group: Group, women: Int32? = nil, men: Int32? = nil, other: Int32? = nil
    ) -> ProducerV1.MemberCounts {
        var members = group.members ?? ProducerV1.MemberCounts()
        if let women { members.women = women }
        if let men { members.men = men }
        if let other { members.other = other }
        return members
    }

    static func copy(_ field: String, from source: Group, to group: inout Group) {
        switch field {
        case "name": group.name = source.name
        case "local_name": group.localName = source.localName
        case "kind": group.kind = source.kind
        case "country": group.country = source.country
        case "region": group.region = source.region
        case "crafts": group.crafts = source.crafts
        case "processes_in_house": group.processesInHouse = source.processesInHouse
        case "processes_outsourced": group.processesOutsourced = source.processesOutsourced
        case "members": group.members = source.members
        case "members.women": group.members = memberCounts(of: group, women: source.members?.women ?? 0)
        case "members.men": group.members = memberCounts(of: group, men: source.members?.men ?? 0)
        case "members.other": group.members = memberCounts(of: group, other: source.members?.other ?? 0)
        case "founded_year": group.foundedYear = source.foundedYear
        case "contact": group.contact = source.contact
        case "certifications": group.certifications = source.certifications
        case "minimum_order": group.minimumOrder = source.minimumOrder
        case "lead_time_days": group.leadTimeDays = source.leadTimeDays
        case "status": group.status = source.status
        case "notes": group.notes = source.notes
        default: break
        }
    }
}
