import Reactor
import Testing

@testable import SIP

/// The in-dialog request API against a scripted peer on the virtual clock (RFC 3261 §12.2.1, §22).
@Suite("SIP calls: in-dialog request outcomes")
struct CallInDialogRequestTests {
    static let answerSDP = Array(
        "v=0\r\no=peer 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n".utf8)

    /// A connected outgoing call whose peer answers INFO with `infoStatus` (nil: never).
    static func connected(infoStatus: Int?) throws -> (ScriptedPeerUA, SIPCall) {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001", password: "secret"))
        scripted.answer = { request in
            switch request.method {
            case .invite?:
                var ok = SIPMessage.response(to: request, status: 200, toTag: "peer")
                try? ok.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
                ok.body = answerSDP
                ok.contentType = "application/sdp"
                return ok
            case .info?:
                guard let infoStatus else { return nil }
                var response = SIPMessage.response(to: request, status: infoStatus)
                if infoStatus == 401 {
                    try? response.addHeader("WWW-Authenticate", "Digest realm=\"pbx\", nonce=\"abc123\"")
                }
                return response
            case .bye?:
                return SIPMessage.response(to: request, status: 200)
            default:
                return nil
            }
        }
        let call = try scripted.connectedCall()
        return (scripted, call)
    }

    @Test("a second 401 is handed back after one answer with credentials")
    func secondChallenge() throws {
        let (scripted, call) = try Self.connected(infoStatus: 401)
        defer { scripted.close() }
        var result: SIPInDialogResult? = nil
        call.sendRequest(method: .info, headers: [("Record", "on")]) { result = $0 }
        try scripted.reactor.runUntilIdle()
        #expect(result?.status == 401)
        let infos = scripted.requests.filter { $0.message.method == .info }.map { $0.message }
        #expect(infos.count == 2)
        #expect(infos.first?.header("Authorization") == nil)
        #expect(infos.last?.header("Authorization")?.hasPrefix("Digest ") == true)
        #expect(infos.last?.header("Record") == "on")
        #expect(call.state == .connected)
    }

    @Test("no answer: .timeout after 64·T1; a 481 ends the call")
    func timeoutAndGone() throws {
        let (scripted, call) = try Self.connected(infoStatus: nil)
        defer { scripted.close() }
        var result: SIPInDialogResult? = nil
        call.sendRequest(method: .info, headers: [("Record", "on")]) { result = $0 }
        try scripted.reactor.run(for: 31 * SIPTimerValues.second)
        #expect(result == nil)
        try scripted.reactor.run(for: 2 * SIPTimerValues.second)
        if case .timeout? = result {} else { Issue.record("expected timeout, got \(String(describing: result))") }
        scripted.answer = { SIPMessage.response(to: $0, status: 481) }
        var gone: SIPInDialogResult? = nil
        call.sendRequest(method: .info, headers: [("Record", "off")]) { gone = $0 }
        try scripted.reactor.runUntilIdle()
        #expect(gone?.status == 481)
        #expect(call.state == .ended(.dialogGone))
    }
}
