import API
import ArgumentParser
import Schema

/// The schema's enums as typed command-line values: written as their short names (`womens-group`; the full
/// `GROUP_KIND_WOMENS_GROUP` and underscores are read too), listed by `--help`, and a wrong one refused by the
/// parser naming the allowed values.
protocol CommandLineEnum: ProtoEnum, ExpressibleByArgument {}

extension CommandLineEnum {
    public init?(argument: String) {
        guard let value = try? parseEnum(argument, Self.self, field: "") else { return nil }
        self = value
    }

    public static var allValueStrings: [String] { allCases.dropFirst().map { short($0) } }

    public var defaultValueDescription: String { short(self) }
}

extension ProducerV1.GroupKind: CommandLineEnum {}
extension ProducerV1.GroupStatus: CommandLineEnum {}
extension ProducerV1.RelationshipKind: CommandLineEnum {}
extension ProducerV1.ConnectionKind: CommandLineEnum {}
extension ProducerV1.ContactKind: CommandLineEnum {}
extension ProducerV1.ImportMode: CommandLineEnum {}
extension AssistanceV1.OrganisationKind: CommandLineEnum {}
extension AssistanceV1.OrganisationRole: CommandLineEnum {}
extension AssistanceV1.ProjectStatus: CommandLineEnum {}
extension AssistanceV1.TransactionType: CommandLineEnum {}
extension AssistanceV1.ReferralOutcome: CommandLineEnum {}
extension AssistanceV1.ResultLevel: CommandLineEnum {}
extension AssistanceV1.Measure: CommandLineEnum {}
extension MarketplaceV1.MarketKind: CommandLineEnum {}
extension MarketplaceV1.SalesChannel: CommandLineEnum {}
extension MarketplaceV1.PartnerGrouping: CommandLineEnum {}
extension MarketplaceV1.PriceType: CommandLineEnum {}
extension MarketplaceV1.DemandStatus: CommandLineEnum {}
extension MarketplaceV1.AuthorKind: CommandLineEnum {}
extension MarketplaceV1.MemberKind: CommandLineEnum {}
