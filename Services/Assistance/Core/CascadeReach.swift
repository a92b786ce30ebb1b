import Domain
import Schema

/// The reach of a train-the-trainers cascade: tier 1 is the first training, tier n+1 the trainings that cascade
/// from tier n's. People are counted per tier, in total and by sex, with the multiplier from each tier to the next.
public enum CascadeReachRules {

    /// - Parameters:
    ///   - root: the cascade's first training.
    ///   - children: the trainings that cascade from a training, by its id.
    public static func reach(root: AssistanceV1.Training, children: [String: [AssistanceV1.Training]])
        -> AssistanceV1.CascadeReach
    {
        var reach = AssistanceV1.CascadeReach(rootTrainingID: root.id, people: AssistanceV1.PeopleCount())
        var groups = Set<String>()
        var tier = [root]
        var seen: Set<String> = [root.id]
        var previousTotal: Int32 = 0
        while !tier.isEmpty {
            var people = AssistanceV1.PeopleCount()
            for training in tier {
                people.add(training.trainees ?? AssistanceV1.PeopleCount())
                groups.formUnion(training.trainedGroupIDs)
            }
            let total = people.total
            let multiplier = previousTotal > 0 ? Int32(roundingClamped: Double(total) * 100 / Double(previousTotal)) : 0
            reach.tiers.append(
                AssistanceV1.CascadeTier(
                    tier: Int32(reach.tiers.count + 1), trainings: Int32(tier.count), people: people, total: total,
                    multiplierHundredths: multiplier, trainingIDs: tier.map(\.id)))
            var everyone = reach.people ?? AssistanceV1.PeopleCount()
            everyone.add(people)
            reach.people = everyone
            reach.total = everyone.total
            previousTotal = total
            // Stored cascades never loop (LinkCascade refuses it); `seen` keeps a damaged store from spinning.
            let next: [AssistanceV1.Training] = tier.flatMap { children[$0.id] ?? [] }.filter {
                seen.insert($0.id).inserted
            }
            tier = next.sorted(by: Self.heldFirst)
        }
        reach.groupsReached = Int32(groups.count)
        return reach
    }

    /// Earlier trainings first; the id breaks ties.
    static func heldFirst(_ a: AssistanceV1.Training, _ b: AssistanceV1.Training) -> Bool {
        let dayA = a.heldOn.flatMap(ISODate.init)?.dayNumber ?? 0
        let dayB = b.heldOn.flatMap(ISODate.init)?.dayNumber ?? 0
        return dayA != dayB ? dayA < dayB : a.id < b.id
    }
}

extension AssistanceV1.PeopleCount {
    /// Adds `other`'s counts; a sum past Int32 stays at its largest value rather than trapping.
    mutating func add(_ more: AssistanceV1.PeopleCount) {
        women = Self.sum(women, more.women)
        men = Self.sum(men, more.men)
        other = Self.sum(other, more.other)
    }

    /// Everyone counted, held at Int32's largest value.
    var total: Int32 { Int32(clamping: Int64(women) + Int64(men) + Int64(other)) }

    private static func sum(_ a: Int32, _ b: Int32) -> Int32 { Int32(clamping: Int64(a) + Int64(b)) }
}
