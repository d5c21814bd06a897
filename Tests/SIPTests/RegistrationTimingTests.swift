import Reactor
import Testing

@testable import SIP

/// A user agent on the virtual clock whose messages go to a scripted peer instead of a socket.
final class ScriptedPeerUA {
    let reactor: Reactor
    let ua: SIPUserAgent
    /// Answers a request the UA sent (nil: no answer).
    var answer: ((SIPMessage) -> SIPMessage?)?
    let peer = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060))

    /// `mediaPort` is the media layer's answer for a call (0: no free RTP port).
    init(account: SIPAccountConfiguration, mediaPort: @escaping (SIPCall) -> UInt16 = { _ in 40000 }) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        let box = SentBox()
        let reactor = self.reactor
        ua = SIPUserAgent(
            reactor: reactor, account: account, localHost: "192.0.2.10", localPort: 5060,
            mediaAddress: { call in ("192.0.2.10", mediaPort(call)) },
            send: { message, destination in
                box.destinations.append(destination)
                box.messages.append((time: reactor.now, message: message))
                return true
            })
        self.box = box
        box.onSend = { [unowned self] message in
            guard message.isRequest, let response = answer?(message) else { return }
            reactor.runSoon { self.ua.transactions.receive(response, from: self.peer) }
        }
    }

    private let box: SentBox

    /// The requests sent, without retransmissions (one per CSeq), with their times.
    var requests: [(time: Int64, message: SIPMessage)] {
        var seen: Set<String> = []
        var out: [(time: Int64, message: SIPMessage)] = []
        for entry in box.messages where entry.message.isRequest {
            let key = entry.message.callID + " " + entry.message.cseq.description
            if seen.insert(key).inserted { out.append(entry) }
        }
        return out
    }

    var responses: [SIPMessage] { box.messages.map { $0.message }.filter { !$0.isRequest } }

    /// Every message sent with the peer it went to, retransmissions included.
    var sent: [(message: SIPMessage, to: SIPPeer)] {
        zip(box.messages, box.destinations).map { ($0.0.message, $0.1) }
    }

    /// Feeds a request from the peer.
    func receive(_ text: String) throws {
        let message = try SIPMessage.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        ua.transactions.receive(message, from: peer)
        try reactor.runUntilIdle()
    }

    /// Calls `uri` and runs until the call settles, expecting it connected.
    func connectedCall(to uri: String = "sip:peer@192.0.2.1") throws -> SIPCall {
        let call = try ua.call(uri)
        try reactor.runUntilIdle()
        #expect(call.state == .connected)
        return call
    }

    func close() { ua.close() }
}

final class SentBox {
    /// Where each message went (same index as `messages`).
    var destinations: [SIPPeer] = []
    var messages: [(time: Int64, message: SIPMessage)] = [] {
        didSet { if let last = messages.last, messages.count > oldValue.count { onSend?(last.message) } }
    }
    var onSend: ((SIPMessage) -> Void)?
}

@Suite("SIP registration timing on the virtual clock")
struct RegistrationTimingTests {
    static let account = SIPAccountConfiguration(
        userName: "1001", password: "secret", serverAddress: "192.0.2.1", expires: 120)

    @Test("the refresh policy: E - 32 s above 64 s, E/2 below; backoff doubles from 30 s to a cap")
    func policy() {
        #expect(SIPRegistration.refreshDelay(granted: 3600) == 3568)
        #expect(SIPRegistration.refreshDelay(granted: 120) == 88)
        #expect(SIPRegistration.refreshDelay(granted: 60) == 30)
        let registration = SIPUserAgent(
            reactor: try! Reactor(clock: .virtual(startNanoseconds: 0)), account: Self.account,
            localHost: "192.0.2.10", localPort: 5060, mediaAddress: { _ in ("192.0.2.10", 1) }, send: { _, _ in true }
        ).registration!
        #expect((1...7).map { registration.retryDelay(failures: $0) } == [30, 60, 120, 240, 480, 600, 600])
    }

    @Test("a binding granted for 120 s is refreshed after 88 s, again and again")
    func refresh() throws {
        let scripted = try ScriptedPeerUA(account: Self.account)
        defer { scripted.close() }
        scripted.answer = { request in
            var ok = SIPMessage.response(to: request, status: 200, toTag: "reg")
            try? ok.addHeader("Contact", "<sip:1001@192.0.2.10:5060>;expires=120")
            return ok
        }
        scripted.ua.start()
        try scripted.reactor.run(for: 200 * SIPTimerValues.second)
        let times = scripted.requests.map { $0.time / SIPTimerValues.second }
        #expect(times == [0, 88, 176])
        #expect(scripted.ua.registration?.state == .registered(expires: 120))
        let cseqs = scripted.requests.map { $0.message.cseq.number }
        #expect(zip(cseqs, cseqs.dropFirst()).allSatisfy { $0 < $1 })
        #expect(Set(scripted.requests.map { $0.message.callID }).count == 1)
        #expect(scripted.requests.first?.message.header("Expires") == "120")
    }

    @Test("503 answers are retried after 30, 60, 120, 240, 480 s, then every 600 s")
    func backoff() throws {
        let scripted = try ScriptedPeerUA(account: Self.account)
        defer { scripted.close() }
        scripted.answer = { SIPMessage.response(to: $0, status: 503, toTag: "reg") }
        scripted.ua.start()
        try scripted.reactor.run(for: 1700 * SIPTimerValues.second)
        let times = scripted.requests.map { $0.time / SIPTimerValues.second }
        #expect(times == [0, 30, 90, 210, 450, 930, 1530])
        guard case .failed(_, let retrying)? = scripted.ua.registration?.state else {
            Issue.record("not failed")
            return
        }
        #expect(retrying)
        // A success resets the backoff.
        scripted.answer = { SIPMessage.response(to: $0, status: 200, toTag: "reg") }
        try scripted.reactor.run(for: 700 * SIPTimerValues.second)
        #expect(scripted.ua.registration?.state == .registered(expires: 120))
        #expect(scripted.ua.registration?.failureCount == 0)
    }

    @Test("no answer at all: Timer F, then the backoff")
    func timeout() throws {
        let scripted = try ScriptedPeerUA(account: Self.account)
        defer { scripted.close() }
        scripted.answer = { _ in nil }
        scripted.ua.start()
        try scripted.reactor.run(for: 40 * SIPTimerValues.second)
        #expect(scripted.ua.registration?.state == .failed(reason: "no answer from the registrar", retrying: true))
        let attempt = try #require(scripted.ua.registration?.nextAttemptTime)
        #expect(attempt == 32 * SIPTimerValues.second + 30 * SIPTimerValues.second)
    }
}
