import HeapModule

/// The deadlines of an I/O loop's calls, soonest first.
///
/// A call answered in time leaves its entry behind (removing from the middle of a heap is costly); stale entries
/// are skipped when they come due, and the queue is rebuilt from the calls still open once they outnumber those
/// (30 s deadlines at full speed would otherwise keep over a million).
struct DeadlineQueue<Key: Hashable> {
    private var heap = Heap<Entry>()

    struct Entry: Comparable {
        let deadline: ContinuousClock.Instant
        let key: Key

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.deadline < rhs.deadline }
        static func == (lhs: Self, rhs: Self) -> Bool { lhs.deadline == rhs.deadline && lhs.key == rhs.key }
    }

    /// The soonest deadline, stale or not.
    var next: ContinuousClock.Instant? { heap.min?.deadline }

    mutating func insert(_ deadline: ContinuousClock.Instant, for key: Key) {
        heap.insert(Entry(deadline: deadline, key: key))
    }

    /// Rebuilds the queue from `open` (the calls still waiting, with their deadlines) when stale entries dominate.
    mutating func compact<Calls: Collection>(
        _ open: Calls, deadline: (Calls.Element) -> (key: Key, deadline: ContinuousClock.Instant?)
    ) {
        guard heap.count > 2 * open.count + 1024 else { return }
        heap = Heap(
            open.compactMap { call in
                let (key, due) = deadline(call)
                return due.map { Entry(deadline: $0, key: key) }
            })
    }

    /// Removes and returns the next entry due by `now`; the caller checks that its call is still open.
    mutating func popDue(by now: ContinuousClock.Instant) -> Entry? {
        guard let first = heap.min, first.deadline <= now else { return nil }
        return heap.removeMin()
    }
}
