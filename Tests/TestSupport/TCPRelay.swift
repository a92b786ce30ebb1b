import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP relay on loopback that forwards every connection to `target` and keeps a copy of every byte that crosses
/// it, both ways: what an eavesdropper on the wire between a client and a service would read.
public final class TCPRelay: @unchecked Sendable {
    public let port: Int
    public var endpoint: String { "tcp://127.0.0.1:\(port)" }
    private let listener: Int32
    private let targetPort: UInt16
    private let captured = Mutex<[UInt8]>([])
    private let stopped = Atomic<Bool>(false)
    private let delay: Duration

    /// Relays to the loopback TCP port of `target` (`tcp://127.0.0.1:PORT`), holding back the bytes of each new
    /// connection for `delay` first: a server slow to take connections, as on a loaded machine.
    public init(to target: String, delayingConnections delay: Duration = .zero) throws {
        self.delay = delay
        guard let targetPort = target.split(separator: ":").last.flatMap({ UInt16($0) }) else {
            throw CocoaError(.fileReadInvalidFileName, userInfo: [NSLocalizedDescriptionKey: "no port in \(target)"])
        }
        self.targetPort = targetPort
        let port = freeLoopbackPort()
        self.port = port
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(UInt16(port))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "relay cannot listen on \(port)"])
        }
        Thread { [self] in acceptLoop() }.start()
    }

    /// Every byte relayed so far, both directions in the order they came.
    public var bytes: [UInt8] { captured.withLock { $0 } }

    /// Whether `text` crossed the relay in clear.
    public func saw(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        let haystack = bytes
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { if !stopped.load(ordering: .relaxed) { stop() } }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            Thread { [self] in
                usleep(useconds_t(delay / .microseconds(1)))
                pump(client, server)
            }.start()
        }
    }

    /// Copies bytes both ways until either side closes.
    private func pump(_ a: Int32, _ b: Int32) {
        defer {
            close(a)
            close(b)
        }
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopped.load(ordering: .relaxed) {
            guard poll(&fds, 2, 200) >= 0 else { return }
            for (index, item) in fds.enumerated() where item.revents != 0 {
                let count = read(item.fd, &buffer, buffer.count)
                guard count > 0 else { return }
                captured.withLock { $0.append(contentsOf: buffer[0..<count]) }
                let other = index == 0 ? b : a
                var sent = 0
                while sent < count {
                    let written = buffer[sent..<count].withUnsafeBytes { write(other, $0.baseAddress, $0.count) }
                    guard written > 0 else { return }
                    sent += written
                }
            }
        }
    }
}
