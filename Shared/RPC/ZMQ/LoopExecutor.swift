import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A Swift `TaskExecutor` that runs jobs on an I/O loop's own thread.
///
/// Tasks that prefer it (server handlers, and callers that choose `ClientChannel.executor`) run on the thread that
/// owns the sockets, so a request or reply needs no hand-off between threads: the costliest part of a loopback
/// round trip. Jobs enqueued from other threads wake the loop through its eventfd; jobs enqueued by the loop's
/// own thread just wait for the loop's next turn. Once the loop has stopped, jobs go to Swift's global executor,
/// so that tasks still preferring this one (a caller whose call the closing channel failed, a handler cancelled
/// at shutdown) run to their end instead of waiting for ever.
public final class LoopExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = Mutex<Queue>(Queue())
    private let wakeup: Wakeup
    /// pthread_t of the loop's thread; 0 until the loop starts. Written once by the loop before any job can run.
    private let owner = Atomic<UInt>(0)

    /// Jobs waiting for the loop's next turn; once `stopped`, none wait.
    private struct Queue: ~Copyable {
        var waiting: [UnownedJob] = []
        var stopped = false
    }

    init(wakeup: Wakeup) { self.wakeup = wakeup }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let (queued, wasEmpty) = jobs.withLock { queue -> (Bool, Bool) in
            guard !queue.stopped else { return (false, false) }
            queue.waiting.append(job)
            return (true, queue.waiting.count == 1)
        }
        if !queued {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        } else if wasEmpty && !isLoopThread {
            wakeup.signal()
        }
    }

    /// Whether the caller runs on the loop's thread.
    var isLoopThread: Bool { owner.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Called by the loop's thread when it starts.
    func adoptCurrentThread() { owner.store(UInt(pthread_self()), ordering: .relaxed) }

    var hasJobs: Bool { jobs.withLock { !$0.waiting.isEmpty } }

    /// Runs the jobs waiting now (not those they enqueue: the loop polls its sockets in between).
    func runJobs() {
        let batch = jobs.withLock { queue -> [UnownedJob] in
            guard !queue.waiting.isEmpty else { return [] }
            defer { queue.waiting.removeAll(keepingCapacity: true) }
            return queue.waiting
        }
        let executor = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(on: executor) }
    }

    /// Called by the loop's thread as its last act: the jobs still waiting, and all that come later, go to the
    /// global executor.
    func stop() {
        let left = jobs.withLock { queue -> [UnownedJob] in
            queue.stopped = true
            defer { queue.waiting = [] }
            return queue.waiting
        }
        for job in left { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }
}

/// An I/O loop's state object, reachable from jobs that run on the loop's own thread (and only there).
///
/// The loop sets `value` on its thread before it runs any job and clears it when it stops; code that finds itself
/// on that thread (`LoopExecutor.isLoopThread`) may use the loop directly instead of queueing work for it.
final class LoopReference<Loop: AnyObject>: @unchecked Sendable {
    var value: Loop?
}
