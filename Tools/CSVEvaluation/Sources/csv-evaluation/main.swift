import CSV
import Foundation
import SwiftCSV

/// Each behaviour the project's imports promise (docs/GUIDE.md), as an input and what must come of it; each library
/// is run on it and the outcome printed. The project's own reader (Shared/Domain/CSV.swift) does each of them, as
/// its tests show. Row numbers count records, as a spreadsheet numbers its rows, so a record's index gives them.
struct Case {
    let name: String
    let bytes: [UInt8]
    /// The records expected, header first; nil when the input must be refused.
    let expected: [[String]]?
    /// For a refused input: the row its error must name.
    var errorRow: Int? = nil
}

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

let cases: [Case] = [
    Case(
        name: "comma-separated", bytes: utf8("name,kind\nBolga,cooperative\n"),
        expected: [["name", "kind"], ["Bolga", "cooperative"]]),
    Case(
        name: "semicolon-separated, found from the header (Excel in much of Europe)",
        bytes: utf8("name;kind\nBolga;cooperative\n"), expected: [["name", "kind"], ["Bolga", "cooperative"]]),
    Case(
        name: "tab-separated, found from the header", bytes: utf8("name\tkind\nBolga\tcooperative\n"),
        expected: [["name", "kind"], ["Bolga", "cooperative"]]),
    Case(
        name: "a comma inside a semicolon file stays in its cell",
        bytes: utf8("name;notes\nBolga;baskets, bags\n"), expected: [["name", "notes"], ["Bolga", "baskets, bags"]]),
    Case(
        name: "UTF-8 with a byte-order mark: the first column's name is clean",
        bytes: [0xEF, 0xBB, 0xBF] + utf8("name,kind\nBolga,cooperative\n"),
        expected: [["name", "kind"], ["Bolga", "cooperative"]]),
    Case(
        name: "a quoted cell holding a line break, and the rows after it",
        bytes: utf8("name,notes\nBolga,\"first line\nsecond line\"\nZaare,x\n"),
        expected: [["name", "notes"], ["Bolga", "first line\nsecond line"], ["Zaare", "x"]]),
    Case(
        name: "doubled quotes inside a quoted cell", bytes: utf8("name\n\"the \"\"best\"\" weavers\"\n"),
        expected: [["name"], ["the \"best\" weavers"]]),
    Case(
        name: "CRLF line ends (Excel on Windows)", bytes: utf8("name,kind\r\nBolga,cooperative\r\n"),
        expected: [["name", "kind"], ["Bolga", "cooperative"]]),
    Case(
        name: "a formula cell written inert ('=…) reads back with its apostrophe, for the import to remove",
        bytes: utf8("name\n'=SUM(A1)\n"), expected: [["name"], ["'=SUM(A1)"]]),
    Case(
        name: "non-ASCII names (Akan, Khmer, Hindi)", bytes: utf8("name\nƐkuo\nភូមិ\nकारीगर\n"),
        expected: [["name"], ["Ɛkuo"], ["ភូមិ"], ["कारीगर"]]),
    Case(
        name: "a quote left open is refused, naming the row where the cell began",
        bytes: utf8("name,notes\nBolga,x\nZaare,\"never closed\nmore\n"), expected: nil, errorRow: 3),
    Case(
        name: "a quote inside unquoted text (12\" basket) is kept, as spreadsheets keep it",
        bytes: utf8("name\n12\" basket\n"), expected: [["name"], ["12\" basket"]]),
    Case(
        name: "text after a field's closing quote (\"a\"b) is refused, naming its row",
        bytes: utf8("name\nBolga\n\"Za\"are\n"), expected: nil, errorRow: 3),
    Case(
        name: "bytes that are not UTF-8 are refused", bytes: utf8("name\nBolga ") + [0xFF, 0xFE] + utf8("\n"),
        expected: nil),
]

/// A library's outcome for one case: the records, or its error's text.
enum Outcome {
    case records([[String]])
    case refused(String)
}

/// The delimiter the header uses: the project's rule (the most frequent of , ; and tab in the first line).
func headerDelimiter(_ text: String) -> Character {
    let header = text.prefix { $0 != "\n" && $0 != "\r\n" }
    return [",", ";", "\t"].max { a, b in header.filter { $0 == a }.count < header.filter { $0 == b }.count } ?? ","
}

func yaslab(_ bytes: [UInt8]) -> Outcome {
    // CSV.swift takes a delimiter (no detection): given the header's, as the project would have to.
    guard let text = String(bytes: bytes, encoding: .utf8) else { return .refused("(the caller's UTF-8 check)") }
    do {
        let delimiter = headerDelimiter(text).unicodeScalars.first!
        let reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: delimiter)
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        if let error = reader.error { return .refused("\(error)") }
        return .records(rows)
    } catch {
        return .refused("\(error)")
    }
}

func swiftCSV(_ bytes: [UInt8]) -> Outcome {
    guard let text = String(bytes: bytes, encoding: .utf8) else { return .refused("(the caller's UTF-8 check)") }
    do {
        // SwiftCSV guesses the delimiter itself and drops a byte-order mark.
        let csv = try EnumeratedCSV(string: text, loadColumns: false)
        return .records([csv.header] + csv.rows)
    } catch {
        return .refused("\(error)")
    }
}

func verdict(_ outcome: Outcome, _ item: Case) -> String {
    switch (outcome, item.expected) {
    case (.records(let rows), let expected?):
        return rows == expected ? "yes" : "NO: read \(rows.map { $0.map { $0.debugDescription } })"
    case (.records(let rows), nil):
        return "NO: accepted it, read \(rows.count) records"
    case (.refused(let message), nil):
        guard let row = item.errorRow else { return "yes (\(message))" }
        return message.contains("\(row)") ? "yes (\(message))" : "NO: refused without naming row \(row): \(message)"
    case (.refused(let message), _?):
        return "NO: refused it: \(message)"
    }
}

var lacks: [String: Int] = ["CSV.swift 2.5.2": 0, "SwiftCSV 0.10.0": 0]
for item in cases {
    print("- \(item.name)")
    for (library, read) in [("CSV.swift 2.5.2", yaslab), ("SwiftCSV 0.10.0", swiftCSV)] {
        let said = verdict(read(item.bytes), item)
        if said.hasPrefix("NO") { lacks[library, default: 0] += 1 }
        print("    \(library): \(said)")
    }
}
print("")
for (library, count) in lacks.sorted(by: { $0.key < $1.key }) {
    print("\(library): \(count) of \(cases.count) behaviours missing")
}
