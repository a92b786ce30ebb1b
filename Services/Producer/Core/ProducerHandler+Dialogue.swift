import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: dialogue.
extension ProducerHandler {
    public func logContact(_ request: ProducerV1.LogContactRequest, context: ServerContext) async throws
        -> ProducerV1.DialogueContact
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var contact = request.contact ?? ProducerV1.DialogueContact()
        check.id(contact.groupID, "contact.group_id", ProducerGroupID.self)
        contact.organisation = check.text(contact.organisation, "contact.organisation", required: true)
        _ = check.date(contact.contactDate, "contact.contact_date")
        check.specified(contact.kind, "contact.kind")
        contact.topics = contact.topics.enumerated().map { index, topic in
            let clean = check.text(topic, "contact.topics[\(index)]", required: true, maxLength: 100)
            if clean.contains("\n") { check.fail("contact.topics[\(index)]", "must be one line") }
            return clean
        }
        contact.summary = check.text(contact.summary, "contact.summary", maxLength: 5000)
        for index in contact.followUps.indices {
            contact.followUps[index].description = check.text(
                contact.followUps[index].description, "contact.follow_ups[\(index)].description", required: true,
                maxLength: 1000)
            _ = check.date(contact.followUps[index].dueOn, "contact.follow_ups[\(index)].due_on")
        }
        try check.check()
        let checked = try Checked(contact, day: contact.contactDate, "contact.contact_date")
        let dueDays = try contact.followUps.enumerated().map { index, followUp in
            try followUp.dueOn.day("contact.follow_ups[\(index)].due_on")
        }
        return try await storage { try await store.logContact(checked, dueOn: dueDays, requestID: request.requestID) }
    }

    public func listContacts(_ request: ProducerV1.ListContactsRequest, context: ServerContext) async throws
        -> ProducerV1.ListContactsResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", ProducerGroupID.self)
        return ProducerV1.ListContactsResponse(
            contacts: try await storage { try await store.listContacts(groupID: groupID) })
    }

    public func listOverdueFollowUps(_ request: ProducerV1.ListOverdueFollowUpsRequest, context: ServerContext)
        async throws -> ProducerV1.ListOverdueFollowUpsResponse
    {
        var check = FieldValidator()
        let asOf = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        return ProducerV1.ListOverdueFollowUpsResponse(
            followUps: try await storage {
                try await store.overdueFollowUps(asOf: asOf, organisation: request.organisation.trimmingWhitespace())
            })
    }

    public func completeFollowUp(_ request: ProducerV1.CompleteFollowUpRequest, context: ServerContext) async throws
        -> ProducerV1.FollowUp
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let followUpID = check.id(request.followUpID, "follow_up_id", FollowUpID.self)
        let doneOn = check.date(request.doneOn, "done_on", required: false) ?? ISODate.today()
        try check.check()
        let id = try followUpID.checked("follow_up_id")
        return try await storage {
            try await store.completeFollowUp(id: id, doneOn: doneOn, requestID: request.requestID)
        }
    }
}
