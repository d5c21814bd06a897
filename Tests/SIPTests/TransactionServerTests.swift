import Reactor
import Testing

@testable import SIP

@Suite("SIP server transactions (RFC 3261 §17.2)")
struct TransactionServerTests {
    static let peer = TransactionHarness.udpPeer

    @Test("INVITE: 100 Trying at 200 ms, retransmissions absorbed, 486 by Timer G until the ACK, Timer I")
    func inviteFailureWithACK() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        #expect(h.requests.count == 1)
        let t = h.requests[0]
        #expect(t.isInvite && t.state == .proceeding && t.peer == Self.peer)
        try h.runFor(milliseconds: 199)
        #expect(h.sent.isEmpty)
        try h.runFor(milliseconds: 1)
        #expect(h.sent.map { $0.status ?? 0 } == [100])
        #expect(h.sent[0].to.tag == nil)
        #expect(h.sent[0].via == invite.via)
        #expect(h.log.entries[0].peer == Self.peer)

        // A retransmitted INVITE: the TU does not see it, the 100 goes out again.
        h.layer.receive(invite, from: Self.peer)
        #expect(h.requests.count == 1)
        #expect(h.sent.map { $0.status ?? 0 } == [100, 100])
        #expect(t.respond(SIPMessage.response(to: invite, status: 180, toTag: "b2")))
        h.layer.receive(invite, from: Self.peer)
        #expect(h.sent.map { $0.status ?? 0 } == [100, 100, 180, 180])
        #expect(h.requests.count == 1)

        let start = h.nowMilliseconds
        let busy = SIPMessage.response(to: invite, status: 486, toTag: "b2")
        #expect(t.respond(busy))
        #expect(t.state == .completed)
        try h.runFor(milliseconds: 5000)
        let busyTimes = h.log.entries.filter { $0.message.status == 486 }.map {
            $0.at / SIPTimerValues.millisecond - start
        }
        #expect(busyTimes == [0, 500, 1500, 3500])
        // The INVITE retransmitted in Completed gets the 486 again.
        h.layer.receive(invite, from: Self.peer)
        #expect(h.sent.last?.status == 486)
        let count = h.log.entries.count

        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2"), from: Self.peer)
        #expect(t.state == .confirmed)
        #expect(h.strayACKs.isEmpty)
        try h.runFor(milliseconds: 2000)
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2"), from: Self.peer)  // absorbed in Confirmed
        #expect(h.strayACKs.isEmpty)
        #expect(h.log.entries.count == count)  // no more 486 after the ACK
        #expect(h.layer.transactionCount == 1)
        try h.runFor(milliseconds: 3001)  // Timer I = T4 = 5 s
        #expect(t.state == .terminated)
        #expect(h.isIdle)
        #expect(!t.respond(busy))
    }

    @Test("INVITE: Timer H without an ACK reports a timeout; G is capped at T2")
    func inviteTimerH() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        let t = h.requests[0]
        var failures: [SIPServerTransactionFailure] = []
        t.onFailure = { failures.append($0) }
        #expect(t.respond(SIPMessage.response(to: invite, status: 603, toTag: "b2")))
        try h.runForSeconds(40)
        // No 100 Trying: the TU answered within 200 ms.
        #expect(h.sent.allSatisfy { $0.status == 603 })
        #expect(
            TransactionClientTests.intervals(h.sendTimesMilliseconds)
                == [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000])
        #expect(failures == [.timeout])
        #expect(t.state == .terminated && t.retransmissions == 10)
        #expect(h.isIdle)
    }

    @Test("INVITE over TCP: no Timer G; the ACK ends the transaction at once (Timer I = 0)")
    func inviteTCP() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request(transport: "TCP")
        h.layer.receive(invite, from: TransactionHarness.tcpPeer)
        let t = h.requests[0]
        t.respond(SIPMessage.response(to: invite, status: 480, toTag: "b2"))
        try h.runForSeconds(10)
        #expect(h.sent.map { $0.status ?? 0 } == [480])
        #expect(h.log.entries[0].peer.connection == 7)
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2"), from: TransactionHarness.tcpPeer)
        #expect(t.state == .terminated)
        #expect(h.isIdle)
    }

    @Test("INVITE 2xx (RFC 3261): the transaction ends; the 2xx ACK goes to the TU")
    func inviteSuccessRFC3261() throws {
        let h = try TransactionHarness(acceptedState: false)
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        let t = h.requests[0]
        #expect(t.respond(SIPMessage.response(to: invite, status: 200, toTag: "b2")))
        #expect(t.state == .terminated)
        #expect(h.isIdle)
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2", branch: "z9hG4bKack2"), from: Self.peer)
        #expect(h.strayACKs.count == 1)
    }

    @Test("INVITE 2xx (RFC 6026): Accepted absorbs INVITE copies, passes 2xx copies and the ACK, Timer L")
    func inviteSuccessAccepted() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        let t = h.requests[0]
        let ok = SIPMessage.response(to: invite, status: 200, toTag: "b2")
        #expect(t.respond(ok))
        #expect(t.state == .accepted)
        h.layer.receive(invite, from: Self.peer)
        #expect(h.requests.count == 1 && h.sent.count == 1)
        #expect(t.respond(ok))  // the TU's 2xx retransmission
        #expect(!t.respond(SIPMessage.response(to: invite, status: 486, toTag: "b2")))
        #expect(h.sent.map { $0.status ?? 0 } == [200, 200])
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2", branch: "z9hG4bKack2"), from: Self.peer)
        #expect(h.strayACKs.count == 1)
        try h.runForSeconds(31)
        #expect(h.layer.transactionCount == 1)
        try h.runForSeconds(2)
        #expect(h.isIdle)
    }

    @Test("non-INVITE: Trying absorbs copies, Completed re-sends the final response during Timer J")
    func nonInvite() throws {
        let h = try TransactionHarness()
        // INFO: any non-INVITE but OPTIONS, which is answered statelessly (below).
        let info = try Fixture.request("INFO", branch: "z9hG4bKopt")
        h.layer.receive(info, from: Self.peer)
        #expect(h.requests.count == 1)
        let t = h.requests[0]
        #expect(t.state == .trying && !t.isInvite)
        try h.runForSeconds(1)
        h.layer.receive(info, from: Self.peer)
        #expect(h.sent.isEmpty && h.requests.count == 1)  // no 100 Trying for non-INVITE
        let ok = SIPMessage.response(to: info, status: 200, toTag: "o1")
        #expect(t.respond(ok))
        #expect(t.state == .completed)
        h.layer.receive(info, from: Self.peer)
        h.layer.receive(info, from: Self.peer)
        #expect(h.sent.map { $0.status ?? 0 } == [200, 200, 200])
        #expect(h.requests.count == 1)
        #expect(!t.respond(SIPMessage.response(to: info, status: 500)))
        try h.runForSeconds(31)
        #expect(h.layer.transactionCount == 1)
        try h.runForSeconds(1)
        #expect(h.isIdle)
        // After Timer J a copy is a new request.
        h.layer.receive(info, from: Self.peer)
        #expect(h.requests.count == 2)
        h.requests[1].respond(SIPMessage.response(to: info, status: 200, toTag: "o2"))
        try h.runForSeconds(33)
        #expect(h.isIdle)
    }

    @Test("OPTIONS keeps no state after its answer: a copy is answered again by the TU, nothing waits for Timer J")
    func optionsStateless() throws {
        let h = try TransactionHarness()
        let options = try Fixture.request("OPTIONS", branch: "z9hG4bKopt")
        h.layer.receive(options, from: Self.peer)
        #expect(h.requests.count == 1)
        #expect(h.requests[0].respond(SIPMessage.response(to: options, status: 200, toTag: "o1")))
        #expect(h.requests[0].state == .terminated)
        #expect(h.isIdle)
        h.layer.receive(options, from: Self.peer)
        #expect(h.requests.count == 2)
        h.requests[1].respond(SIPMessage.response(to: options, status: 200, toTag: "o2"))
        #expect(h.sent.map { $0.status ?? 0 } == [200, 200])
        #expect(h.layer.transactionCount == 0)
    }

    @Test("a full transaction table sheds new requests with a stateless 503 + Retry-After; dialogs keep a reserve")
    func sheddingAtTheLimit() throws {
        let h = try TransactionHarness()
        h.layer.serverTransactionLimit = 3
        h.layer.inDialogReserve = 1
        for i in 0..<3 {
            let info = try Fixture.request("INFO", branch: "z9hG4bKinfo" + String(i), callID: "c" + String(i))
            h.layer.receive(info, from: Self.peer)
            h.requests[i].respond(SIPMessage.response(to: info, status: 481, toTag: "t" + String(i)))
        }
        #expect(h.layer.serverTransactionCount == 3)  // all in Completed for Timer J
        let stranger = try Fixture.request("MESSAGE", branch: "z9hG4bKflood", callID: "flood")
        h.layer.receive(stranger, from: Self.peer)
        #expect(h.requests.count == 3 && h.layer.shedCount == 1)
        let shed = try #require(h.sent.last)
        #expect(shed.status == 503 && shed.header("Retry-After") == "10")
        #expect(shed.to.tag != nil && shed.via == stranger.via && shed.callID == "flood")
        // Its retransmission gets the same answer (same To tag), and still no state.
        h.layer.receive(stranger, from: Self.peer)
        #expect(h.sent.last?.to.tag == shed.to.tag && h.layer.serverTransactionCount == 3)
        // An ACK is never answered.
        let before = h.sent.count
        h.layer.receive(try Fixture.request("ACK", branch: "z9hG4bKack9", callID: "x", toTag: "zz"), from: Self.peer)
        #expect(h.sent.count == before)
        // OPTIONS is still answered by the TU: it leaves the table with its answer.
        let ping = try Fixture.request("OPTIONS", branch: "z9hG4bKping", callID: "ping")
        h.layer.receive(ping, from: Self.peer)
        #expect(h.requests.count == 4 && h.requests[3].method == .options && h.layer.shedCount == 2)
        h.requests[3].respond(SIPMessage.response(to: ping, status: 200, toTag: "p"))
        #expect(h.layer.serverTransactionCount == 3)
        // A request within a dialog (To tag) still gets a transaction, from the reserve.
        let bye = try Fixture.request("BYE", branch: "z9hG4bKbye", callID: "call", cseq: 2, toTag: "b1")
        h.layer.receive(bye, from: Self.peer)
        #expect(h.requests.count == 5 && h.requests[4].method == .bye)
        // Timer J empties the table; new requests are served again.
        try h.runForSeconds(33)
        #expect(h.layer.transactionCount == 1)  // the BYE, not answered in this test
        h.layer.receive(stranger, from: Self.peer)
        #expect(h.requests.count == 6 && h.layer.shedCount == 2)
    }

    @Test("non-INVITE: a provisional moves to Proceeding and is re-sent; TCP ends at the final response")
    func nonInviteProceedingTCP() throws {
        let h = try TransactionHarness()
        let register = try Fixture.request("REGISTER", branch: "z9hG4bKr", transport: "TCP")
        h.layer.receive(register, from: TransactionHarness.tcpPeer)
        let t = h.requests[0]
        #expect(t.respond(SIPMessage.response(to: register, status: 100)))
        #expect(t.state == .proceeding)
        h.layer.receive(register, from: TransactionHarness.tcpPeer)
        #expect(h.sent.map { $0.status ?? 0 } == [100, 100])
        #expect(t.respond(SIPMessage.response(to: register, status: 200, toTag: "x")))
        #expect(t.state == .terminated)
        #expect(h.isIdle)
    }

    @Test("transport error while responding: respond fails, the TU hears it, the transaction ends")
    func transportError() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        let t = h.requests[0]
        var failures: [SIPServerTransactionFailure] = []
        t.onFailure = { failures.append($0) }
        t.respond(SIPMessage.response(to: invite, status: 486, toTag: "b2"))
        h.log.refuse = true
        try h.runForSeconds(1)  // Timer G's copy is refused
        #expect(failures == [.transportError])
        #expect(h.isIdle)

        let options = try Fixture.request("OPTIONS", branch: "z9hG4bKo2")
        h.layer.receive(options, from: Self.peer)
        let second = h.requests[1]
        var secondFailures: [SIPServerTransactionFailure] = []
        second.onFailure = { secondFailures.append($0) }
        #expect(!second.respond(SIPMessage.response(to: options, status: 200)))
        #expect(secondFailures == [.transportError])
        #expect(h.isIdle)
    }

    @Test("the 100 Trying is sent at once with a zero delay and copies Timestamp")
    func immediateTrying() throws {
        let h = try TransactionHarness(timers: SIPTimerValues(tryingDelay: 0))
        var invite = try Fixture.request()
        try invite.addHeader("Timestamp", "54")
        h.layer.receive(invite, from: Self.peer)
        #expect(h.sent.map { $0.status ?? 0 } == [100])
        #expect(h.sent[0].headers("Timestamp") == ["54"])
        h.layer.close()
        #expect(h.isIdle)
    }

    @Test("stray ACK and messages without a Via")
    func strays() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(try Fixture.ack(for: invite, toTag: "zz"), from: Self.peer)
        #expect(h.strayACKs.count == 1 && h.layer.transactionCount == 0)
        var bare = invite
        bare.removeHeader("Via")
        h.layer.receive(bare, from: Self.peer)
        #expect(h.layer.droppedCount == 1 && h.requests.isEmpty)
    }
}

@Suite("SIP server transaction matching (RFC 3261 §17.2.3, §9.2)")
struct TransactionMatchingTests {
    static let peer = TransactionHarness.udpPeer

    @Test("CANCEL matches the INVITE it cancels; the TU answers 200 and 487")
    func cancelMatching() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        h.layer.receive(invite, from: Self.peer)
        let inviteTransaction = h.requests[0]
        inviteTransaction.respond(SIPMessage.response(to: invite, status: 180, toTag: "b2"))
        // The UAC's CANCEL, built the way our client builds it.
        let cancel = SIPTransactionMatching.cancelRequest(for: invite)!
        h.layer.receive(cancel, from: Self.peer)
        #expect(h.requests.count == 2)
        let cancelTransaction = h.requests[1]
        #expect(cancelTransaction.method == .cancel)
        #expect(cancelTransaction.cancelledTransaction === inviteTransaction)
        #expect(cancelTransaction.respond(SIPMessage.response(to: cancel, status: 200, toTag: "b2")))
        #expect(inviteTransaction.respond(SIPMessage.response(to: invite, status: 487, toTag: "b2")))
        h.layer.receive(cancel, from: Self.peer)  // retransmitted CANCEL: 200 again
        #expect(h.sent.last?.status == 200 && h.sent.last?.cseq.method == .cancel)
        #expect(h.requests.count == 2)
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2"), from: Self.peer)
        #expect(inviteTransaction.state == .confirmed && h.strayACKs.isEmpty)
        try h.runForSeconds(40)
        #expect(h.isIdle)

        // A CANCEL for an unknown INVITE: no cancelled transaction (the TU answers 481).
        h.layer.receive(try Fixture.request("CANCEL", branch: "z9hG4bKnone"), from: Self.peer)
        #expect(h.requests.count == 3 && h.requests[2].cancelledTransaction == nil)
        #expect(h.requests[2].respond(SIPMessage.response(to: h.requests[2].request, status: 481, toTag: "n")))
        try h.runForSeconds(33)
        #expect(h.isIdle)
    }

    @Test("branch, sent-by and method: each one separates transactions")
    func branchMatching() throws {
        let h = try TransactionHarness()
        h.layer.receive(try Fixture.request(branch: "z9hG4bKa"), from: Self.peer)
        h.layer.receive(try Fixture.request(branch: "z9hG4bKa", sentBy: "192.0.2.77:5060"), from: Self.peer)
        h.layer.receive(try Fixture.request(branch: "z9hG4bKb"), from: Self.peer)
        h.layer.receive(try Fixture.request("OPTIONS", branch: "z9hG4bKa"), from: Self.peer)
        // The same branch, sent-by and method is a copy, whatever else differs.
        h.layer.receive(try Fixture.request(branch: "z9hG4bKa", callID: "other"), from: Self.peer)
        #expect(h.requests.count == 4 && h.layer.serverTransactionCount == 4)
        h.layer.close()
        #expect(h.isIdle)
    }

    @Test("RFC 2543 fallback without the magic cookie: copies, ACK by To tag, CANCEL")
    func rfc2543() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request(branch: "1234")
        h.layer.receive(invite, from: Self.peer)
        h.layer.receive(invite, from: Self.peer)
        #expect(h.requests.count == 1)
        let t = h.requests[0]
        // Another Call-ID, From tag or CSeq is another request.
        h.layer.receive(try Fixture.request(branch: "1234", callID: "call-9"), from: Self.peer)
        h.layer.receive(try Fixture.request(branch: "1234", cseq: 2), from: Self.peer)
        h.layer.receive(try Fixture.request(branch: nil), from: Self.peer)
        #expect(h.requests.count == 4)

        // CANCEL of the first INVITE (2543: same Request-URI, tags, Call-ID, CSeq number, Via).
        let cancel = try Fixture.request("CANCEL", branch: "1234")
        h.layer.receive(cancel, from: Self.peer)
        #expect(h.requests.count == 5 && h.requests[4].cancelledTransaction === t)

        t.respond(SIPMessage.response(to: invite, status: 487, toTag: "b2"))
        // An ACK with another To tag is not for this response.
        h.layer.receive(try Fixture.ack(for: invite, toTag: "zz"), from: Self.peer)
        #expect(h.strayACKs.count == 1 && t.state == .completed)
        h.layer.receive(try Fixture.ack(for: invite, toTag: "b2"), from: Self.peer)
        #expect(t.state == .confirmed && h.strayACKs.count == 1)

        // A re-INVITE inside the dialog (To tag already set) matches its ACK too.
        let reinvite = try Fixture.request(branch: "5678", cseq: 3, toTag: "b2")
        h.layer.receive(reinvite, from: Self.peer)
        let r = h.requests[5]
        r.respond(SIPMessage.response(to: reinvite, status: 488))
        h.layer.receive(try Fixture.ack(for: reinvite, toTag: "b2"), from: Self.peer)
        #expect(r.state == .confirmed)
        h.layer.close()
        #expect(h.isIdle)
    }
}

@Suite("SIP 2xx retransmission by the UAS core (RFC 3261 §13.3.1.4)")
struct TransactionSuccessRetransmissionTests {
    @Test("2xx copies at T1 doubling to T2 until the ACK")
    func untilACK() throws {
        let h = try TransactionHarness()
        let invite = try Fixture.request()
        let ok = SIPMessage.response(to: invite, status: 200, toTag: "b2")
        var failures: [SIPServerTransactionFailure] = []
        let r = h.layer.retransmitSuccess(ok, to: TransactionHarness.udpPeer) { failures.append($0) }
        try h.runForSeconds(12)
        #expect(h.sendTimesMilliseconds == [500, 1500, 3500, 7500, 11_500])
        let ack = try Fixture.ack(for: invite, toTag: "b2", branch: "z9hG4bKack")
        #expect(r.matches(ack: ack))
        #expect(!r.matches(ack: try Fixture.ack(for: invite, toTag: "other")))
        r.acknowledge()
        #expect(!r.isActive && r.retransmissions == 5)
        try h.runForSeconds(60)
        #expect(h.log.entries.count == 5 && failures.isEmpty && h.reactor.timerCount == 0)
    }

    @Test("64·T1 without an ACK reports a timeout")
    func giveUp() throws {
        let h = try TransactionHarness()
        let ok = SIPMessage.response(to: try Fixture.request(), status: 200, toTag: "b2")
        var failures: [SIPServerTransactionFailure] = []
        let r = h.layer.retransmitSuccess(ok, to: TransactionHarness.tcpPeer) { failures.append($0) }
        try h.runForSeconds(40)
        #expect(failures == [.timeout] && !r.isActive)
        #expect(h.log.entries.count == 10)
        #expect(h.reactor.timerCount == 0)
    }
}

@Suite("Log rate limit")
struct LogRateLimitTests {
    @Test("a burst per window is written, the rest counted and named in the next written line")
    func burstThenQuiet() {
        var limit = SIPLogRateLimit(burst: 3, window: 1_000)
        let first = (0..<10).map { limit.admit(now: Int64($0)) }
        #expect(first.map { $0.write } == [true, true, true] + Array(repeating: false, count: 7))
        #expect(first.allSatisfy { $0.dropped == 0 })
        let next = limit.admit(now: 1_000)
        #expect(next.write && next.dropped == 7)
        #expect(limit.admit(now: 1_001).dropped == 0)
    }
}
