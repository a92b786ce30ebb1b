import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves the process's metrics in Prometheus's text format (version 0.0.4) over HTTP/1.1, on swift-nio's HTTP/1
/// server: `GET /metrics`. Off unless `--metrics-endpoint HOST:PORT` is given. It answers what a scraper needs and
/// nothing else: other paths are 404, other methods 405. The figures hold no record of the field's data (counts,
/// latencies, connections), which is why it is plain HTTP; bind it where only the monitoring host reaches it.
public struct MetricsEndpoint: Service {
    let channel: any Channel
    let logger: Logger

    /// The address it listens on, with the port chosen when 0 was asked for.
    public var address: String {
        guard let local = channel.localAddress, let port = local.port else { return "?" }
        return "\(local.ipAddress ?? "?"):\(port)"
    }

    /// Binds `host:port` (an error naming it when it cannot), ready to serve once `run()` starts.
    public static func bind(
        _ endpoint: HostAndPort, registry: PrometheusCollectorRegistry, logger: Logger
    ) async throws -> MetricsEndpoint {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(registry: registry))
                    }
                }
                .bind(host: endpoint.host, port: endpoint.port).get()
            let bound = MetricsEndpoint(channel: channel, logger: logger)
            logger.info("serving metrics", metadata: ["metrics_endpoint": "http://\(bound.address)/metrics"])
            return bound
        } catch {
            throw ServiceStartError("cannot serve metrics on \(endpoint): \(error)")
        }
    }

    /// Serves until the process shuts down gracefully, then stops listening.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// `host:port`, as `--metrics-endpoint` takes it (`10.0.0.11:9101`, `[::1]:9101`, `0.0.0.0:9101`).
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; nil when it is not one (the caller names the flag).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A process could not start one of its parts; the message says which and why.
public struct ServiceStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One HTTP/1.1 request at a time per connection: the metrics for `GET /metrics` (and `HEAD`), 404 or 405 else.
final class MetricsRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        var body: [UInt8]
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            status = .ok
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            body = registry.emitToBuffer()
        case (_, "/metrics"):
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
            body = Array("only GET and HEAD are served here\n".utf8)
        default:
            status = .notFound
            body = Array("not found: the metrics are at /metrics\n".utf8)
        }
        if status != .ok { headers.add(name: "Content-Type", value: "text/plain; charset=utf-8") }
        headers.add(name: "Content-Length", value: String(body.count))
        if head.method == .HEAD { body = [] }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if !body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
