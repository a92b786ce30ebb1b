import Foundation

/// Opaque page tokens for keyset paging: the sort key and id of the last row of a page. Clients pass them back
/// unchanged; anything else is refused as not a token of that list.
public enum PageToken {
    public static func encode(_ sortKey: String, _ id: String) -> String {
        Data((sortKey + "\u{1F}" + id).utf8).base64EncodedString()
    }

    /// The sort key and id, if `token` is one made by `encode` for rows of `Kind`.
    public static func decode<Kind>(_ token: String, of kind: RecordID<Kind>.Type) -> (sortKey: String, id: String)? {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard parts.count == 2, let id = RecordID<Kind>(String(parts[1])) else { return nil }
        return (String(parts[0]), id.text)
    }
}
