import ArgumentParser
import CZeroMQ
import Foundation

/// Raw libzmq doing the benchmark's work with no runtime: the baseline the RPC runtime is compared with.
enum RawZMQ {
    /// REQ/REP round trips, one in flight. With a `busyPoll`, the client looks for each reply without blocking for
    /// up to that long before it waits, as the RPC runtime's loops do (the like-for-like comparison).
    static func latency(
        endpoint: String, payload: [UInt8], calls: Int, busyPoll: Duration = .zero, curve: RawCurve? = nil
    ) throws -> Measurement {
        let connection = try RawConnection(ZMQ_REQ, to: endpoint, curve: curve)
        let socket = connection.socket
        defer { withExtendedLifetime(connection) {} }
        var buffer = [UInt8](repeating: 0, count: 65536)
        func roundTrip() {
            _ = payload.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, 0) }
            if busyPoll > .zero {
                let until = ContinuousClock.now + busyPoll
                repeat {
                    if zmq_recv(socket, &buffer, buffer.count, ZMQ_DONTWAIT) >= 0 { return }
                    sched_yield()
                } while ContinuousClock.now < until
            }
            _ = zmq_recv(socket, &buffer, buffer.count, 0)
        }
        for _ in 0..<min(2000, calls) { roundTrip() }
        var samples = [UInt64]()
        samples.reserveCapacity(calls)
        let start = ContinuousClock.now
        for _ in 0..<calls {
            let before = nowNanos()
            roundTrip()
            samples.append(nowNanos() - before)
        }
        return Measurement(
            system: curve == nil ? "zmq-raw" : "zmq-raw-curve",
            mode: busyPoll > .zero ? "latency-busy-poll" : "latency",
            samples: samples, elapsed: .now - start, calls: calls)
    }

    /// DEALER→ROUTER echo with `inFlight` messages outstanding; each message carries its send time. With `frames`
    /// above 1, each message is that many frames, the payload in the last (the RPC protocol's shape is 2).
    static func throughput(
        endpoint: String, payload: [UInt8], calls: Int, inFlight: Int, frames: Int = 1, curve: RawCurve? = nil
    ) throws -> Measurement {
        let connection = try RawConnection(ZMQ_DEALER, to: endpoint, curve: curve)
        let socket = connection.socket
        defer { withExtendedLifetime(connection) {} }
        var message = payload
        if message.count < 8 { message += [UInt8](repeating: 0, count: 8 - message.count) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var scratch = [UInt8](repeating: 0, count: 65536)
        func send() {
            var stamp = nowNanos()
            withUnsafeBytes(of: &stamp) { stampBytes in
                message.withUnsafeMutableBytes { $0.copyMemory(from: stampBytes) }
            }
            for _ in 1..<max(1, frames) {
                _ = withUnsafeBytes(of: &stamp) { zmq_send(socket, $0.baseAddress, $0.count, ZMQ_SNDMORE) }
            }
            _ = message.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, 0) }
        }
        func run(_ total: Int, record: Bool) -> [UInt64] {
            var samples = [UInt64]()
            if record { samples.reserveCapacity(total) }
            var sent = 0
            var received = 0
            while sent < min(inFlight, total) {
                send()
                sent += 1
            }
            while received < total {
                guard zmq_recv(socket, &buffer, buffer.count, 0) >= 8 else { continue }
                for _ in 1..<max(1, frames) { _ = zmq_recv(socket, &scratch, scratch.count, 0) }
                received += 1
                if record {
                    let stamp = buffer.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    samples.append(nowNanos() - stamp)
                }
                if sent < total {
                    send()
                    sent += 1
                }
            }
            return samples
        }
        _ = run(min(20_000, calls), record: false)
        let start = ContinuousClock.now
        let samples = run(calls, record: true)
        return Measurement(
            system: curve == nil ? "zmq-raw" : "zmq-raw-curve",
            mode: frames > 1 ? "throughput-\(frames)-frames" : "throughput", samples: samples,
            elapsed: .now - start, calls: calls)
    }
}

/// `rpc-bench raw-server`: a REP echo and a ROUTER echo, in a process of their own. Prints both endpoints.
struct RawServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw-server", abstract: "Serve raw ZeroMQ echoes (used by run).", shouldDisplay: false)

    @Option(help: "Microseconds to look for the next message without blocking before waiting (as the RPC loops).")
    var busyPollMicros = 0

    @Option(
        help: "Serve as a CURVE server with this secret key (Z85); no ZAP handler, so every client key is admitted.")
    var curveSecret: String?

    func run() throws {
        let context = zmq_ctx_new()!
        let rep = zmq_socket(context, ZMQ_REP)!
        let router = zmq_socket(context, ZMQ_ROUTER)!
        var hwm: Int32 = 100_000
        for socket in [rep, router] {
            zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, 4)
            zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, 4)
            if let curveSecret {
                var on: Int32 = 1
                zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &on, 4)
                zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, curveSecret, 40)
            }
        }
        let endpoints = try [rep, router].map(bindLoopback)
        FileHandle.standardOutput.write(Data((endpoints.joined(separator: " ") + "\n").utf8))
        var items = [
            zmq_pollitem_t(socket: rep, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: router, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        let busyPoll = Duration.microseconds(busyPollMicros)
        func poll() -> Bool {
            if busyPoll > .zero {
                let until = ContinuousClock.now + busyPoll
                repeat {
                    if zmq_poll(&items, 2, 0) > 0 { return true }
                    sched_yield()
                } while ContinuousClock.now < until
            }
            return zmq_poll(&items, 2, -1) >= 0
        }
        while true {
            guard poll() else { continue }
            // Echo every frame back as it came (ROUTER: identity first), until nothing is waiting.
            for (index, socket) in [rep, router].enumerated() where items[index].revents & Int16(ZMQ_POLLIN) != 0 {
                while zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) >= 0 {
                    let more = zmq_msg_more(&message) != 0
                    zmq_msg_send(&message, socket, more ? ZMQ_SNDMORE : 0)
                }
            }
        }
    }
}

/// A client socket of its own ZeroMQ context, connected; both closed when it goes (linger 0). Code that uses
/// `socket` keeps the connection alive until it is done (`withExtendedLifetime`).
final class RawConnection {
    let context: UnsafeMutableRawPointer
    let socket: UnsafeMutableRawPointer

    init(_ type: Int32, to endpoint: String, curve: RawCurve? = nil) throws {
        context = zmq_ctx_new()!
        socket = zmq_socket(context, type)!
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, 4)
        if let curve {
            zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, curve.serverPublic, 40)
            zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, curve.clientPublic, 40)
            zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, curve.clientSecret, 40)
        }
        guard zmq_connect(socket, endpoint) == 0 else {
            zmq_close(socket)
            zmq_ctx_term(context)
            throw ValidationError("cannot connect to \(endpoint)")
        }
    }

    deinit {
        zmq_close(socket)
        zmq_ctx_term(context)
    }
}

/// Binds a server socket to a free loopback TCP port; the endpoint bound.
func bindLoopback(_ socket: UnsafeMutableRawPointer) throws -> String {
    guard zmq_bind(socket, "tcp://127.0.0.1:*") == 0 else { throw ValidationError("bind failed") }
    var buffer = [CChar](repeating: 0, count: 256)
    var size = buffer.count
    zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// CURVE keys (Z85) for a raw ZeroMQ client and the server it expects.
struct RawCurve {
    let serverPublic: String
    let clientPublic: String
    let clientSecret: String

    /// A new key pair, (public, secret), from libzmq.
    static func keyPair() -> (String, String) {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        zmq_curve_keypair(&publicKey, &secretKey)
        func text(_ characters: [CChar]) -> String {
            String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return (text(publicKey), text(secretKey))
    }
}
