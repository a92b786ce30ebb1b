import Domain
import Schema

/// Producer groups as spreadsheet rows: the columns of `ImportProducerGroups` and `ExportProducerGroups` (see
/// producer.proto), read into a group cell by cell and written from one.
enum GroupCSV {
    typealias Group = ProducerV1.ProducerGroup

    /// Every column, in the order an export writes them.
    static let columns = [
        "id", "version", "name", "local_name", "kind", "country", "region", "crafts", "processes_in_house",
        "processes_outsourced", "members_women", "members_men", "members_other", "founded_year", "contact_person",
        "contact_phone", "contact_email", "contact_address", "certifications", "minimum_order_amount",
        "minimum_order_unit", "lead_time_days", "status", "notes",
    ]

    /// The ProducerGroup field each column writes (an update's changed field).
    static let fieldOfColumn: [String: String] = [
        "name": "name", "local_name": "local_name", "kind": "kind", "country": "country", "region": "region",
        "crafts": "crafts", "processes_in_house": "processes_in_house", "processes_outsourced": "processes_outsourced",
        "members_women": "members", "members_men": "members", "members_other": "members",
        "founded_year": "founded_year", "contact_person": "contact", "contact_phone": "contact",
        "contact_email": "contact", "contact_address": "contact", "certifications": "certifications",
        "minimum_order_amount": "minimum_order", "minimum_order_unit": "minimum_order",
        "lead_time_days": "lead_time_days", "status": "status", "notes": "notes",
    ]

    /// A group's cells, in `columns` order.
    static func cells(_ group: Group) -> [String] {
        let members = group.members ?? ProducerV1.MemberCounts()
        let contact = group.contact ?? ProducerV1.ContactDetails()
        return [
            group.id, String(group.version), group.name, group.localName, CSV.cell(group.kind), group.country,
            group.region, group.crafts.joined(separator: "; "), group.processesInHouse.joined(separator: "; "),
            group.processesOutsourced.joined(separator: "; "), String(members.women), String(members.men),
            String(members.other), group.foundedYear == 0 ? "" : String(group.foundedYear), contact.person,
            contact.phone, contact.email, contact.address,
            group.certifications.map(certificationCell).joined(separator: "; "),
            group.minimumOrder.map { String($0.amount) } ?? "", group.minimumOrder?.unit ?? "",
            String(group.leadTimeDays), CSV.cell(group.status), group.notes,
        ]
    }

    /// "scheme|reference|valid until", the empty tail left off.
    static func certificationCell(_ certification: ProducerV1.Certification) -> String {
        var parts = [certification.scheme, certification.reference]
        if let date = certification.validUntil.flatMap(ISODate.init) { parts.append(date.description) }
        while parts.last?.isEmpty == true { parts.removeLast() }
        return parts.joined(separator: "|")
    }

    /// Writes the row's non-empty cells into `group`. Cells that cannot be read go to `check`; what the values
    /// mean is checked afterwards, as for any group.
    static func apply(_ cells: [String: String], to group: inout Group, _ check: inout CSV.RowCheck) {
        func fail(_ column: String, _ message: String) { check.unreadable(column, message) }
        func number<N: FixedWidthInteger>(_ column: String, _: N.Type) -> N? {
            check.number(cells[column], column: column, as: N.self)
        }
        func list(_ column: String) -> [String]? { CSV.RowCheck.list(cells[column]) }
        func enumValue<E: ProtoEnum>(_ column: String, _: E.Type, allowed: [E]? = nil) -> E? {
            check.enumValue(cells[column], column: column, among: allowed)
        }

        if let value = cells["name"], !value.isEmpty { group.name = value }
        if let value = cells["local_name"], !value.isEmpty { group.localName = value }
        if let kind = enumValue("kind", ProducerV1.GroupKind.self) { group.kind = kind }
        if let value = cells["country"], !value.isEmpty { group.country = value }
        if let value = cells["region"], !value.isEmpty { group.region = value }
        if let crafts = list("crafts") { group.crafts = crafts }
        if let processes = list("processes_in_house") { group.processesInHouse = processes }
        if let processes = list("processes_outsourced") { group.processesOutsourced = processes }
        var members = group.members ?? ProducerV1.MemberCounts()
        if let women = number("members_women", Int32.self) { members.women = women }
        if let men = number("members_men", Int32.self) { members.men = men }
        if let other = number("members_other", Int32.self) { members.other = other }
        if members != (group.members ?? ProducerV1.MemberCounts()) { group.members = members }
        if let year = number("founded_year", Int32.self) { group.foundedYear = year }
        var contact = group.contact ?? ProducerV1.ContactDetails()
        if let value = cells["contact_person"], !value.isEmpty { contact.person = value }
        if let value = cells["contact_phone"], !value.isEmpty { contact.phone = value }
        if let value = cells["contact_email"], !value.isEmpty { contact.email = value }
        if let value = cells["contact_address"], !value.isEmpty { contact.address = value }
        if contact != (group.contact ?? ProducerV1.ContactDetails()) { group.contact = contact }
        if let entries = list("certifications") {
            group.certifications = entries.compactMap { entry in
                let parts = entry.split(separator: "|", omittingEmptySubsequences: false).map {
                    String($0).trimmingWhitespace()
                }
                guard parts.count <= 3 else {
                    fail("certifications", "\"\(entry)\" has more than scheme|reference|valid until")
                    return nil
                }
                var certification = ProducerV1.Certification(scheme: parts[0])
                if parts.count > 1 { certification.reference = parts[1] }
                if parts.count > 2 && !parts[2].isEmpty {
                    guard let date = ISODate(iso: parts[2]) else {
                        fail("certifications", "\"\(parts[2])\" is not a date (YYYY-MM-DD)")
                        return nil
                    }
                    certification.validUntil = date.message
                }
                return certification
            }
        }
        var order = group.minimumOrder ?? ProducerV1.Quantity()
        if let amount = number("minimum_order_amount", Int64.self) { order.amount = amount }
        if let unit = cells["minimum_order_unit"], !unit.isEmpty { order.unit = unit }
        if order != (group.minimumOrder ?? ProducerV1.Quantity()) { group.minimumOrder = order }
        if let days = number("lead_time_days", Int32.self) { group.leadTimeDays = days }
        if let status = enumValue("status", ProducerV1.GroupStatus.self, allowed: [.active, .inactive]) {
            group.status = status
        }
        if let value = cells["notes"], !value.isEmpty { group.notes = value }
    }
}
