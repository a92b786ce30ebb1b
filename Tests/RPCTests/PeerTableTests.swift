import Testing

@testable import RPC

@Suite("The server's table of long routing ids")
struct PeerTableTests {
    @Test("ids of up to 7 bytes are packed into the PeerID and need no table")
    func shortIDs() throws {
        var table = PeerTable()
        let identity: [UInt8] = [0, 0x6B, 0x8B, 0x45, 0x67]
        let peer = identity.withUnsafeBytes { table.retain($0) }
        #expect(table.longIDCount == 0)
        #expect(try table.withIdentity(of: peer) { Array($0) } == identity)
        table.release(peer)
        #expect(try table.withIdentity(of: peer) { Array($0) } == identity)
    }

    @Test("a long id is held while any of its calls is open, and forgotten after the last")
    func longIDReferences() throws {
        var table = PeerTable()
        let identity = Array(String(repeating: "x", count: 40).utf8)
        let first = identity.withUnsafeBytes { table.retain($0) }
        let second = identity.withUnsafeBytes { table.retain($0) }
        #expect(first == second)
        #expect(table.longIDCount == 1)
        table.release(first)
        #expect(try table.withIdentity(of: second) { Array($0) } == identity)
        table.release(second)
        #expect(table.longIDCount == 0)
        #expect(try table.withIdentity(of: second) { Array($0) } == [])
    }

    @Test("clients that come and go under ever new long ids leave nothing behind, and numbers are never reused")
    func churn() {
        var table = PeerTable()
        var seen = Set<PeerID>()
        for client in 0..<10_000 {
            let identity = Array("client-with-a-long-routing-id-\(client)".utf8)
            let peer = identity.withUnsafeBytes { table.retain($0) }
            #expect(seen.insert(peer).inserted)
            table.release(peer)
        }
        #expect(table.longIDCount == 0)
    }
}
