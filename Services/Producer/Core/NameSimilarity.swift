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
    public static func score(_ a: String, _ b: String) -> Double { score(Key(a), Key(b)) }

    /// A name normalised once, for comparing with many others: its letter pairs as a sorted multiset of numbers.
    public struct Key: Sendable {
        let text: String
        let pairs: [UInt64]

        public init(_ name: String) {
            text = NameSimilarity.normalise(name)
            let letters = Array(text.unicodeScalars.filter { $0 != " " })
            if letters.count < 2 {
                pairs = letters.map { UInt64($0.value) }
            } else {
                pairs = (0..<(letters.count - 1)).map {
                    UInt64(letters[$0].value) << 32 | UInt64(letters[$0 + 1].value)
                }
                .sorted()
            }
        }
    }

    /// The Dice coefficient over letter pairs of two normalised names.
    public static func score(_ x: Key, _ y: Key) -> Double {
        if x.text == y.text { return x.text.isEmpty ? 0 : 1 }
        guard !x.pairs.isEmpty, !y.pairs.isEmpty else { return 0 }
        var shared = 0
        var i = 0
        var j = 0
        while i < x.pairs.count && j < y.pairs.count {
            if x.pairs[i] == y.pairs[j] {
                shared += 1
                i += 1
                j += 1
            } else if x.pairs[i] < y.pairs[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(2 * shared) / Double(x.pairs.count + y.pairs.count)
    }
}
