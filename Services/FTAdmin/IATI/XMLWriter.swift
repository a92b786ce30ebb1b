/// A small writer of indented XML: elements with attributes in the order given, text escaped.
struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    static func escape(_ value: String, attribute: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"" where attribute: escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private func attributes(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { name, value in value.map { " \(name)=\"\(Self.escape($0, attribute: true))\"" } }.joined()
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    /// `<name …>`, then what `body` writes, then `</name>`.
    mutating func element(_ name: String, _ pairs: [(String, String?)] = [], _ body: (inout XMLWriter) -> Void) {
        let opening = "\(indent)<\(name)\(attributes(pairs))>\n"
        text += opening
        let before = text.endIndex
        depth += 1
        body(&self)
        depth -= 1
        if text.endIndex == before {
            // Nothing inside: one empty element.
            text.removeLast(opening.count)
            empty(name, pairs)
        } else {
            text += "\(indent)</\(name)>\n"
        }
    }

    /// `<name …/>`.
    mutating func empty(_ name: String, _ pairs: [(String, String?)] = []) {
        text += "\(indent)<\(name)\(attributes(pairs))/>\n"
    }

    /// `<name …>text</name>`.
    mutating func leaf(_ name: String, _ pairs: [(String, String?)] = [], text value: String) {
        text += "\(indent)<\(name)\(attributes(pairs))>\(Self.escape(value, attribute: false))</\(name)>\n"
    }
}
