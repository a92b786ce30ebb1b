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

    static func responseHeader(callID: UInt64, error: RPCError?) -> RpcV1.ResponseHeader {
        var header = RpcV1.ResponseHeader()
        header.protocolVersion = version
        header.callID = callID
        header.kind = .unary
        if let error {
            header.code = error.code.wire
            header.message = error.message
            header.trailers = metadataEntries(error.trailers)
            header.fieldViolations = error.fieldViolations.map {
                RpcV1.FieldViolation(field: $0.field, description: $0.description)
            }
        }
        return header
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
