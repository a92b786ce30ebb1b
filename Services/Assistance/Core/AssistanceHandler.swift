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

    /// A reference a record must give. Its kind is checked apart (`FieldValidator.id`) where it must be an id: the
    /// imports share these rules while their cells still name projects and organisations by title or name.
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
    /// answer, what it said last serves. INVALID_ARGUMENT naming `group_id` when `text` is not a group's id.
    func groupIDs(_ text: String) async throws -> [String] {
        let id = try FieldValidator.id(text, "group_id", ProducerGroupID.self)
        if let group = try? await producer.client.getProducerGroup(
            ProducerV1.GetProducerGroupRequest(id: id.text),
            options: CallOptions(timeout: .milliseconds(500), retryEnabled: false))
        {
            await producer.remember(group)
        }
        return try await storage { try await store.aliases(of: id.text) }
    }

    /// The page a List request asks for: after which row, and how many (1 to 1000, 100 by default).
    static func page<Kind>(_ size: Int32, _ token: String, _ kind: RecordID<Kind>.Type, of method: String)
        throws(DomainError)
        -> (after: (String, String)?, limit: Int)
    {
        var check = FieldValidator()
        if size != 0 { check.range(size, 1...1000, "page_size") }
        let after = token.isEmpty ? nil : PageToken.decode(token, of: kind)
        if !token.isEmpty && after == nil {
            check.fail("page_token", "is not a token from a previous \(method) answer")
        }
        try check.check()
        return (after.map { ($0.sortKey, $0.id) }, Int(size == 0 ? 100 : size))
    }

    static func token(_ next: (String, String)?) -> String { next.map { PageToken.encode($0.0, $0.1) } ?? "" }

    /// An import, off the I/O thread: the request's own fields checked, the file read (a problem with the file as a
    /// whole refuses it), what its rows name resolved, then recorded in one transaction, or only checked with
    /// validate_only. `record` gets the resolved rows and the checked source.
    func runImport<File, Resolved: Sendable, Response: Sendable>(
        validateOnly: Bool, requestID: String, source: String, read: @escaping @Sendable (inout FieldValidator) -> File,
        resolve: @escaping @Sendable (File) async throws -> Resolved,
        record: @escaping @Sendable (Resolved, String) async throws -> Response
    ) async throws -> Response {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(validateOnly: validateOnly, requestID: requestID, source: source)
            try check.check()
            let file = read(&check)
            try check.check()
            let resolved = try await resolve(file)
            return try await storage { try await record(resolved, source) }
        }
    }
}
