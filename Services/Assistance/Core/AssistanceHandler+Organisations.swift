import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: organisations.
extension AssistanceHandler {
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
}
