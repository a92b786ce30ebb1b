import ArgumentParser

/// `ftadmin`: the admin client of the fair trade system. It calls every service: health, the listing of services
/// and methods, metrics, and any method by name with a JSON request.
@main
struct FTAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftadmin",
        abstract: "Administer the fair trade capacity-building services.",
        discussion: """
            Services are found at their default endpoints (tcp://127.0.0.1:7101 producer, :7102 assistance, \
            :7103 marketplace-info) or at FT_PRODUCER_ENDPOINTS, FT_ASSISTANCE_ENDPOINTS, \
            FT_MARKETPLACE_INFO_ENDPOINTS (comma-separated), or at --endpoint.
            On an error ftadmin prints "error: CODE: message" on stderr and exits non-zero.
            """,
        subcommands: [
            HealthCommand.self, ServicesCommand.self, CallCommand.self, MetricsCommand.self, ProducerCommand.self,
            AssistanceCommand.self, MarketCommand.self, ReportCommand.self, ExamplesCommand.self,
        ])
}
