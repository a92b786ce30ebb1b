import Foundation

/// Small charts drawn as inline SVG: lines over time, grouped or stacked bars, and a tree. Each has a title for
/// screen readers (`role="img"`, `<title>`), labelled axes and a legend; the figures themselves go in a table
/// beneath (`figure`). Colours are Okabe and Ito's, told apart by people with colour blindness.
enum SVGChart {
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
    static let width = 640.0
    static let plotLeft = 70.0
    static let plotRight = 20.0
    static let plotTop = 20.0

    struct Series {
        let name: String
        let values: [Double]
    }

    /// Grouped (side by side) or stacked bars: one group per category, one bar per series. `marked` categories
    /// get a red mark above them and `markLabel` in the legend (price alerts, say).
    static func bars(
        title: String, categories: [String], series: [Series], xLabel: String, yLabel: String, stacked: Bool = false,
        marked: Set<Int> = [], markLabel: String = ""
    ) -> String {
        let height = 260.0
        let plotBottom = height - 60
        let plotWidth = width - plotLeft - plotRight
        let totals = categories.indices.map { index in
            stacked
                ? series.reduce(0) { $0 + max(0, $1.values[safe: index] ?? 0) }
                : series.map { $0.values[safe: index] ?? 0 }.max() ?? 0
        }
        let lowest = min(0, series.flatMap(\.values).min() ?? 0)
        let scale = Scale(
            low: lowest, high: max(totals.max() ?? 0, 1), top: plotTop, bottom: plotBottom,
            integral: series.allSatisfy { $0.values.allSatisfy { $0 == $0.rounded() } })
        var svg = open(title: title, height: height)
        svg += scale.grid(left: plotLeft, right: width - plotRight)
        let slot = plotWidth / Double(max(categories.count, 1))
        let barWidth = stacked ? slot * 0.6 : slot * 0.8 / Double(max(series.count, 1))
        for (index, category) in categories.enumerated() {
            let x0 = plotLeft + slot * Double(index) + slot * 0.1 + (stacked ? slot * 0.1 : 0)
            var base = 0.0
            for (seriesIndex, line) in series.enumerated() {
                let value = line.values[safe: index] ?? 0
                let x = stacked ? x0 : x0 + barWidth * Double(seriesIndex)
                let from = stacked ? base : 0
                let to = from + value
                if stacked { base = to }
                let (y1, y2) = (scale.y(max(from, to)), scale.y(min(from, to)))
                svg += String(
                    format:
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>%@</title></rect>\n",
                    x, y1, max(barWidth - 1, 1), max(y2 - y1, 0), palette[seriesIndex % palette.count],
                    escapeHTML("\(category), \(line.name): \(number(value))"))
            }
            if marked.contains(index) {
                svg += String(
                    format:
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#a00\" font-weight=\"bold\">▲</text>\n",
                    plotLeft + slot * (Double(index) + 0.5), plotTop + 10)
            }
            svg += label(category, x: plotLeft + slot * (Double(index) + 0.5), y: plotBottom + 14, width: slot)
        }
        svg += axes(plotBottom: plotBottom, xLabel: xLabel, yLabel: yLabel, height: height)
        var legend = series.map(\.name)
        if !marked.isEmpty { legend.append("▲ " + markLabel) }
        svg += self.legend(legend, y: height - 8, markLast: !marked.isEmpty)
        return svg + "</svg>"
    }

    /// Lines over a numeric x (years, or days as fractional years), one per series of (x, y) points.
    static func lines(
        title: String, series: [(name: String, points: [(x: Double, y: Double)])], xLabel: String, yLabel: String,
        xFormat: (Double) -> String, yMaximum: Double? = nil
    ) -> String {
        let height = 260.0
        let plotBottom = height - 60
        let plotWidth = width - plotLeft - plotRight
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        let (xLow, xHigh) = (xs.min() ?? 0, xs.max() ?? 1)
        let xSpan = xHigh > xLow ? xHigh - xLow : 1
        let scale = Scale(
            low: min(0, ys.min() ?? 0), high: yMaximum ?? max(ys.max() ?? 1, 1), top: plotTop, bottom: plotBottom)
        func x(_ value: Double) -> Double { plotLeft + 10 + (value - xLow) / xSpan * (plotWidth - 20) }
        var svg = open(title: title, height: height)
        svg += scale.grid(left: plotLeft, right: width - plotRight)
        for tick in Set(xs).sorted() where Set(xs).count <= 12 {
            svg += label(xFormat(tick), x: x(tick), y: plotBottom + 14, width: 80)
        }
        if Set(xs).count > 12 {
            for fraction in stride(from: 0.0, through: 1.0, by: 0.25) {
                svg += label(
                    xFormat(xLow + xSpan * fraction), x: x(xLow + xSpan * fraction), y: plotBottom + 14, width: 80)
            }
        }
        for (seriesIndex, line) in series.enumerated() {
            let colour = palette[seriesIndex % palette.count]
            let points = line.points.sorted { $0.x < $1.x }
            let path = points.map { String(format: "%.1f,%.1f", x($0.x), scale.y($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for point in points {
                svg += String(
                    format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"><title>%@</title></circle>\n",
                    x(point.x), scale.y(point.y), colour,
                    escapeHTML("\(line.name), \(xFormat(point.x)): \(number(point.y))"))
            }
        }
        svg += axes(plotBottom: plotBottom, xLabel: xLabel, yLabel: yLabel, height: height)
        svg += legend(series.map(\.name), y: height - 8, markLast: false)
        return svg + "</svg>"
    }

    struct Node {
        let id: String
        let label: String
        let detail: String
        let parent: String?
    }

    /// A tree drawn top-down, one row per depth: a cascade of trainings, say.
    static func tree(title: String, nodes: [Node]) -> String {
        let known = Set(nodes.map(\.id))
        var depth: [String: Int] = [:]
        func depthOf(_ node: Node, _ seen: Set<String> = []) -> Int {
            if let known = depth[node.id] { return known }
            guard let parent = node.parent, known.contains(parent), !seen.contains(node.id),
                let up = nodes.first(where: { $0.id == parent })
            else { return 0 }
            let value = depthOf(up, seen.union([node.id])) + 1
            depth[node.id] = value
            return value
        }
        let rows = Dictionary(grouping: nodes) { depthOf($0) }
        let rowHeight = 78.0
        let height = Double(rows.count) * rowHeight + 20
        var position: [String: (x: Double, y: Double)] = [:]
        for (level, members) in rows {
            let slot = width / Double(members.count)
            for (index, node) in members.enumerated() {
                position[node.id] = (slot * (Double(index) + 0.5), 14 + Double(level) * rowHeight)
            }
        }
        var svg = open(title: title, height: height)
        for node in nodes {
            guard let parent = node.parent, let from = position[parent], let to = position[node.id] else { continue }
            svg += String(
                format:
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-width=\"1.5\"/>\n",
                from.x, from.y + 44, to.x, to.y)
        }
        for (level, members) in rows {
            let boxWidth = min(200, width / Double(members.count) - 8)
            for node in members {
                guard let at = position[node.id] else { continue }
                svg += String(
                    format:
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"44\" rx=\"4\" fill=\"#eef4fa\" stroke=\"%@\"/>\n",
                    at.x - boxWidth / 2, at.y, boxWidth, palette[level % palette.count])
                svg += label(node.label, x: at.x, y: at.y + 17, width: boxWidth - 6)
                svg += label(node.detail, x: at.x, y: at.y + 33, width: boxWidth - 6)
            }
        }
        return svg + "</svg>"
    }

    // MARK: pieces

    private struct Scale {
        let low: Double
        let high: Double
        let step: Double
        let top: Double
        let bottom: Double

        /// `integral`: the values are counts, so the ticks are whole numbers too.
        init(low: Double, high: Double, top: Double, bottom: Double, integral: Bool = false) {
            step = integral ? max(1, Self.niceStep((high - low) / 5)) : Self.niceStep((high - low) / 5)
            self.low = (low / step).rounded(.down) * step
            self.high = max((high / step).rounded(.up) * step, self.low + step)
            self.top = top
            self.bottom = bottom
        }

        func y(_ value: Double) -> Double { bottom - (value - low) / (high - low) * (bottom - top) }

        func grid(left: Double, right: Double) -> String {
            var svg = ""
            for tick in stride(from: low, through: high + step / 2, by: step) {
                svg += String(
                    format: "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, y(tick),
                    right, y(tick))
                svg += String(
                    format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>\n", left - 4, y(tick) + 3,
                    escapeHTML(number(tick)))
            }
            return svg
        }

        static func niceStep(_ rough: Double) -> Double {
            guard rough > 0, rough.isFinite else { return 1 }
            let power = pow(10, (log10(rough)).rounded(.down))
            let fraction = rough / power
            let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
            return max(nice * power, 1e-9)
        }
    }

    private static func open(title: String, height: Double) -> String {
        String(
            format:
                "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">\n<title>%@</title>\n",
            width, height, width, height, escapeHTML(title))
    }

    private static func axes(plotBottom: Double, xLabel: String, yLabel: String, height: Double) -> String {
        String(
            format: """
                <line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>
                <line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>
                <text class="x-label" x="%.1f" y="%.1f" text-anchor="middle">%@</text>
                <text class="y-label" transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">%@</text>

                """, plotLeft, plotTop, plotLeft, plotBottom, plotLeft, plotBottom, width - plotRight, plotBottom,
            (plotLeft + width - plotRight) / 2, plotBottom + 30, escapeHTML(xLabel), (plotTop + plotBottom) / 2,
            escapeHTML(yLabel))
    }

    private static func legend(_ names: [String], y: Double, markLast: Bool) -> String {
        var svg = ""
        var x = plotLeft
        for (index, name) in names.enumerated() {
            let isMark = markLast && index == names.count - 1
            if !isMark {
                svg += String(
                    format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/>\n", x, y - 9,
                    palette[index % palette.count])
            }
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\"%@>%@</text>\n", x + (isMark ? 0 : 14), y,
                isMark ? " fill=\"#a00\"" : "", escapeHTML(name))
            x += 14 + Double(name.count) * 6 + 16
        }
        return svg
    }

    /// A centred label, cut to fit `width` at about 6 pixels a character.
    private static func label(_ text: String, x: Double, y: Double, width: Double) -> String {
        let fits = max(Int(width / 6), 3)
        let shown = text.count > fits ? String(text.prefix(fits - 1)) + "…" : text
        return String(
            format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@<title>%@</title></text>\n", x, y,
            escapeHTML(shown), escapeHTML(text))
    }

    /// A figure as people read it: grouped thousands, at most two decimals.
    static func number(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = abs(value) < 100 ? 2 : 0
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
