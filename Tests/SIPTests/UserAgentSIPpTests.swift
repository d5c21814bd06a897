import Foundation
import Reactor
import Testing
import Voice

@testable import SIP

/// The user agent against SIPp on loopback: real sockets, real clock (RFC 3261 §12–§15).
@Suite("SIP user agent against SIPp", .serialized)
struct UserAgentSIPpTests {
    @Test("outgoing call: INVITE with SDP, 180, 200 with SDP, ACK, our BYE")
    func outgoingCall() throws {
        let harness = try UserAgentHarness(port: 25060)
        defer { harness.close() }
        let sipp = try SIPpRun(scenario: "uas", port: 25070, mediaPort: 26070)
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25070")
        #expect(try harness.run(until: { call.state == .connected }), "states: \(harness.stateNames)")
        #expect(harness.states.contains(.calling))
        #expect(harness.states.contains(.ringing(early: true)))
        let audio = try #require(harness.negotiated.first)
        #expect(audio.sendCodec == CodecRegistry.pcmu)
        #expect(audio.sendPayloadType == 0)
        #expect(audio.remotePort == 26070)
        #expect(audio.remoteConnection.host == "127.0.0.1")
        call.hangUp()
        #expect(call.state == .ended(.localHangUp))
        #expect(harness.mediaStopped == 1)
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.ua.calls.isEmpty)
    }

    @Test("incoming call: we ring, answer with SDP, SIPp ACKs and hangs up")
    func incomingCall() throws {
        let harness = try UserAgentHarness(port: 25061)
        defer { harness.close() }
        harness.onIncoming = { call in
            harness.reactor.runSoon { call.answer() }
        }
        let sipp = try SIPpRun(scenario: "uac", port: 25071, mediaPort: 26071, remote: "127.0.0.1:25061")
        defer { sipp.cleanUp() }
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.states == [.incoming, .connected, .ended(.remoteHangUp)], "\(harness.stateNames)")
        let audio = try #require(harness.negotiated.first)
        #expect(audio.sendCodec == CodecRegistry.g722)
        #expect(audio.remotePort == 26071)
        #expect(audio.sendTelephoneEventPayloadType == 101)
        #expect(harness.mediaStopped == 1)
    }

    @Test("incoming call rejected with 486 Busy Here")
    func rejectBusy() throws {
        let harness = try UserAgentHarness(port: 25062)
        defer { harness.close() }
        harness.onIncoming = { call in
            harness.reactor.runSoon { call.reject(status: 486) }
        }
        let sipp = try SIPpRun(scenario: "uac-reject", port: 25072, mediaPort: 26072, remote: "127.0.0.1:25062")
        defer { sipp.cleanUp() }
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.states == [.incoming, .ended(.declined(status: 486))], "\(harness.stateNames)")
        #expect(harness.mediaStopped == 0)
    }
}

/// Registration against SIPp as a registrar (RFC 3261 §10.2, §22).
@Suite("SIP registration against SIPp", .serialized)
struct RegistrationSIPpTests {
    static func account(port: UInt16, password: String) throws -> SIPAccountConfiguration {
        let text = """
            #!version:1.0.0.1
            account.1.enable = 1
            account.1.user_name = 1001
            account.1.auth_name = 1001
            account.1.password = \(password)
            account.1.display_name = Desk 1001
            account.1.sip_server.1.address = 127.0.0.1
            account.1.sip_server.1.port = \(port)
            account.1.sip_server.1.transport = 0
            account.1.sip_server.1.expires = 300
            """
        return try SIPAccountConfiguration.parse(text: text, path: "test.cfg")
    }

    @Test("423 raises Expires, 401 is answered with digest, unregister on shutdown")
    func registerWithDigest() throws {
        let harness = try UserAgentHarness(port: 25063, account: Self.account(port: 25073, password: "secret"))
        defer { harness.close() }
        let sipp = try SIPpRun(scenario: "registrar", port: 25073, mediaPort: 26073)
        defer { sipp.cleanUp() }
        harness.ua.start()
        #expect(
            try harness.run(until: { harness.ua.registration?.state == .registered(expires: 600) }),
            "registration: \(harness.registrationStates)")
        #expect(harness.ua.registration?.requestedExpires == 600)
        let refresh = try #require(harness.ua.registration?.nextAttemptTime)
        #expect(refresh - harness.reactor.now > 500 * SIPTimerValues.second)
        var unregistered: Bool? = nil
        harness.ua.shutdown { unregistered = harness.ua.registration?.state == .unregistered }
        #expect(try harness.run(until: { unregistered != nil }))
        #expect(unregistered == true)
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.registrationStates.first == .registering)
        #expect(harness.registrationStates.last == .unregistered)
    }

    @Test("a wrong password ends in the failed state without a retry loop")
    func wrongPassword() throws {
        let harness = try UserAgentHarness(port: 25064, account: Self.account(port: 25074, password: "wrong"))
        defer { harness.close() }
        let sipp = try SIPpRun(scenario: "registrar-wrong-password", port: 25074, mediaPort: 26074)
        defer { sipp.cleanUp() }
        harness.ua.start()
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        guard case .failed(_, let retrying)? = harness.ua.registration?.state else {
            Issue.record("state \(String(describing: harness.ua.registration?.state))")
            return
        }
        #expect(!retrying)
        #expect(harness.ua.registration?.nextAttemptTime == nil)
    }
}
