import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

extension ProducerCommand {
    struct UpdateBuyer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-buyer",
            abstract: "Change a buyer relationship: its kind, yearly purchases or notes, or end it (--ended).")
        @Argument(help: "Producer group id.") var group: String
        @Argument(help: "The relationship's id (br_…), as `buyers` lists it.") var relationship: String
        @Option(help: "Kind.") var kind: ProducerV1.RelationshipKind?
        @Option(parsing: .unconditional, help: "Yearly purchases, e.g. 12000.00.") var purchases: String?
        @Option(help: "ISO 4217 currency of the purchases (default: the one recorded, else USD).") var currency: String?
        @Option(help: "The day the relationship ended, YYYY-MM-DD.") var ended: String?
        @Option(help: "Notes (replace those recorded).") var notes: String?
        @Option(help: "Request id, so that a retried update is applied once (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let listed = try await client.listBuyerRelationships(
                    ProducerV1.ListBuyerRelationshipsRequest(groupID: group), options: global.callOptions)
                guard var changed = listed.relationships.first(where: { $0.id == relationship }) else {
                    throw CommandFailure(
                        description: "NOT_FOUND: group \(group) has no buyer relationship \"\(relationship)\"")
                }
                if let kind { changed.kind = kind }
                if let purchases {
                    changed.yearlyPurchases = try parseMoney(
                        purchases, currency: currency ?? changed.yearlyPurchases?.currency ?? "USD",
                        field: "--purchases")
                }
                if let ended { changed.endedOn = try parseDate(ended, field: "--ended") }
                if let notes { changed.notes = notes }
                let updated = try await client.updateBuyerRelationship(
                    ProducerV1.UpdateBuyerRelationshipRequest(
                        relationship: changed, requestID: requestID ?? RequestID.make()), options: global.callOptions)
                try emit(updated, global) {
                    "updated \(updated.id): \(updated.organisation), \(short(updated.kind)), "
                        + "\(formatMoney(updated.yearlyPurchases))/year"
                        + (updated.endedOn.map { ", ended \(show($0))" } ?? "")
                }
            }
        }
    }
}

extension AssistanceCommand {
    struct Organisation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organisation.")
        @Argument(help: "Organisation id (og_…).") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let organisation = try await client.getOrganisation(
                    A.GetOrganisationRequest(id: id), options: global.callOptions)
                try emit(organisation, global) {
                    [
                        "\(organisation.id)  \(organisation.name)", "kind: \(short(organisation.kind))",
                        "country: \(organisation.country)",
                        "IATI identifier: \(organisation.iatiIdentifier.isEmpty ? "none" : organisation.iatiIdentifier)",
                    ].joined(separator: "\n") + (organisation.notes.isEmpty ? "" : "\nnotes: \(organisation.notes)")
                }
            }
        }
    }
}

extension MarketCommand {
    struct Practice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a library entry (a lesson or best practice).")
        @Argument(help: "Library entry id (le_…), as `search` lists it.") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let entry = try await client.getLibraryEntry(
                    MarketplaceV1.GetLibraryEntryRequest(id: id), options: global.callOptions)
                try emit(entry, global) {
                    var lines = [
                        entry.title, "by \(entry.author) (\(short(entry.authorKind))), \(show(day: entry.createdAt))",
                        "crafts: \(entry.crafts.joined(separator: ", "))  topics: \(entry.topics.joined(separator: ", "))",
                        "", entry.body,
                    ]
                    if !entry.evidence.isEmpty { lines += ["", "evidence:"] + entry.evidence.map { "- \($0)" } }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members of a discussion group.")
        @Argument(help: "Discussion group id (dg_…), as `groups` lists it.") var group: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listMembers(
                    MarketplaceV1.ListMembersRequest(groupID: group), options: global.callOptions)
                // Producer groups are members by id: their names beside.
                let names = await global.pageNames(
                    groups: Set(response.members.filter { $0.kind == .producerGroup }.map(\.member)))
                try emit(response, global) {
                    var table = Table("MEMBER", "NAME", "KIND", "JOINED")
                    for member in response.members {
                        let name = member.kind == .producerGroup ? names.groups[member.member] ?? "" : member.member
                        table.add(member.member, name, short(member.kind), show(day: member.joinedAt))
                    }
                    return response.members.isEmpty ? "no members yet" : table.render()
                }
            }
        }
    }
}

extension MarketCommand {
    struct ListPartners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-partners", abstract: "List retail partners (shops, importers, catalogues), filtered.")
        @Option(help: "Only the partners of this organisation.") var buyer: String = ""
        @Option(help: "Only those in this country (ISO 3166-1 alpha-2).") var country: String = ""
        @Option(help: "Only those of this sales channel.") var channel: MarketplaceV1.SalesChannel?
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws { try checkCountries(country.isEmpty ? [] : [country]) }

        func run() async throws {
            try await withMarket(self, global) { client in
                let (partners, next) = try await page.fetch { size, token in
                    let answer = try await client.listRetailPartners(
                        MarketplaceV1.ListRetailPartnersRequest(
                            buyerOrganisation: buyer, country: country.uppercased(),
                            channel: channel ?? .unspecified, pageSize: size, pageToken: token),
                        options: global.callOptions)
                    return (answer.partners, answer.nextPageToken)
                }
                let response = MarketplaceV1.ListRetailPartnersResponse(partners: partners, nextPageToken: next)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "PARTNER OF", "COUNTRY", "REGION", "CHANNEL", "OUTLETS")
                    for partner in partners {
                        table.add(
                            partner.id, partner.name, partner.buyerOrganisation, partner.country, partner.region,
                            short(partner.channel), String(partner.outlets))
                    }
                    return partners.isEmpty ? "no partners" : table.render() + moreLine(next)
                }
            }
        }
    }
}
