import Reactor
import Testing

@testable import SIP

/// What keeps strangers' INVITEs from piling up: the call limit (486 before ringing), the ring
/// timeout (480 after `ringTimeoutSeconds`), and a media layer out of RTP ports (503), on the
/// virtual clock against a scripted peer.
@Suite("SIP calls: call limit, ring timeout, no RTP port")
struct CallLimitTests {
    /// An INVITE without SDP from 192.0.2.1, call `n`.
    static func invite(_ n: Int) throws -> SIPMessage {
        let lines = [
            "INVITE sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-limit-\(n)",
            "Max-Forwards: 70",
            "From: <sip:stranger@192.0.2.1>;tag=s\(n)",
            "To: <sip:1001@192.0.2.10>",
            "Call-ID: limit-\(n)@192.0.2.1",
            "CSeq: 1 INVITE",
            "Contact: <sip:stranger@192.0.2.1:5060>",
            "Content-Length: 0",
        ]
        return try SIPMessage.parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
    }

    static func account(maxCalls: Int = 4, ringTimeout: Int = 120) -> SIPAccountConfiguration {
        var account = SIPAccountConfiguration(userName: "1001")
        account.maxCalls = maxCalls
        account.ringTimeoutSeconds = ringTimeout
        return account
    }

    /// The statuses the UA sent for call `n` (retransmissions once).
    static func statuses(_ scripted: ScriptedPeerUA, call n: Int) -> [Int] {
        var out: [Int] = []
        for response in scripted.responses where response.callID == "limit-\(n)@192.0.2.1" {
            if let status = response.status, !out.contains(status) { out.append(status) }
        }
        return out
    }

    @Test("beyond account.maxCalls an INVITE gets 486 before it rings, and a dial is refused")
    func callLimit() throws {
        let scripted = try ScriptedPeerUA(account: Self.account(maxCalls: 2))
        defer { scripted.close() }
        var incoming: [Int] = []
        scripted.ua.onCallState = { call, state in if state == .incoming { incoming.append(call.id) } }
        for n in 1...3 {
            scripted.ua.transactions.receive(try Self.invite(n), from: scripted.peer)
            try scripted.reactor.runUntilIdle()
        }
        #expect(incoming.count == 2)
        #expect(scripted.ua.calls.count == 2)
        #expect(Self.statuses(scripted, call: 1) == [180])
        #expect(Self.statuses(scripted, call: 2) == [180])
        #expect(Self.statuses(scripted, call: 3) == [486])
        #expect(throws: SIPError.self) { _ = try scripted.ua.call("sip:2002@192.0.2.1") }
        // One call ends: the next INVITE rings again.
        scripted.ua.calls[0].reject(status: 603)
        try scripted.reactor.runUntilIdle()
        scripted.ua.transactions.receive(try Self.invite(4), from: scripted.peer)
        try scripted.reactor.runUntilIdle()
        #expect(Self.statuses(scripted, call: 4) == [180])
        #expect(scripted.ua.calls.count == 2)
    }

    @Test("an incoming call nobody answers is refused with 480 after the ring timeout, its state dropped")
    func ringTimeout() throws {
        let scripted = try ScriptedPeerUA(account: Self.account(ringTimeout: 30))
        defer { scripted.close() }
        var ended: [SIPCallState] = []
        scripted.ua.onCallState = { _, state in if state.isEnded { ended.append(state) } }
        scripted.ua.transactions.receive(try Self.invite(1), from: scripted.peer)
        try scripted.reactor.runUntilIdle()
        let call = try #require(scripted.ua.calls.first)
        try scripted.reactor.run(for: 29 * SIPTimerValues.second)
        #expect(call.state == .incoming)
        #expect(Self.statuses(scripted, call: 1) == [180])
        try scripted.reactor.run(for: 2 * SIPTimerValues.second)
        #expect(call.state == .ended(.notAnswered))
        #expect(Self.statuses(scripted, call: 1) == [180, 480])
        #expect(scripted.ua.calls.isEmpty)
        #expect(ended == [.ended(.notAnswered)])

        // An answered call is not touched by its ring timer.
        scripted.ua.transactions.receive(try Self.invite(2), from: scripted.peer)
        try scripted.reactor.runUntilIdle()
        let answered = try #require(scripted.ua.calls.first)
        try scripted.reactor.run(for: 10 * SIPTimerValues.second)
        #expect(answered.answer())
        try scripted.reactor.run(for: 60 * SIPTimerValues.second)
        #expect(!Self.statuses(scripted, call: 2).contains(480))
        #expect(ended.filter { $0 == .ended(.notAnswered) }.count == 1)
    }

    @Test("no free RTP port: an incoming INVITE gets 503 without ringing, a dial fails with a clear reason")
    func noMediaPort() throws {
        let scripted = try ScriptedPeerUA(account: Self.account(), mediaPort: { _ in 0 })
        defer { scripted.close() }
        var log: [String] = []
        scripted.ua.onLog = { log.append($0) }
        var announced = 0
        scripted.ua.onCallState = { _, state in if state == .incoming { announced += 1 } }
        scripted.ua.transactions.receive(try Self.invite(1), from: scripted.peer)
        try scripted.reactor.runUntilIdle()
        #expect(Self.statuses(scripted, call: 1) == [503])
        #expect(announced == 0)
        #expect(scripted.ua.calls.isEmpty)
        #expect(log.contains { $0.contains("no free RTP port: refused with 503") })
        let call = try scripted.ua.call("sip:2002@192.0.2.1")
        #expect(call.state == .ended(.failed("no free RTP port")))
        #expect(scripted.ua.calls.isEmpty)
        #expect(scripted.requests.isEmpty)
    }
}
