import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Producer groups from and to spreadsheets", .serialized)
struct ImportTests {
    typealias Request = ProducerV1.ImportProducerGroupsRequest

    static let header = "name,local_name,kind,country,region,crafts,members_women,members_men,certifications\n"

    @Test(
        "an import adds every row, flags likely duplicates, and a retry writes nothing more",
        arguments: Backend.allCases)
    func add(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let existing = try await client.create(sampleGroup("Bolga Basket Weavers"))
            let csv =
                Self.header
                    + """
                    Bolgatanga basket-weavers co-op,,cooperative,GH,Upper East,baskets,20,2,
                    VillageWorks,,workshop,KH,Phnom Penh,"bags; scarves",50,10,WFTO Guaranteed Fair Trade|KH-002|2027-01-31
                    "Handmade Expressions, Delhi",,Women's group,IN,Delhi,textiles,120,0,

                    Village Works,,workshop,KH,Siem Reap,bags,5,1,
                    """
            let request = Request(csv: Array((csv).utf8), mode: .add, requestID: "import-1", source: "partners.csv")
            let response = try await client.importProducerGroups(request)
            #expect(response.created == 4 && response.updated == 0 && !response.importID.isEmpty)
            // The blank line still counts as a spreadsheet row.
            #expect(response.rows.map(\.row) == [2, 3, 4, 6])
            #expect(response.rows.allSatisfy { $0.action == .created && $0.groupID.hasPrefix("pg_") })
            #expect(response.rows[0].possibleDuplicates == [existing.id])
            #expect(response.rows[3].duplicateOfRows == [3] && response.rows[1].duplicateOfRows.isEmpty)

            let villageWorks = try await client.getProducerGroup(.init(id: response.rows[1].groupID))
            #expect(villageWorks.crafts == ["bags", "scarves"] && villageWorks.members?.women == 50)
            #expect(villageWorks.status == .active && villageWorks.version == 1)
            #expect(
                villageWorks.certifications == [
                    ProducerV1.Certification(
                        scheme: "WFTO Guaranteed Fair Trade", reference: "KH-002", validUntil: date("2027-01-31"))
                ])
            let handmade = try await client.getProducerGroup(.init(id: response.rows[2].groupID))
            #expect(handmade.name == "Handmade Expressions, Delhi" && handmade.kind == .womensGroup)

            let again = try await client.importProducerGroups(request)
            #expect(again == response, "a retried import must answer as the first did")
            let all = try await client.listProducerGroups(.init())
            #expect(all.groups.count == 5, "a retried import wrote its rows again")
        }
    }

    @Test(
        "any wrong cell fails the whole import, naming row and column; nothing is written", arguments: Backend.allCases)
    func wrongCells(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let csv =
                Self.header
                    + """
                    Good Group,,cooperative,GH,,baskets,5,0,
                    ,,weaver,XX,,baskets,-3,many,
                    Another Group,,workshop,KH,,,1,1,GOTS|ref|next year
                    Too,many,cells,GH,,,,,,,
                    """
            let error = await failure {
                try await client.importProducerGroups(Request(csv: Array((csv).utf8), requestID: "bad-1"))
            }
            #expect(error?.code == .invalidArgument)
            #expect(
                Set(error?.fieldViolations.map(\.field) ?? []) == [
                    "row 3, name", "row 3, kind", "row 3, country", "row 3, members_women", "row 3, members_men",
                    "row 4, certifications", "row 5",
                ])
            // An unreadable cell is reported once, as unreadable.
            #expect(error?.fieldViolations.filter { $0.field == "row 3, kind" }.count == 1)
            #expect(error?.message.contains("\"many\" is not a whole number") == true)

            let header = await failure {
                try await client.importProducerGroups(
                    Request(csv: Array(("name,kind,colour\nA,cooperative,red\n").utf8), requestID: "bad-2"))
            }
            #expect(header?.fieldViolations.map(\.field) == ["header", "header"])
            #expect(header?.message.contains("unknown column \"colour\"") == true)
            #expect(header?.message.contains("column \"country\" is required") == true)

            let unclosed = await failure {
                try await client.importProducerGroups(
                    Request(csv: Array(("name,kind,country\n\"Open quote,cooperative,GH\n").utf8), requestID: "bad-3"))
            }
            #expect(unclosed?.fieldViolations.map(\.field) == ["csv"])
            let noRequestID = await failure {
                try await client.importProducerGroups(Request(csv: Array((Self.header).utf8)))
            }
            #expect(noRequestID?.fieldViolations.map(\.field) == ["request_id"])

            let stored = try await client.listProducerGroups(.init())
            #expect(stored.groups.isEmpty, "a failed import wrote something")
        }
    }

    @Test("a dry run answers what the import would do and writes nothing", arguments: Backend.allCases)
    func dryRun(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let response = try await client.importProducerGroups(
                Request(
                    csv: Array((Self.header + "Bolga Basket Weavers,,cooperative,GH,,baskets,38,4,\n").utf8),
                    validateOnly: true))
            #expect(response.validateOnly && response.created == 1 && response.importID.isEmpty)
            #expect(response.rows.map(\.action) == [.created] && response.rows[0].groupID.isEmpty)
            let stored = try await client.listProducerGroups(.init())
            #expect(stored.groups.isEmpty)
        }
    }

    @Test(
        "an export imported back in update mode changes only what was edited; a stale version is ABORTED",
        arguments: Backend.allCases)
    func exportAndUpdate(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            var input = sampleGroup("VillageWorks", country: "KH", crafts: ["bags", "scarves"])
            input.contact = ProducerV1.ContactDetails(person: "Sophea", email: "hello@villageworks.example")
            input.notes = "=HYPERLINK(\"http://example.com\")"
            let group = try await client.create(input)
            let other = try await client.create(sampleGroup("Bolga Basket Weavers"))
            let export = try await client.exportProducerGroups(.init(country: "KH"))
            #expect(export.count == 1 && export.nextPageToken.isEmpty)
            var records = try CSV.parse(export.csv)
            #expect(records.map(\.fields.count) == [24, 24])
            let column = Dictionary(uniqueKeysWithValues: records[0].fields.enumerated().map { ($1, $0) })
            // A formula-like cell is exported inert, and reads back as it was stored.
            #expect(records[1].fields[column["notes"]!] == "'" + input.notes)

            // Edit the name, blank the region and contact person (blank keeps what is stored).
            var fields = records[1].fields
            fields[column["name"]!] = "VillageWorks Cambodia"
            fields[column["region"]!] = ""
            fields[column["contact_person"]!] = ""
            records[1] = CSV.Record(row: 2, fields: fields)
            let edited = records.map { CSV.line($0.fields) }.joined()
            let updated = try await client.importProducerGroups(
                Request(csv: Array((edited).utf8), mode: .update, requestID: "u-1"))
            #expect(updated.updated == 1 && updated.rows.map(\.changedFields) == [["name"]])
            let stored = try await client.getProducerGroup(.init(id: group.id))
            #expect(stored.name == "VillageWorks Cambodia" && stored.version == 2)
            #expect(stored.region == input.region && stored.contact == input.contact && stored.notes == input.notes)
            #expect(stored.crafts == input.crafts && stored.members == input.members)

            // The same file again: its version cell is now stale.
            let stale = await failure {
                try await client.importProducerGroups(
                    Request(csv: Array((edited).utf8), mode: .update, requestID: "u-2"))
            }
            #expect(stale?.code == .aborted && stale?.message.contains("row 2") == true)
            // Without the version cell, the same values change nothing.
            let noVersion = edited.replacingOccurrences(
                of: ",1,VillageWorks Cambodia,", with: ",,VillageWorks Cambodia,")
            let unchanged = try await client.importProducerGroups(
                Request(csv: Array((noVersion).utf8), mode: .update, requestID: "u-3"))
            #expect(unchanged.unchanged == 1 && unchanged.rows.map(\.action) == [.unchanged])
            let after = try await client.getProducerGroup(.init(id: group.id))
            #expect(after.version == 2)

            // Modes: add refuses ids, update needs them; add-or-update does both in one go.
            let addWithID = await failure {
                try await client.importProducerGroups(
                    Request(csv: Array((noVersion).utf8), mode: .add, requestID: "u-4"))
            }
            #expect(addWithID?.fieldViolations.map(\.field) == ["row 2, id"])
            let both = "id,name,kind,country,region\n\(other.id),,,,Bolgatanga\n,Sirigu Potters,cooperative,GH,\n"
            let updateOnly = await failure {
                try await client.importProducerGroups(Request(csv: Array((both).utf8), mode: .update, requestID: "u-5"))
            }
            #expect(updateOnly?.fieldViolations.map(\.field) == ["row 3, id"])
            let mixed = try await client.importProducerGroups(
                Request(csv: Array((both).utf8), mode: .addOrUpdate, requestID: "u-6"))
            #expect(mixed.rows.map(\.action) == [.updated, .created] && mixed.rows[0].changedFields == ["region"])
            let otherAfter = try await client.getProducerGroup(.init(id: other.id))
            #expect(otherAfter.region == "Bolgatanga")
        }
    }

    @Test("merged and unknown ids are named; a group may appear once", arguments: Backend.allCases)
    func ids(backend: Backend) async throws {
        try await withProducer(backend) { client, _ in
            let survivor = try await client.create(sampleGroup("Bolga Basket Weavers"))
            let merged = try await client.create(sampleGroup("Bolga Weavers"))
            _ = try await client.mergeProducerGroups(
                .init(survivorID: survivor.id, mergedID: merged.id, requestID: "merge-1"))
            let csv = "id,region\n\(merged.id),Bolgatanga\npg_nope,Tamale\n\(survivor.id),A\n\(survivor.id),B\n"
            let error = await failure {
                try await client.importProducerGroups(
                    Request(csv: Array((csv).utf8), mode: .update, requestID: "ids-1"))
            }
            #expect(error?.fieldViolations.map(\.field) == ["row 2, id", "row 3, id", "row 5, id"])
            #expect(error?.message.contains("merged into \"\(survivor.id)\"") == true)
            #expect(error?.message.contains("no producer group \"pg_nope\"") == true)
            #expect(error?.message.contains("also on row 4") == true)
        }
    }
}

@Suite("CSV as spreadsheets write it")
struct CSVTests {
    @Test("quotes, doubled quotes, line breaks in cells, CRLF and a byte-order mark")
    func parse() throws {
        let text =
            "\u{FEFF}name,notes\r\n\"Weavers, Bolga\",\"says \"\"hello\"\"\"\r\n\"Two\nlines\",12\" basket\r\nlast,"
        let records = try CSV.parse(text)
        #expect(
            records.map(\.fields) == [
                ["name", "notes"], ["Weavers, Bolga", "says \"hello\""], ["Two\nlines", "12\" basket"], ["last", ""],
            ])
        // Rows are numbered as a spreadsheet shows them, not by line.
        #expect(records.map(\.row) == [1, 2, 3, 4])
    }

    @Test("the separator is the one the header uses", arguments: [",", ";", "\t"])
    func separators(separator: String) throws {
        let text =
            ["name", "crafts"].joined(separator: separator) + "\n"
            + ["VillageWorks", "\"bags; scarves\""].joined(separator: separator) + "\n"
        #expect(try CSV.parse(text).map(\.fields) == [["name", "crafts"], ["VillageWorks", "bags; scarves"]])
    }

    @Test("malformed files name the row")
    func malformed() {
        #expect(throws: CSV.ParseError(row: 2, message: "a quoted field is not closed before the end of the file")) {
            try CSV.parse("a,b\n\"open,1\n2,3\n")
        }
        #expect(throws: CSV.ParseError(row: 3, message: "text after the closing quote of a field")) {
            try CSV.parse("a,b\n1,2\n\"x\"y,3\n")
        }
    }

    @Test("written lines read back; formula-like cells are written inert")
    func write() throws {
        let fields = ["plain", "a, b", "say \"hi\"", "two\nlines", "=SUM(A1)", "-5", "semi;colon"]
        let records = try CSV.parse(CSV.line(fields))
        #expect(records.count == 1)
        #expect(records[0].fields.map(CSV.unescapeFormula) == fields)
        #expect(records[0].fields[4] == "'=SUM(A1)")
    }
}

@Suite("Amounts as people write them")
struct AmountTests {
    @Test(
        "decimal amounts become minor units by the currency's digits, without a float",
        arguments: [
            ("1,200.50", "USD", 120_050), ("-5.50", "USD", -550), ("-0.50", "usd", -50), ("40", "GHS", 4000),
            ("12", "JPY", 12), ("0.5", "KWD", 500),
        ] as [(String, String, Int64)])
    func amounts(text: String, currency: String, minorUnits: Int64) {
        #expect(CurrencyCode.minorUnits(of: text, currency: currency) == minorUnits)
    }

    @Test(
        "what is not an amount in the currency is refused",
        arguments: [
            ("40.001", "GHS"), ("12.5", "JPY"), ("abc", "USD"), ("1.5", "XYZ"), ("", "USD"), ("1.2.3", "USD"),
            ("99999999999999999999", "USD"), ("92233720368547758.08", "USD"), ("1.-5", "USD"),
        ])
    func refused(text: String, currency: String) {
        #expect(CurrencyCode.minorUnits(of: text, currency: currency) == nil)
    }

    @Test("figures derived from amounts are held at their type's range instead of trapping")
    func clamped() {
        #expect(Int32(roundingClamped: 2.5) == 3 && Int32(roundingClamped: -2.5) == -3)
        #expect(Int32(roundingClamped: 1e19) == .max && Int32(roundingClamped: -1e19) == .min)
        #expect(Int32(roundingClamped: .infinity) == .max && Int32(roundingClamped: .nan) == 0)
        #expect(Int64.max.addingClamped(1) == .max && Int64.min.addingClamped(-1) == .min)
        #expect(Int64(40).addingClamped(2) == 42)
    }
}
