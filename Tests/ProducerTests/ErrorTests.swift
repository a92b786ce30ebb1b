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
