import Reactor

@testable import SIP

/// What the transaction layer handed to the transport, with the virtual time it did so.
final class SentLog {
    struct Entry {
        var at: Int64
        var message: SIPMessage
        var peer: SIPPeer
    }
    var entries: [Entry] = []
    /// When true the transport refuses every message (an immediate transport error).
    var refuse = false
    var stamp: () -> Int64 = { 0 }
}

/// A transaction layer on a virtual clock starting at 0, whose transport records what it is given.
final class TransactionHarness {
    let reactor: Reactor
    let log = SentLog()
    let layer: SIPTransactionLayer
    var requests: [SIPServerTransaction] = []
    var strayACKs: [SIPMessage] = []
    var strayResponses: [SIPMessage] = []
    private var branchNumber = 0

    /// Nothing left: no transaction kept and no timer armed (the state every test ends in).
    var isIdle: Bool { layer.transactionCount == 0 && reactor.timerCount == 0 }

    static let udpPeer = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 2, port: 5060))
    static let tcpPeer = SIPPeer(
        transport: .tcp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 2, port: 5060), connection: 7)

    init(timers: SIPTimerValues = SIPTimerValues(), acceptedState: Bool = true) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        let log = self.log
        let counter = BranchCounter()
        layer = SIPTransactionLayer(
            reactor: reactor, timers: timers, acceptedState: acceptedState,
            branches: { counter.next() },
            send: { message, peer in
                log.entries.append(SentLog.Entry(at: log.stamp(), message: message, peer: peer))
                return !log.refuse
            })
        let reactor = self.reactor
        log.stamp = { reactor.now }
        layer.onRequest = { [unowned self] transaction in requests.append(transaction) }
        layer.onStrayACK = { [unowned self] ack, _ in strayACKs.append(ack) }
        layer.onStrayResponse = { [unowned self] response, _ in strayResponses.append(response) }
    }

    deinit {
        layer.close()
        reactor.close()
    }

    var sent: [SIPMessage] { log.entries.map { $0.message } }

    /// Send times in milliseconds of the virtual clock.
    var sendTimesMilliseconds: [Int64] { log.entries.map { $0.at / SIPTimerValues.millisecond } }

    func runFor(milliseconds: Int64) throws {
        try reactor.run(for: milliseconds * SIPTimerValues.millisecond)
    }

    func runForSeconds(_ seconds: Int64) throws {
        try reactor.run(for: seconds * SIPTimerValues.second)
    }

    var nowMilliseconds: Int64 { reactor.now / SIPTimerValues.millisecond }
}

final class BranchCounter {
    var number = 0
    func next() -> String {
        number += 1
        return "z9hG4bKtest" + String(number)
    }
}

/// Records a client transaction's events.
final class EventLog {
    var events: [SIPClientTransactionEvent] = []
    var names: [String] { events.map { $0.description } }
    var record: (SIPClientTransactionEvent) -> Void {
        { [unowned self] event in events.append(event) }
    }
}

enum Fixture {
    static func message(_ text: String) throws -> SIPMessage {
        try SIPMessage.parse(Array(text.utf8))
    }

    /// An INVITE (or another method) from Alice through a proxy route; `branch` nil leaves the
    /// branch out (for the layer to add, or for RFC 2543 matching).
    static func request(
        _ method: String = "INVITE", branch: String? = "z9hG4bKinv1", transport: String = "UDP",
        callID: String = "call-1@192.0.2.1", cseq: Int = 1, toTag: String? = nil,
        sentBy: String = "192.0.2.1:5060"
    ) throws -> SIPMessage {
        var text = method + " sip:bob@192.0.2.2:5060 SIP/2.0\r\n"
        text += "Via: SIP/2.0/" + transport + " " + sentBy + (branch.map { ";branch=" + $0 } ?? "") + "\r\n"
        text += "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKproxy9\r\n"
        text += "Route: <sip:proxy1.example.com;lr>\r\n"
        text += "Route: <sip:proxy2.example.com;lr>\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "From: <sip:alice@example.com>;tag=a1\r\n"
        text += "To: <sip:bob@example.com>" + (toTag.map { ";tag=" + $0 } ?? "") + "\r\n"
        text += "Call-ID: " + callID + "\r\n"
        text += "CSeq: " + String(cseq) + " " + method + "\r\n"
        text += "Contact: <sip:alice@192.0.2.1:5060>\r\n"
        text += "Content-Length: 0\r\n\r\n"
        return try message(text)
    }

    /// The ACK an RFC 3261 UAC sends for a non-2xx to `request` (same branch), or with another
    /// branch for a 2xx.
    static func ack(for request: SIPMessage, toTag: String?, branch: String? = nil) throws -> SIPMessage {
        var text = "ACK sip:bob@192.0.2.2:5060 SIP/2.0\r\n"
        var top = request.via[0]
        if let branch { top.branch = branch }
        text += "Via: " + top.description + "\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "From: <sip:alice@example.com>;tag=a1\r\n"
        text += "To: <sip:bob@example.com>" + (toTag.map { ";tag=" + $0 } ?? "") + "\r\n"
        text += "Call-ID: " + request.callID + "\r\n"
        text += "CSeq: " + String(request.cseq.number) + " ACK\r\n"
        text += "Content-Length: 0\r\n\r\n"
        return try message(text)
    }
}
