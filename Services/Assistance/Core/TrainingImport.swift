import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// Trainings from a spreadsheet: every row checked as RecordTraining checks one training, the groups with the
/// Producer service, the cascades as LinkCascade checks one; then the new rows recorded in one transaction, each
/// after the row it cascades from. Nothing is recorded when any row is wrong. An import only adds: a row equal to a
/// training already recorded, or to an earlier row, is not recorded again, so importing a sheet twice records
/// nothing twice.
struct TrainingImport: Sendable {

    static let columns = [
        "title", "skill", "held_on", "trainer_organisation", "trainer_group", "trained_groups", "women", "men", "other",
        "cascades_from", "project", "notes",
    ]
    static let required = ["title", "skill", "held_on", "trained_groups", "women", "men"]
    /// Rows an import may hold; a bigger file is split.
    static let maxRows = 5_000

    /// A row's training, checked, and the row of the same file it cascades from, if it names one.
    struct Row: Sendable {
        let number: Int
        var training: AssistanceV1.Training
        var parentRow: Int?
    }

    let sheet: CSV.Sheet

    /// Reads the file; problems with it as a whole (not CSV, header, no rows, too many) go to `check`.
    init(csv: [UInt8], _ check: inout FieldValidator) {
        sheet = CSV.Sheet(
            csv, known: Self.columns, required: Self.required, purpose: "record trainings", maxRows: Self.maxRows,
            &check)
    }

    /// The column a Training field comes from, for naming problems.
    static func column(_ field: String) -> String {
        switch field {
        case "trainer_organisation_id": "trainer_organisation"
        case "trainer_group_id": "trainer_group"
        case "trained_group_ids": "trained_groups"
        case "trainees.women": "women"
        case "trainees.men": "men"
        case "trainees.other": "other"
        case "trainees": "women, men, other"
        case "project_id": "project"
        default: field
        }
    }

    /// Every row read and checked, then what they name: organisations here, skills and groups with the Producer
    /// service. Organisations and groups may be given by id or by name; each becomes the id it has now (a merged
    /// group's, the id it lives on as). Wrong cells fail the whole import with INVALID_ARGUMENT naming each row and
    /// column.
    func rows(_ store: AssistanceStore, _ producer: ProducerLink) async throws -> [Row] {
        var check = FieldValidator()
        let numbers = Set(sheet.rows.map(\.number))
        var rows: [Row] = []
        for cells in sheet.rows {
            if let problem = cells.problem {
                check.fail("row \(cells.number)", problem)
                continue
            }
            var rowCheck = CSV.RowCheck(row: cells.number)
            let row = Self.read(cells, numbers, &rowCheck)
            rowCheck.report(to: &check, column: Self.column)
            rows.append(row)
        }
        Self.checkRowLoops(rows, &check)
        try check.check()

        try await resolveNames(&rows, store, producer, &check)
        async let skills = producer.skills(purpose: "importing trainings")
        var references: [(id: String, field: String)] = []
        for row in rows {
            references += row.training.trainedGroupIDs.map { ($0, "row \(row.number), trained_groups") }
            if !row.training.trainerGroupID.isEmpty {
                references.append((row.training.trainerGroupID, "row \(row.number), trainer_group"))
            }
        }
        var groups: [String: ProducerV1.ProducerGroup] = [:]
        do {
            groups = try await producer.requireGroups(references, purpose: "importing trainings")
        } catch let error as RPCError where error.code == .invalidArgument {
            for violation in error.fieldViolations { check.fail(violation.field, violation.description) }
        }
        // A skill by its code or its name ("natural-dyeing" or "Natural dyeing").
        let catalogue = try await skills
        for index in rows.indices {
            let cell = rows[index].training.skill
            if let skill = catalogue.first(where: { $0.code == cell || $0.name.lowercased() == cell }) {
                rows[index].training.skill = skill.code
            } else {
                check.fail(
                    "row \(rows[index].number), skill", AssistanceHandler.unknownSkill(cell, catalogue.map(\.code)))
            }
        }
        try check.check()
        return rows.map { row in
            var row = row
            row.training.trainedGroupIDs = row.training.trainedGroupIDs.map { groups[$0]?.id ?? $0 }
            if !row.training.trainerGroupID.isEmpty {
                row.training.trainerGroupID = groups[row.training.trainerGroupID]?.id ?? row.training.trainerGroupID
            }
            return row
        }
    }

    /// Projects, trainer organisations and producer groups given by name become their ids. A cell that names none, or
    /// several, is reported and left as it was, out of the later checks.
    private func resolveNames(
        _ rows: inout [Row], _ store: AssistanceStore, _ producer: ProducerLink, _ check: inout FieldValidator
    ) async throws {
        typealias Cell = SheetReferences.Cell
        let organisations = try await SheetReferences.organisations(
            rows.filter { !$0.training.trainerOrganisationID.isEmpty }.map {
                Cell(row: $0.number, column: "trainer_organisation", text: $0.training.trainerOrganisationID)
            }, store, &check)
        var groupCells: [Cell] = []
        for row in rows {
            groupCells += row.training.trainedGroupIDs.map { Cell(row: row.number, column: "trained_groups", text: $0) }
            if !row.training.trainerGroupID.isEmpty {
                groupCells.append(Cell(row: row.number, column: "trainer_group", text: row.training.trainerGroupID))
            }
        }
        let groups = try await SheetReferences.groups(
            groupCells, producer, purpose: "importing trainings", &check)
        // A project by its title or IATI identifier; a "pj_" id stands for itself, checked with the cascades.
        let projects = try await SheetReferences.projects(
            rows.filter { !$0.training.projectID.isEmpty && ProjectID($0.training.projectID) == nil }.map {
                Cell(row: $0.number, column: "project", text: $0.training.projectID)
            }, store, &check)
        for index in rows.indices {
            var training = rows[index].training
            if !training.projectID.isEmpty && ProjectID(training.projectID) == nil {
                training.projectID = projects[training.projectID] ?? ""
            }
            if !training.trainerOrganisationID.isEmpty {
                training.trainerOrganisationID = organisations[training.trainerOrganisationID] ?? ""
            }
            let trained = training.trainedGroupIDs.compactMap { groups[$0] }
            if Set(trained).count != trained.count {
                check.fail(
                    "row \(rows[index].number), trained_groups", "names a group twice (by its id and its name, say)")
            }
            training.trainedGroupIDs = trained
            if !training.trainerGroupID.isEmpty { training.trainerGroupID = groups[training.trainerGroupID] ?? "" }
            rows[index].training = training
        }
    }

    /// One row's training, its cells read into Training's fields and checked as RecordTraining checks them.
    private static func read(_ cells: CSV.Sheet.Row, _ numbers: Set<Int>, _ check: inout CSV.RowCheck) -> Row {
        var training = AssistanceV1.Training(
            title: cells["title"] ?? "", skill: cells["skill"] ?? "",
            trainerOrganisationID: cells["trainer_organisation"] ?? "", trainerGroupID: cells["trainer_group"] ?? "",
            trainedGroupIDs: CSV.RowCheck.list(cells["trained_groups"]) ?? [],
            projectID: cells["project"] ?? "", notes: cells["notes"] ?? "")
        training.heldOn = check.date(cells["held_on"], column: "held_on")?.message
        var people = AssistanceV1.PeopleCount()
        for (column, keyPath) in [("women", \AssistanceV1.PeopleCount.women), ("men", \.men), ("other", \.other)] {
            if let count = check.number(cells[column], column: column, as: Int32.self) {
                people[keyPath: keyPath] = count
            } else if cells[column] != nil {
                // Nobody counted follows from the unreadable cell.
                check.skip(Self.column("trainees"))
            }
        }
        training.trainees = people
        var parentRow: Int?
        if let parent = cells["cascades_from"] {
            let words = parent.lowercased().split(separator: " ")
            if words.count == 2, words[0] == "row", let number = Int(words[1]) {
                if number == cells.number {
                    check.unreadable("cascades_from", "a training cannot cascade from its own row")
                } else if !numbers.contains(number) {
                    check.unreadable("cascades_from", "row \(number) is not a row of trainings in this file")
                } else {
                    parentRow = number
                }
            } else {
                training.cascadesFrom = parent
            }
        }
        training = AssistanceHandler.validated(training, &check.values) { $0 }
        return Row(number: cells.number, training: training, parentRow: parentRow)
    }

    /// Rows that cascade from each other round in a circle: each such loop reported once, at its first row.
    private static func checkRowLoops(_ rows: [Row], _ check: inout FieldValidator) {
        let parents = Dictionary(rows.compactMap { row in row.parentRow.map { (row.number, $0) } }) { first, _ in first
        }
        var reported: Set<Int> = []
        for row in rows.map(\.number).sorted() where !reported.contains(row) {
            var path = [row]
            var current = row
            while let parent = parents[current], path.count <= rows.count {
                if parent == row {
                    reported.formUnion(path)
                    check.fail(
                        "row \(row), cascades_from",
                        "the cascade would loop: \((path + [row]).map { "row \($0)" }.joined(separator: " → "))")
                    break
                }
                if path.contains(parent) { break }
                path.append(parent)
                current = parent
            }
        }
    }

    /// What makes a row the same training as one recorded: title, skill, day, trainer, trained groups and people.
    static func key(_ training: AssistanceV1.Training) -> [String] {
        let people = training.trainees ?? AssistanceV1.PeopleCount()
        return [
            training.title, training.skill, training.heldOn.flatMap(ISODate.init)?.description ?? "",
            training.trainerOrganisationID, training.trainerGroupID,
            training.trainedGroupIDs.sorted().joined(separator: ";"), "\(people.women)", "\(people.men)",
            "\(people.other)",
        ]
    }

    /// What the import does with each row, worked out in `session`: parents found (a row's parent row before it),
    /// cascades and projects checked, rows equal to a stored training or an earlier row marked already recorded.
    /// New trainings get ids unless `validateOnly`. Problems fail the import with INVALID_ARGUMENT.
    static func plan(_ rows: [Row], validateOnly: Bool, _ session: any SQLSession) async throws -> Plan {
        var check = FieldValidator()
        let missingProjects = try await missing(
            "projects", rows.map(\.training.projectID).filter { !$0.isEmpty }, session)
        let parentIDs = Array(Set(rows.map(\.training.cascadesFrom).filter { !$0.isEmpty }))
        var conditions = SQLConditions()
        conditions.among("id", parentIDs)
        let storedParents =
            parentIDs.isEmpty
            ? [:]
            : Dictionary(
                try await session.query("SELECT body FROM trainings \(conditions.whereClause)", conditions.binds)
                    .map { try $0.message(AssistanceV1.Training.self) }.map { ($0.id, $0) },
                uniquingKeysWith: { first, _ in first })
        let stored = try await recorded(on: rows.compactMap { $0.training.heldOn.flatMap(ISODate.init) }, session)

        var plan = Plan()
        var done: [Int: AssistanceV1.Training] = [:]
        var seen: [[String]: String] = [:]
        var waiting = rows.sorted { $0.number < $1.number }
        while !waiting.isEmpty {
            // Rows whose parent row is done (or that name none) go next, in row order. Loops were refused with their
            // path before; none may get here, but none would be dropped without a word.
            let ready = waiting.filter { $0.parentRow.map { done[$0] != nil } ?? true }
            guard !ready.isEmpty else {
                for row in waiting { check.fail("row \(row.number), cascades_from", "the cascade would loop") }
                try Task.checkCancellation()
                break
            }
            let readyRows = Set(ready.map(\.number))
            waiting.removeAll { readyRows.contains($0.number) }
            for row in ready {
                var training = row.training
                let parent: AssistanceV1.Training?
                if let parentRow = row.parentRow {
                    // Named by its row in what the import says: the sheet's reader knows rows, not new ids.
                    var fromRow = try done[parentRow].checked("row \(parentRow)")
                    training.cascadesFrom = fromRow.id
                    fromRow.id = "of row \(parentRow)"
                    parent = fromRow
                } else if !training.cascadesFrom.isEmpty {
                    parent = storedParents[training.cascadesFrom]
                    if parent == nil {
                        check.fail(
                            "row \(row.number), cascades_from", "training \"\(training.cascadesFrom)\" not found")
                    }
                } else {
                    parent = nil
                }
                if let parent {
                    do throws(DomainError) {
                        try TrainingRules.checkCascade(training, from: parent)
                    } catch {
                        check.fail("row \(row.number), cascades_from", error.message)
                    }
                }
                if missingProjects.contains(training.projectID) {
                    check.fail("row \(row.number), project", "project \"\(training.projectID)\" not found")
                }
                let key = key(training)
                if let id = stored[key] ?? seen[key] {
                    training.id = id
                    plan.rows.append(
                        AssistanceV1.ImportedTraining(row: Int32(row.number), trainingID: id, alreadyRecorded: true))
                } else {
                    training.id = validateOnly ? "" : TrainingID.mint().text
                    seen[key] = training.id
                    plan.new.append(try Checked(training, day: training.heldOn, "row \(row.number), held_on"))
                    plan.trainees.add(training.trainees ?? AssistanceV1.PeopleCount())
                    plan.rows.append(AssistanceV1.ImportedTraining(row: Int32(row.number), trainingID: training.id))
                }
                done[row.number] = training
            }
        }
        try check.check()
        plan.rows.sort { $0.row < $1.row }
        return plan
    }

    struct Plan {
        /// New trainings, each after the one it cascades from.
        var new: [Checked<AssistanceV1.Training>] = []
        var rows: [AssistanceV1.ImportedTraining] = []
        var trainees = AssistanceV1.PeopleCount()

        func response(importID: String = "", validateOnly: Bool) -> AssistanceV1.ImportTrainingsResponse {
            AssistanceV1.ImportTrainingsResponse(
                importID: importID, recorded: Int32(new.count), rows: rows, trainees: trainees,
                validateOnly: validateOnly)
        }
    }

    /// The ids among `ids` that `table` does not have.
    private static func missing(_ table: String, _ ids: [String], _ session: any SQLSession) async throws -> Set<String>
    {
        guard !ids.isEmpty else { return [] }
        var conditions = SQLConditions()
        conditions.among("id", Array(Set(ids)))
        let found = try await session.query("SELECT id FROM \(table) \(conditions.whereClause)", conditions.binds)
            .map { try $0.text("id") }
        return Set(ids).subtracting(found)
    }

    /// The trainings recorded between the first and last of `days`, by `key`.
    private static func recorded(on days: [ISODate], _ session: any SQLSession) async throws -> [[String]: String] {
        guard let first = days.min(), let last = days.max() else { return [:] }
        let rows = try await session.query(
            "SELECT body FROM trainings WHERE held_on >= $1 AND held_on <= $2",
            [.of(first.description), .of(last.description)])
        var keys: [[String]: String] = [:]
        for row in rows {
            let training = try row.message(AssistanceV1.Training.self)
            keys[key(training)] = keys[key(training)] ?? training.id
        }
        return keys
    }
}

extension AssistanceStore {
    /// Runs an import: with `validateOnly`, in a read snapshot that writes nothing; otherwise in one transaction,
    /// once per request id (a retry answers as the first import did).
    func importTrainings(_ rows: [TrainingImport.Row], validateOnly: Bool, requestID: String, source: String)
        async throws -> AssistanceV1.ImportTrainingsResponse
    {
        try await database.spreadsheetImport(
            operation: "ImportTrainings", table: "training_imports", requestID: requestID, source: source,
            validateOnly: validateOnly, importID: \.importID
        ) { session in
            try await TrainingImport.plan(rows, validateOnly: true, session).response(validateOnly: true)
        } write: { session in
            // As LinkCascade: cascades change one at a time.
            try await session.lock("cascades")
            let plan = try await TrainingImport.plan(rows, validateOnly: false, session)
            for training in plan.new { try await insert(training, session) }
            return plan.response(importID: TrainingImportID.mint().text, validateOnly: false)
        }
    }
}
