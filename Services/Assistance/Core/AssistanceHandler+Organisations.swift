import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: organisations.
extension AssistanceHandler {
    public func createOrganisation(_ request: AssistanceV1.CreateOrganisationRequest, context: ServerContext)
        async throws
        -> AssistanceV1.Organisation
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var organisation = request.organisation ?? AssistanceV1.Organisation()
        organisation.name = check.text(organisation.name, "organisation.name", required: true)
        check.specified(organisation.kind, "organisation.kind")
        organisation.iatiIdentifier = Self.iatiIdentifier(
            organisation.iatiIdentifier, "organisation.iati_identifier", &check)
        organisation.country = check.country(organisation.country, "organisation.country", required: false)
        organisation.notes = check.text(organisation.notes, "organisation.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.createOrganisation(organisation, requestID: request.requestID) }
    }

    public func getOrganisation(_ request: AssistanceV1.GetOrganisationRequest, context: ServerContext) async throws
        -> AssistanceV1.Organisation
    {
        let id = try FieldValidator.id(request.id, "id", OrganisationID.self)
        return try await storage { try await store.organisation(id) }
    }

    public func listOrganisations(_ request: AssistanceV1.ListOrganisationsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListOrganisationsResponse
    {
        AssistanceV1.ListOrganisationsResponse(
            organisations: try await storage { try await store.listOrganisations(kind: request.kind) })
    }
}
