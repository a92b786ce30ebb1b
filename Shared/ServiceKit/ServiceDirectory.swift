import Foundation

/// Where each service of the system listens by default, and the environment variable that overrides it.
///
/// Services use it to find each other and `ftadmin` uses it to find them all. Endpoint lists are comma-separated,
/// one entry per instance: `FT_PRODUCER_ENDPOINTS=tcp://10.0.0.5:7101,tcp://10.0.0.6:7101`.
public struct ServiceAddress: Sendable, Hashable {
    /// Short name used on the command line, e.g. `"producer"`.
    public let shortName: String
    /// The executable, e.g. `"producer-service"`.
    public let executable: String
    /// The fully qualified name of the service's main RPC service.
    public let rpcService: String
    public let defaultEndpoint: String
    public let environmentVariable: String
    /// Where a service that publishes live events binds its PUB socket by default (nil: it publishes none).
    public var defaultEventEndpoint: String? = nil

    /// The environment variable listing every instance's event endpoints, e.g. FT_MARKETPLACE_INFO_EVENTS_ENDPOINTS.
    public var eventEnvironmentVariable: String {
        environmentVariable.replacingOccurrences(of: "_ENDPOINTS", with: "_EVENTS_ENDPOINTS")
    }

    /// Endpoints from the environment, or the default.
    public func endpoints(environment: [String: String]) -> [String] {
        if let value = environment[environmentVariable], !value.isEmpty {
            return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return [defaultEndpoint]
    }
}

public enum ServiceDirectory {
    public static let producer = ServiceAddress(
        shortName: "producer", executable: "producer-service", rpcService: "fairtrade.producer.v1.ProducerService",
        defaultEndpoint: "tcp://127.0.0.1:7101", environmentVariable: "FT_PRODUCER_ENDPOINTS")
    public static let assistance = ServiceAddress(
        shortName: "assistance", executable: "assistance-service",
        rpcService: "fairtrade.assistance.v1.AssistanceService", defaultEndpoint: "tcp://127.0.0.1:7102",
        environmentVariable: "FT_ASSISTANCE_ENDPOINTS")
    public static let marketplaceInfo = ServiceAddress(
        shortName: "marketplace-info", executable: "marketplace-info-service",
        rpcService: "fairtrade.marketplace.v1.MarketplaceInfoService", defaultEndpoint: "tcp://127.0.0.1:7103",
        environmentVariable: "FT_MARKETPLACE_INFO_ENDPOINTS", defaultEventEndpoint: "tcp://127.0.0.1:7113")

    public static let all = [producer, assistance, marketplaceInfo]

    /// The service with this short name, executable name, or RPC service name.
    public static func find(_ name: String) -> ServiceAddress? {
        all.first { $0.shortName == name || $0.executable == name || $0.rpcService == name }
    }
}

extension ServiceAddress {
    public static var producer: ServiceAddress { ServiceDirectory.producer }
    public static var assistance: ServiceAddress { ServiceDirectory.assistance }
    public static var marketplaceInfo: ServiceAddress { ServiceDirectory.marketplaceInfo }
}
