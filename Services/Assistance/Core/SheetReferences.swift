import Domain
import RPC
import Schema
import ServiceKit

/// Spreadsheet cells that name a project, an organisation or a producer group, by its id or by its exact name as
/// people keep them, turned into ids. A cell that names none, or several, is a problem of its row and column.
enum SheetReferences {
    /// A cell to resolve, and where it is, for naming its problem.
    struct Cell {
        let row: Int
        let column: String
        let text: String
    }

    /// Project ids by cell text: a cell holds a project's id, its title or its IATI identifier (any case); the cells
    /// that name none or several are reported to `check`.
    static func projects(_ cells: [Cell], _ store: AssistanceStore, _ check: inout FieldValidator) async throws
        -> [String: String]
    {
        guard !cells.isEmpty else { return [:] }
        let projects = try await storage { try await store.allProjects() }
        let ids = Set(projects.map(\.id))
        var named: [String: Set<String>] = [:]
        for project in projects {
            named[project.title.lowercased(), default: []].insert(project.id)
            if !project.iatiIdentifier.isEmpty {
                named[project.iatiIdentifier.lowercased(), default: []].insert(project.id)
            }
        }
        var resolved: [String: String] = [:]
        for cell in cells {
            switch CSV.RowCheck.resolve(
                cell.text, ids: ids, named: Array(named[cell.text.lowercased(), default: []]), noun: "project")
            {
            case .success(let id): resolved[cell.text] = id
            case .failure(let error): check.fail("row \(cell.row), \(cell.column)", error.message)
            }
        }
        return resolved
    }

    /// Organisation ids by cell text; the cells that name none or several are reported to `check`.
    static func organisations(_ cells: [Cell], _ store: AssistanceStore, _ check: inout FieldValidator) async throws
        -> [String: String]
    {
        guard !cells.isEmpty else { return [:] }
        let organisations = try await storage { try await store.listOrganisations(kind: .unspecified) }
        let ids = Set(organisations.map(\.id))
        let named = Dictionary(grouping: organisations, by: { $0.name.lowercased() }).mapValues { $0.map(\.id) }
        var resolved: [String: String] = [:]
        for cell in cells {
            switch CSV.RowCheck.resolve(
                cell.text, ids: ids, named: named[cell.text.lowercased(), default: []], noun: "organisation")
            {
            case .success(let id): resolved[cell.text] = id
            case .failure(let error): check.fail("row \(cell.row), \(cell.column)", error.message)
            }
        }
        return resolved
    }

    /// Producer group ids by cell text: a "pg_" id stands for itself (whether it exists is for
    /// `ProducerLink.requireGroups`), anything else is a name asked of the Producer service. The cells that name
    /// no group or several are reported to `check` and left out.
    static func groups(_ cells: [Cell], _ producer: ProducerLink, purpose: String, _ check: inout FieldValidator)
        async throws -> [String: String]
    {
        func isID(_ text: String) -> Bool { ProducerGroupID(text) != nil }
        var resolved: [String: String] = [:]
        for cell in cells where isID(cell.text) { resolved[cell.text] = cell.text }
        let names = cells.map(\.text).filter { !isID($0) }
        guard !names.isEmpty else { return resolved }
        let named = try await producer.groupsNamed(names, purpose: purpose)
        for cell in cells where !isID(cell.text) {
            switch CSV.RowCheck.resolve(
                cell.text, ids: [], named: named[cell.text, default: []].map(\.id), noun: "producer group")
            {
            case .success(let id): resolved[cell.text] = id
            case .failure(let error): check.fail("row \(cell.row), \(cell.column)", error.message)
            }
        }
        return resolved
    }
}
