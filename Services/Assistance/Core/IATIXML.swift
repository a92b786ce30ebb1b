import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML element as read: name, attributes, child elements and text, with the line it starts on.
final class XMLNode: @unchecked Sendable {
    let name: String
    let attributes: [String: String]
    let line: Int
    fileprivate(set) var children: [XMLNode] = []
    fileprivate(set) var text = ""

    init(name: String, attributes: [String: String], line: Int) {
        self.name = name
        self.attributes = attributes
        self.line = line
    }

    subscript(_ attribute: String) -> String? {
        attributes[attribute].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// The text of the first narrative (in English or without a language, before any other), trimmed.
    var narrative: String {
        let narratives = all("narrative")
        let chosen =
            narratives.first { ($0.attributes["xml:lang"] ?? "en").lowercased() == "en" } ?? narratives.first
        return chosen?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// Reads a whole document; nil and why when it is not well-formed XML.
    static func parse(_ bytes: [UInt8]) -> Result<XMLNode, XMLProblem> {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let error = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "no root element"
            return .failure(XMLProblem(line: parser.lineNumber, message: error))
        }
        if let unclosed = builder.open.last {
            return .failure(
                XMLProblem(
                    line: parser.lineNumber,
                    message: "the file ends before <\(unclosed.name)> (line \(unclosed.line)) is closed"))
        }
        return .success(root)
    }
}

struct XMLProblem: Error {
    let line: Int
    let message: String
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLNode?
    var open: [XMLNode] = []

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let node = XMLNode(name: name, attributes: attributes, line: parser.lineNumber)
        if let parent = open.last { parent.children.append(node) } else { root = node }
        open.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        open.last?.text += string
    }
}
