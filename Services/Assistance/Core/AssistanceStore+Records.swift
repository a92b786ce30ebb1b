import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// Equipment, trainings and their cascades, referrals and result indicators.
extension AssistanceStore {
    /// Trainings a group was trained in or gave, of a project, or of a skill (any that are given).
    static func trainingConditions(groupIDs: [String], projectID: String, skill: String) -> SQLConditions {
        var conditions = SQLConditions()
        if !groupIDs.isEmpty {
            let list = conditions.bindList(groupIDs)
            conditions.add(
                "id IN (SELECT training_id FROM training_groups WHERE group_id IN (\(list))) OR trainer_group_id IN (\(list))"
            )
        }
        conditions.equal("project_id", projectID)
        conditions.equal("skill", skill)
        return conditions
    }

    // MARK: equipment

    func recordEquipment(_ checked: Checked<AssistanceV1.Equipment>, requestID: String) async throws
        -> AssistanceV1.Equipment
    {
        try await database.idempotent(operation: "RecordEquipment", requestID: requestID) { session in
            var equipment = checked.record
            if !equipment.projectID.isEmpty {
                _ = try await session.message(
                    AssistanceV1.Project.self, from: "projects",
                    id: try ProjectID(checking: equipment.projectID, "equipment.project_id"))
            }
            let id = EquipmentID.mint()
            equipment.id = id.text
            try await session.execute(
                "INSERT INTO equipment (id, group_id, project_id, day, body) VALUES ($1, $2, $3, $4, $5)",
                [
                    .of(equipment.id), .of(equipment.groupID), .of(equipment.projectID),
                    .of(checked.day.description),
                    .blob(equipment.serializedBytes()),
                ])
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Equipment.self, from: "equipment", id: id)
        }
    }

    // MARK: trainings

    func recordTraining(_ checked: Checked<AssistanceV1.Training>, requestID: String) async throws
        -> AssistanceV1.Training
    {
        try await database.idempotent(operation: "RecordTraining", requestID: requestID) { session in
            let id = TrainingID.mint()
            let training = checked.record
            if !training.projectID.isEmpty {
                _ = try await session.message(
                    AssistanceV1.Project.self, from: "projects",
                    id: try ProjectID(checking: training.projectID, "training.project_id"))
            }
            if !training.cascadesFrom.isEmpty {
                let parent = try await session.message(
                    AssistanceV1.Training.self, from: "trainings",
                    id: try TrainingID(checking: training.cascadesFrom, "training.cascades_from"))
                try TrainingRules.checkCascade(training, from: parent)
            }
            try await insert(checked.with { $0.id = id.text }, session)
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Training.self, from: "trainings", id: id)
        }
    }

    /// Stores a checked training that has its id.
    func insert(_ checked: Checked<AssistanceV1.Training>, _ session: any SQLSession) async throws {
        let training = checked.record
        try await session.execute(
            """
            INSERT INTO trainings (id, cascades_from, project_id, skill, held_on, trainer_group_id, body)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            [
                .of(training.id), .of(training.cascadesFrom), .of(training.projectID), .of(training.skill),
                .of(checked.day.description), .of(training.trainerGroupID),
                .blob(training.serializedBytes()),
            ])
        for group in Set(training.trainedGroupIDs) {
            try await session.execute(
                "INSERT INTO training_groups (training_id, group_id) VALUES ($1, $2)", [.of(training.id), .of(group)])
        }
    }

    func training(_ id: TrainingID) async throws -> AssistanceV1.Training {
        try await database.read { session in
            try await session.message(AssistanceV1.Training.self, from: "trainings", id: id)
        }
    }

    /// Sets which training `id` cascades from (none when `parentID` is nil), refusing a link that would close a
    /// loop.
    func linkCascade(_ id: TrainingID, to parentID: TrainingID?, requestID: String) async throws
        -> AssistanceV1.Training
    {
        try await database.answeringOnce("LinkCascade", requestID: requestID) { session in
            // One link at a time, so two links made at once cannot close a loop neither saw.
            try await session.lock("cascades")
            var training = try await session.message(AssistanceV1.Training.self, from: "trainings", id: id)
            if let parentID {
                if parentID == id {
                    throw DomainError(.refused, "the cascade would loop: training \(id) cannot cascade from itself")
                }
                let parent = try await session.message(AssistanceV1.Training.self, from: "trainings", id: parentID)
                var path = [id.text, parentID.text]
                var current = parent
                while !current.cascadesFrom.isEmpty {
                    path.append(current.cascadesFrom)
                    if current.cascadesFrom == id.text || path.count > 1_000 {
                        throw RPCError(
                            .failedPrecondition,
                            "the cascade would loop: \(path.joined(separator: " → ")); a training cannot cascade from its own trainees' trainings"
                        )
                    }
                    current = try await session.message(
                        AssistanceV1.Training.self, from: "trainings",
                        id: try TrainingID(checking: current.cascadesFrom, "cascades_from"))
                }
                try TrainingRules.checkCascade(training, from: parent)
            }
            training.cascadesFrom = parentID?.text ?? ""
            try await session.execute(
                "UPDATE trainings SET cascades_from = $2, body = $3 WHERE id = $1",
                [.of(id.text), .of(training.cascadesFrom), .blob(training.serializedBytes())])
            return training
        }
    }

    /// Marks a planned training completed with its results.
    func complete(_ id: TrainingID, on day: CommonV1.Date, results: [AssistanceV1.SkillLevel], requestID: String)
        async throws
        -> AssistanceV1.Training
    {
        try await database.answeringOnce("CompleteTraining", requestID: requestID) { session in
            try await session.lock("training \(id)")
            var training = try await session.message(AssistanceV1.Training.self, from: "trainings", id: id)
            if training.status == .completed { return training }
            training.status = .completed
            training.completedOn = day
            training.results = results
            try await session.execute(
                "UPDATE trainings SET body = $2 WHERE id = $1",
                [.of(id.text), .blob(training.serializedBytes())])
            return training
        }
    }

    /// The reach of the cascade `id` belongs to, counted from its first training.
    func cascadeReach(of id: TrainingID) async throws -> AssistanceV1.CascadeReach {
        try await database.read { session in
            var root = try await session.message(AssistanceV1.Training.self, from: "trainings", id: id)
            var hops = 0
            while !root.cascadesFrom.isEmpty && hops < 1_000 {
                root = try await session.message(
                    AssistanceV1.Training.self, from: "trainings",
                    id: try TrainingID(checking: root.cascadesFrom, "cascades_from"))
                hops += 1
            }
            var children: [String: [AssistanceV1.Training]] = [:]
            var frontier = [root.id]
            var visited: Set<String> = [root.id]
            while !frontier.isEmpty {
                var conditions = SQLConditions()
                conditions.among("cascades_from", frontier)
                let rows = try await session.query(
                    "SELECT body FROM trainings \(conditions.whereClause)", conditions.binds)
                frontier = []
                for row in rows {
                    let child = try row.message(AssistanceV1.Training.self)
                    children[child.cascadesFrom, default: []].append(child)
                    if visited.insert(child.id).inserted { frontier.append(child.id) }
                }
            }
            return CascadeReachRules.reach(root: root, children: children)
        }
    }

    // MARK: referrals

    func createReferral(_ checked: Checked<AssistanceV1.Referral>, requestID: String) async throws
        -> AssistanceV1.Referral
    {
        try await database.idempotent(operation: "CreateReferral", requestID: requestID) { session in
            var referral = checked.record
            let id = ReferralID.mint()
            referral.id = id.text
            referral.outcome = .pending
            try await session.execute(
                "INSERT INTO referrals (id, group_id, organisation_id, day, body) VALUES ($1, $2, $3, $4, $5)",
                [
                    .of(referral.id), .of(referral.groupID), .of(referral.organisationID),
                    .of(checked.day.description), .blob(referral.serializedBytes()),
                ])
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Referral.self, from: "referrals", id: id)
        }
    }

    func recordOutcome(
        _ id: ReferralID, _ outcome: AssistanceV1.ReferralOutcome, on day: ISODate, notes: String, requestID: String
    ) async throws -> AssistanceV1.Referral {
        try await database.answeringOnce("RecordReferralOutcome", requestID: requestID) { session in
            try await session.lock("referral \(id)")
            var referral = try await session.message(AssistanceV1.Referral.self, from: "referrals", id: id)
            if referral.outcome == outcome && referral.outcomeOn == day.message && referral.outcomeNotes == notes {
                return referral
            }
            try TrainingRules.checkOutcome(referral, outcome, on: day)
            referral.outcome = outcome
            referral.outcomeOn = day.message
            referral.outcomeNotes = notes
            try await session.execute(
                "UPDATE referrals SET body = $2 WHERE id = $1", [.of(id.text), .blob(referral.serializedBytes())])
            return referral
        }
    }

    // MARK: results

    func defineIndicator(_ indicator: AssistanceV1.Indicator, requestID: String) async throws -> AssistanceV1.Indicator
    {
        try await database.idempotent(operation: "DefineIndicator", requestID: requestID) { session in
            var indicator = indicator
            _ = try await session.message(
                AssistanceV1.Project.self, from: "projects",
                id: try ProjectID(checking: indicator.projectID, "indicator.project_id"))
            let id = IndicatorID.mint()
            indicator.id = id.text
            try await Self.insert(indicator, session)
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Indicator.self, from: "indicators", id: id)
        }
    }

    static func insert(_ indicator: AssistanceV1.Indicator, _ session: any SQLSession) async throws {
        try await session.execute(
            "INSERT INTO indicators (id, project_id, group_id, body) VALUES ($1, $2, $3, $4)",
            [.of(indicator.id), .of(indicator.projectID), .of(indicator.groupID), .blob(indicator.serializedBytes())])
    }

    /// Adds the period, or replaces the stored one with the same start and end; refuses one overlapping another.
    func recordPeriod(_ id: IndicatorID, _ period: AssistanceV1.IndicatorPeriod, requestID: String) async throws
        -> AssistanceV1.RecordIndicatorPeriodResponse
    {
        try await database.answeringOnce("RecordIndicatorPeriod", requestID: requestID) { session in
            try await session.lock("indicator \(id)")
            var indicator = try await session.message(AssistanceV1.Indicator.self, from: "indicators", id: id)
            let period = try IndicatorRules.normalised(period, of: indicator, field: "period")
            let replaced = try IndicatorRules.merge(period, into: &indicator)
            try await session.execute(
                "UPDATE indicators SET body = $2 WHERE id = $1", [.of(id.text), .blob(indicator.serializedBytes())])
            return AssistanceV1.RecordIndicatorPeriodResponse(indicator: indicator, replaced: replaced)
        }
    }
}
