import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin producer independence`: how independent a group is becoming.
extension ProducerCommand {
    struct Independence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How independent a group is becoming.")
        @Argument var group: String
        @Option(help: "YYYY-MM-DD (default today).") var asOf: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let profile = try await client.getIndependenceProfile(
                    ProducerV1.GetIndependenceProfileRequest(
                        groupID: group, asOf: try asOf.map { try parseDate($0, field: "--as-of") }),
                    options: global.callOptions)
                let name = try? await client.getProducerGroup(
                    ProducerV1.GetProducerGroupRequest(id: profile.groupID), options: global.callOptions
                ).name
                try emit(profile, global) {
                    func percent(_ basisPoints: Int32) -> String { String(format: "%.1f%%", Double(basisPoints) / 100) }
                    var lines = [
                        "independence of \(name.map { "\($0) (\(profile.groupID))" } ?? profile.groupID) as of \(show(profile.asOf))",
                        "largest buyer: \(profile.largestBuyer.isEmpty ? "-" : profile.largestBuyer) with \(percent(profile.largestBuyerShareBp)) of purchases in \(profile.currency.isEmpty ? "-" : profile.currency) (\(profile.buyersCounted) buyer(s) counted, \(profile.buyersExcluded) left out)",
                        "buyer concentration (HHI, 0-10000): \(profile.buyerConcentrationHhi)",
                        "processes done in house: \(percent(profile.inHouseProcessShareBp))",
                        "longest relationship: \(Double(profile.longestRelationshipTenthsOfYears) / 10) years\(profile.longestRelationshipBuyer.isEmpty ? "" : " with \(profile.longestRelationshipBuyer)")",
                    ]
                    var table = Table("SKILL", "LEVEL NOW", "A YEAR AGO", "MEMBERS")
                    for skill in profile.skills {
                        table.add(
                            skill.skill, "\(skill.levelNow)", skill.levelYearAgo < 0 ? "-" : "\(skill.levelYearAgo)",
                            "\(skill.membersHoldingNow)")
                    }
                    if !profile.skills.isEmpty { lines.append(table.render()) }
                    lines.append("how: " + profile.method.joined(separator: "; "))
                    return lines.joined(separator: "\n")
                }
            }
        }
    }
}
