import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: projects.
extension AssistanceHandler {
    /// Checks and cleans every field of a project; `prefix` names the fields in violations.
    static func validate(_ project: inout AssistanceV1.Project, prefix: String, _ check: inout FieldValidator) {
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
            let amount = check.money(line, field, positive: false)
            // A currency given twice is a problem of its own, whether or not either amount is right.
            let currency = line.currency.trimmingWhitespace().uppercased()
            if !currencies.insert(currency).inserted {
                check.fail("\(field).currency", "\(currency) appears twice: give one amount per currency")
            }
            return amount?.message ?? line
        }
    }

    func requireProjectOrganisations(_ project: AssistanceV1.Project, prefix: String) async throws {
        var check = FieldValidator()
        check.id(project.reportingOrganisationID, "\(prefix).reporting_organisation_id", OrganisationID.self)
        check.id(project.parentID, "\(prefix).parent_id", ProjectID.self, required: false)
        for (index, participant) in project.participants.enumerated() {
            check.id(
                participant.organisationID, "\(prefix).participants[\(index)].organisation_id", OrganisationID.self)
        }
        try check.check()
        try await requireOrganisations(
            [(project.reportingOrganisationID, "\(prefix).reporting_organisation_id")]
                + project.participants.enumerated().map {
                    ($1.organisationID, "\(prefix).participants[\($0)].organisation_id")
                })
    }

    public func createProject(_ request: AssistanceV1.CreateProjectRequest, context: ServerContext) async throws
        -> AssistanceV1.Project
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var project = request.project ?? AssistanceV1.Project()
        Self.validate(&project, prefix: "project", &check)
        try check.check()
        try await requireProjectOrganisations(project, prefix: "project")
        return try await storage { try await store.createProject(project, requestID: request.requestID) }
    }

    public func getProject(_ request: AssistanceV1.GetProjectRequest, context: ServerContext) async throws
        -> AssistanceV1.Project
    {
        let id = try FieldValidator.id(request.id, "id", ProjectID.self)
        return try await storage { try await store.project(id) }
    }

    static let updatableFields = [
        "title", "description", "status", "planned_start", "planned_end", "actual_start",
        "actual_end", "countries", "sectors", "budget", "participants", "iati_identifier",
    ]

    public func updateProject(_ request: AssistanceV1.UpdateProjectRequest, context: ServerContext) async throws
        -> AssistanceV1.Project
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let changes = request.project ?? AssistanceV1.Project()
        let projectID = check.id(changes.id, "project.id", ProjectID.self)
        if request.expectedVersion <= 0 { check.fail("expected_version", "is required: the version you read") }
        for (index, field) in request.updateMask.enumerated() where !Self.updatableFields.contains(field) {
            check.fail(
                "update_mask[\(index)]",
                "\"\(field)\" cannot be updated (one of \(Self.updatableFields.joined(separator: ", ")))")
        }
        try check.check()
        // A replay answers as the first attempt did, before the version it moved on is checked.
        if let answer = try await storage({
            try await store.database.keptAnswer(
                AssistanceV1.Project.self, "UpdateProject", requestID: request.requestID)
        }) {
            return answer
        }
        let id = try projectID.checked("project.id")
        var updated = try await storage { try await store.project(id) }
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
    static func copy(_ field: String, from source: AssistanceV1.Project, to project: inout AssistanceV1.Project) {
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

    public func listProjects(_ request: AssistanceV1.ListProjectsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListProjectsResponse
    {
        var check = FieldValidator()
        let country = request.country.isEmpty ? "" : check.country(request.country, "country")
        check.id(request.parentID, "parent_id", ProjectID.self, required: false)
        check.id(request.organisationID, "organisation_id", OrganisationID.self, required: false)
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
        return AssistanceV1.ListProjectsResponse(projects: projects)
    }
}
