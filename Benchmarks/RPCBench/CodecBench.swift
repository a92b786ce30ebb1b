import ArgumentParser
import Foundation
import RPC
import Schema

/// `rpc-bench codec`: what the pieces of one call cost, each alone in a loop (to find where time goes).
struct CodecBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codec", abstract: "Time the codec pieces of a call.")

    @Option(help: "Iterations per piece.")
    var iterations = 200_000

    func run() throws {
        var header = RpcV1.RequestHeader()
        header.protocolVersion = 1
        header.callID = 123_456
        header.service = "fairtrade.testing.v1.TestService"
        header.method = "UnaryCall"
        header.timeoutMicros = 30_000_000
        header.requestID = RequestID.make()
        let headerBytes = header.serializedBytes()
        let request = TestingV1.SimpleRequest(payload: [UInt8](repeating: 0x42, count: 100))
        let requestBytes = request.serializedBytes()
        let response = RpcV1.ResponseHeader(protocolVersion: 1, callID: 123_456)
        let responseBytes = response.serializedBytes()

        time("RequestHeader encode") { _ = header.serializedBytes() }
        time("RequestHeader decode") { _ = try? RpcV1.RequestHeader(serializedBytes: headerBytes) }
        time("SimpleRequest encode") { _ = request.serializedBytes() }
        time("SimpleRequest decode") { _ = try? TestingV1.SimpleRequest(serializedBytes: requestBytes) }
        time("ResponseHeader encode") { _ = response.serializedBytes() }
        time("ResponseHeader decode") { _ = try? RpcV1.ResponseHeader(serializedBytes: responseBytes) }
        time("RequestID.make") { _ = RequestID.make() }
        time("ContinuousClock.now") { _ = ContinuousClock.now }
    }

    private func time(_ name: String, _ body: () -> Void) {
        for _ in 0..<1000 { body() }
        let start = nowNanos()
        for _ in 0..<iterations { body() }
        let perCall = Double(nowNanos() - start) / Double(iterations)
        print(name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "%8.0f ns", perCall))
    }
}
