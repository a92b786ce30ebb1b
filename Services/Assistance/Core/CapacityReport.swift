import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// The capacity report: one producer group seen from the three services at once. The Producer calls, this service's
/// own records and the Marketplace-Info bulletin all run in parallel, so the report takes about as long as the
/// slowest of them. A section whose service fails is marked unavailable with the reason; the rest still comes back.
extension AssistanceHandler {
    public func getCapacityReport(_ request: AssistanceV1.GetCapacityReportRequest, context: ServerContext) async throws
        -> AssistanceV1.CapacityReport
    {
        var check = FieldValidator()
        check.id(request.groupID, "group_id", ProducerGroupID.self)
        if request.marketDays != 0 { check.range(request.marketDays, 1...365, "market_days") }
        try check.check()
        let id = request.groupID
        async let producerPart = producerSection(id)
        async let assistancePart = assistanceSection(id)
        async let marketPart = marketSection(id, days: request.marketDays)
        let (producer, notFound) = await producerPart
        var (assistance, counted) = await assistancePart
        let market = await marketPart
        if let notFound { throw RPCError(.notFound, notFound.message) }
        // A merge this service had not heard of yet: count again, now with the merged ids.
        if let profile = producer.profile, !Set([profile.id] + profile.mergedIDs).isSubset(of: counted) {
            (assistance, _) = await assistanceSection(profile.id)
        }
        return AssistanceV1.CapacityReport(
            groupID: producer.profile?.id ?? id,
            generatedAt: CommonV1.Timestamp(unixMicros: Clock.unixMicros()),
            producer: producer, assistance: assistance, market: market)
    }

    static func available(_ service: ServiceAddress) -> AssistanceV1.SectionStatus {
        AssistanceV1.SectionStatus(available: true, service: service.executable)
    }

    static func unavailable(_ service: ServiceAddress, _ error: any Error) -> AssistanceV1.SectionStatus {
        let status = (error as? any RPCStatusConvertible)?.rpcError ?? RPCError(.internalError, "\(error)")
        return AssistanceV1.SectionStatus(
            available: false, service: service.executable, code: status.code.description,
            reason: status.message)
    }

    /// Profile, skills over time, independence and buyers, from four Producer calls made together. A group the
    /// Producer service does not know comes back as the NOT_FOUND error.
    func producerSection(_ id: String) async -> (AssistanceV1.ProducerSection, RPCError?) {
        let client = producer.client
        async let group = Result(rpc: { () async throws(RPCError) in
            try await client.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: id))
        })
        async let skills = Result(rpc: { () async throws(RPCError) in
            try await client.listSkillAssessments(ProducerV1.ListSkillAssessmentsRequest(groupID: id))
        })
        async let independence = Result(rpc: { () async throws(RPCError) in
            try await client.getIndependenceProfile(ProducerV1.GetIndependenceProfileRequest(groupID: id))
        })
        async let buyers = Result(rpc: { () async throws(RPCError) in
            try await client.listBuyerRelationships(ProducerV1.ListBuyerRelationshipsRequest(groupID: id))
        })
        var section = AssistanceV1.ProducerSection()
        do throws(RPCError) {
            let profile = try await group.get()
            section.profile = profile
            section.skills = try await skills.get().assessments
            section.independence = try await independence.get()
            section.buyers = try await buyers.get().relationships
            section.status = Self.available(.producer)
            await producer.remember(profile)
        } catch  where error.code == .notFound {
            return (section, error)
        } catch {
            section = AssistanceV1.ProducerSection(status: Self.unavailable(.producer, error))
        }
        return (section, nil)
    }

    /// Money per currency, equipment, trainings, referrals and results recorded here for the group (and the ids
    /// merged into it).
    /// - Returns: the section and the group ids it counted.
    func assistanceSection(_ id: String) async -> (AssistanceV1.AssistanceSection, Set<String>) {
        var counted: [String] = []
        do {
            let groups = try await storage { try await store.aliases(of: id) }
            counted = groups
            let byGroup = {
                var conditions = SQLConditions()
                conditions.among("group_id", groups)
                return conditions
            }()
            let section = try await storage {
                async let money = store.groupTotals(groups)
                async let equipment = firstPage(
                    "equipment", byGroup, sortColumn: "day", as: AssistanceV1.Equipment.self)
                async let trainings = firstPage(
                    "trainings", AssistanceStore.trainingConditions(groupIDs: groups, projectID: "", skill: ""),
                    sortColumn: "held_on", as: AssistanceV1.Training.self)
                async let referrals = firstPage("referrals", byGroup, sortColumn: "day", as: AssistanceV1.Referral.self)
                async let results = firstPage("indicators", byGroup, sortColumn: "id", as: AssistanceV1.Indicator.self)
                return AssistanceV1.AssistanceSection(
                    status: Self.available(.assistance), money: try await money, equipment: try await equipment,
                    trainings: try await trainings, referrals: try await referrals, results: try await results)
            }
            return (section, Set(counted))
        } catch {
            return (AssistanceV1.AssistanceSection(status: Self.unavailable(.assistance, error)), Set(counted))
        }
    }

    /// Records of each kind the report shows at most.
    static let reportLimit = 1_000

    func firstPage<T: ProtoMessage>(_ table: String, _ conditions: SQLConditions, sortColumn: String, as: T.Type)
        async throws -> [T]
    {
        try await store.database.page(
            table, conditions, sortColumn: sortColumn, after: nil, limit: Self.reportLimit, as: T.self
        )
        .0
    }

    /// The Marketplace-Info bulletin for the group. When this service already knows the group's crafts (from an
    /// earlier Producer answer) it passes them on, so the bulletin does not wait on the Producer service and still
    /// comes back when that is down.
    func marketSection(_ id: String, days: Int32) async -> AssistanceV1.MarketSection {
        var request = MarketplaceV1.GetMarketBulletinRequest(groupID: id, days: days)
        var known = producer.known.group(id)
        if known == nil, let stored = try? await store.knownGroup(id) {
            known = stored
            producer.known.remember(stored)
        }
        if let known, !known.crafts.isEmpty {
            request.groupID = known.id
            request.crafts = known.crafts
            request.country = known.country
            request.groupName = known.name
        }
        do throws(RPCError) {
            return AssistanceV1.MarketSection(
                status: Self.available(.marketplaceInfo),
                bulletin: try await marketplace.getMarketBulletin(request))
        } catch {
            return AssistanceV1.MarketSection(status: Self.unavailable(.marketplaceInfo, error))
        }
    }
}

extension Result where Failure == RPCError {
    /// The outcome of a typed-throwing async call, so that several can run together with `async let`.
    init(rpc body: () async throws(RPCError) -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
