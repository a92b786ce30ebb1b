import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: validation.
extension ProducerHandler {
    /// A clean copy of `input` for storage, with every problem reported to `check` under `prefix`; only the
    /// fields in `only` are checked (all when nil).
    static func validated(
        _ input: Group, prefix: String, _ check: inout FieldValidator, only: Set<String>? = nil
    ) -> Group {
        func wanted(_ field: String) -> Bool { only?.contains(field) ?? true }
        func field(_ name: String) -> String { "\(prefix).\(name)" }
        var group = input
        // The service keeps these; what a caller sends is ignored.
        group.fieldSources = []
        if wanted("name") { group.name = check.text(input.name, field("name"), required: true) }
        if wanted("local_name") { group.localName = check.text(input.localName, field("local_name")) }
        if wanted("kind") { check.specified(input.kind, field("kind")) }
        if wanted("country") { group.country = check.country(input.country, field("country")) }
        if wanted("region") { group.region = check.text(input.region, field("region"), maxLength: 100) }
        for (name, list) in [
            ("crafts", input.crafts), ("processes_in_house", input.processesInHouse),
            ("processes_outsourced", input.processesOutsourced),
        ] where wanted(name) {
            let clean = ProducerStore.union(
                list.enumerated().map { index, value in
                    check.text(value, field("\(name)[\(index)]"), required: true, maxLength: 60).lowercased()
                }, [])
            switch name {
            case "crafts": group.crafts = clean
            case "processes_in_house": group.processesInHouse = clean
            default: group.processesOutsourced = clean
            }
        }
        if wanted("members"), let members = input.members {
            check.nonNegative(members.women, field("members.women"))
            check.nonNegative(members.men, field("members.men"))
            check.nonNegative(members.other, field("members.other"))
        }
        if wanted("founded_year") && input.foundedYear != 0 {
            check.range(input.foundedYear, 1800...Int32(ISODate.today().year), field("founded_year"))
        }
        if wanted("contact"), let contact = input.contact {
            if !contact.email.isEmpty && !(contact.email.contains("@") && contact.email.contains(".")) {
                check.fail(field("contact.email"), "\"\(contact.email)\" is not an email address")
            }
        }
        if wanted("certifications") {
            for (index, certification) in input.certifications.enumerated() {
                _ = check.text(certification.scheme, field("certifications[\(index)].scheme"), required: true)
                _ = check.date(certification.validUntil, field("certifications[\(index)].valid_until"), required: false)
            }
        }
        if wanted("minimum_order"), let order = input.minimumOrder {
            check.nonNegative(order.amount, field("minimum_order.amount"))
            if order.amount > 0 && order.unit.trimmingWhitespace().isEmpty {
                check.fail(field("minimum_order.unit"), "is required with an amount (e.g. \"piece\", \"kg\")")
            }
        }
        if wanted("lead_time_days") { check.range(input.leadTimeDays, 0...730, field("lead_time_days")) }
        if wanted("notes") { group.notes = check.text(input.notes, field("notes"), maxLength: 5000) }
        return group
    }

    /// `group`'s member counts with the ones given replaced.
    static func memberCounts(
        of group: Group, women: Int32? = nil, men: Int32? = nil, other: Int32? = nil
    ) -> ProducerV1.MemberCounts {
        var members = group.members ?? ProducerV1.MemberCounts()
        if let women { members.women = women }
        if let men { members.men = men }
        if let other { members.other = other }
        return members
    }

    static func copy(_ field: String, from source: Group, to group: inout Group) {
        switch field {
        case "name": group.name = source.name
        case "local_name": group.localName = source.localName
        case "kind": group.kind = source.kind
        case "country": group.country = source.country
        case "region": group.region = source.region
        case "crafts": group.crafts = source.crafts
        case "processes_in_house": group.processesInHouse = source.processesInHouse
        case "processes_outsourced": group.processesOutsourced = source.processesOutsourced
        case "members": group.members = source.members
        case "members.women": group.members = memberCounts(of: group, women: source.members?.women ?? 0)
        case "members.men": group.members = memberCounts(of: group, men: source.members?.men ?? 0)
        case "members.other": group.members = memberCounts(of: group, other: source.members?.other ?? 0)
        case "founded_year": group.foundedYear = source.foundedYear
        case "contact": group.contact = source.contact
        case "certifications": group.certifications = source.certifications
        case "minimum_order": group.minimumOrder = source.minimumOrder
        case "lead_time_days": group.leadTimeDays = source.leadTimeDays
        case "status": group.status = source.status
        case "notes": group.notes = source.notes
        default: break
        }
    }
}
