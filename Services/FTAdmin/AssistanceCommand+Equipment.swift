import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance`: equipment and in-kind support given to groups.
extension AssistanceCommand {
    struct AddEquipment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-equipment", abstract: "Record equipment or in-kind support given to a group.")
        @Option(help: "Producer group id.") var group: String
        @Option(help: "What it is.") var description: String
        @Option(parsing: .unconditional, help: "Its value, e.g. \"4500.00 USD\".") var value: String
        @Option(help: "Delivery date.") var delivered: String
        @Option(help: "The project that paid for it.") var project = ""
        @Option(help: "What it replaced.") var replaces = ""
        @Option(
            parsing: .unconditional,
            help: "What the replaced arrangement cost a year, in the value's currency, e.g. \"3000.00 USD\".")
        var yearlyCostReplaced: String?
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var equipment = AssistanceV1.Equipment(
                    groupID: group, projectID: project, description: description,
                    value: try parseAmount(value, field: "--value"),
                    deliveredOn: try parseDate(delivered, field: "--delivered"), replaces: replaces)
                if let yearlyCostReplaced {
                    equipment.yearlyCostReplaced = try parseAmount(yearlyCostReplaced, field: "--yearly-cost-replaced")
                }
                let stored = try await client.recordEquipment(
                    AssistanceV1.RecordEquipmentRequest(
                        equipment: equipment, requestID: requestID ?? RequestID.make()), options: global.callOptions)
                try emit(stored, global) { "\(stored.id)  \(stored.description), \(formatMoney(stored.value))" }
            }
        }
    }

    struct Equipment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List equipment given.")
        @Option(help: "Producer group id.") var group = ""
        @Option(help: "Project id.") var project = ""
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let (rows, next) = try await page.fetch { size, token in
                    let answer = try await client.listEquipment(
                        AssistanceV1.ListEquipmentRequest(
                            groupID: group, projectID: project, pageSize: size, pageToken: token),
                        options: global.callOptions)
                    return (answer.equipment, answer.nextPageToken)
                }
                let response = AssistanceV1.ListEquipmentResponse(equipment: rows, nextPageToken: next)
                let names = await global.pageNames(groups: Set(rows.map(\.groupID)))
                try emit(response, global) {
                    var table = Table("ID", "DELIVERED", "GROUP", "WHAT", "VALUE", "REPLACES", "YEARLY COST REPLACED")
                    for item in response.equipment {
                        table.add(
                            item.id, show(item.deliveredOn), names.label(item.groupID), item.description,
                            formatMoney(item.value),
                            item.replaces, formatMoney(item.yearlyCostReplaced))
                    }
                    return table.render() + moreLine(response.nextPageToken)
                }
            }
        }
    }
}
