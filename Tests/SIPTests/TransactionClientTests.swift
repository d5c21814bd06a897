import Reactor
import Testing

@testable import SIP

@Suite("SIP client transactions (RFC 3261 §17.1)")
struct TransactionClientTests {
    /// The differences between consecutive send times, in milliseconds.
    static func intervals(_ times: [Int64]) -> [Int64] {
        var result: [Int64] = []
        for i in 1..<times.count { result.append(times[i] - times[i - 1]) }
        return result
    }

    @Test("timer values: defaults and the derived timers of Appendix A")
    func timerValues() {
        let t = SIPTimerValues()
        let ms = SIPTimerValues.millisecond
        #expect(t.t1 == 500 * ms && t.t2 == 4000 * ms && t.t4 == 5000 * ms)
        #expect(t.timerA == 500 * ms && t.timerB == 32_000 * ms && t.timerF == 32_000 * ms && t.timerH == 32_000 * ms)
        #expect(t.timerD(.udp) == 32_000 * ms && t.timerD(.tcp) == 0)
        #expect(t.timerI(.udp) == 5000 * ms && t.timerI(.tcp) == 0)
        #expect(t.timerJ(.udp) == 32_000 * ms && t.timerJ(.tcp) == 0)
        #expect(t.timerK(.udp) == 5000 * ms && t.timerK(.tcp) == 0)
        #expect(t.doubled(2000 * ms, capped: true) == 4000 * ms && t.doubled(4000 * ms, capped: true) == 4000 * ms)
        #expect(t.doubled(4000 * ms, capped: false) == 8000 * ms)
        let slow = SIPTimerValues(t1Milliseconds: 1000)
        #expect(slow.timerB == 64_000 * ms && slow.timerD(.udp) == 64_000 * ms)
        #expect(t.description == "T1=500ms T2=4000ms T4=5000ms")
    }

    @Test("INVITE over UDP: Timer A at 0.5, 1, 2, 4, 8, 16 s, then Timer B at 32 s")
    func inviteTimeoutUDP() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        #expect(t.state == .calling && h.layer.transactionCount == 1)
        try h.runForSeconds(31)
        #expect(events.events.isEmpty)
        try h.runForSeconds(2)
        #expect(h.sendTimesMilliseconds == [0, 500, 1500, 3500, 7500, 15_500, 31_500])
        #expect(Self.intervals(h.sendTimesMilliseconds) == [500, 1000, 2000, 4000, 8000, 16_000])
        #expect(events.names == ["timeout"])
        #expect(t.state == .terminated && t.retransmissions == 6)
        try h.runForSeconds(100)
        #expect(h.log.entries.count == 7)
        #expect(h.isIdle)
    }

    @Test("INVITE over TCP: no retransmission, Timer B still times out")
    func inviteTimeoutTCP() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        try h.layer.start(try Fixture.request(transport: "TCP"), to: TransactionHarness.tcpPeer, onEvent: events.record)
        try h.runForSeconds(40)
        #expect(h.sendTimesMilliseconds == [0])
        #expect(events.names == ["timeout"])
        #expect(h.isIdle)
    }

    @Test("a configurable T1 of 50 ms scales Timers A and B")
    func shortT1() throws {
        let h = try TransactionHarness(timers: SIPTimerValues(t1Milliseconds: 50))
        let events = EventLog()
        try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        try h.runForSeconds(10)
        #expect(Self.intervals(h.sendTimesMilliseconds) == [50, 100, 200, 400, 800, 1600])
        #expect(events.names == ["timeout"])
        #expect(h.layer.transactionCount == 0)
    }

    @Test("180 stops the INVITE retransmissions and Timer B; 486 is ACKed exactly once per copy")
    func provisionalThenFailure() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        let invite = t.request
        try h.runFor(milliseconds: 700)
        #expect(h.log.entries.count == 2)
        h.layer.receive(SIPMessage.response(to: invite, status: 180, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(t.state == .proceeding && t.hasProvisionalResponse)
        try h.runForSeconds(100)
        #expect(h.log.entries.count == 2)
        #expect(events.names == ["provisional 180"])
        #expect(t.state == .proceeding)

        let busy = SIPMessage.response(to: invite, status: 486, toTag: "b2")
        h.layer.receive(busy, from: TransactionHarness.udpPeer)
        #expect(events.names == ["provisional 180", "final 486"])
        #expect(t.state == .completed)
        #expect(h.log.entries.count == 3)
        let ack = h.sent[2]
        // §17.1.1.3: Request-URI, top Via only, From, To of the response, Call-ID, CSeq n ACK, Route.
        #expect(ack.method == .ack)
        #expect(SIPTransactionMatching.requestURI(of: ack) == SIPTransactionMatching.requestURI(of: invite))
        #expect(ack.via.count == 1)
        #expect(ack.via[0] == invite.via[0])
        #expect(ack.via[0].branch == "z9hG4bKinv1")
        #expect(ack.from == invite.from)
        #expect(ack.to == busy.to)
        #expect(ack.to.tag == "b2")
        #expect(ack.callID == invite.callID)
        #expect(ack.cseq.number == 1 && ack.cseq.method == .ack)
        #expect(ack.headers("Route") == invite.headers("Route"))
        #expect(ack.headers("Route").count == 2)
        #expect(ack.header("Contact") == nil)
        #expect(ack.body.isEmpty)
        #expect(t.ack != nil)
        // What goes on the wire says the same.
        let wire = try SIPMessage.parse(ack.serialized())
        #expect(wire.via.count == 1 && wire.via[0].branch == "z9hG4bKinv1")
        #expect(wire.to.tag == "b2" && wire.from.tag == "a1")
        #expect(wire.headers("Route") == ["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"])
        #expect(wire.header("CSeq") == "1 ACK")

        // Timer D: a retransmitted 486 is ACKed again, not reported again.
        try h.runForSeconds(10)
        h.layer.receive(busy, from: TransactionHarness.udpPeer)
        #expect(h.log.entries.count == 4)
        #expect(h.sent[3].method == .ack && h.sent[3].cseq.method == .ack)
        #expect(events.names == ["provisional 180", "final 486"])
        #expect(h.layer.transactionCount == 1)
        try h.runForSeconds(22)
        #expect(h.isIdle)
        #expect(t.state == .terminated)
        // After Timer D the 486 is a stray response.
        h.layer.receive(busy, from: TransactionHarness.udpPeer)
        #expect(h.strayResponses.count == 1)
        #expect(events.names == ["provisional 180", "final 486"])
    }

    @Test("INVITE over TCP: 486 is ACKed and Timer D is zero")
    func failureTCP() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(
            try Fixture.request(transport: "TCP"), to: TransactionHarness.tcpPeer, onEvent: events.record)
        h.layer.receive(SIPMessage.response(to: t.request, status: 486, toTag: "b2"), from: TransactionHarness.tcpPeer)
        #expect(events.names == ["final 486"])
        #expect(h.sent.map { $0.method?.name ?? "" } == ["INVITE", "ACK"])
        #expect(h.isIdle)
    }

    @Test("200 to INVITE (RFC 3261): the TU gets it and the transaction is gone at once")
    func successRFC3261() throws {
        let h = try TransactionHarness(acceptedState: false)
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        let ok = SIPMessage.response(to: t.request, status: 200, toTag: "b2")
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(events.names == ["final 200"])
        #expect(t.state == .terminated)
        #expect(h.isIdle)
        #expect(h.log.entries.count == 1)  // no ACK from the transaction for a 2xx
        // The 2xx retransmission goes to the TU (dialog) as a stray response.
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(h.strayResponses.count == 1 && h.strayResponses[0].status == 200)
        #expect(events.names == ["final 200"])
    }

    @Test("200 to INVITE (RFC 6026): Accepted passes further 2xx to the TU until Timer M")
    func successAccepted() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        let ok = SIPMessage.response(to: t.request, status: 200, toTag: "b2")
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(t.state == .accepted)
        try h.runForSeconds(5)
        #expect(h.log.entries.count == 1)  // Timer A stopped, no ACK from the transaction
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        h.layer.receive(
            SIPMessage.response(to: t.request, status: 200, toTag: "fork2"), from: TransactionHarness.udpPeer)
        h.layer.receive(SIPMessage.response(to: t.request, status: 180, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(events.names == ["final 200", "additional success 200", "additional success 200"])
        #expect(h.strayResponses.isEmpty)
        try h.runForSeconds(28)
        #expect(h.isIdle)
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(h.strayResponses.count == 1)
    }

    @Test("non-INVITE over UDP: Timer E at 0.5, 1, 2, 4, 4, 4 ... s capped at T2, Timer F at 32 s")
    func nonInviteTimeout() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(
            try Fixture.request("OPTIONS", branch: "z9hG4bKopt1"), to: TransactionHarness.udpPeer,
            onEvent: events.record)
        #expect(t.state == .trying && !t.isInvite)
        try h.runForSeconds(40)
        #expect(
            Self.intervals(h.sendTimesMilliseconds) == [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000])
        #expect(h.sendTimesMilliseconds.last == 31_500)
        #expect(events.names == ["timeout"])
        #expect(h.isIdle)
    }

    @Test("non-INVITE: Proceeding retransmits at T2; the final response starts Timer K, which absorbs copies")
    func nonInviteProceeding() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(
            try Fixture.request("REGISTER", branch: "z9hG4bKreg1"), to: TransactionHarness.udpPeer,
            onEvent: events.record)
        try h.runFor(milliseconds: 600)
        h.layer.receive(SIPMessage.response(to: t.request, status: 100), from: TransactionHarness.udpPeer)
        #expect(t.state == .proceeding)
        try h.runFor(milliseconds: 12_000)  // now 12.6 s
        // 0, 0.5 (Trying), then E already armed at 1 s fires at 1.5, then T2: 5.5, 9.5.
        #expect(h.sendTimesMilliseconds == [0, 500, 1500, 5500, 9500])
        let ok = SIPMessage.response(to: t.request, status: 200, toTag: "r1")
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(t.state == .completed)
        h.layer.receive(ok, from: TransactionHarness.udpPeer)
        #expect(events.names == ["provisional 100", "final 200"])
        try h.runFor(milliseconds: 4900)
        #expect(h.layer.transactionCount == 1)
        try h.runFor(milliseconds: 200)
        #expect(h.isIdle)
        #expect(h.log.entries.count == 5)
    }

    @Test("non-INVITE over TCP: no retransmission, Timer K is zero")
    func nonInviteTCP() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(
            try Fixture.request("BYE", branch: "z9hG4bKbye1", transport: "TCP", toTag: "b2"),
            to: TransactionHarness.tcpPeer, onEvent: events.record)
        try h.runForSeconds(10)
        #expect(h.log.entries.count == 1)
        h.layer.receive(SIPMessage.response(to: t.request, status: 200), from: TransactionHarness.tcpPeer)
        #expect(events.names == ["final 200"])
        #expect(h.isIdle)
    }

    @Test("transport errors: refused first send, refused retransmission, lost connection")
    func transportErrors() throws {
        let h = try TransactionHarness()
        // The first send fails: the transaction is gone at once, the TU hears on the next pass.
        h.log.refuse = true
        let first = EventLog()
        let t1 = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: first.record)
        #expect(t1.state == .terminated && h.layer.transactionCount == 0)
        #expect(first.events.isEmpty)
        try h.reactor.runUntilIdle()
        #expect(first.names == ["transport error"])

        // A retransmission fails (Timer E at 0.5 s).
        h.log.refuse = false
        let second = EventLog()
        try h.layer.start(
            try Fixture.request("OPTIONS", branch: "z9hG4bKopt2"), to: TransactionHarness.udpPeer,
            onEvent: second.record)
        h.log.refuse = true
        try h.runForSeconds(1)
        #expect(second.names == ["transport error"])
        #expect(h.layer.transactionCount == 0)

        // The TCP connection closes under a pending INVITE (and a server transaction).
        h.log.refuse = false
        let third = EventLog()
        try h.layer.start(
            try Fixture.request(branch: "z9hG4bKinv3", transport: "TCP"), to: TransactionHarness.tcpPeer,
            onEvent: third.record)
        h.layer.receive(
            try Fixture.request("OPTIONS", branch: "z9hG4bKin9", transport: "TCP"), from: TransactionHarness.tcpPeer)
        var serverFailures: [SIPServerTransactionFailure] = []
        h.requests[0].onFailure = { serverFailures.append($0) }
        #expect(h.layer.transactionCount == 2)
        let other = SIPPeer(transport: .tcp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 3, port: 5060), connection: 8)
        h.layer.transportFailed(peer: other)
        #expect(h.layer.transactionCount == 2)
        h.layer.transportFailed(peer: TransactionHarness.tcpPeer)
        #expect(third.names == ["transport error"])
        #expect(serverFailures == [.transportError])
        #expect(h.isIdle)
    }

    @Test("a refused ACK ends the INVITE transaction after reporting the final response")
    func refusedACK() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        h.log.refuse = true
        h.layer.receive(SIPMessage.response(to: t.request, status: 404, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(events.names == ["final 404"])
        #expect(h.sent.last?.method == .ack)
        #expect(h.isIdle)
    }

    @Test("the TU may start, cancel or close from inside its callbacks")
    func reentrantTU() throws {
        let h = try TransactionHarness()
        var second: SIPClientTransaction?
        var log: [String] = []
        let layer = h.layer
        let t = try layer.start(try Fixture.request(), to: TransactionHarness.udpPeer) { event in
            log.append(event.description)
            if case .final = event {
                // A retry from inside the callback (e.g. after a 401), then a shutdown.
                second = try? layer.start(
                    try! Fixture.request(branch: "z9hG4bKretry", cseq: 2), to: TransactionHarness.udpPeer
                ) { event in log.append("retry " + event.description) }
            }
        }
        h.layer.receive(SIPMessage.response(to: t.request, status: 401, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(second != nil && h.layer.clientTransactionCount == 2)
        #expect(h.sent.map { $0.method?.name ?? "" } == ["INVITE", "ACK", "INVITE"])
        let retry = second!
        h.layer.receive(
            SIPMessage.response(to: retry.request, status: 183, toTag: "b3"), from: TransactionHarness.udpPeer)
        #expect(log == ["final 401", "retry provisional 183"])
        // Closing from inside a server callback ends everything silently.
        h.layer.onRequest = { _ in layer.close() }
        h.layer.receive(try Fixture.request("OPTIONS", branch: "z9hG4bKin"), from: TransactionHarness.udpPeer)
        #expect(h.isIdle)
        try h.runForSeconds(60)
        #expect(log == ["final 401", "retry provisional 183"])
        #expect(retry.state == .terminated && t.state == .terminated)
    }

    @Test("start: a missing branch is generated, ACK and duplicate branches are refused")
    func startRules() throws {
        let h = try TransactionHarness()
        let t = try h.layer.start(
            try Fixture.request("OPTIONS", branch: nil), to: TransactionHarness.udpPeer, onEvent: { _ in })
        #expect(t.branch == "z9hG4bKtest1")
        #expect(h.sent[0].via[0].branch == "z9hG4bKtest1")
        #expect(h.sent[0].via.count == 2)
        let wire = String(decoding: h.sent[0].serialized(), as: UTF8.self)
        #expect(wire.contains(";branch=z9hG4bKtest1\r\n"))
        #expect(try SIPMessage.parse(h.sent[0].serialized()).via[0].branch == "z9hG4bKtest1")
        #expect(throws: SIPError.self) {
            try h.layer.start(try Fixture.request("ACK"), to: TransactionHarness.udpPeer, onEvent: { _ in })
        }
        let again = try Fixture.request("OPTIONS", branch: "z9hG4bKtest1")
        #expect(throws: SIPError.self) {
            try h.layer.start(again, to: TransactionHarness.udpPeer, onEvent: { _ in })
        }
        // The same branch with another method is another transaction (the CANCEL case).
        try h.layer.start(
            try Fixture.request("INVITE", branch: "z9hG4bKtest1"), to: TransactionHarness.udpPeer, onEvent: { _ in })
        #expect(h.layer.clientTransactionCount == 2)
        #expect(h.layer.description == "transactions: 2 client, 0 server, T1=500ms T2=4000ms T4=5000ms")
        let random = SIPTransactionLayer.randomBranch()
        #expect(random.hasPrefix("z9hG4bK") && random.utf8.count == 31 && random != SIPTransactionLayer.randomBranch())
        h.layer.close()
        #expect(h.isIdle)
    }

    @Test("a response matching no branch is stray; the CSeq method must match too")
    func strayResponses() throws {
        let h = try TransactionHarness()
        let events = EventLog()
        let t = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: events.record)
        let other = try Fixture.request(branch: "z9hG4bKother")
        h.layer.receive(SIPMessage.response(to: other, status: 180), from: TransactionHarness.udpPeer)
        let cancelOK = SIPMessage.response(
            to: SIPTransactionMatching.cancelRequest(for: t.request)!, status: 200, toTag: "b2")
        h.layer.receive(cancelOK, from: TransactionHarness.udpPeer)
        #expect(h.strayResponses.count == 2 && events.events.isEmpty)
        #expect(t.state == .calling)
        try h.runForSeconds(40)
        #expect(events.names == ["timeout"])
        #expect(h.isIdle)
    }
}

@Suite("SIP CANCEL (RFC 3261 §9.1)")
struct TransactionCancelTests {
    @Test("CANCEL waits for a provisional response, then goes out as its own transaction")
    func cancelAfterProvisional() throws {
        let h = try TransactionHarness()
        let inviteEvents = EventLog()
        let cancelEvents = EventLog()
        let invite = try h.layer.start(
            try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: inviteEvents.record)
        #expect(invite.cancel(onEvent: cancelEvents.record))
        #expect(invite.isCancelPending && invite.cancellation == nil)
        #expect(!invite.cancel())  // only once
        try h.runFor(milliseconds: 600)
        #expect(h.sent.map { $0.method?.name ?? "" } == ["INVITE", "INVITE"])

        let ringing = SIPMessage.response(to: invite.request, status: 180, toTag: "b2")
        h.layer.receive(ringing, from: TransactionHarness.udpPeer)
        #expect(h.sent.count == 3)
        let cancel = h.sent[2]
        let original = invite.request
        #expect(cancel.method == .cancel)
        #expect(SIPTransactionMatching.requestURI(of: cancel) == SIPTransactionMatching.requestURI(of: original))
        #expect(cancel.via.count == 1 && cancel.via[0] == original.via[0])
        #expect(cancel.from == original.from)
        #expect(cancel.to == original.to)
        #expect(cancel.to.tag == nil)
        #expect(cancel.callID == original.callID)
        #expect(cancel.cseq.number == original.cseq.number && cancel.cseq.method == .cancel)
        #expect(cancel.headers("Route") == original.headers("Route"))
        let wire = try SIPMessage.parse(cancel.serialized())
        #expect(wire.header("CSeq") == "1 CANCEL" && wire.via[0].branch == "z9hG4bKinv1" && wire.to.tag == nil)
        #expect(invite.cancellation?.state == .trying)
        #expect(h.layer.clientTransactionCount == 2)

        h.layer.receive(SIPMessage.response(to: cancel, status: 200, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(cancelEvents.names == ["final 200"])
        let terminated = SIPMessage.response(to: original, status: 487, toTag: "b2")
        h.layer.receive(terminated, from: TransactionHarness.udpPeer)
        #expect(inviteEvents.names == ["provisional 180", "final 487"])
        #expect(h.sent.last?.method == .ack)
        try h.runForSeconds(40)
        #expect(h.isIdle)
    }

    @Test("CANCEL in Proceeding is sent at once; none after the final response")
    func cancelRules() throws {
        let h = try TransactionHarness()
        let invite = try h.layer.start(try Fixture.request(), to: TransactionHarness.udpPeer, onEvent: { _ in })
        h.layer.receive(
            SIPMessage.response(to: invite.request, status: 183, toTag: "b2"), from: TransactionHarness.udpPeer)
        #expect(invite.cancel())
        #expect(h.sent.last?.method == .cancel)
        #expect(invite.cancellation != nil)

        // A pending CANCEL is dropped when the final response comes first.
        let second = try h.layer.start(
            try Fixture.request(branch: "z9hG4bKinv2", callID: "call-2"), to: TransactionHarness.udpPeer,
            onEvent: { _ in })
        #expect(second.cancel())
        h.layer.receive(
            SIPMessage.response(to: second.request, status: 603, toTag: "d"), from: TransactionHarness.udpPeer)
        #expect(!second.isCancelPending && second.cancellation == nil)
        #expect(!second.cancel())
        #expect(h.sent.filter { $0.method == .cancel }.count == 1)

        // Non-INVITE transactions cannot be cancelled.
        let options = try h.layer.start(
            try Fixture.request("OPTIONS", branch: "z9hG4bKo"), to: TransactionHarness.udpPeer, onEvent: { _ in })
        #expect(!options.cancel())
        h.layer.close()
        #expect(h.isIdle)
    }
}
