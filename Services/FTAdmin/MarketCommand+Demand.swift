import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin market`: buyers' demand, matched to producer groups and answered.
extension MarketCommand {
    struct PostDemand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "post-demand", abstract: "Publish a buyer's offer.")
        @Option var buyer: String
        @Option var product: String
        @Option(parsing: .unconditional) var quantity: Int64
        @Option var unit: String = "piece"
        @Option(parsing: .unconditional, help: "Target price per unit, e.g. 12.00.") var price: String?
        @Option var currency: String = "USD"
        @Option(help: "YYYY-MM-DD.") var neededBy: String
        @Option(help: "A country the buyer sources from (repeatable).") var country: [String] = []
        func validate() throws { try checkCountries(country) }
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let signal = try await client.postDemand(
                    MarketplaceV1.PostDemandRequest(
                        signal: MarketplaceV1.DemandSignal(
                            buyer: buyer, product: product,
                            quantity: MarketplaceV1.DemandQuantity(amount: quantity, unit: unit),
                            targetPrice: try price.map { try parseMoney($0, currency: currency, field: "--price") },
                            neededBy: try parseDate(neededBy, field: "--needed-by"), countries: country),
                        requestID: RequestID.make()), options: global.callOptions)
                try emit(signal, global) { "posted \(signal.id)" }
            }
        }
    }

    struct Demand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open and matched demand.")
        @Option var product: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listDemand(
                    MarketplaceV1.ListDemandRequest(product: product), options: global.callOptions)
                try emit(response, global) {
                    var table = Table(
                        "ID", "BUYER", "PRODUCT", "QUANTITY", "TARGET PRICE", "NEEDED BY", "COUNTRIES", "STATUS")
                    for signal in response.signals {
                        table.add(
                            signal.id, signal.buyer, signal.product,
                            "\(signal.quantity?.amount ?? 0) \(signal.quantity?.unit ?? "")",
                            formatMoney(signal.targetPrice),
                            show(signal.neededBy), signal.countries.joined(separator: ","), short(signal.status))
                    }
                    return table.render()
                }
            }
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find producer groups for a demand signal.")
        @Argument var signal: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.matchDemand(
                    MarketplaceV1.MatchDemandRequest(signalID: signal, requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(response, global) {
                    var table = Table("GROUP", "NAME", "COUNTRY", "WHY")
                    for match in response.matches {
                        table.add(match.groupID, match.groupName, match.country, match.reasons.joined(separator: "; "))
                    }
                    return response.matches.isEmpty ? "no producer group fits yet" : table.render()
                }
            }
        }
    }

    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer a demand signal for a producer group.")
        @Argument var signal: String
        @Option var group: String
        @Option(parsing: .unconditional, help: "Offered price per unit.") var price: String?
        @Option var currency: String = "USD"
        @Option(parsing: .unconditional) var quantity: Int64?
        @Option var unit: String = "piece"
        @Option var message: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let answer = try await client.answerDemand(
                    MarketplaceV1.AnswerDemandRequest(
                        answer: MarketplaceV1.DemandAnswer(
                            signalID: signal, groupID: group,
                            offeredPrice: try price.map { try parseMoney($0, currency: currency, field: "--price") },
                            quantity: quantity.map { MarketplaceV1.DemandQuantity(amount: $0, unit: unit) },
                            message: message),
                        requestID: RequestID.make()), options: global.callOptions)
                try emit(answer, global) { "answered: \(answer.id)" }
            }
        }
    }

    struct Answers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answers to a demand signal.")
        @Argument var signal: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listDemandAnswers(
                    MarketplaceV1.ListDemandAnswersRequest(signalID: signal), options: global.callOptions)
                let names = await global.pageNames(groups: Set(response.answers.map(\.groupID)))
                try emit(response, global) {
                    var table = Table("ID", "GROUP", "PRICE", "QUANTITY", "MESSAGE")
                    for answer in response.answers {
                        table.add(
                            answer.id, names.label(answer.groupID), formatMoney(answer.offeredPrice),
                            answer.quantity.map { "\($0.amount) \($0.unit)" } ?? "", answer.message)
                    }
                    return table.render()
                }
            }
        }
    }

    struct CloseDemand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close-demand", abstract: "Mark demand fulfilled or withdrawn.")
        @Argument var signal: String
        @Option(help: "fulfilled or withdrawn.") var status: MarketplaceV1.DemandStatus
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let updated = try await client.setDemandStatus(
                    MarketplaceV1.SetDemandStatusRequest(
                        signalID: signal, status: status,
                        requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(updated, global) { "\(updated.id) is \(short(updated.status))" }
            }
        }
    }
}
