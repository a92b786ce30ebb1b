import Foundation

/// Opaque page tokens for keyset paging: the sort key and id of the last row of a page. Clients pass them back
/// unchanged; anything else is refused as not a token of that list.
public enum PageToken {
    public static func encode(_ sortKey: String, _ id: String) -> String {
        Data((sortKey + "\u{1F}" + id).utf8).base64EncodedString()
    }

    /// The sort key and id, if `token` is one made by `encode` for rows whose ids start with `idPrefix`.
    public static func decode(_ token: String, idPrefix: String) -> (sortKey: String, id: String)? {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix(idPrefix) else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
