import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

extension IATIImport {
    /// An organisation the file names: one recorded, or one to record (by its place in `newOrganisations`).
    enum OrganisationTarget: Sendable {
        case recorded(String)
        case new(Int)
    }

    /// The file with what it names found: organisations, groups, parents, and the activities already recorded.
    struct Resolved: Sendable {
        var activities: [Activity]
        var newOrganisations: [AssistanceV1.Organisation]
        var organisations: [Organisation: OrganisationTarget]
        /// Project ids by IATI identifier, for the activities already recorded.
        var recorded: [String: String]
        /// Stored parents' ids by IATI identifier.
        var storedParents: [String: String]
    }

    /// What the file names, found: organisations here (by IATI identifier, then by exact name; the others are to be
    /// recorded), producer groups with the Producer service (by exact name), parents in the file or recorded, and
    /// the activities already recorded. Problems fail the import naming the activity and element.
    func resolve(_ store: AssistanceStore, _ producer: ProducerLink) async throws -> Resolved {
        var check = FieldValidator()
        let stored = try await storage { try await store.listOrganisations(kind: .unspecified) }
        let byRef = Dictionary(
            stored.filter { !$0.iatiIdentifier.isEmpty }.map { ($0.iatiIdentifier, $0.id) },
            uniquingKeysWith: { a, _ in a })
        let byName = Dictionary(grouping: stored, by: { $0.name.lowercased() })
        var resolved = Resolved(
            activities: activities, newOrganisations: [], organisations: [:], recorded: [:], storedParents: [:])
        var newByRef: [String: Int] = [:]
        func find(_ organisation: Organisation, _ place: String) {
            guard resolved.organisations[organisation] == nil else { return }
            if !organisation.ref.isEmpty, let id = byRef[organisation.ref] {
                resolved.organisations[organisation] = .recorded(id)
                return
            }
            // One organisation however the file spells its name: its IATI identifier says who it is.
            if !organisation.ref.isEmpty, let index = newByRef[organisation.ref] {
                resolved.organisations[organisation] = .new(index)
                return
            }
            let named = byName[organisation.label.lowercased(), default: []]
            if named.count == 1 && (organisation.ref.isEmpty || named[0].iatiIdentifier.isEmpty) {
                resolved.organisations[organisation] = .recorded(named[0].id)
                return
            }
            if named.count > 1 {
                check.fail(place, "\"\(organisation.label)\" names \(named.count) organisations; give its IATI ref")
                return
            }
            var new = AssistanceV1.Organisation(
                name: organisation.label, kind: IATICodes.organisationKind(organisation.type),
                iatiIdentifier: organisation.ref)
            new.name = check.text(new.name, "\(place), narrative", required: true)
            new.iatiIdentifier = AssistanceHandler.iatiIdentifier(new.iatiIdentifier, "\(place), ref", &check)
            resolved.organisations[organisation] = .new(resolved.newOrganisations.count)
            if !organisation.ref.isEmpty { newByRef[organisation.ref] = resolved.newOrganisations.count }
            resolved.newOrganisations.append(new)
        }
        for activity in activities {
            find(activity.reporting, "\(activity.place), reporting-org")
            for (index, participant) in activity.participants.enumerated() {
                find(participant.organisation, "\(activity.place), participating-org \(index + 1)")
            }
            for flow in activity.flows {
                if let provider = flow.provider { find(provider, "\(flow.place), provider-org") }
            }
        }

        // Producer groups, by exact name; a receiver that may be a group and is not one is left out, and said so.
        let names = activities.flatMap { $0.flows.flatMap { [$0.group, $0.maybeGroup] } + $0.results.map(\.group) }
            .filter { !$0.isEmpty }
        let groups = names.isEmpty ? [:] : try await producer.groupsNamed(names, purpose: "importing IATI activities")
        var references: [(id: String, field: String)] = []
        for index in resolved.activities.indices {
            var activity = resolved.activities[index]
            for flowIndex in activity.flows.indices {
                var flow = activity.flows[flowIndex]
                if !flow.group.isEmpty {
                    switch CSV.RowCheck.resolve(
                        flow.group, ids: [], named: groups[flow.group, default: []].map(\.id), noun: "producer group")
                    {
                    case .success(let id):
                        flow.transaction.groupID = id
                        references.append((id, flow.place))
                    case .failure(let error): check.fail(flow.place, error.message)
                    }
                } else if !flow.maybeGroup.isEmpty {
                    if let group = groups[flow.maybeGroup], group.count == 1 {
                        flow.transaction.groupID = group[0].id
                        references.append((group[0].id, flow.place))
                    } else {
                        activity.notImported.append(
                            "\(flow.place): the receiver \"\(flow.maybeGroup)\", which is no producer group here")
                    }
                }
                activity.flows[flowIndex] = flow
            }
            for resultIndex in activity.results.indices where !activity.results[resultIndex].group.isEmpty {
                let result = activity.results[resultIndex]
                switch CSV.RowCheck.resolve(
                    result.group, ids: [], named: groups[result.group, default: []].map(\.id), noun: "producer group")
                {
                case .success(let id):
                    activity.results[resultIndex].indicator.groupID = id
                    references.append((id, result.place))
                case .failure(let error): check.fail(result.place, error.message)
                }
            }
            resolved.activities[index] = activity
        }
        if !references.isEmpty {
            do {
                let found = try await producer.requireGroups(references, purpose: "importing IATI activities")
                // A merged group's records go to the group it lives on as.
                for index in resolved.activities.indices {
                    for flow in resolved.activities[index].flows.indices {
                        let id = resolved.activities[index].flows[flow].transaction.groupID
                        if let group = found[id] {
                            resolved.activities[index].flows[flow].transaction.groupID = group.id
                        }
                    }
                    for result in resolved.activities[index].results.indices {
                        let id = resolved.activities[index].results[result].indicator.groupID
                        if let group = found[id] {
                            resolved.activities[index].results[result].indicator.groupID = group.id
                        }
                    }
                }
            } catch let error as RPCError where error.code == .invalidArgument {
                for violation in error.fieldViolations { check.fail(violation.field, violation.description) }
            }
        }

        // Activities recorded already: as a project's own identifier, or as the one this system exports for it.
        let projects = try await storage { try await store.allProjects() }
        let organisationRefs = Dictionary(stored.map { ($0.id, $0.iatiIdentifier) }, uniquingKeysWith: { a, _ in a })
        var identifiers: [String: String] = [:]
        for project in projects {
            if !project.iatiIdentifier.isEmpty { identifiers[project.iatiIdentifier] = project.id }
            if let ref = organisationRefs[project.reportingOrganisationID], !ref.isEmpty {
                identifiers["\(ref)-\(project.id)"] = project.id
            }
        }
        let inFile = Set(activities.map(\.identifier))
        for activity in activities {
            if let id = identifiers[activity.identifier] { resolved.recorded[activity.identifier] = id }
            guard !activity.parent.isEmpty else { continue }
            if let id = identifiers[activity.parent] {
                resolved.storedParents[activity.parent] = id
            } else if !inFile.contains(activity.parent) {
                check.fail(
                    "\(activity.place), related-activity",
                    "the parent activity \"\(activity.parent)\" is neither in the file nor recorded")
            }
        }
        try check.check()
        return resolved
    }
}

extension IATIImport {
    /// What an import records, with the ids it will have: worked out in a read snapshot for a dry run, and again in
    /// the writing transaction for the import itself, where `write` then stores it.
    struct Plan: Sendable {
        var organisations: [AssistanceV1.Organisation] = []
        /// Parents before their children.
        var projects: [AssistanceV1.Project] = []
        var indicators: [AssistanceV1.Indicator] = []
        /// In date order.
        var flows: [Valued<AssistanceV1.Transaction>] = []
        var response = AssistanceV1.ImportIatiActivitiesResponse()

        /// The answer of a dry run: what would be recorded, without the ids it would have.
        var dryRun: AssistanceV1.ImportIatiActivitiesResponse {
            var response = response
            response.validateOnly = true
            for index in response.activities.indices where !response.activities[index].alreadyRecorded {
                response.activities[index].projectID = ""
            }
            for index in response.organisationsCreated.indices { response.organisationsCreated[index].id = "" }
            return response
        }
    }
}

extension AssistanceStore {
    /// Records the resolved file in one transaction, once per request id (a retry answers as the first import did).
    /// With `validateOnly`, plans it in a read snapshot that writes nothing (and so holds no writer), answering what
    /// it would record.
    func importActivities(_ file: IATIImport.Resolved, validateOnly: Bool, requestID: String, source: String)
        async throws -> AssistanceV1.ImportIatiActivitiesResponse
    {
        try await database.spreadsheetImport(
            operation: "ImportIatiActivities", table: "iati_imports", requestID: requestID, source: source,
            validateOnly: validateOnly, importID: \.importID
        ) { session in
            try await Self.plan(file, lock: false, session).dryRun
        } write: { session in
            let plan = try await Self.plan(file, lock: true, session)
            try await write(plan, session)
            var response = plan.response
            response.importID = IATIImportID.mint().text
            return response
        }
    }

    /// Stores a plan made in this transaction, whose checks it does not make again.
    private func write(_ plan: IATIImport.Plan, _ session: any SQLSession) async throws {
        for organisation in plan.organisations { try await Self.insertRow(organisation, session) }
        for project in plan.projects { try await Self.insertRow(project, session) }
        for indicator in plan.indicators { try await Self.insert(indicator, session) }
        for flow in plan.flows { try await insert(flow, session) }
    }

    /// Checks the file against what is stored and plans its records, reading only. Every problem of an activity or
    /// flow is collected and the whole import refused naming each; with `lock`, loan accounts are locked as
    /// RecordTransaction locks them.
    private static func plan(_ file: IATIImport.Resolved, lock: Bool, _ session: any SQLSession) async throws
        -> IATIImport.Plan
    {
        var check = FieldValidator()
        var plan = IATIImport.Plan()
        for var organisation in file.newOrganisations {
            try await refuseTakenIdentifier("organisations", organisation.iatiIdentifier, "organisation", session)
            organisation.id = OrganisationID.mint().text
            plan.organisations.append(organisation)
        }
        plan.response.organisationsCreated = plan.organisations
        func id(_ organisation: IATIImport.Organisation) -> String {
            switch file.organisations[organisation] {
            case .recorded(let id): id
            case .new(let index): plan.organisations[index].id
            case nil: ""
            }
        }
        let order = try parentsFirst(file, &check)
        var projectIDs = file.recorded.merging(file.storedParents) { a, _ in a }
        var projects: [String: AssistanceV1.Project] = [:]
        var answers: [String: AssistanceV1.ImportedActivity] = [:]
        for activity in order {
            var project = activity.project
            project.id = ProjectID.mint().text
            project.version = 1
            project.reportingOrganisationID = id(activity.reporting)
            project.participants = activity.participants.map {
                AssistanceV1.Participation(organisationID: id($0.organisation), role: $0.role)
            }
            project.parentID = activity.parent.isEmpty ? "" : projectIDs[activity.parent] ?? ""
            do {
                if !project.parentID.isEmpty {
                    let parentID = try ProjectID(checking: project.parentID, "\(activity.place), related-activity")
                    if let planned = projects[project.parentID] {
                        try refuseClosedParent(planned)
                    } else {
                        try refuseClosedParent(
                            try await session.message(AssistanceV1.Project.self, from: "projects", id: parentID))
                    }
                }
                try await refuseTakenIdentifier("projects", project.iatiIdentifier, "project", session)
            } catch let error as any RPCStatusConvertible {
                check.fail(activity.place, error.rpcError.message)
                continue
            }
            projectIDs[activity.identifier] = project.id
            projects[project.id] = project
            plan.projects.append(project)
            for result in activity.results {
                var indicator = result.indicator
                indicator.id = IndicatorID.mint().text
                indicator.projectID = project.id
                plan.indicators.append(indicator)
            }
            answers[activity.identifier] = AssistanceV1.ImportedActivity(
                iatiIdentifier: activity.identifier, projectID: project.id, transactions: Int32(activity.flows.count),
                results: Int32(activity.results.count), notImported: activity.notImported)
        }
        // Every flow in date order, checked against its project and, for loans, what its group owes by then.
        let flows = order.flatMap { activity in
            activity.flows.map { (flow: $0, project: projectIDs[activity.identifier] ?? "") }
        }.sorted { ISODate.text($0.flow.transaction.date) < ISODate.text($1.flow.transaction.date) }
        var loans = LoanBook()
        for (flow, projectID) in flows {
            guard let project = projects[projectID] else { continue }
            var transaction = flow.transaction
            transaction.projectID = projectID
            transaction.providerOrganisationID = flow.provider.map(id) ?? ""
            // The file records history: a flow of an activity closed since is checked as when it was open.
            var open = project
            if open.status == .closed || open.status == .cancelled { open.status = .implementation }
            let valued = try Valued(
                transaction, day: transaction.date, "\(flow.place), transaction-date", amount: transaction.value,
                "\(flow.place), value")
            do throws(DomainError) {
                try MoneyRules.check(valued, against: open)
            } catch {
                check.fail(flow.place, error.message)
                continue
            }
            if let problem = try await loans.count(valued, in: session, lock: lock) {
                check.fail(flow.place, "the group " + problem)
                continue
            }
            plan.flows.append(valued.with { $0.id = TransactionID.mint().text })
        }
        try check.check()
        plan.response.activities = file.activities.map { activity in
            if let id = file.recorded[activity.identifier] {
                return AssistanceV1.ImportedActivity(
                    iatiIdentifier: activity.identifier, projectID: id, alreadyRecorded: true,
                    notImported: activity.notImported)
            }
            return answers[activity.identifier] ?? AssistanceV1.ImportedActivity(iatiIdentifier: activity.identifier)
        }
        plan.response.recorded = Int32(answers.count)
        return plan
    }

    /// The activities not recorded yet, parents before their children; a loop among them is refused.
    private static func parentsFirst(_ file: IATIImport.Resolved, _ check: inout FieldValidator) throws(DomainError)
        -> [IATIImport.Activity]
    {
        var order: [IATIImport.Activity] = []
        var placed = Set<String>()
        var pending = file.activities.filter { file.recorded[$0.identifier] == nil }
        while !pending.isEmpty {
            // Ready: no parent, or one placed already or recorded before (storedParents holds every recorded one).
            let ready = pending.filter {
                $0.parent.isEmpty || placed.contains($0.parent) || file.storedParents[$0.parent] != nil
            }
            guard !ready.isEmpty else {
                for activity in pending { check.fail("\(activity.place), related-activity", "its parents form a loop") }
                try check.check()
                break
            }
            order += ready
            placed.formUnion(ready.map(\.identifier))
            pending.removeAll { activity in ready.contains { $0.identifier == activity.identifier } }
        }
        return order
    }
}
