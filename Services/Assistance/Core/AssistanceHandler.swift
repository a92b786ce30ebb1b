import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// `fairtrade.assistance.v1.AssistanceService`: validates each request field by field, checks the producer groups it
/// names with the Producer service, then hands it to the store.
public struct AssistanceHandler: AssistanceV1.AssistanceServiceHandler {
    let store: AssistanceStore
    let producer: ProducerLink
    let marketplace: MarketplaceV1.MarketplaceInfoServiceClient

    public init(
        database: any Database, producer: ProducerV1.ProducerServiceClient,
        marketplace: MarketplaceV1.MarketplaceInfoServiceClient
    ) {
        self.store = AssistanceStore(database: database)
        self.producer = ProducerLink(client: producer, store: store)
        self.marketplace = marketplace
    }

    public typealias A = AssistanceV1

    static func required(_ id: String, _ field: String, _ check: inout FieldValidator) {
        if id.trimmingWhitespace().isEmpty { check.fail(field, "must not be empty") }
    }

    /// An IATI identifier: a registration agency or organisation prefix, "-", and a reference, without spaces.
    static func iatiIdentifier(_ value: String, _ field: String, _ check: inout FieldValidator) -> String {
        let identifier = value.trimmingWhitespace()
        guard !identifier.isEmpty else { return "" }
        let parts = identifier.split(separator: "-", omittingEmptySubsequences: false)
        let allowed = identifier.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._/".contains($0)) }
        if parts.count < 2 || parts.contains(where: \.isEmpty) || !allowed || identifier.count > 150
            || !(parts[0].count >= 2 && parts[0].allSatisfy { $0.isLetter && $0.isUppercase })
        {
            check.fail(
                field,
                """
                "\(value)" is not an IATI identifier: an upper-case agency prefix, "-", and a reference, e.g. \
                GB-COH-01234567 or XM-DAC-41114
                """)
        }
        return identifier
    }

    static func money(_ value: CommonV1.Money?, _ field: String, positive: Bool, _ check: inout FieldValidator)
        -> CommonV1.Money?
    {
        guard var money = value else {
            check.fail(field, "is required (minor units and an ISO 4217 currency)")
            return nil
        }
        money.currency = check.currency(money.currency, "\(field).currency")
        check.amount(money.minorUnits, "\(field).minor_units", positive: positive, currency: money.currency)
        return money
    }

    static func notInFuture(_ day: ISODate?, _ field: String, _ check: inout FieldValidator) {
        if let day, day > ISODate.today().adding(days: 1) { check.fail(field, "\(day) is in the future") }
    }

    /// Organisations that must exist, each named by its field.
    func requireOrganisations(_ references: [(id: String, field: String)]) async throws {
        let missing = try await storage { try await store.missingOrganisations(references.map(\.id)) }
        var check = FieldValidator()
        for (id, field) in references where missing.contains(id) {
            check.fail(field, "organisation \"\(id)\" not found")
        }
        try check.check()
    }

    /// The ids a group's records may be stored under: its own and those merged into it. Asks producer-service
    /// first, briefly and without retries, so that ids merged since the last look are included; when it does not
    /// answer, what it said last serves.
    func groupIDs(_ id: String) async throws -> [String] {
        if let group = try? await producer.client.getProducerGroup(
            ProducerV1.GetProducerGroupRequest(id: id),
            options: CallOptions(timeout: .milliseconds(500), retryEnabled: false))
        {
            await producer.remember(group)
        }
        return try await storage { try await store.aliases(of: id) }
    }

    /// The page a List request asks for: after which row, and how many (1 to 1000, 100 by default).
    static func page(_ size: Int32, _ token: String, idPrefix: String, of method: String) throws(RPCError)
        -> (after: (String, String)?, limit: Int)
    {
        var check = FieldValidator()
        if size != 0 { check.range(size, 1...1000, "page_size") }
        let after = token.isEmpty ? nil : PageToken.decode(token, idPrefix: idPrefix)
        if !token.isEmpty && after == nil {
            check.fail("page_token", "is not a token from a previous \(method) answer")
        }
        try check.check()
        return (after.map { ($0.sortKey, $0.id) }, Int(size == 0 ? 100 : size))
    }

    static func token(_ next: (String, String)?) -> String { next.map { PageToken.encode($0.0, $0.1) } ?? "" }

    // MARK: organisations

    public func createOrganisation(_ request: A.CreateOrganisationRequest, context: ServerContext) async throws
        -> A.Organisation
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var organisation = request.organisation ?? A.Organisation()
        organisation.name = check.text(organisation.name, "organisation.name", required: true)
        check.specified(organisation.kind, "organisation.kind")
        organisation.iatiIdentifier = Self.iatiIdentifier(
            organisation.iatiIdentifier, "organisation.iati_identifier", &check)
        organisation.country = check.country(organisation.country, "organisation.country", required: false)
        organisation.notes = check.text(organisation.notes, "organisation.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.createOrganisation(organisation, requestID: request.requestID) }
    }

    public func getOrganisation(_ request: A.GetOrganisationRequest, context: ServerContext) async throws
        -> A.Organisation
    {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.organisation(request.id) }
    }

    public func listOrganisations(_ request: A.ListOrganisationsRequest, context: ServerContext) async throws
        -> A.ListOrganisationsResponse
    {
        A.ListOrganisationsResponse(
            organisations: try await storage { try await store.listOrganisations(kind: request.kind) })
    }

    // MARK: projects

    /// Checks and cleans every field of a project; `prefix` names the fields in violations.
    static func validate(_ project: inout A.Project, prefix: String, _ check: inout FieldValidator) {
        project.title = check.text(project.title, "\(prefix).title", required: true)
        project.description = check.text(project.description, "\(prefix).description", maxLength: 10_000)
        project.iatiIdentifier = iatiIdentifier(project.iatiIdentifier, "\(prefix).iati_identifier", &check)
        required(project.reportingOrganisationID, "\(prefix).reporting_organisation_id", &check)
        var roles = Set<String>()
        for (index, participant) in project.participants.enumerated() {
            required(participant.organisationID, "\(prefix).participants[\(index)].organisation_id", &check)
            check.specified(participant.role, "\(prefix).participants[\(index)].role")
            if !roles.insert("\(participant.organisationID) \(participant.role.rawValue)").inserted {
                check.fail(
                    "\(prefix).participants[\(index)]",
                    "repeats organisation \(participant.organisationID) in the same role")
            }
        }
        check.specified(project.status, "\(prefix).status")
        let plannedStart = check.date(project.plannedStart, "\(prefix).planned_start")
        let plannedEnd = check.date(project.plannedEnd, "\(prefix).planned_end")
        if let plannedStart, let plannedEnd, plannedEnd < plannedStart {
            check.fail("\(prefix).planned_end", "\(plannedEnd) is before the planned start \(plannedStart)")
        }
        let actualStart = check.date(project.actualStart, "\(prefix).actual_start", required: false)
        let actualEnd = check.date(project.actualEnd, "\(prefix).actual_end", required: false)
        if actualEnd != nil && actualStart == nil {
            check.fail("\(prefix).actual_start", "is required when actual_end is set")
        }
        if let actualStart, let actualEnd, actualEnd < actualStart {
            check.fail("\(prefix).actual_end", "\(actualEnd) is before the actual start \(actualStart)")
        }
        project.countries = project.countries.enumerated().map { check.country($1, "\(prefix).countries[\($0)]") }
        for (index, sector) in project.sectors.enumerated() where DACSector.names[sector] == nil {
            check.fail(
                "\(prefix).sectors[\(index)]",
                "\(sector) is not an OECD DAC purpose code in IATI's Sector codelist (e.g. 32140 cottage industries and "
                    + "handicraft, 32130 SME development, 32163 textiles)")
        }
        if project.budget.isEmpty {
            check.fail(
                "\(prefix).budget",
                "needs at least one amount: its currencies are those the project's money may move in")
        }
        var currencies = Set<String>()
        project.budget = project.budget.enumerated().map { index, line in
            let field = "\(prefix).budget[\(index)]"
            let money = money(line, field, positive: false, &check) ?? line
            if !currencies.insert(money.currency).inserted {
                check.fail("\(field).currency", "\(money.currency) appears twice: give one amount per currency")
            }
            return money
        }
    }

    func requireProjectOrganisations(_ project: A.Project, prefix: String) async throws {
        try await requireOrganisations(
            [(project.reportingOrganisationID, "\(prefix).reporting_organisation_id")]
                + project.participants.enumerated().map {
                    ($1.organisationID, "\(prefix).participants[\($0)].organisation_id")
                })
    }

    public func createProject(_ request: A.CreateProjectRequest, context: ServerContext) async throws -> A.Project {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var project = request.project ?? A.Project()
        Self.validate(&project, prefix: "project", &check)
        try check.check()
        try await requireProjectOrganisations(project, prefix: "project")
        return try await storage { try await store.createProject(project, requestID: request.requestID) }
    }

    public func getProject(_ request: A.GetProjectRequest, context: ServerContext) async throws -> A.Project {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.project(request.id) }
    }

    static let updatableFields = [
        "title", "description", "status", "planned_start", "planned_end", "actual_start",
        "actual_end", "countries", "sectors", "budget", "participants", "iati_identifier",
    ]

    public func updateProject(_ request: A.UpdateProjectRequest, context: ServerContext) async throws -> A.Project {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let changes = request.project ?? A.Project()
        if changes.id.isEmpty { check.fail("project.id", "must not be empty") }
        if request.expectedVersion <= 0 { check.fail("expected_version", "is required: the version you read") }
        for (index, field) in request.updateMask.enumerated() where !Self.updatableFields.contains(field) {
            check.fail(
                "update_mask[\(index)]",
                "\"\(field)\" cannot be updated (one of \(Self.updatableFields.joined(separator: ", ")))")
        }
        try check.check()
        // A replay answers as the first attempt did, before the version it moved on is checked.
        if let answer = try await storage({
            try await store.database.keptAnswer(A.Project.self, "UpdateProject", requestID: request.requestID)
        }) {
            return answer
        }
        var updated = try await storage { try await store.project(changes.id) }
        guard updated.version == request.expectedVersion else {
            throw RPCError(
                .aborted,
                "project \(updated.id) is at version \(updated.version), not \(request.expectedVersion): read it again")
        }
        for field in request.updateMask.isEmpty ? Self.updatableFields : request.updateMask {
            Self.copy(field, from: changes, to: &updated)
        }
        Self.validate(&updated, prefix: "project", &check)
        try check.check()
        try await requireProjectOrganisations(updated, prefix: "project")
        let validated = updated
        // The store writes only over the version read here, so a change made meanwhile fails ABORTED.
        return try await storage {
            try await store.updateProject(
                validated, expectedVersion: request.expectedVersion, requestID: request.requestID)
        }
    }

    /// Copies one field named as in the .proto from `source` to `project`.
    static func copy(_ field: String, from source: A.Project, to project: inout A.Project) {
        switch field {
        case "title": project.title = source.title
        case "description": project.description = source.description
        case "status": project.status = source.status
        case "planned_start": project.plannedStart = source.plannedStart
        case "planned_end": project.plannedEnd = source.plannedEnd
        case "actual_start": project.actualStart = source.actualStart
        case "actual_end": project.actualEnd = source.actualEnd
        case "countries": project.countries = source.countries
        case "sectors": project.sectors = source.sectors
        case "budget": project.budget = source.budget
        case "participants": project.participants = source.participants
        case "iati_identifier": project.iatiIdentifier = source.iatiIdentifier
        default: break
        }
    }

    public func listProjects(_ request: A.ListProjectsRequest, context: ServerContext) async throws
        -> A.ListProjectsResponse
    {
        var check = FieldValidator()
        let country = request.country.isEmpty ? "" : check.country(request.country, "country")
        try check.check()
        var projects = try await storage {
            try await store.listProjects(status: request.status, parentID: request.parentID)
        }
        if !country.isEmpty { projects = projects.filter { $0.countries.contains(country) } }
        if !request.organisationID.isEmpty {
            projects = projects.filter {
                $0.reportingOrganisationID == request.organisationID
                    || $0.participants.contains { $0.organisationID == request.organisationID }
            }
        }
        return A.ListProjectsResponse(projects: projects)
    }

    // MARK: money flows

    public func recordTransaction(_ request: A.RecordTransactionRequest, context: ServerContext) async throws
        -> A.Transaction
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var transaction = Self.validated(request.transaction ?? A.Transaction(), &check) { "transaction.\($0)" }
        try check.check()
        if !transaction.providerOrganisationID.isEmpty {
            try await requireOrganisations([
                (transaction.providerOrganisationID, "transaction.provider_organisation_id")
            ])
        }
        if !transaction.groupID.isEmpty {
            transaction.groupID = try await producer.requireGroup(
                transaction.groupID, field: "transaction.group_id", purpose: "recording money for a producer group"
            ).id
        }
        let checked = transaction
        return try await storage { try await store.recordTransaction(checked, requestID: request.requestID) }
    }

    /// A clean copy of `input`, each problem reported under `name(field)` for its field in Transaction
    /// ("project_id", "type", "value", "value.currency", "value.minor_units", "date", "group_id", "description").
    /// References and the project's rules are checked apart.
    static func validated(_ input: A.Transaction, _ check: inout FieldValidator, name: (String) -> String)
        -> A.Transaction
    {
        var transaction = input
        required(transaction.projectID, name("project_id"), &check)
        check.specified(transaction.type, name("type"))
        transaction.value = money(transaction.value, name("value"), positive: true, &check)
        _ = check.date(transaction.date, name("date"))
        if MoneyRules.toGroup.contains(transaction.type) && transaction.groupID.isEmpty {
            check.fail(name("group_id"), "is required for a \(CSV.cell(transaction.type))")
        }
        transaction.description = check.text(transaction.description, name("description"), maxLength: 1000)
        return transaction
    }

    public func importTransactions(_ request: A.ImportTransactionsRequest, context: ServerContext) async throws
        -> A.ImportTransactionsResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(
                validateOnly: request.validateOnly, requestID: request.requestID, source: request.source)
            try check.check()
            let sheet = TransactionImport(csv: request.csv, &check)
            try check.check()
            let rows = try await sheet.rows(store, producer)
            return try await storage {
                try await store.importTransactions(
                    rows, validateOnly: request.validateOnly, requestID: request.requestID, source: source)
            }
        }
    }

    public func importIatiActivities(_ request: A.ImportIatiActivitiesRequest, context: ServerContext) async throws
        -> A.ImportIatiActivitiesResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(
                validateOnly: request.validateOnly, requestID: request.requestID, source: request.source)
            try check.check()
            let file = IATIImport(xml: request.xml, &check)
            try check.check()
            let resolved = try await file.resolve(store, producer)
            return try await storage {
                try await store.importActivities(
                    resolved, validateOnly: request.validateOnly, requestID: request.requestID, source: source)
            }
        }
    }

    public func listTransactions(_ request: A.ListTransactionsRequest, context: ServerContext) async throws
        -> A.ListTransactionsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, idPrefix: "tx_", of: "ListTransactions")
        var filter = SQLConditions()
        filter.equal("project_id", request.projectID)
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        if request.type != .unspecified {
            filter.add("type = \(filter.bind(.of(request.type.rawValue)))")
        }
        let (rows, next) = try await storage {
            try await store.page(
                "transactions", filter, sortColumn: "day", after: after, limit: limit, as: A.Transaction.self)
        }
        return A.ListTransactionsResponse(transactions: rows, nextPageToken: Self.token(next))
    }

    public func getMoneyTotals(_ request: A.GetMoneyTotalsRequest, context: ServerContext) async throws -> A.MoneyTotals
    {
        switch (request.projectID.isEmpty, request.groupID.isEmpty) {
        case (false, true): return try await storage { try await store.projectTotals(request.projectID) }
        case (true, false):
            let groups = try await groupIDs(request.groupID)
            return try await storage { try await store.groupTotals(groups) }
        default:
            throw RPCError.invalidArgument(field: "project_id", "give exactly one of project_id and group_id")
        }
    }

    // MARK: equipment

    public func recordEquipment(_ request: A.RecordEquipmentRequest, context: ServerContext) async throws -> A.Equipment
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var equipment = request.equipment ?? A.Equipment()
        Self.required(equipment.groupID, "equipment.group_id", &check)
        equipment.description = check.text(equipment.description, "equipment.description", required: true)
        equipment.value = Self.money(equipment.value, "equipment.value", positive: true, &check)
        Self.notInFuture(check.date(equipment.deliveredOn, "equipment.delivered_on"), "equipment.delivered_on", &check)
        equipment.replaces = check.text(equipment.replaces, "equipment.replaces", maxLength: 500)
        if let replaced = equipment.yearlyCostReplaced {
            equipment.yearlyCostReplaced = Self.money(
                replaced, "equipment.yearly_cost_replaced", positive: false, &check)
            if let value = equipment.value, let cost = equipment.yearlyCostReplaced, cost.currency != value.currency {
                check.fail(
                    "equipment.yearly_cost_replaced.currency",
                    "must be the value's currency \(value.currency), got \(cost.currency): amounts are never mixed")
            }
        }
        equipment.notes = check.text(equipment.notes, "equipment.notes", maxLength: 2000)
        try check.check()
        equipment.groupID = try await producer.requireGroup(
            equipment.groupID, field: "equipment.group_id",
            purpose: "recording equipment for a producer group"
        ).id
        let checked = equipment
        return try await storage { try await store.recordEquipment(checked, requestID: request.requestID) }
    }

    public func listEquipment(_ request: A.ListEquipmentRequest, context: ServerContext) async throws
        -> A.ListEquipmentResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, idPrefix: "eq_", of: "ListEquipment")
        var filter = SQLConditions()
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        filter.equal("project_id", request.projectID)
        let (rows, next) = try await storage {
            try await store.page(
                "equipment", filter, sortColumn: "day", after: after, limit: limit, as: A.Equipment.self)
        }
        return A.ListEquipmentResponse(equipment: rows, nextPageToken: Self.token(next))
    }

    // MARK: trainings

    public func recordTraining(_ request: A.RecordTrainingRequest, context: ServerContext) async throws -> A.Training {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var training = Self.validated(request.training ?? A.Training(), &check) { "training.\($0)" }
        try check.check()
        if !training.trainerOrganisationID.isEmpty {
            try await requireOrganisations([(training.trainerOrganisationID, "training.trainer_organisation_id")])
        }
        var references = training.trainedGroupIDs.enumerated().map {
            (id: $1, field: "training.trained_group_ids[\($0)]")
        }
        if !training.trainerGroupID.isEmpty {
            references.append((training.trainerGroupID, "training.trainer_group_id"))
        }
        async let skills = producer.skillCodes(purpose: "recording a training")
        let groups = try await producer.requireGroups(references, purpose: "recording a training")
        let known = try await skills
        if !known.contains(training.skill) {
            throw RPCError.invalidArgument(field: "training.skill", Self.unknownSkill(training.skill, known))
        }
        training.trainedGroupIDs = training.trainedGroupIDs.map { groups[$0]!.id }
        if !training.trainerGroupID.isEmpty { training.trainerGroupID = groups[training.trainerGroupID]!.id }
        let checked = training
        return try await storage { try await store.recordTraining(checked, requestID: request.requestID) }
    }

    /// A clean copy of `input` as a new training (planned, no results), each problem reported under `name(field)`
    /// for its field in Training ("title", "skill", "held_on", "trainer_organisation_id", "trained_group_ids",
    /// "trainees", "trainees.women", "trainees.men", "trainees.other", "notes"). References are checked apart.
    static func validated(_ input: A.Training, _ check: inout FieldValidator, name: (String) -> String) -> A.Training {
        var training = input
        training.title = check.text(training.title, name("title"), required: true)
        training.skill = check.text(training.skill, name("skill"), required: true, maxLength: 40).lowercased()
        notInFuture(check.date(training.heldOn, name("held_on")), name("held_on"), &check)
        if training.trainerOrganisationID.isEmpty == training.trainerGroupID.isEmpty {
            check.fail(name("trainer_organisation_id"), "give exactly one trainer: an organisation or a producer group")
        }
        if training.trainedGroupIDs.isEmpty {
            check.fail(name("trained_group_ids"), "must name at least one producer group")
        }
        if Set(training.trainedGroupIDs).count != training.trainedGroupIDs.count {
            check.fail(name("trained_group_ids"), "names a group twice")
        }
        if let trainees = training.trainees {
            check.range(trainees.women, 0...maxTraineesBySex, name("trainees.women"))
            check.range(trainees.men, 0...maxTraineesBySex, name("trainees.men"))
            check.range(trainees.other, 0...maxTraineesBySex, name("trainees.other"))
            if Int64(trainees.women) + Int64(trainees.men) + Int64(trainees.other) == 0 {
                check.fail(name("trainees"), "counts nobody")
            }
        } else {
            check.fail(name("trainees"), "is required: the people trained by sex (women, men, other)")
        }
        training.notes = check.text(training.notes, name("notes"), maxLength: 2000)
        training.status = .planned
        training.completedOn = nil
        training.results = []
        return training
    }

    /// People of one sex one training may count: far above any real training, far below where sums overflow.
    static let maxTraineesBySex: Int32 = 1_000_000

    static func unknownSkill(_ skill: String, _ known: [String]) -> String {
        "\"\(skill)\" is not in the Producer service's skills catalogue (\(known.sorted().joined(separator: ", ")))"
    }

    public func importTrainings(_ request: A.ImportTrainingsRequest, context: ServerContext) async throws
        -> A.ImportTrainingsResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(
                validateOnly: request.validateOnly, requestID: request.requestID, source: request.source)
            try check.check()
            let sheet = TrainingImport(csv: request.csv, &check)
            try check.check()
            let rows = try await sheet.rows(store, producer)
            return try await storage {
                try await store.importTrainings(
                    rows, validateOnly: request.validateOnly, requestID: request.requestID, source: source)
            }
        }
    }

    public func linkCascade(_ request: A.LinkCascadeRequest, context: ServerContext) async throws -> A.Training {
        var check = FieldValidator()
        check.requestID(request.requestID)
        Self.required(request.trainingID, "training_id", &check)
        try check.check()
        return try await storage {
            try await store.linkCascade(request.trainingID, to: request.cascadesFrom, requestID: request.requestID)
        }
    }

    /// Records each trained group's new skill level in the Producer service — with a request id made from the
    /// training and the group, so a retried completion records each once — and only then marks the training done.
    public func completeTraining(_ request: A.CompleteTrainingRequest, context: ServerContext) async throws
        -> A.Training
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        Self.required(request.trainingID, "training_id", &check)
        let day = check.date(request.completedOn, "completed_on")
        Self.notInFuture(day, "completed_on", &check)
        for (index, result) in request.results.enumerated() {
            check.range(result.level, 0...4, "results[\(index)].level")
            check.nonNegative(result.membersHolding, "results[\(index)].members_holding")
        }
        try check.check()
        if let answer = try await storage({
            try await store.database.keptAnswer(A.Training.self, "CompleteTraining", requestID: request.requestID)
        }) {
            return answer
        }
        let training = try await storage { try await store.training(request.trainingID) }
        if training.status == .completed {
            if training.completedOn == request.completedOn && training.results == request.results { return training }
            throw RPCError(
                .failedPrecondition,
                "training \(training.id) was already completed on \(ISODate(training.completedOn!)!)")
        }
        if let day, let held = training.heldOn.flatMap(ISODate.init), day < held {
            throw RPCError.invalidArgument(field: "completed_on", "\(day) is before the training was held (\(held))")
        }
        let given = request.results.map(\.groupID)
        let expected = training.trainedGroupIDs
        if Set(given) != Set(expected) || given.count != expected.count {
            throw RPCError.invalidArgument(
                field: "results",
                """
                must give one level for each trained group (\(expected.joined(separator: ", "))), got \
                \(given.isEmpty ? "none" : given.joined(separator: ", "))
                """)
        }
        let trainer =
            training.trainerGroupID.isEmpty
            ? ((try? await storage { try await store.organisation(training.trainerOrganisationID) })?.name
                ?? training.trainerOrganisationID)
            : training.trainerGroupID
        let client = producer.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for result in request.results {
                group.addTask {
                    do {
                        _ = try await client.recordSkillAssessment(
                            ProducerV1.RecordSkillAssessmentRequest(
                                assessment: ProducerV1.SkillAssessment(
                                    groupID: result.groupID, skill: training.skill, assessedOn: request.completedOn,
                                    level: result.level, membersHolding: result.membersHolding, assessor: trainer,
                                    notes: "after training \(training.id): \(training.title)"),
                                requestID: "\(training.id)/\(result.groupID)"))
                    } catch let error as RPCError {
                        throw error.code == .invalidArgument || error.code == .notFound
                            ? RPCError(
                                .failedPrecondition,
                                "producer-service refused the skill level of \(result.groupID): \(error.message)")
                            : ProducerLink.unavailable(error, "completing a training")
                    }
                }
            }
            try await group.waitForAll()
        }
        return try await storage {
            try await store.complete(
                training.id, on: request.completedOn!, results: request.results, requestID: request.requestID)
        }
    }

    public func listTrainings(_ request: A.ListTrainingsRequest, context: ServerContext) async throws
        -> A.ListTrainingsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, idPrefix: "tr_", of: "ListTrainings")
        let groups = request.groupID.isEmpty ? [] : try await groupIDs(request.groupID)
        let filter = AssistanceStore.trainingConditions(
            groupIDs: groups, projectID: request.projectID,
            skill: request.skill.lowercased())
        let (rows, next) = try await storage {
            try await store.page(
                "trainings", filter, sortColumn: "held_on", after: after, limit: limit, as: A.Training.self)
        }
        return A.ListTrainingsResponse(trainings: rows, nextPageToken: Self.token(next))
    }

    public func getTraining(_ request: A.GetTrainingRequest, context: ServerContext) async throws -> A.Training {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.training(request.id) }
    }

    public func getCascadeReach(_ request: A.GetCascadeReachRequest, context: ServerContext) async throws
        -> A.CascadeReach
    {
        guard !request.trainingID.isEmpty else {
            throw RPCError.invalidArgument(field: "training_id", "must not be empty")
        }
        return try await storage { try await store.cascadeReach(of: request.trainingID) }
    }

    // MARK: referrals

    public func createReferral(_ request: A.CreateReferralRequest, context: ServerContext) async throws -> A.Referral {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var referral = request.referral ?? A.Referral()
        Self.required(referral.groupID, "referral.group_id", &check)
        Self.required(referral.organisationID, "referral.organisation_id", &check)
        referral.purpose = check.text(referral.purpose, "referral.purpose", required: true, maxLength: 500)
        Self.notInFuture(check.date(referral.referredOn, "referral.referred_on"), "referral.referred_on", &check)
        referral.outcomeOn = nil
        referral.outcomeNotes = ""
        try check.check()
        try await requireOrganisations([(referral.organisationID, "referral.organisation_id")])
        referral.groupID = try await producer.requireGroup(
            referral.groupID, field: "referral.group_id",
            purpose: "referring a producer group"
        ).id
        let checked = referral
        return try await storage { try await store.createReferral(checked, requestID: request.requestID) }
    }

    public func recordReferralOutcome(_ request: A.RecordReferralOutcomeRequest, context: ServerContext) async throws
        -> A.Referral
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        Self.required(request.referralID, "referral_id", &check)
        if request.outcome == .unspecified || request.outcome == .pending {
            check.fail("outcome", "must be REFERRAL_OUTCOME_ACCEPTED, _DECLINED or _COMPLETED")
        }
        let day = check.date(request.outcomeOn, "outcome_on")
        Self.notInFuture(day, "outcome_on", &check)
        let notes = check.text(request.notes, "notes", maxLength: 2000)
        try check.check()
        return try await storage {
            try await store.recordOutcome(
                request.referralID, request.outcome, on: day!, notes: notes, requestID: request.requestID)
        }
    }

    public func listReferrals(_ request: A.ListReferralsRequest, context: ServerContext) async throws
        -> A.ListReferralsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, idPrefix: "rf_", of: "ListReferrals")
        var filter = SQLConditions()
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        filter.equal("organisation_id", request.organisationID)
        let (rows, next) = try await storage {
            try await store.page(
                "referrals", filter, sortColumn: "day", after: after, limit: limit, as: A.Referral.self)
        }
        return A.ListReferralsResponse(referrals: rows, nextPageToken: Self.token(next))
    }

    // MARK: results

    public func defineIndicator(_ request: A.DefineIndicatorRequest, context: ServerContext) async throws -> A.Indicator
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var indicator = Self.validated(request.indicator ?? A.Indicator(), &check) { "indicator.\($0)" }
        try check.check()
        if !indicator.groupID.isEmpty {
            indicator.groupID = try await producer.requireGroup(
                indicator.groupID, field: "indicator.group_id",
                purpose: "an indicator for a producer group"
            ).id
        }
        let checked = indicator
        return try await storage { try await store.defineIndicator(checked, requestID: request.requestID) }
    }

    /// A clean copy of `input` with its periods merged in start order, each problem reported under `name(field)`
    /// for its field in Indicator ("project_id", "title", "unit", "baseline", "periods[0]", …). The project and the
    /// group are checked apart.
    static func validated(_ input: A.Indicator, _ check: inout FieldValidator, name: (String) -> String)
        -> A.Indicator
    {
        var indicator = input
        required(indicator.projectID, name("project_id"), &check)
        check.specified(indicator.level, name("level"))
        check.specified(indicator.measure, name("measure"))
        indicator.title = check.text(indicator.title, name("title"), required: true)
        if indicator.measure == .moneySaved {
            indicator.unit = check.currency(indicator.unit, name("unit"))
        } else {
            indicator.unit = check.text(indicator.unit, name("unit"), required: true, maxLength: 30).lowercased()
        }
        if IndicatorRules.peopleMeasures.contains(indicator.measure) { indicator.countsPeople = true }
        if indicator.baselineYear != 0 { check.range(indicator.baselineYear, 1950...2100, name("baseline_year")) }
        IndicatorRules.normalise(
            &indicator.baseline, countsPeople: indicator.countsPeople, field: name("baseline"), &check)
        let periods = indicator.periods
        indicator.periods = []
        for (index, var period) in periods.enumerated() {
            let before = check.violations.count
            IndicatorRules.checkPeriod(
                &period, countsPeople: indicator.countsPeople, field: name("periods[\(index)]"), &check)
            guard check.violations.count == before else { continue }
            do throws(RPCError) {
                _ = try IndicatorRules.merge(period, into: &indicator)
            } catch {
                check.fail(name("periods[\(index)]"), error.message)
            }
        }
        return indicator
    }

    public func recordIndicatorPeriod(_ request: A.RecordIndicatorPeriodRequest, context: ServerContext) async throws
        -> A.RecordIndicatorPeriodResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        Self.required(request.indicatorID, "indicator_id", &check)
        if request.period == nil { check.fail("period", "is required (start, end, and a target or an actual)") }
        try check.check()
        return try await storage {
            try await store.recordPeriod(request.indicatorID, request.period!, requestID: request.requestID)
        }
    }

    public func listIndicators(_ request: A.ListIndicatorsRequest, context: ServerContext) async throws
        -> A.ListIndicatorsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, idPrefix: "in_", of: "ListIndicators")
        var filter = SQLConditions()
        filter.equal("project_id", request.projectID)
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        let (rows, next) = try await storage {
            try await store.page(
                "indicators", filter, sortColumn: "id", after: after, limit: limit, as: A.Indicator.self)
        }
        return A.ListIndicatorsResponse(indicators: rows, nextPageToken: Self.token(next))
    }
}
