import Schema

extension CSV {
    /// A spreadsheet to import: its header checked against the columns an import knows, and its rows as cells by
    /// column, each trimmed and with the formula guard `CSV.line` writes removed.
    public struct Sheet: Sendable {
        /// One data row: its number as the spreadsheet shows it, its cells by column, and what is wrong with its
        /// shape (more cells than columns), to report with the problems of the other rows.
        public struct Row: Sendable {
            public let number: Int
            public let cells: [String: String]
            public let problem: String?

            /// The non-empty cell of `column`, or nil.
            public subscript(_ column: String) -> String? {
                guard let cell = cells[column], !cell.isEmpty else { return nil }
                return cell
            }
        }

        /// The columns the file has (known ones; an unknown column is a problem of the header).
        public let columns: Set<String>
        public let rows: [Row]

        /// Reads a file's bytes. Problems with the file as a whole go to `check`: not UTF-8 or CSV, a cell with a NUL
        /// ("csv", naming the row and column), a column unknown,
        /// unnamed, repeated or missing from `required` ("header"), no rows or more than `maxRows` ("csv").
        /// Column names are matched in any case, with spaces or hyphens for underscores.
        public init(
            _ bytes: [UInt8], known: [String], required: [String], purpose: String, maxRows: Int,
            _ check: inout FieldValidator
        ) {
            let records: [Record]
            do {
                records = try CSV.parse(bytes)
            } catch {
                check.fail("csv", "\(error)")
                (rows, columns) = ([], [])
                return
            }
            guard !records.allSatisfy(\.isBlank), let header = records.first else {
                check.fail("csv", "is empty: the first row must name the columns (\(known.joined(separator: ", ")))")
                (rows, columns) = ([], [])
                return
            }
            let names = header.fields.map {
                $0.trimmingWhitespace().lowercased().split { $0 == " " || $0 == "-" }.joined(separator: "_")
            }
            var seen: Set<String> = []
            for (index, name) in names.enumerated() {
                if name.isEmpty {
                    check.fail("header", "column \(index + 1) has no name")
                } else if !known.contains(name) {
                    check.fail(
                        "header",
                        "unknown column \"\(header.fields[index])\" (columns: \(known.joined(separator: ", ")))")
                } else if !seen.insert(name).inserted {
                    check.fail("header", "column \"\(name)\" appears twice")
                }
            }
            for name in required where !seen.contains(name) {
                check.fail("header", "column \"\(name)\" is required to \(purpose)")
            }
            columns = seen
            var rows: [Row] = []
            for record in records.dropFirst() where !record.isBlank {
                var cells: [String: String] = [:]
                for (name, cell) in zip(names, record.fields) where !name.isEmpty {
                    cells[name] = CSV.unescapeFormula(cell.trimmingWhitespace())
                }
                let problem =
                    record.fields.count > names.count
                    ? "has \(record.fields.count) cells but the header names \(names.count) columns" : nil
                rows.append(Row(number: record.row, cells: cells, problem: problem))
            }
            if rows.isEmpty {
                check.fail("csv", "has a header but no rows")
            } else if rows.count > maxRows {
                check.fail("csv", "has \(rows.count) rows; import at most \(maxRows) at a time (split the file)")
            }
            self.rows = rows
        }
    }

    /// An enum value as a cell: its name without the type's prefix, lower case (`womens_group`); "" for the zero
    /// value.
    public static func cell<E: ProtoEnum>(_ value: E) -> String {
        let prefix = E.allCases.first.map { $0.protoName.replacingOccurrences(of: "UNSPECIFIED", with: "") } ?? ""
        guard value.rawValue != 0, value.protoName.hasPrefix(prefix) else { return "" }
        return value.protoName.dropFirst(prefix.count).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// The value among `choices` a cell names: its short or full name in any case, spaces and hyphens for
    /// underscores, apostrophes left out ("Women's group" is `womens_group`).
    public static func enumValue<E: ProtoEnum>(_ cell: String, among choices: [E]) -> E? {
        let wanted = cell.lowercased().replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "’", with: "")
            .split { $0 == " " || $0 == "-" || $0 == "_" }.joined(separator: "_")
        return choices.first {
            CSV.cell($0).replacingOccurrences(of: "-", with: "_") == wanted || $0.protoName.lowercased() == wanted
        }
    }
}

extension CSV {
    /// The problems of one row, reported under "row N, column": first the cells that cannot be read, then what
    /// the values mean (`values`, a validator that names fields its own way, each mapped to its column). A column
    /// already reported as unreadable is not reported again for its value.
    public struct RowCheck {
        public let row: Int
        /// For checking the row's values as a request's are checked.
        public var values = FieldValidator()
        private var unreadable = FieldValidator()
        private var skipped: Set<String> = []

        public init(row: Int) { self.row = row }

        /// A cell that cannot be read.
        public mutating func unreadable(_ column: String, _ message: String) {
            unreadable.fail("row \(row), \(column)", message)
            skipped.insert(column)
        }

        /// A column whose problem another column's message already tells (a price in an unknown currency).
        public mutating func skip(_ column: String) { skipped.insert(column) }

        /// Adds the row's problems to `check`; `column` maps a field name of `values` to its column.
        public func report(to check: inout FieldValidator, column: (String) -> String) {
            for violation in unreadable.violations { check.fail(violation.field, violation.description) }
            for violation in values.violations where !skipped.contains(column(violation.field)) {
                check.fail("row \(row), \(column(violation.field))", violation.description)
            }
        }
    }
}

extension FieldValidator {
    /// Checks what every import request carries beside its file: a request id unless it only validates, and where
    /// the rows come from, at most 200 characters. Returns the source, trimmed.
    public mutating func importRequest(validateOnly: Bool, requestID: String, source: String) -> String {
        if !validateOnly { self.requestID(requestID) }
        return text(source, "source", maxLength: 200)
    }
}

extension CSV.RowCheck {
    // Readers of one cell each: nil for an empty cell (nil), and for one that cannot be read, which they report
    // under its column.

    /// A whole number.
    public mutating func number<N: FixedWidthInteger>(_ cell: String?, column: String, as: N.Type = N.self) -> N? {
        guard let cell, !cell.isEmpty else { return nil }
        guard let value = N(cell) else {
            unreadable(column, "\"\(cell)\" is not a whole number")
            return nil
        }
        return value
    }

    /// A date, YYYY-MM-DD.
    public mutating func date(_ cell: String?, column: String) -> ISODate? {
        guard let cell, !cell.isEmpty else { return nil }
        guard let date = ISODate(iso: cell) else {
            unreadable(column, "\"\(cell)\" is not a date (YYYY-MM-DD)")
            return nil
        }
        return date
    }

    /// The value of `choices` (every value but the zero one unless given) the cell names.
    public mutating func enumValue<E: ProtoEnum>(_ cell: String?, column: String, among choices: [E]? = nil) -> E? {
        guard let cell, !cell.isEmpty else { return nil }
        let choices = choices ?? Array(E.allCases.dropFirst())
        if let value = CSV.enumValue(cell, among: choices) { return value }
        unreadable(column, "\"\(cell)\" is not one of \(choices.map(CSV.cell).joined(separator: ", "))")
        return nil
    }

    /// An amount written as a decimal ("1,200.50") in `currency`, as minor units. With a currency that is not
    /// ISO 4217 the amount is not read (the currency's own check says what is wrong): a placeholder of one minor
    /// unit comes back so that the value's checks name the currency alone.
    public mutating func money(_ cell: String?, column: String, currency: String, example: String) -> CommonV1.Money? {
        guard let cell, !cell.isEmpty else { return nil }
        guard CurrencyCode.isValid(currency) else {
            skip(column)
            return CommonV1.Money(minorUnits: 1, currency: currency)
        }
        guard let minorUnits = CurrencyCode.minorUnits(of: cell, currency: currency) else {
            unreadable(
                column,
                "\"\(cell)\" is not an amount in \(currency) (at most \(CurrencyCode.minorUnitDigits[currency] ?? 2) decimals, e.g. \(example))"
            )
            return nil
        }
        if let problem = CurrencyCode.rangeProblem(minorUnits, currency) {
            unreadable(column, problem)
            return nil
        }
        return CommonV1.Money(minorUnits: minorUnits, currency: currency)
    }

    /// The id a cell means: itself when it is one of `ids`, else the one id whose name it is (`named`); or what is
    /// wrong, with `hint` after a name that fits nothing.
    public static func resolve(_ cell: String, ids: Set<String>, named: [String], noun: String, hint: String = "")
        -> Result<String, DomainError>
    {
        if ids.contains(cell) { return .success(cell) }
        switch named.count {
        case 1: return .success(named[0])
        case 0: return .failure(DomainError(.notFound, "no \(noun) has the id or name \"\(cell)\"\(hint)"))
        default:
            return .failure(
                DomainError(
                    .invalid,
                    "\"\(cell)\" names \(named.count) \(noun)s (\(named.sorted().joined(separator: ", "))); give the id"
                ))
        }
    }

    /// Items separated by ";", trimmed, empty ones left out; nil for an empty cell.
    public static func list(_ cell: String?) -> [String]? {
        guard let cell, !cell.isEmpty else { return nil }
        return cell.split(separator: ";").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
