import Schema

/// Constants and helpers of the wire protocol (docs/PROTOCOL.md).
enum Wire {
    /// The protocol version this runtime speaks.
    static let version: UInt32 = 1
    /// Envelope headers are small; a larger one is refused before it is decoded.
    static let maxHeaderBytes = 64 << 10
    static let headerDecodeOptions = DecodeOptions(maxMessageBytes: maxHeaderBytes)

    static func metadataEntries(_ metadata: Metadata) -> [RpcV1.MetadataEntry] {
        metadata.entries.map { RpcV1.MetadataEntry(key: $0.key, value: $0.value) }
    }

    static func metadata(_ entries: [RpcV1.MetadataEntry]) -> Metadata {
        var metadata = Metadata()
        for entry in entries { metadata.add(entry.key, entry.value) }
        return metadata
    }

    /// UTF-8 bytes of a status a response header carries at most: its message, its field violations and its
    /// trailers are cut to these, so that the header stays well under `maxHeaderBytes` whatever a handler throws.
    /// (A client drops a larger header unread, and its call would wait for its deadline.)
    static let maxStatusMessageBytes = 8 << 10
    static let maxFieldViolationBytes = 32 << 10
    static let maxTrailerBytes = 16 << 10

    static func responseHeader(callID: UInt64, error: RPCError?) -> RpcV1.ResponseHeader {
        var header = RpcV1.ResponseHeader()
        header.protocolVersion = version
        header.callID = callID
        header.kind = .unary
        if let error {
            header.code = error.code.wire
            var budget = maxFieldViolationBytes
            for violation in error.fieldViolations {
                let field = truncated(violation.field, 512)
                let description = truncated(violation.description, 4096)
                // Each entry's tags and lengths take a few bytes more.
                let size = field.utf8.count + description.utf8.count + 16
                guard size <= budget else { break }
                budget -= size
                header.fieldViolations.append(RpcV1.FieldViolation(field: field, description: description))
            }
            let left = error.fieldViolations.count - header.fieldViolations.count
            let note = left > 0 ? " (\(left) more field violations left out)" : ""
            header.message = truncated(error.message, maxStatusMessageBytes - note.utf8.count) + note
            budget = maxTrailerBytes
            for entry in error.trailers.entries {
                let size = entry.key.utf8.count + entry.value.utf8.count + 16
                guard size <= budget else { break }
                budget -= size
                header.trailers.append(RpcV1.MetadataEntry(key: entry.key, value: entry.value))
            }
        }
        return header
    }

    /// `text` cut after whole characters to at most `limit` UTF-8 bytes, ending in "…" when cut.
    static func truncated(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var used = 0
        for character in text {
            used += character.utf8.count
            guard used <= limit - 3 else { break }
            result.append(character)
        }
        return result + "…"
    }

    static func error(from header: RpcV1.ResponseHeader) -> RPCError? {
        let code = RPCError.Code(wire: header.code)
        guard code != .ok else { return nil }
        return RPCError(
            code, header.message,
            fieldViolations: header.fieldViolations.map {
                FieldViolation(field: $0.field, description: $0.description)
            },
            trailers: metadata(header.trailers))
    }
}
