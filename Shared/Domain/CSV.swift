import Schema

/// Comma-separated values as spreadsheets write them (RFC 4180), for bulk import and export.
///
/// Reading accepts what Excel, LibreOffice and Google Sheets produce: a UTF-8 byte-order mark, CRLF or LF line
/// ends, quoted fields holding separators, doubled quotes and line breaks, and a comma, semicolon or tab as the
/// separator (the one the header row uses: spreadsheets in many locales write ";").
public enum CSV {
    /// One record of a file, with its row number as a spreadsheet shows it: the header is row 1, a blank line is a
    /// row, and a cell with line breaks does not make more rows.
    public struct Record: Sendable, Equatable {
        public let row: Int
        public let fields: [String]

        public init(row: Int, fields: [String]) {
            self.row = row
            self.fields = fields
        }

        /// Whether every field is empty (a blank line, or a row of empty cells).
        public var isBlank: Bool { fields.allSatisfy { $0.trimmingWhitespace().isEmpty } }
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let row: Int
        public let message: String
        public var description: String { "row \(row): \(message)" }

        public init(row: Int, message: String) {
            self.row = row
            self.message = message
        }
    }

    /// The text of a file's bytes, which must be UTF-8 (a spreadsheet's "CSV UTF-8"): the first byte that is not
    /// fails it, naming the row and the column it is in (by name when the header has one).
    public static func text(_ bytes: [UInt8]) throws(ParseError) -> String {
        guard let bad = bytes.withUnsafeBytes({ RequestCheck.firstInvalidUTF8($0) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        let before = (try? parse(String(decoding: bytes[..<bad], as: UTF8.self))) ?? []
        let row = before.last?.row ?? 1
        let column = max(1, before.last?.fields.count ?? 1)
        throw ParseError(
            row: row,
            message: "\(columnName(column, header: before.first, row: row)) is not UTF-8 (byte 0x"
                + String(bytes[bad], radix: 16, uppercase: true)
                + "): save the spreadsheet as \"CSV UTF-8\"")
    }

    /// "column 3" or, when the header names it, "column 3 (notes)".
    static func columnName(_ column: Int, header: Record?, row: Int) -> String {
        guard row > 1, let name = header?.fields.dropFirst(column - 1).first?.trimmingWhitespace(), !name.isEmpty
        else { return "column \(column)" }
        return "column \(column) (\(name))"
    }

    /// The records of a file's bytes, the header first: UTF-8 (`text`), CSV (`parse`), and no cell holding a NUL
    /// character (which could not be stored intact), each failure naming its row and column.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Record] {
        let records = try parse(try text(bytes))
        for record in records {
            if let column = record.fields.firstIndex(where: { $0.unicodeScalars.contains("\0") }) {
                throw ParseError(
                    row: record.row,
                    message: "\(columnName(column + 1, header: records.first, row: record.row)) holds a NUL character, "
                        + "which cannot be stored intact: remove it")
            }
        }
        return records
    }

    /// The records of `text`, the header first.
    public static func parse(_ text: String) throws(ParseError) -> [Record] {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        let separator = detectSeparator(scalars)
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var row = 1
        var index = scalars.startIndex
        var quoted = false
        var wasQuoted = false

        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            wasQuoted = false
        }
        func endRecord() {
            endField()
            records.append(Record(row: row, fields: fields))
            fields = []
        }

        while index < scalars.endIndex {
            let scalar = scalars[index]
            scalars.formIndex(after: &index)
            if quoted {
                if scalar == "\"" {
                    if index < scalars.endIndex && scalars[index] == "\"" {
                        field.append("\"")
                        scalars.formIndex(after: &index)
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where !wasQuoted && field.isEmpty:
                quoted = true
                wasQuoted = true
            case separator:
                endField()
            case "\r", "\n":
                if scalar == "\r" && index < scalars.endIndex && scalars[index] == "\n" { continue }
                endRecord()
                row += 1
            default:
                // Text after a closing quote, as in "a"b, is not CSV; a quote inside unquoted text (12" basket) is
                // taken as it is, as spreadsheets do.
                if wasQuoted { throw ParseError(row: row, message: "text after the closing quote of a field") }
                field.append(scalar)
            }
        }
        if quoted { throw ParseError(row: row, message: "a quoted field is not closed before the end of the file") }
        if !fields.isEmpty || !field.isEmpty || wasQuoted { endRecord() }
        return records
    }

    /// The separator the first line uses most, outside quotes: comma unless semicolons or tabs outnumber it.
    static func detectSeparator(_ scalars: Substring.UnicodeScalarView) -> Unicode.Scalar {
        var counts: [Unicode.Scalar: Int] = [",": 0, ";": 0, "\t": 0]
        var quoted = false
        for scalar in scalars {
            if scalar == "\"" { quoted.toggle() }
            if quoted { continue }
            if scalar == "\n" || scalar == "\r" { break }
            if counts[scalar] != nil { counts[scalar]! += 1 }
        }
        let other: Unicode.Scalar = counts[";"]! >= counts["\t"]! ? ";" : "\t"
        return counts[other]! > counts[","]! ? other : ","
    }

    /// One line of a file (with its CRLF), fields quoted where needed. A field that a spreadsheet would run as a
    /// formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe, which `unescapeFormula` removes on
    /// import, so an exported file cannot run code when opened (CSV injection).
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            var value = field
            if let first = value.unicodeScalars.first, formulaStarts.contains(first) { value = "'" + value }
            guard
                value.unicodeScalars.contains(where: {
                    $0 == "," || $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\t"
                })
            else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\r\n"
    }

    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// A cell as read back: the apostrophe `line` put before a formula-like value removed.
    public static func unescapeFormula(_ cell: String) -> String {
        let scalars = cell.unicodeScalars
        guard scalars.first == "'", let second = scalars.dropFirst().first, formulaStarts.contains(second) else {
            return cell
        }
        return String(cell.dropFirst())
    }
}
