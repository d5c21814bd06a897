import Reactor
import Testing

@testable import SIP

/// Record-Route and the route set with a proxy in the path (RFC 3261 §12.1.1, §12.1.2,
/// §12.2.1.1, §16.12.1): the UAS copies the INVITE's Record-Route into the responses that create
/// the dialog, each side builds its route set, and in-dialog requests go to the first route.
@Suite("SIP Record-Route: dialog-creating responses and the route set")
struct RecordRouteTests {
    /// Two Record-Route lines, three values: the first line holds two (the proxy nearest the
    /// UAS first), with parameters a UAS must copy whether it knows them or not.
    static let recordRouteLines = [
        "<sip:192.0.2.50:5070;lr;ftag=abc;did=7f1>, <sip:p2.example.com;lr>",
        "<sip:192.0.2.60;lr;transport=udp>",
    ]
    static let recordRouteURIs = [
        "sip:192.0.2.50:5070;lr;ftag=abc;did=7f1", "sip:p2.example.com;lr", "sip:192.0.2.60;lr;transport=udp",
    ]

    /// The caller's offer (DialogTests').
    static let offer = DialogTests.offer

    /// A request from the caller as the proxies forward it (Record-Route lines after Via).
    static func request(
        _ method: String, cseq: Int, toTag: String? = nil, body: String = "", branch: String,
        recordRoute: [String] = recordRouteLines
    ) -> String {
        let to = "<sip:1001@192.0.2.10>" + (toTag.map { ";tag=" + $0 } ?? "")
        var lines = [
            "\(method) sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.50:5070;branch=z9hG4bKproxy\(branch)",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK\(branch)",
        ]
        for value in recordRoute { lines.append("Record-Route: \(value)") }
        lines += [
            "From: <sip:peer@192.0.2.1>;tag=peer1",
            "To: \(to)",
            "Call-ID: record-route-1",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:peer@192.0.2.1:5060>",
            "Max-Forwards: 69",
        ]
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        return lines.joined(separator: "\n") + "\n\n" + body
    }

    static func parse(_ text: String) throws -> SIPMessage {
        try SIPMessage.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    static func recordRouteLines(of message: SIPMessage) -> [String] {
        message.headerFields.filter { $0.name == "Record-Route" }.map { $0.value }
    }

    // MARK: message level

    @Test("180 with a To tag and 200 copy every Record-Route line of the INVITE, values and order untouched")
    func dialogCreatingResponses() throws {
        let invite = try Self.parse(Self.request("INVITE", cseq: 1, branch: "m1"))
        for status in [180, 183, 200] {
            let response = SIPMessage.response(to: invite, status: status, toTag: "uas1")
            #expect(Self.recordRouteLines(of: response) == Self.recordRouteLines)
            #expect(response.recordRoutes.map { $0.uri.description } == Self.recordRouteURIs)
            // The serialized response parses back to the same three values in order.
            let again = try SIPMessage.parse(response.serialized())
            #expect(again.recordRoutes.map { $0.uri.description } == Self.recordRouteURIs)
            #expect(SIPMessage.createsDialog(request: invite, status: status, toTag: "uas1"))
        }
        // Record-Route keeps its place among the copied headers (after Via, before From).
        let ok = SIPMessage.response(to: invite, status: 200, toTag: "uas1")
        #expect(ok.headerFields.map { $0.name }.prefix(5) == ["Via", "Via", "Record-Route", "Record-Route", "From"])
    }

    @Test("no Record-Route in 100, a 1xx without To tag, 3xx-6xx, or responses inside a dialog")
    func otherResponses() throws {
        let invite = try Self.parse(Self.request("INVITE", cseq: 1, branch: "m2"))
        #expect(Self.recordRouteLines(of: SIPMessage.response(to: invite, status: 100)).isEmpty)
        #expect(Self.recordRouteLines(of: SIPMessage.response(to: invite, status: 180)).isEmpty)
        for status in [302, 486, 487, 603] {
            #expect(Self.recordRouteLines(of: SIPMessage.response(to: invite, status: status, toTag: "t")).isEmpty)
        }
        let reinvite = try Self.parse(Self.request("INVITE", cseq: 2, toTag: "uas1", branch: "m3"))
        #expect(Self.recordRouteLines(of: SIPMessage.response(to: reinvite, status: 200, toTag: "uas1")).isEmpty)
        let info = try Self.parse(Self.request("INFO", cseq: 3, toTag: "uas1", branch: "m4"))
        #expect(Self.recordRouteLines(of: SIPMessage.response(to: info, status: 200, toTag: "uas1")).isEmpty)
        let options = try Self.parse(Self.request("OPTIONS", cseq: 1, branch: "m5"))
        #expect(Self.recordRouteLines(of: SIPMessage.response(to: options, status: 200, toTag: "t")).isEmpty)
        #expect(!SIPMessage.createsDialog(request: invite, status: 200, toTag: nil))
    }

    // MARK: the UAS (an incoming call through proxies)

    /// An incoming call through the proxies, answered; its INVITE carries `recordRoute`.
    static func answered(recordRoute: [String] = recordRouteLines) throws -> (ScriptedPeerUA, SIPCall) {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        var incoming: SIPCall? = nil
        scripted.ua.onCallState = { call, state in if state == .incoming { incoming = call } }
        try scripted.receive(request("INVITE", cseq: 10, body: offer, branch: "inv1", recordRoute: recordRoute))
        let call = try #require(incoming)
        #expect(call.answer())
        try scripted.reactor.runUntilIdle()
        let tag = try #require(call.dialog?.localTag)
        try scripted.receive(request("ACK", cseq: 10, toTag: tag, branch: "ack1", recordRoute: []))
        #expect(call.state == .connected)
        return (scripted, call)
    }

    @Test("the phone's 180 and 200 carry the Record-Route; its route set is the Record-Route in order")
    func uasResponses() throws {
        let (scripted, call) = try Self.answered()
        defer { scripted.close() }
        let ringing = try #require(scripted.responses.first { $0.status == 180 })
        let ok = try #require(scripted.responses.first { $0.status == 200 })
        #expect(Self.recordRouteLines(of: ringing) == Self.recordRouteLines)
        #expect(Self.recordRouteLines(of: ok) == Self.recordRouteLines)
        #expect(ringing.to.tag != nil && ringing.to.tag == ok.to.tag)
        #expect(call.dialog?.routeSet.map { $0.uri.description } == Self.recordRouteURIs)
        #expect(scripted.responses.filter { $0.status == 100 }.allSatisfy { Self.recordRouteLines(of: $0).isEmpty })
    }

    @Test("the UAS's BYE goes to the first route (loose) with the route set as Route headers")
    func uasByeLooseRouting() throws {
        let (scripted, call) = try Self.answered()
        defer { scripted.close() }
        call.hangUp()
        try scripted.reactor.runUntilIdle()
        let bye = try #require(scripted.sent.first { $0.message.method == .bye })
        #expect(bye.message.requestURI?.description == "sip:peer@192.0.2.1:5060")
        #expect(bye.message.routes.map { $0.uri.description } == Self.recordRouteURIs)
        #expect(bye.to == SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 50, port: 5070)))
    }

    @Test("a strict first route (no lr): BYE's Request-URI is that route, the remote target goes last (§12.2.1.1)")
    func uasByeStrictRouting() throws {
        let (scripted, call) = try Self.answered(recordRoute: [
            "<sip:192.0.2.70:5080;transport=udp>", "<sip:192.0.2.60;lr>",
        ])
        defer { scripted.close() }
        call.hangUp()
        try scripted.reactor.runUntilIdle()
        let bye = try #require(scripted.sent.first { $0.message.method == .bye })
        #expect(bye.message.requestURI?.description == "sip:192.0.2.70:5080;transport=udp")
        #expect(
            bye.message.routes.map { $0.uri.description } == ["sip:192.0.2.60;lr", "sip:peer@192.0.2.1:5060"])
        #expect(bye.to == SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 70, port: 5080)))
    }

    @Test("a re-INVITE and an INFO from the caller: their 200s carry no Record-Route, the route set stays")
    func inDialogResponses() throws {
        let (scripted, call) = try Self.answered()
        defer { scripted.close() }
        let tag = try #require(call.dialog?.localTag)
        // A Record-Route in a request inside the dialog (a proxy may add one, §16.6) changes
        // nothing: the route set is fixed when the dialog is created (§12.2).
        let rerouted = ["<sip:198.51.100.9;lr>"]
        try scripted.receive(
            Self.request("INVITE", cseq: 11, toTag: tag, body: Self.offer, branch: "re1", recordRoute: rerouted))
        let reinviteOK = try #require(scripted.responses.last { $0.status == 200 && $0.cseq.number == 11 })
        #expect(Self.recordRouteLines(of: reinviteOK).isEmpty)
        try scripted.receive(Self.request("ACK", cseq: 11, toTag: tag, branch: "ack2", recordRoute: []))
        try scripted.receive(Self.request("INFO", cseq: 12, toTag: tag, branch: "info1"))
        let infoOK = try #require(scripted.responses.last)
        #expect(infoOK.status == 200 && infoOK.cseq.method == .info)
        #expect(Self.recordRouteLines(of: infoOK).isEmpty)
        #expect(call.dialog?.routeSet.map { $0.uri.description } == Self.recordRouteURIs)
    }

    // MARK: the UAC (an outgoing call through proxies)

    @Test("the UAC's route set is the Record-Route reversed: ACK, INFO and BYE go to the last one with Route headers")
    func uacRouteSet() throws {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        defer { scripted.close() }
        scripted.answer = { request in
            switch request.method {
            case .invite?:
                var ok = SIPMessage.response(to: request, status: 200, toTag: "peer")
                try? ok.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
                for value in Self.recordRouteLines { try? ok.addHeader("Record-Route", value) }
                ok.body = Array(Self.offer.replacingOccurrences(of: "\n", with: "\r\n").utf8)
                ok.contentType = "application/sdp"
                return ok
            case .info?, .bye?:
                return SIPMessage.response(to: request, status: 200)
            default:
                return nil
            }
        }
        let call = try scripted.connectedCall()
        let reversed = Array(Self.recordRouteURIs.reversed())
        #expect(call.dialog?.routeSet.map { $0.uri.description } == reversed)
        var info: SIPInDialogResult? = nil
        call.sendRequest(method: .info, headers: [("Record", "on")]) { info = $0 }
        try scripted.reactor.runUntilIdle()
        #expect(info?.status == 200)
        call.hangUp()
        try scripted.reactor.runUntilIdle()
        let lastProxy = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 60, port: 5060))
        for method in [SIPMethod.ack, .info, .bye] {
            let sent = try #require(scripted.sent.first { $0.message.method == method })
            #expect(sent.message.requestURI?.description == "sip:peer@192.0.2.1:5060")
            #expect(sent.message.routes.map { $0.uri.description } == reversed)
            #expect(sent.to == lastProxy)
        }
        // The initial INVITE went straight to the target (no route set yet, no outbound proxy).
        let invite = try #require(scripted.sent.first { $0.message.method == .invite })
        #expect(invite.message.routes.isEmpty)
    }
}
