import Domain
import Schema

/// Computes a group's independence profile from its stored relationships, processes and skill assessments.
enum Independence {
    static func profile(
        group: ProducerV1.ProducerGroup, relationships: [ProducerV1.BuyerRelationship],
        assessments: [ProducerV1.SkillAssessment], asOf: ISODate
    ) -> ProducerV1.IndependenceProfile {
        var profile = ProducerV1.IndependenceProfile(groupID: group.id, asOf: asOf.message)
        let current = relationships.filter { relationship in
            guard let since = relationship.since.flatMap(ISODate.init), since <= asOf else { return false }
            return relationship.endedOn.flatMap(ISODate.init).map { $0 > asOf } ?? true
        }

        // Buyer concentration, in the currency most current relationships use; amounts are never mixed across
        // currencies.
        let priced = current.filter { ($0.yearlyPurchases?.minorUnits ?? 0) > 0 }
        let currencies = Dictionary(grouping: priced, by: { $0.yearlyPurchases?.currency ?? "" })
        if let (currency, inCurrency) = currencies.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) {
            var byBuyer: [String: Int64] = [:]
            for relationship in inCurrency {
                byBuyer[relationship.organisation, default: 0] = byBuyer[relationship.organisation, default: 0]
                    .addingClamped(relationship.yearlyPurchases?.minorUnits ?? 0)
            }
            let total = Double(byBuyer.values.reduce(Int64(0)) { $0.addingClamped($1) })
            let shares = byBuyer.mapValues { Double($0) / total }
            // A group in `currencies` has a buyer: there is a largest one.
            let largest = shares.max { ($0.value, $1.key) < ($1.value, $0.key) } ?? (key: "", value: 0)
            profile.currency = currency
            profile.buyersCounted = Int32(byBuyer.count)
            profile.buyersExcluded = Int32(current.count - inCurrency.count)
            profile.largestBuyer = largest.key
            profile.largestBuyerShareBp = Int32(roundingClamped: largest.value * 10_000)
            profile.buyerConcentrationHhi = Int32(roundingClamped: shares.values.map { $0 * $0 }.reduce(0, +) * 10_000)
            profile.method.append(
                "buyer shares: yearly purchases of the \(byBuyer.count) current buyer(s) paying in \(currency); "
                    + "\(profile.buyersExcluded) relationship(s) in other currencies or without figures left out")
            profile.method.append("concentration: Herfindahl–Hirschman index of buyer shares (10000 = a single buyer)")
        } else {
            profile.buyersExcluded = Int32(current.count)
            profile.method.append("buyer shares: no current relationship with yearly purchases recorded")
        }

        let inHouse = Set(group.processesInHouse)
        let outsourced = Set(group.processesOutsourced).subtracting(inHouse)
        if inHouse.count + outsourced.count > 0 {
            profile.inHouseProcessShareBp = Int32(
                (Double(inHouse.count) / Double(inHouse.count + outsourced.count) * 10_000).rounded())
        }
        profile.method.append(
            "in-house share: \(inHouse.count) of \(inHouse.count + outsourced.count) production processes done by the group itself"
        )

        // Every current relationship has a start (the filter above): the oldest one.
        let started = current.compactMap { relationship in
            relationship.since.flatMap(ISODate.init).map { ($0, relationship) }
        }
        if let (since, longest) = started.min(by: { $0.0 < $1.0 }) {
            profile.longestRelationshipTenthsOfYears = Int32(
                (Double(asOf.dayNumber - since.dayNumber) / 365.25 * 10).rounded(.down))
            profile.longestRelationshipBuyer = longest.organisation
        }
        profile.method.append("longest relationship: years since the oldest current buyer relationship began")

        let yearAgo = asOf.yearsEarlier(1)
        for (skill, history) in Dictionary(grouping: assessments, by: \.skill).sorted(by: { $0.key < $1.key }) {
            let dated = history.compactMap { assessment in
                assessment.assessedOn.flatMap(ISODate.init).map { ($0, assessment) }
            }
            .sorted { $0.0 < $1.0 }
            guard let now = dated.last(where: { $0.0 <= asOf })?.1 else { continue }
            let before = dated.last(where: { $0.0 <= yearAgo })?.1
            profile.skills.append(
                ProducerV1.SkillChange(
                    skill: skill, levelNow: now.level, levelYearAgo: before?.level ?? -1,
                    membersHoldingNow: now.membersHolding))
        }
        profile.method.append(
            "skills: latest assessment on or before \(asOf) against the latest on or before \(yearAgo)")
        return profile
    }
}
