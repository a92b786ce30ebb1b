import Foundation

/// How alike two producer-group names are, after the words every such name shares are set aside.
///
/// "Bolga Basket Weavers Cooperative" and "Bolgatanga basket-weavers co-op." should meet; "Bolga Basket Weavers" and
/// "Bolga Leather Workers" should not. The score is the Dice coefficient over letter pairs of the normalised names
/// (diacritics folded, punctuation dropped, organisational words like "cooperative" or "group" removed), which
/// forgives typos, spacing and word order.
public enum NameSimilarity {
    static let organisationalWords: Set<String> = [
        "cooperative", "coop", "co", "op", "cooperatives", "society", "group", "groups", "association", "assoc",
        "union", "the", "of", "and", "ltd", "limited", "inc", "llc", "pvt", "workshop", "enterprise", "enterprises",
        "womens", "women", "artisans", "artisan", "collective", "self", "help", "shg", "federation", "trust",
    ]

    /// Lower case, diacritics folded, letters and digits only, organisational words removed.
    public static func normalise(_ name: String) -> String {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
        let words = folded.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let kept = words.filter { !organisationalWords.contains($0) }
        return (kept.isEmpty ? words : kept).joined(separator: " ")
    }

    /// 0 (nothing alike) to 1 (the same after normalising).
    public static func score(_ a: String, _ b: String) -> Double {
        let x = normalise(a)
        let y = normalise(b)
        if x == y { return x.isEmpty ? 0 : 1 }
        let pairsX = pairs(x)
        let pairsY = pairCounts(y)
        guard !pairsX.isEmpty, !pairsY.isEmpty else { return 0 }
        var remaining = pairsY
        var shared = 0
        for pair in pairsX {
            if let count = remaining[pair], count > 0 {
                shared += 1
                remaining[pair] = count - 1
            }
        }
        let total = pairsX.count + pairsY.values.reduce(0, +)
        return Double(2 * shared) / Double(total)
    }

    private static func pairs(_ text: String) -> [String] {
        let letters = Array(text.replacingOccurrences(of: " ", with: ""))
        guard letters.count >= 2 else { return letters.isEmpty ? [] : [String(letters)] }
        return (0..<(letters.count - 1)).map { String(letters[$0...$0 + 1]) }
    }

    private static func pairCounts(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for pair in pairs(text) { counts[pair, default: 0] += 1 }
        return counts
    }
}
