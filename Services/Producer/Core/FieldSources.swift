import Schema

/// Where each field of a producer group came from, as Open Supply Hub records a source for each field: the source
/// the caller named, when, and the request that set it. One entry per field that holds a value, replaced when the
/// value changes; the caller cannot set them.
enum FieldSources {
    typealias Group = ProducerV1.ProducerGroup

    /// The fields a caller sets (as update_mask names them) whose value differs between `before` and `after`.
    static func changed(from before: Group, to after: Group) -> [String] {
        ProducerHandler.updatableFields.sorted().filter { field in
            var probe = before
            ProducerHandler.copy(field, from: after, to: &probe)
            return probe != before
        }
    }

    /// Notes `source` for `fields` of `group`, replacing what was noted for them.
    static func note(
        _ fields: [String], of group: inout Group, source: (String) -> String, requestID: String,
        at time: CommonV1.Timestamp
    ) {
        let noted = Set(fields)
        group.fieldSources.removeAll { noted.contains($0.field) }
        group.fieldSources += fields.map {
            ProducerV1.FieldSource(field: $0, source: source($0), recordedAt: time, requestID: requestID)
        }
        group.fieldSources.sort { $0.field < $1.field }
    }

    /// Notes `source` for every field whose value differs between `before` and `group`; a new group is compared
    /// with an empty one, so every field it sets is noted.
    static func note(
        changesFrom before: Group?, in group: inout Group, source: String, requestID: String,
        at time: CommonV1.Timestamp
    ) {
        note(
            changed(from: before ?? Group(), to: group), of: &group, source: { _ in source }, requestID: requestID,
            at: time)
    }

    /// The source `group` has noted for `field`, if any.
    static func source(of field: String, in group: Group) -> String? {
        group.fieldSources.first { $0.field == field }?.source
    }
}
