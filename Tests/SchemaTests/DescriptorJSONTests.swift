import Schema
import Testing

@Suite("JSON through protoc-c descriptors")
struct DescriptorJSONTests {
    @Test("JSON becomes the message, enums by full or short name, and comes back with every field")
    func roundTrip() throws {
        let bytes = try DescriptorJSON.encode(
            JSONValue.parse(
                #"{"response_status": {"code": "NOT_FOUND", "message": "gone"}, "sleep_millis": 5, "tags": ["a", "b"], "payload": "AAEC"}"#
            ),
            as: TestingV1.SimpleRequest.protoName)
        let request = try TestingV1.SimpleRequest(serializedBytes: bytes)
        #expect(request.responseStatus == TestingV1.EchoStatus(code: .notFound, message: "gone"))
        #expect(request.sleepMillis == 5 && request.tags == ["a", "b"] && request.payload == [0, 1, 2])
        let health = try DescriptorJSON.encode(
            JSONValue.parse(#"{"status": "serving"}"#),
            as: HealthV1.HealthCheckResponse.protoName)
        #expect(try HealthV1.HealthCheckResponse(serializedBytes: health).status == .serving)
        let json = try DescriptorJSON.decode(bytes, as: TestingV1.SimpleRequest.protoName)
        #expect(json.text(indent: 0).contains(#""code":"NOT_FOUND""#))
        #expect(json.text(indent: 0).contains(#""fail_unexpectedly":false"#))
    }

    @Test(
        "errors name the field and say what is wrong",
        arguments: [
            (#"{"sleep_milis": 1}"#, "sleep_milis"),
            (#"{"sleep_millis": "soon"}"#, "sleep_millis"),
            (#"{"sleep_millis": 3000000000}"#, "sleep_millis"),
            (#"{"response_status": {"code": "NOPE"}}"#, "response_status.code"),
            (#"{"tags": "a"}"#, "tags"),
            (#"{"payload": "***"}"#, "payload"),
            (#"{"fail_unexpectedly": 1}"#, "fail_unexpectedly"),
        ])
    func fieldErrors(json: String, field: String) throws {
        do {
            _ = try DescriptorJSON.encode(JSONValue.parse(json), as: TestingV1.SimpleRequest.protoName)
            Issue.record("\(json) was accepted")
        } catch {
            guard case .invalidJSON(let reported, let reason) = error.code else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(reported == field)
            #expect(!reason.isEmpty)
        }
    }

    @Test("text that is not JSON, and unknown messages, are refused clearly")
    func notJSON() {
        #expect(throws: SchemaError.self) { try JSONValue.parse("{service:") }
        #expect(throws: SchemaError.invalidJSON(field: "", reason: "the schema has no message named \"x.Y\"")) {
            try DescriptorJSON.encode(.object([]), as: "x.Y")
        }
    }
}
