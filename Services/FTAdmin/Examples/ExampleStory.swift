import API
import Foundation
import RPC
import Schema
import ServiceKit

/// docs/examples/story/story.json: the example data as the requests that record it, sent in order through the
/// services' public methods (the imports among them carry the story's spreadsheets and IATI file). Nothing of the
/// story is in code: the file is read, its references to records by name become their ids, and each request goes
/// out as `ftadmin call` sends one.
struct ExampleStory {
    /// One request of the story.
    struct Step {
        let number: Int
        let service: ServiceAddress
        let schema: ServiceSchema
        let method: ServiceSchema.Method
        let request: JSONValue
    }

    /// The kinds of record a request may name, as "@kind:name".
    enum Reference: String, CaseIterable {
        case group, organisation, project, training, referral
    }

    let steps: [Step]

    /// The story as ftadmin holds it (ExampleFiles); a problem in it is a bug of the file, said with its step.
    init(files: [String: String] = ExampleFiles.files, folder: String = "story/") throws {
        let document = try JSONValue.parse(files[folder + "story.json"] ?? "")
        guard case .array(let items)? = document["steps"] else {
            throw CommandFailure(description: "\(folder)story.json: no \"steps\" array")
        }
        steps = try items.enumerated().map { index, item in
            let number = index + 1
            func problem(_ text: String) -> CommandFailure {
                CommandFailure(description: "\(folder)story.json, step \(number): \(text)")
            }
            guard case .string(let name)? = item["service"], let service = ServiceDirectory.find(name),
                let schema = SchemaRegistry.service(named: service.rpcService)
            else { throw problem("\"service\" names no service") }
            guard case .string(let methodName)? = item["method"], let method = schema.method(named: methodName) else {
                throw problem("\"method\" names no method of \(schema.name)")
            }
            guard var request = item["request"] else { throw problem("no \"request\"") }
            if case .string(let file)? = item["file"] {
                guard let text = files[folder + file] else { throw problem("no file \(folder)\(file)") }
                let field = file.hasSuffix(".xml") ? "xml" : "csv"
                request = request.setting(field, to: .string(Data(text.utf8).base64EncodedString()))
            }
            return Step(number: number, service: service, schema: schema, method: method, request: request)
        }
    }

    /// Sends every step in order, over one channel per service.
    func load(_ global: GlobalOptions) async throws {
        var channels: [String: ClientChannel] = [:]
        defer { channels.values.forEach { $0.close() } }
        func channel(_ service: ServiceAddress) throws -> ClientChannel {
            if let open = channels[service.shortName] { return open }
            let opened = try global.channel(to: service)
            channels[service.shortName] = opened
            return opened
        }
        var names = ExampleNames(global: global, channel: channel)
        for step in steps {
            let request = try await names.resolving(step.request, step: step.number)
            let payload = try DescriptorJSON.encode(request, as: step.method.inputType)
            let service = try channel(step.service)
            do {
                _ = try await service.call(
                    service: step.schema.name, method: step.method.name, idempotent: step.method.idempotent,
                    payload: payload, options: global.callOptions)
            } catch {
                throw CommandFailure(
                    description:
                        "example data, step \(step.number) (\(step.method.name)): \(error.code): \(error.message)")
            }
            names.forget()
        }
    }
}

/// The ids of the records the story names, asked of the services when a step needs them and forgotten after every
/// step (a step may add the record a later one names).
struct ExampleNames {
    let global: GlobalOptions
    let channel: (ServiceAddress) throws -> ClientChannel
    private var known: [ExampleStory.Reference: [String: String]] = [:]

    init(global: GlobalOptions, channel: @escaping (ServiceAddress) throws -> ClientChannel) {
        self.global = global
        self.channel = channel
    }

    mutating func forget() { known = [:] }

    /// `json` with every "@kind:name" string replaced by the id of the record of that kind and name.
    mutating func resolving(_ json: JSONValue, step: Int) async throws -> JSONValue {
        switch json {
        case .string(let text) where text.hasPrefix("@"):
            let parts = text.dropFirst().split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = ExampleStory.Reference(rawValue: parts[0]) else {
                throw CommandFailure(
                    description:
                        "story.json, step \(step): \"\(text)\" is no reference (@kind:name, kinds: "
                        + ExampleStory.Reference.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            if known[kind] == nil { known[kind] = try await ids(of: kind) }
            guard let id = known[kind]?[parts[1]] else {
                throw CommandFailure(
                    description: "story.json, step \(step): no \(kind.rawValue) \"\(parts[1])\" is recorded")
            }
            return .string(id)
        case .array(let items):
            var resolved: [JSONValue] = []
            for item in items { resolved.append(try await resolving(item, step: step)) }
            return .array(resolved)
        case .object(let members):
            var resolved: [(String, JSONValue)] = []
            for (key, value) in members { resolved.append((key, try await resolving(value, step: step))) }
            return .object(resolved)
        default:
            return json
        }
    }

    /// Ids by name of every record of `kind` (a referral by its group's name).
    private func ids(of kind: ExampleStory.Reference) async throws -> [String: String] {
        let options = global.callOptions
        let assistance = AssistanceV1.AssistanceServiceClient(channel: try channel(ServiceDirectory.assistance))
        func pages<Record>(_ call: (String) async throws -> ([Record], String)) async throws -> [Record] {
            var (records, next) = try await call("")
            while !next.isEmpty {
                let (more, after) = try await call(next)
                records += more
                next = after
            }
            return records
        }
        func byName<Record>(_ records: [Record], _ name: (Record) -> String, _ id: (Record) -> String)
            -> [String: String]
        {
            Dictionary(records.map { (name($0), id($0)) }, uniquingKeysWith: { first, _ in first })
        }
        switch kind {
        case .group, .referral:
            let producer = ProducerV1.ProducerServiceClient(channel: try channel(ServiceDirectory.producer))
            let groups = try await pages { token in
                let page = try await producer.listProducerGroups(
                    ProducerV1.ListProducerGroupsRequest(pageSize: 500, pageToken: token), options: options)
                return (page.groups, page.nextPageToken)
            }
            let groupIDs = byName(groups, \.name, \.id)
            guard kind == .referral else { return groupIDs }
            var referrals: [String: String] = [:]
            for (name, id) in groupIDs {
                let answer = try await assistance.listReferrals(
                    AssistanceV1.ListReferralsRequest(groupID: id), options: options)
                referrals[name] = answer.referrals.first?.id
            }
            return referrals
        case .organisation:
            let answer = try await assistance.listOrganisations(
                AssistanceV1.ListOrganisationsRequest(), options: options)
            return byName(answer.organisations, \.name, \.id)
        case .project:
            let answer = try await assistance.listProjects(AssistanceV1.ListProjectsRequest(), options: options)
            return byName(answer.projects, \.title, \.id)
        case .training:
            let trainings = try await pages { token in
                let page = try await assistance.listTrainings(
                    AssistanceV1.ListTrainingsRequest(pageSize: 500, pageToken: token), options: options)
                return (page.trainings, page.nextPageToken)
            }
            return byName(trainings, \.title, \.id)
        }
    }
}
