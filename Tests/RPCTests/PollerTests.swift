import Foundation
import Testing

@testable import RPC

@Suite("An I/O loop's wait for input, with and without busy polling")
struct PollerTests {
    /// A poll set of one eventfd, signalled from another thread after `delay` (never when nil).
    private func poll(
        signalAfter delay: Duration?, timeoutMillis: Int, busyPoll: Duration
    ) -> (readable: Bool, waited: Duration) {
        let wakeup = Wakeup()
        var poller = Poller()
        poller.add(fd: wakeup.fd)
        if let delay {
            Thread.detachNewThread {
                Thread.sleep(
                    forTimeInterval: Double(delay.components.attoseconds) / 1e18 + Double(delay.components.seconds))
                wakeup.signal()
            }
        }
        let start = ContinuousClock.now
        let readable = poller.poll(timeoutMillis: timeoutMillis, busyPoll: busyPoll) && poller.isReadable(0)
        return (readable, .now - start)
    }

    @Test("input already there is found at once, spinning or not", arguments: [Duration.zero, .microseconds(50)])
    func inputAlreadyThere(busyPoll: Duration) {
        let wakeup = Wakeup()
        wakeup.signal()
        var poller = Poller()
        poller.add(fd: wakeup.fd)
        let found = poller.poll(timeoutMillis: -1, busyPoll: busyPoll)
        #expect(found && poller.isReadable(0))
    }

    @Test("input that comes after the spin is still found by the blocking wait that follows it")
    func inputAfterTheSpin() {
        let result = poll(signalAfter: .milliseconds(30), timeoutMillis: 10_000, busyPoll: .milliseconds(1))
        #expect(result.readable)
        #expect(result.waited < .seconds(5))
    }

    @Test("input that comes during the spin ends it")
    func inputDuringTheSpin() {
        let result = poll(signalAfter: .milliseconds(20), timeoutMillis: 10_000, busyPoll: .seconds(8))
        #expect(result.readable)
        #expect(result.waited < .seconds(5))
    }

    @Test("with no input the wait lasts its timeout, the spin included, and says nothing is readable")
    func timeout() {
        let result = poll(signalAfter: nil, timeoutMillis: 40, busyPoll: .milliseconds(5))
        #expect(!result.readable)
        #expect(result.waited >= .milliseconds(40))
    }

    @Test("a wait that must not block does not spin either")
    func noSpinWithoutBlocking() {
        let result = poll(signalAfter: nil, timeoutMillis: 0, busyPoll: .seconds(5))
        #expect(!result.readable)
        #expect(result.waited < .seconds(2))
    }
}
