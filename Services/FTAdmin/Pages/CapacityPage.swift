import API
import Domain
import Foundation
import Schema

/// `ftadmin report capacity GROUP --html`: one group's capacity as a page a donor or board can read.
struct CapacityPage {
    let report: AssistanceV1.CapacityReport
    let names: PageNames
    let alerts: [MarketplaceV1.PriceAlert]

    var html: String {
        let producer = report.producer ?? AssistanceV1.ProducerSection()
        let groupName = producer.profile?.name ?? report.market?.bulletin?.groupName ?? names.group(report.groupID)
        let when = show(time: report.generatedAt)
        var page = HTMLPage(title: "Capacity report: \(groupName)", subtitle: "Generated \(when)")
        func source(_ status: AssistanceV1.SectionStatus?, _ fallback: String) -> (String, String?) {
            let service = status?.service.isEmpty == false ? status!.service : fallback
            let unavailable =
                status?.available == false ? "\(status!.service) answered \(status!.code): \(status!.reason)" : nil
            return ("From \(service), \(when).", unavailable)
        }
        let (producerSource, producerDown) = source(producer.status, "producer-service")
        page.section(
            "Profile and members", id: "profile", source: producerSource, unavailable: producerDown, profile(producer))
        page.section(
            "Skills over time", id: "skills", source: producerSource, unavailable: producerDown, skills(producer))
        page.section("Buyers", id: "buyers", source: producerSource, unavailable: producerDown, buyers(producer))
        let assistance = report.assistance ?? AssistanceV1.AssistanceSection()
        let (assistanceSource, assistanceDown) = source(assistance.status, "assistance-service")
        page.section(
            "Assistance per year", id: "assistance", source: assistanceSource, unavailable: assistanceDown,
            money(assistance))
        page.section(
            "Trainings and their cascade", id: "trainings", source: assistanceSource, unavailable: assistanceDown,
            trainings(assistance))
        page.section(
            "Results against targets", id: "results", source: assistanceSource, unavailable: assistanceDown,
            results(assistance.results))
        let (marketSource, marketDown) = source(report.market?.status, "marketplace-info-service")
        let bulletin = report.market?.bulletin ?? MarketplaceV1.MarketBulletin()
        page.section(
            "Prices of the group's crafts", id: "prices", source: marketSource, unavailable: marketDown,
            prices(bulletin))
        page.section(
            "Demand the group matches", id: "demand", source: marketSource, unavailable: marketDown, demand(bulletin))
        return page.html
    }
}
