import CProtobufC

// Helpers the generated `init(_c:_:)` initialisers call to read protoc-c structs.

@inline(__always)
package func _decodeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
}

package func _decodeStrings(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int) -> [String] {
    guard let pointer, count > 0 else { return [] }
    return (0..<count).map { _decodeString(pointer[$0]) }
}

@inline(__always)
package func _decodeBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard let base = data.data, data.len > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: data.len))
}

package func _decodeBytesArray(_ pointer: UnsafeMutablePointer<ProtobufCBinaryData>?, _ count: Int) -> [[UInt8]] {
    guard let pointer, count > 0 else { return [] }
    return (0..<count).map { _decodeBytes(pointer[$0]) }
}

package func _decodeArray<C, T>(_ pointer: UnsafeMutablePointer<C>?, _ count: Int, _ convert: (C) -> T) -> [T] {
    guard let pointer, count > 0 else { return [] }
    return UnsafeBufferPointer(start: pointer, count: count).map(convert)
}

@inline(__always)
package func _decodeEnum<E: ProtoEnum>(_ value: E, _ field: String, _ options: DecodeOptions) throws(SchemaError) -> E {
    if options.strictEnums, !value.isRecognized { throw .unknownEnumValue(field: field, value: value.rawValue) }
    return value
}

package func _decodeEnums<C, E: ProtoEnum>(
    _ pointer: UnsafeMutablePointer<C>?, _ count: Int, _ field: String, _ options: DecodeOptions, _ convert: (C) -> E
) throws(SchemaError) -> [E] {
    var result: [E] = []
    result.reserveCapacity(count)
    for value in _decodeArray(pointer, count, convert) { result.append(try _decodeEnum(value, field, options)) }
    return result
}

package func _decodeMessage<M: ProtoMessage, C>(
    _ pointer: UnsafeMutablePointer<C>?, _ field: String, _ options: DecodeOptions, as: M.Type
) throws(SchemaError) -> M? {
    guard let pointer else { return nil }
    do throws(SchemaError) { return try M(_c: UnsafeRawPointer(pointer), options) } catch {
        throw error.nested(in: field)
    }
}

package func _decodeMessages<M: ProtoMessage, C>(
    _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<C>?>?, _ count: Int, _ field: String,
    _ options: DecodeOptions, as: M.Type
) throws(SchemaError) -> [M] {
    guard let pointer, count > 0 else { return [] }
    var result: [M] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        guard let element = pointer[index] else { continue }
        do throws(SchemaError) { result.append(try M(_c: UnsafeRawPointer(element), options)) } catch {
            throw error.nested(in: "\(field)[\(index)]")
        }
    }
    return result
}
