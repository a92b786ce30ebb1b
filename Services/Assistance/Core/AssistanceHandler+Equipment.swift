import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: equipment.
extension AssistanceHandler {
    public func recordEquipment(_ request: AssistanceV1.RecordEquipmentRequest, context: ServerContext) async throws
        -> AssistanceV1.Equipment
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var equipment = request.equipment ?? AssistanceV1.Equipment()
        check.id(equipment.groupID, "equipment.group_id", ProducerGroupID.self)
        check.id(equipment.projectID, "equipment.project_id", ProjectID.self, required: false)
        equipment.description = check.text(equipment.description, "equipment.description", required: true)
        let value = check.money(equipment.value, "equipment.value", positive: true)
        equipment.value = value?.message ?? equipment.value
        Self.notInFuture(check.date(equipment.deliveredOn, "equipment.delivered_on"), "equipment.delivered_on", &check)
        equipment.replaces = check.text(equipment.replaces, "equipment.replaces", maxLength: 500)
        if let replaced = equipment.yearlyCostReplaced {
            let cost = check.money(replaced, "equipment.yearly_cost_replaced", positive: false)
            equipment.yearlyCostReplaced = cost?.message ?? replaced
            if let value, let cost, cost.currency != value.currency {
                check.fail(
                    "equipment.yearly_cost_replaced.currency",
                    "must be the value's currency \(value.currency), got \(cost.currency): amounts are never mixed")
            }
        }
        equipment.notes = check.text(equipment.notes, "equipment.notes", maxLength: 2000)
        try check.check()
        equipment.groupID = try await producer.requireGroup(
            equipment.groupID, field: "equipment.group_id",
            purpose: "recording equipment for a producer group"
        ).id
        let checked = try Checked(equipment, day: equipment.deliveredOn, "equipment.delivered_on")
        return try await storage { try await store.recordEquipment(checked, requestID: request.requestID) }
    }

    public func listEquipment(_ request: AssistanceV1.ListEquipmentRequest, context: ServerContext) async throws
        -> AssistanceV1.ListEquipmentResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, EquipmentID.self, of: "ListEquipment")
        var filter = SQLConditions()
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        filter.equal(
            "project_id", try FieldValidator.filter(request.projectID, "project_id", ProjectID.self)?.text ?? "")
        let (rows, next) = try await storage {
            try await store.database.page(
                "equipment", filter, sortColumn: "day", after: after, limit: limit, as: AssistanceV1.Equipment.self)
        }
        return AssistanceV1.ListEquipmentResponse(equipment: rows, nextPageToken: Self.token(next))
    }
}
