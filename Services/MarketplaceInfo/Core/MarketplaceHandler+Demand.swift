import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: demand.
extension MarketplaceHandler {
    public func postDemand(_ request: MarketplaceV1.PostDemandRequest, context: ServerContext) async throws
        -> MarketplaceV1.DemandSignal
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var signal = request.signal ?? MarketplaceV1.DemandSignal()
        signal.buyer = check.text(signal.buyer, "signal.buyer", required: true)
        signal.product = Self.product(signal.product, "signal.product", &check)
        if var quantity = signal.quantity {
            if quantity.amount <= 0 { check.fail("signal.quantity.amount", "must be positive, got \(quantity.amount)") }
            quantity.unit = Self.unit(quantity.unit, "signal.quantity.unit", &check)
            signal.quantity = quantity
        } else {
            check.fail("signal.quantity", "is required (amount and unit)")
        }
        if let price = signal.targetPrice {
            signal.targetPrice = check.money(price, "signal.target_price", positive: false)?.message ?? price
        }
        _ = check.date(signal.neededBy, "signal.needed_by")
        signal.countries = signal.countries.enumerated().map { check.country($1, "signal.countries[\($0)]") }
        signal.notes = check.text(signal.notes, "signal.notes", maxLength: 2000)
        try check.check()
        let outcome = try await storage { try await store.postDemand(signal, requestID: request.requestID) }
        if outcome.created {
            events?.publish(
                topic: Topic.demand(outcome.value.product),
                MarketplaceV1.MarketEvent(kind: .demand, demand: outcome.value))
        }
        return outcome.value
    }

    public func listDemand(_ request: MarketplaceV1.ListDemandRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListDemandResponse
    {
        MarketplaceV1.ListDemandResponse(
            signals: try await storage {
                try await store.listDemand(
                    product: request.product.trimmingWhitespace().lowercased(), status: request.status)
            })
    }

    /// Asks the Producer service for groups with the signal's craft (in its countries), keeps those whose minimum
    /// order and lead time fit, then records the matches. The Producer calls come first: if it cannot be reached
    /// nothing is written and the call fails UNAVAILABLE naming it.
    public func matchDemand(_ request: MarketplaceV1.MatchDemandRequest, context: ServerContext) async throws
        -> MarketplaceV1.MatchDemandResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            check.requestID(request.requestID)
            let signalID = check.id(request.signalID, "signal_id", DemandSignalID.self)
            try check.check()
            let id = try signalID.checked("signal_id")
            // A replay answers as the first attempt did, without asking the Producer service again.
            if let answer = try await storage({
                try await store.database.keptAnswer(
                    MarketplaceV1.MatchDemandResponse.self, "MatchDemand", requestID: request.requestID)
            }) {
                return answer
            }
            let signal = try await storage { try await store.getSignal(id) }
            guard signal.status == .open || signal.status == .matched else {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signal.id)\" is \(CSV.cell(signal.status)): nothing to match")
            }
            var candidates: [ProducerV1.ProducerGroup] = []
            do throws(RPCError) {
                for country in signal.countries.isEmpty ? [""] : signal.countries {
                    var page = ProducerV1.ListProducerGroupsRequest(
                        country: country, craft: signal.product, status: .active,
                        pageSize: 500)
                    repeat {
                        let answer = try await producer.listProducerGroups(page)
                        candidates += answer.groups
                        page.pageToken = answer.nextPageToken
                    } while !page.pageToken.isEmpty && candidates.count < 5_000
                }
            } catch {
                switch error.code {
                case .unavailable, .deadlineExceeded, .resourceExhausted:
                    throw RPCError(
                        .unavailable, "matching needs producer-service, which did not answer: \(error.message)")
                default:
                    throw RPCError(.internalError, "producer-service refused the match query: \(error)")
                }
            }
            let today = ISODate.today()
            let neededBy = try signal.neededBy.day("needed_by")
            let daysLeft = neededBy.dayNumber - today.dayNumber
            let matches = candidates.compactMap { group -> MarketplaceV1.DemandMatch? in
                var reasons = ["makes \(signal.product)"]
                if !signal.countries.isEmpty { reasons.append("in \(group.country)") }
                if let order = group.minimumOrder, order.amount > 0, let quantity = signal.quantity {
                    guard order.unit == quantity.unit else { return nil }
                    guard order.amount <= quantity.amount else { return nil }
                    reasons.append("minimum order \(order.amount) \(order.unit) ≤ \(quantity.amount)")
                } else {
                    reasons.append("no minimum order")
                }
                if group.leadTimeDays > 0 {
                    guard Int(group.leadTimeDays) <= daysLeft else { return nil }
                    reasons.append("lead time \(group.leadTimeDays) days, \(daysLeft) days until needed")
                } else {
                    reasons.append("lead time not recorded")
                }
                return MarketplaceV1.DemandMatch(
                    signalID: signal.id, groupID: group.id, groupName: group.name, country: group.country,
                    reasons: reasons)
            }
            return try await storage {
                try await store.saveMatches(signalID: id, matches, requestID: request.requestID)
            }
        }
    }

    public func answerDemand(_ request: MarketplaceV1.AnswerDemandRequest, context: ServerContext) async throws
        -> MarketplaceV1.DemandAnswer
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var answer = request.answer ?? MarketplaceV1.DemandAnswer()
        check.id(answer.signalID, "answer.signal_id", DemandSignalID.self)
        check.id(answer.groupID, "answer.group_id", ProducerGroupID.self)
        if let price = answer.offeredPrice {
            answer.offeredPrice = check.money(price, "answer.offered_price", positive: false)?.message ?? price
        }
        if var quantity = answer.quantity {
            check.nonNegative(quantity.amount, "answer.quantity.amount")
            quantity.unit = Self.unit(quantity.unit, "answer.quantity.unit", &check)
            answer.quantity = quantity
        }
        _ = check.date(answer.canDeliverBy, "answer.can_deliver_by", required: false)
        answer.message = check.text(answer.message, "answer.message", maxLength: 2000)
        try check.check()
        try await requireProducerGroup(answer.groupID, field: "answer.group_id")
        return try await storage { try await store.answer(answer, requestID: request.requestID) }
    }

    public func listDemandAnswers(_ request: MarketplaceV1.ListDemandAnswersRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.ListDemandAnswersResponse
    {
        let signalID = try FieldValidator.id(request.signalID, "signal_id", DemandSignalID.self)
        return MarketplaceV1.ListDemandAnswersResponse(
            answers: try await storage { try await store.answers(signalID: signalID) })
    }

    public func setDemandStatus(_ request: MarketplaceV1.SetDemandStatusRequest, context: ServerContext) async throws
        -> MarketplaceV1.DemandSignal
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let signalID = check.id(request.signalID, "signal_id", DemandSignalID.self)
        if request.status != .fulfilled && request.status != .withdrawn {
            check.fail("status", "must be DEMAND_STATUS_FULFILLED or DEMAND_STATUS_WITHDRAWN")
        }
        try check.check()
        let id = try signalID.checked("signal_id")
        return try await storage {
            try await store.setStatus(signalID: id, request.status, requestID: request.requestID)
        }
    }
}
