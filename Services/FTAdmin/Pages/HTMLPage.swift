import Foundation

/// Text made safe for HTML, in element content and in attribute values alike.
func escapeHTML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}

/// One self-contained HTML page: its style inline, its charts inline SVG, nothing fetched and no script, laid out
/// for the screen and for A4 paper.
struct HTMLPage {
    let title: String
    /// A line under the title (who, when).
    var subtitle = ""
    private(set) var body: [String] = []

    init(title: String, subtitle: String = "") {
        self.title = title
        self.subtitle = subtitle
    }

    /// A section with a heading, saying where its figures came from; an unavailable one says why instead.
    mutating func section(
        _ heading: String, id: String, source: String, unavailable: String? = nil, _ content: [String]
    ) {
        var html = "<section id=\"\(escapeHTML(id))\">\n<h2>\(escapeHTML(heading))</h2>\n"
        html += "<p class=\"source\">\(escapeHTML(source))</p>\n"
        if let unavailable {
            html += "<p class=\"unavailable\">Not available: \(escapeHTML(unavailable))</p>\n"
        } else if content.isEmpty {
            html += "<p class=\"empty\">Nothing recorded.</p>\n"
        } else {
            html += content.joined(separator: "\n")
        }
        body.append(html + "\n</section>")
    }

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(title))</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        <header><h1>\(escapeHTML(title))</h1><p class="subtitle">\(escapeHTML(subtitle))</p></header>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    static let style = """

        @page { size: A4; margin: 15mm; }
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #222; margin: 0 auto;
          max-width: 180mm; padding: 8mm; font-size: 10pt; line-height: 1.4; }
        h1 { font-size: 18pt; margin: 0 0 2mm; }
        h2 { font-size: 13pt; border-bottom: 1px solid #888; margin: 8mm 0 2mm; }
        h3 { font-size: 11pt; margin: 5mm 0 1mm; }
        .subtitle, .source { color: #555; margin: 0 0 2mm; }
        .source { font-size: 8.5pt; }
        .unavailable { color: #a00; font-weight: bold; }
        .empty { color: #555; font-style: italic; }
        section { page-break-inside: auto; }
        figure { margin: 3mm 0 5mm; page-break-inside: avoid; }
        figcaption { font-weight: bold; margin-bottom: 1mm; }
        svg { display: block; max-width: 100%; height: auto; }
        svg text { font-family: inherit; font-size: 10px; fill: #222; }
        svg .axis { stroke: #444; stroke-width: 1; }
        svg .grid { stroke: #ddd; stroke-width: 1; }
        table { border-collapse: collapse; margin: 2mm 0; font-size: 9pt; }
        th, td { border: 1px solid #bbb; padding: 1mm 2mm; text-align: left; vertical-align: top; }
        td.number, th.number { text-align: right; }
        caption { text-align: left; color: #555; font-size: 8.5pt; padding-bottom: 1mm; }
        .alert { color: #a00; font-weight: bold; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 0.5mm 4mm; }
        dt { color: #555; }
        dd { margin: 0; }

        """
}

/// An HTML table: a header row and rows of cells, numbers aligned right.
struct HTMLTable {
    let caption: String
    let columns: [String]
    /// The columns holding numbers (aligned right).
    var numeric: Set<Int> = []
    private(set) var rows: [[String]] = []

    init(caption: String, _ columns: String..., numeric: Set<Int> = []) {
        self.caption = caption
        self.columns = columns
        self.numeric = numeric
    }

    mutating func add(_ cells: String...) { rows.append(cells) }
    mutating func add(_ cells: [String]) { rows.append(cells) }

    var html: String {
        var html = "<table>\n<caption>\(escapeHTML(caption))</caption>\n<thead><tr>"
        for (index, column) in columns.enumerated() {
            html += "<th scope=\"col\"\(numeric.contains(index) ? " class=\"number\"" : "")>\(escapeHTML(column))</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr>"
            for (index, cell) in row.enumerated() {
                html += "<td\(numeric.contains(index) ? " class=\"number\"" : "")>\(escapeHTML(cell))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table>"
    }
}

/// A chart and the table of its numbers beneath it, as one figure.
func figure(_ title: String, chart: String, table: HTMLTable) -> String {
    "<figure class=\"chart\">\n<figcaption>\(escapeHTML(title))</figcaption>\n\(chart)\n\(table.html)\n</figure>"
}

/// A paragraph of text.
func paragraph(_ text: String) -> String { "<p>\(escapeHTML(text))</p>" }

/// A list of terms and their descriptions.
func definitions(_ pairs: [(String, String)]) -> String {
    "<dl>" + pairs.map { "<dt>\(escapeHTML($0.0))</dt><dd>\(escapeHTML($0.1))</dd>" }.joined() + "</dl>"
}
