import API
import Domain
import Logging
import RPC
import Schema
import ServiceKit
import Storage
import Testing

/// The field's rules throw DomainError, which knows nothing of RPC; the service boundary makes it a status. Every
/// error of the lower layers carries its code, the error beneath it, and where it arose.
@Suite("Errors: codes, causes and places")
struct ErrorTests {
    @Test("a rule's problems become INVALID_ARGUMENT with every field; a name that fits nothing NOT_FOUND")
    func mapping() throws {
        var check = FieldValidator()
        check.fail("group.country", "\"XX\" is not an ISO 3166-1 alpha-2 country code")
        check.fail("group.name", "must not be empty")
        let error = try #require(throws: DomainError.self) { try check.check() }
        #expect(error.kind == .invalid && error.file.hasSuffix("ProducerTests/ErrorTests.swift") && error.line > 0)
        let status = error.rpcError
        #expect(status.code == .invalidArgument)
        #expect(status.fieldViolations.map(\.field) == ["group.country", "group.name"])
        #expect(status.message.hasPrefix("group.country: \"XX\""))
        let missing = CSV.RowCheck.resolve("Nowhere weavers", ids: [], named: [], noun: "producer group")
        guard case .failure(let notFound) = missing else {
            Issue.record("a name that fits nothing resolved")
            return
        }
        #expect(notFound.rpcError.code == .notFound && notFound.message.contains("Nowhere weavers"))
    }

    @Test("a checked field without its value is a bug of the rules: INTERNAL, naming the field and the place")
    func broken() throws {
        let date: CommonV1.Date? = nil
        let error = try #require(throws: DomainError.self) { _ = try date.day("transaction.date") }
        #expect(error.kind == .broken && error.message.hasPrefix("transaction.date:"))
        #expect(error.file.hasSuffix("ProducerTests/ErrorTests.swift"))
        #expect(error.rpcError.code == .internalError)
        let impossible: CommonV1.Date? = CommonV1.Date(year: 2025, month: 2, day: 30)
        #expect(throws: DomainError.self) { _ = try impossible.day("held_on") }
        let day: CommonV1.Date? = CommonV1.Date(year: 2025, month: 2, day: 28)
        #expect(try day.day("held_on").description == "2025-02-28")
        #expect(try Optional(5).checked("level") == 5)
        // What a store takes: the record with its day as an ISODate; one without a day is never made.
        let training = AssistanceV1.Training(title: "Basketry", heldOn: CommonV1.Date(year: 2009, month: 3, day: 2))
        let checked = try Checked(training, day: training.heldOn, "training.held_on")
        #expect(checked.day.description == "2009-03-02" && checked.with { $0.id = "tr_1" }.record.id == "tr_1")
        #expect(throws: DomainError.self) { _ = try Checked(AssistanceV1.Training(), day: nil, "training.held_on") }
    }

    @Test("money is checked once, into an Amount: its currency known, its minor units in range; a flow holds one")
    func amounts() throws {
        var check = FieldValidator()
        let given = check.money(CommonV1.Money(minorUnits: 120_050, currency: " usd "), "value", positive: true)
        let amount = try #require(given)
        #expect(amount.currency == "USD" && amount.description == "1,200.50 USD" && check.violations.isEmpty)
        #expect(check.money(CommonV1.Money(minorUnits: 0, currency: "USD"), "value", positive: true) == nil)
        #expect(check.money(CommonV1.Money(minorUnits: 5, currency: "XXY"), "price", positive: false) == nil)
        #expect(check.money(nil, "budget[0]", positive: false) == nil)
        #expect(check.money(CommonV1.Money(minorUnits: -500, currency: "GHS"), "cost", positive: false) == nil)
        #expect(
            check.violations.map { "\($0.field): \($0.description)" } == [
                "value.minor_units: must be positive, got 0.00 USD",
                "price.currency: \"XXY\" is not an ISO 4217 currency code (e.g. USD, GHS, KHR, INR)",
                "budget[0]: is required (minor units and an ISO 4217 currency)",
                "cost.minor_units: must not be negative, got -5.00 GHS",
            ])
        // A record of money the rules passed: its day and amount as values; one the rules should have refused is a bug.
        let flow = AssistanceV1.Transaction(
            type: .disbursement, value: amount.message, date: CommonV1.Date(year: 2024, month: 1, day: 31))
        let valued = try Valued(flow, day: flow.date, "date", amount: flow.value, "value")
        #expect(valued.amount == amount && valued.day.description == "2024-01-31")
        let unknown = try #require(throws: DomainError.self) {
            _ = try Valued(
                flow, day: flow.date, "date", amount: CommonV1.Money(minorUnits: 1, currency: "usd"), "value")
        }
        #expect(unknown.kind == .broken && unknown.message.hasPrefix("value:"))
        #expect(throws: DomainError.self) {
            _ = try Amount(checking: CommonV1.Money(minorUnits: CurrencyCode.maxMinorUnits + 1, currency: "USD"), "v")
        }
    }

    @Test("an id is checked once, into its kind: its prefix says what it names, and no two kinds share one")
    func recordIDs() throws {
        let prefixes = RecordKinds.all.map { $0.prefix }
        #expect(Set(prefixes).count == prefixes.count)
        // No prefix is another's followed by "_" and more, so an id's kind is never in doubt.
        let ambiguous = prefixes.filter { one in prefixes.contains { one != $0 && one.hasPrefix($0 + "_") } }
        #expect(ambiguous.isEmpty)
        #expect(Set(RecordKinds.all.map { $0.noun }).count == prefixes.count)
        let group = try #require(ProducerGroupID("pg_0123456789abcdef"))
        #expect(group.text == "pg_0123456789abcdef" && "\(group)" == group.text)
        for text in [
            "", "pg_", "pg", "pj_0123", "pg_abc def", "pg_é", "PG_abc", "pg_" + String(repeating: "a", count: 65),
        ] {
            #expect(ProducerGroupID(text) == nil, "\(text)")
        }
        let minted = ProjectID.mint()
        #expect(minted.text.hasPrefix("pj_") && minted.text.count == 19 && ProjectID(minted.text) == minted)
        #expect(minted != ProjectID.mint())
        var check = FieldValidator()
        #expect(check.id("pg_1", "group_id", ProducerGroupID.self)?.text == "pg_1")
        #expect(check.id(" pg_1", "group_id", ProducerGroupID.self) == nil)
        #expect(check.id("pg_1;2", "group_id", ProducerGroupID.self) == nil)
        #expect(check.id("pj_1", "group_id", ProducerGroupID.self) == nil)
        #expect(check.id("Bolga weavers", "training.trained_group_ids[0]", ProducerGroupID.self) == nil)
        #expect(check.id("", "project_id", ProjectID.self) == nil)
        #expect(check.id("", "parent_id", ProjectID.self, required: false) == nil)
        #expect(check.id(" ", "parent_id", ProjectID.self, required: false) == nil)
        #expect(
            check.violations.map { "\($0.field): \($0.description)" } == [
                "group_id: \" pg_1\" is not a producer group id (producer group ids start with \"pg_\")",
                "group_id: \"pg_1;2\" is not a producer group id (producer group ids start with \"pg_\")",
                "group_id: \"pj_1\" is the id of a project, not of a producer group (producer group ids start with \"pg_\")",
                "training.trained_group_ids[0]: \"Bolga weavers\" is not a producer group id (producer group ids start with \"pg_\")",
                "project_id: must not be empty",
                "parent_id: \" \" is not a project id (project ids start with \"pj_\")",
            ])
        let missing = ProjectID("pj_nope")?.notFound()
        #expect(missing?.rpcError == RPCError(.notFound, "project \"pj_nope\" not found"))
        // A stored field the rules should have checked, read back as another kind: a bug, said as such.
        do {
            let training = try TrainingID(checking: "pj_1", "cascades_from")
            Issue.record("a project's id read back as a training's: \(training)")
        } catch {
            #expect(error.kind == .broken && error.message.hasPrefix("cascades_from:"))
        }
        do {
            let project: ProjectID = try FieldValidator.id("tr_1", "id", ProjectID.self)
            Issue.record("a training's id taken as a project's: \(project)")
        } catch {
            #expect(error.rpcError.code == .invalidArgument && error.violations.map(\.field) == ["id"])
        }
        let none: ProjectID? = try FieldValidator.filter("", "project_id", ProjectID.self)
        #expect(none == nil)
    }

    @Test("SchemaError and StorageError say what, why underneath, and where, and tell the caller only what")
    func lowerLayers() async throws {
        let schema = try #require(throws: SchemaError.self) { try JSONValue.parse("{\"a\": ") }
        guard case .invalidJSON(let field, let reason) = schema.code else {
            Issue.record("\(schema)")
            return
        }
        #expect(field.isEmpty && reason.hasPrefix("not valid JSON"))
        #expect(schema.cause != nil && schema.file.hasSuffix("JSONValue.swift") && schema.line > 0)
        #expect(String(reflecting: schema).contains("caused by:") && !schema.description.contains("caused by"))
        // Equal when they say the same, wherever they arose.
        #expect(SchemaError.malformed("x.Y") == SchemaError(.malformed("x.Y"), file: "elsewhere", line: 1))

        let storage = try await #require(throws: StorageError.self) {
            _ = try await openDatabase(
                .sqlite(path: "/proc/no-such-folder/db.sqlite"), migrations: [], logger: Logger(label: "test"))
        }
        #expect(storage.kind == .unavailable && storage.cause != nil && storage.file.hasPrefix("Storage/"))
        #expect(String(reflecting: storage).contains("caused by:") && !storage.description.contains("caused by"))
    }
}
