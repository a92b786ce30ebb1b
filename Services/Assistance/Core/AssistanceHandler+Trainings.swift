import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: trainings.
extension AssistanceHandler {
    public func recordTraining(_ request: AssistanceV1.RecordTrainingRequest, context: ServerContext) async throws
        -> AssistanceV1.Training
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var training = Self.validated(request.training ?? AssistanceV1.Training(), &check) { "training.\($0)" }
        check.id(training.projectID, "training.project_id", ProjectID.self, required: false)
        check.id(training.cascadesFrom, "training.cascades_from", TrainingID.self, required: false)
        check.id(
            training.trainerOrganisationID, "training.trainer_organisation_id", OrganisationID.self, required: false)
        check.id(training.trainerGroupID, "training.trainer_group_id", ProducerGroupID.self, required: false)
        for (index, group) in training.trainedGroupIDs.enumerated() {
            check.id(group, "training.trained_group_ids[\(index)]", ProducerGroupID.self)
        }
        try check.check()
        if !training.trainerOrganisationID.isEmpty {
            try await requireOrganisations([(training.trainerOrganisationID, "training.trainer_organisation_id")])
        }
        var references = training.trainedGroupIDs.enumerated().map {
            (id: $1, field: "training.trained_group_ids[\($0)]")
        }
        if !training.trainerGroupID.isEmpty {
            references.append((training.trainerGroupID, "training.trainer_group_id"))
        }
        async let skills = producer.skillCodes(purpose: "recording a training")
        let groups = try await producer.requireGroups(references, purpose: "recording a training")
        let known = try await skills
        if !known.contains(training.skill) {
            throw RPCError.invalidArgument(field: "training.skill", Self.unknownSkill(training.skill, known))
        }
        training.trainedGroupIDs = training.trainedGroupIDs.map { groups[$0]?.id ?? $0 }
        if !training.trainerGroupID.isEmpty {
            training.trainerGroupID = groups[training.trainerGroupID]?.id ?? training.trainerGroupID
        }
        let checked = try Checked(training, day: training.heldOn, "training.held_on")
        return try await storage { try await store.recordTraining(checked, requestID: request.requestID) }
    }

    /// A clean copy of `input` as a new training (planned, no results), each problem reported under `name(field)`
    /// for its field in Training ("title", "skill", "held_on", "trainer_organisation_id", "trained_group_ids",
    /// "trainees", "trainees.women", "trainees.men", "trainees.other", "notes"). References are checked apart.
    static func validated(_ input: AssistanceV1.Training, _ check: inout FieldValidator, name: (String) -> String)
        -> AssistanceV1.Training
    {
        var training = input
        training.title = check.text(training.title, name("title"), required: true)
        training.skill = check.text(training.skill, name("skill"), required: true, maxLength: 40).lowercased()
        notInFuture(check.date(training.heldOn, name("held_on")), name("held_on"), &check)
        if training.trainerOrganisationID.isEmpty == training.trainerGroupID.isEmpty {
            check.fail(name("trainer_organisation_id"), "give exactly one trainer: an organisation or a producer group")
        }
        if training.trainedGroupIDs.isEmpty {
            check.fail(name("trained_group_ids"), "must name at least one producer group")
        }
        if Set(training.trainedGroupIDs).count != training.trainedGroupIDs.count {
            check.fail(name("trained_group_ids"), "names a group twice")
        }
        if let trainees = training.trainees {
            check.range(trainees.women, 0...maxTraineesBySex, name("trainees.women"))
            check.range(trainees.men, 0...maxTraineesBySex, name("trainees.men"))
            check.range(trainees.other, 0...maxTraineesBySex, name("trainees.other"))
            if Int64(trainees.women) + Int64(trainees.men) + Int64(trainees.other) == 0 {
                check.fail(name("trainees"), "counts nobody")
            }
        } else {
            check.fail(name("trainees"), "is required: the people trained by sex (women, men, other)")
        }
        training.notes = check.text(training.notes, name("notes"), maxLength: 2000)
        training.status = .planned
        training.completedOn = nil
        training.results = []
        return training
    }

    /// People of one sex one training may count: far above any real training, far below where sums overflow.
    static let maxTraineesBySex: Int32 = 1_000_000

    static func unknownSkill(_ skill: String, _ known: [String]) -> String {
        "\"\(skill)\" is not in the Producer service's skills catalogue (\(known.sorted().joined(separator: ", ")))"
    }

    public func importTrainings(_ request: AssistanceV1.ImportTrainingsRequest, context: ServerContext) async throws
        -> AssistanceV1.ImportTrainingsResponse
    {
        try await runImport(
            validateOnly: request.validateOnly, requestID: request.requestID, source: request.source,
            read: { TrainingImport(csv: request.csv, &$0) }, resolve: { try await $0.rows(store, producer) },
            record: {
                try await store.importTrainings(
                    $0, validateOnly: request.validateOnly, requestID: request.requestID, source: $1)
            })
    }

    public func linkCascade(_ request: AssistanceV1.LinkCascadeRequest, context: ServerContext) async throws
        -> AssistanceV1.Training
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let trainingID = check.id(request.trainingID, "training_id", TrainingID.self)
        let parentID = check.id(request.cascadesFrom, "cascades_from", TrainingID.self, required: false)
        try check.check()
        let id = try trainingID.checked("training_id")
        return try await storage {
            try await store.linkCascade(id, to: parentID, requestID: request.requestID)
        }
    }

    /// Records each trained group's new skill level in the Producer service — with a request id made from the
    /// training and the group, so a retried completion records each once — and only then marks the training done.
    public func completeTraining(_ request: AssistanceV1.CompleteTrainingRequest, context: ServerContext) async throws
        -> AssistanceV1.Training
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let trainingID = check.id(request.trainingID, "training_id", TrainingID.self)
        let day = check.date(request.completedOn, "completed_on")
        Self.notInFuture(day, "completed_on", &check)
        for (index, result) in request.results.enumerated() {
            check.range(result.level, 0...4, "results[\(index)].level")
            check.nonNegative(result.membersHolding, "results[\(index)].members_holding")
        }
        try check.check()
        if let answer = try await storage({
            try await store.database.keptAnswer(
                AssistanceV1.Training.self, "CompleteTraining", requestID: request.requestID)
        }) {
            return answer
        }
        let id = try trainingID.checked("training_id")
        let training = try await storage { try await store.training(id) }
        if training.status == .completed {
            if training.completedOn == request.completedOn && training.results == request.results { return training }
            throw RPCError(
                .failedPrecondition,
                "training \(training.id) was already completed on \((try training.completedOn.day("completed_on")))")
        }
        if let day, let held = training.heldOn.flatMap(ISODate.init), day < held {
            throw RPCError.invalidArgument(field: "completed_on", "\(day) is before the training was held (\(held))")
        }
        let given = request.results.map(\.groupID)
        let expected = training.trainedGroupIDs
        if Set(given) != Set(expected) || given.count != expected.count {
            throw RPCError.invalidArgument(
                field: "results",
                """
                must give one level for each trained group (\(expected.joined(separator: ", "))), got \
                \(given.isEmpty ? "none" : given.joined(separator: ", "))
                """)
        }
        let trainer =
            training.trainerGroupID.isEmpty
            ? ((try? await storage {
                try await store.organisation(
                    try OrganisationID(checking: training.trainerOrganisationID, "training.trainer_organisation_id"))
            })?.name
                ?? training.trainerOrganisationID)
            : training.trainerGroupID
        let client = producer.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for result in request.results {
                group.addTask {
                    do {
                        _ = try await client.recordSkillAssessment(
                            ProducerV1.RecordSkillAssessmentRequest(
                                assessment: ProducerV1.SkillAssessment(
                                    groupID: result.groupID, skill: training.skill, assessedOn: request.completedOn,
                                    level: result.level, membersHolding: result.membersHolding, assessor: trainer,
                                    notes: "after training \(training.id): \(training.title)"),
                                requestID: "\(training.id)/\(result.groupID)"))
                    } catch let error as RPCError {
                        throw error.code == .invalidArgument || error.code == .notFound
                            ? RPCError(
                                .failedPrecondition,
                                "producer-service refused the skill level of \(result.groupID): \(error.message)")
                            : ProducerLink.unavailable(error, "completing a training")
                    }
                }
            }
            try await group.waitForAll()
        }
        return try await storage {
            try await store.complete(
                id, on: (try request.completedOn.checked("completed_on")), results: request.results,
                requestID: request.requestID)
        }
    }

    public func listTrainings(_ request: AssistanceV1.ListTrainingsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListTrainingsResponse
    {
        let (after, limit) = try Self.page(request.pageSize, request.pageToken, TrainingID.self, of: "ListTrainings")
        let groups = request.groupID.isEmpty ? [] : try await groupIDs(request.groupID)
        let filter = AssistanceStore.trainingConditions(
            groupIDs: groups,
            projectID: try FieldValidator.filter(request.projectID, "project_id", ProjectID.self)?.text ?? "",
            skill: request.skill.lowercased())
        let (rows, next) = try await storage {
            try await store.database.page(
                "trainings", filter, sortColumn: "held_on", after: after, limit: limit, as: AssistanceV1.Training.self)
        }
        return AssistanceV1.ListTrainingsResponse(trainings: rows, nextPageToken: Self.token(next))
    }

    public func getTraining(_ request: AssistanceV1.GetTrainingRequest, context: ServerContext) async throws
        -> AssistanceV1.Training
    {
        let id = try FieldValidator.id(request.id, "id", TrainingID.self)
        return try await storage { try await store.training(id) }
    }

    public func getCascadeReach(_ request: AssistanceV1.GetCascadeReachRequest, context: ServerContext) async throws
        -> AssistanceV1.CascadeReach
    {
        let id = try FieldValidator.id(request.trainingID, "training_id", TrainingID.self)
        return try await storage { try await store.cascadeReach(of: id) }
    }
}
