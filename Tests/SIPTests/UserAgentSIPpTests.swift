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
        let sipp = try SIPpRun(scenario: "uas", port: 25070, mediaPort: 27000)
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25070")
        #expect(try harness.run(until: { call.state == .connected }), "states: \(harness.stateNames)")
        #expect(harness.states.contains(.calling))
        #expect(harness.states.contains(.ringing(early: true)))
        let audio = try #require(harness.negotiated.first)
        #expect(audio.sendCodec == CodecRegistry.pcmu)
        #expect(audio.sendPayloadType == 0)
        #expect(audio.remotePort == 27000)
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
        let sipp = try SIPpRun(scenario: "uac", port: 25071, mediaPort: 27010, remote: "127.0.0.1:25061")
        defer { sipp.cleanUp() }
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.states == [.incoming, .connected, .ended(.remoteHangUp)], "\(harness.stateNames)")
        let audio = try #require(harness.negotiated.first)
        #expect(audio.sendCodec == CodecRegistry.g722)
        #expect(audio.remotePort == 27010)
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
        let sipp = try SIPpRun(scenario: "uac-reject", port: 25072, mediaPort: 27020, remote: "127.0.0.1:25062")
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
        let sipp = try SIPpRun(scenario: "registrar", port: 25073, mediaPort: 27030)
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
        let sipp = try SIPpRun(scenario: "registrar-wrong-password", port: 25074, mediaPort: 27040)
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

/// CANCEL, hold and resume, in-dialog requests against SIPp (RFC 3261 §9, §12.2, §14; RFC 3264 §8.4).
@Suite("SIP calls against SIPp: cancel, hold, in-dialog requests", .serialized)
struct CallSIPpTests {
    static func account() -> SIPAccountConfiguration {
        SIPAccountConfiguration(userName: "1001", password: "secret")
    }

    @Test("CANCEL of a ringing call: 200 to the CANCEL, 487 to the INVITE, ACK")
    func cancelRinging() throws {
        let harness = try UserAgentHarness(port: 25065)
        defer { harness.close() }
        let sipp = try SIPpRun(scenario: "uas-cancel", port: 25075, mediaPort: 27050)
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25075")
        #expect(try harness.run(until: { call.state == .ringing(early: true) }), "\(harness.stateNames)")
        call.hangUp()
        #expect(try harness.run(until: { call.state.isEnded }))
        #expect(call.state == .ended(.cancelled))
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.mediaStopped == 0)
    }

    @Test("a 200 that crosses our CANCEL is ACKed and hung up with BYE")
    func cancelRace() throws {
        let harness = try UserAgentHarness(port: 25066)
        defer { harness.close() }
        let sipp = try SIPpRun(scenario: "uas-cancel-race", port: 25076, mediaPort: 27060)
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25076")
        #expect(try harness.run(until: { call.state == .ringing(early: true) }), "\(harness.stateNames)")
        call.hangUp()
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(call.state == .ended(.cancelled))
        #expect(!harness.states.contains(.connected))
    }

    @Test("hold and resume both ways with re-INVITE (sendonly / recvonly / sendrecv)")
    func holdAndResume() throws {
        let harness = try UserAgentHarness(port: 25067, account: Self.account())
        defer { harness.close() }
        let sipp = try SIPpRun(
            scenario: "uas-hold", port: 25077, mediaPort: 27070, keys: ["ua_uri": "sip:1001@127.0.0.1:25067"])
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25077")
        #expect(try harness.run(until: { call.state == .connected }), "\(harness.stateNames)")
        #expect(call.hold())
        #expect(try harness.run(until: { call.state == .held }), "\(harness.stateNames)")
        #expect(harness.negotiated.last?.localDirection == .sendonly)
        #expect(harness.negotiated.last?.remoteDirection == .recvonly)
        #expect(call.resume())
        #expect(try harness.run(until: { call.state == .connected }), "\(harness.stateNames)")
        #expect(try harness.run(until: { call.state.isEnded }), "\(harness.stateNames)")
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(
            harness.states == [
                .calling, .connected, .held, .connected, .remoteHeld, .connected, .ended(.remoteHangUp),
            ], "\(harness.stateNames)")
        #expect(harness.negotiated.count == 5)
        if harness.negotiated.count == 5 {
            #expect(harness.negotiated[3].localDirection == .recvonly)
            #expect(harness.negotiated[3].remoteDirection == .sendonly)
            #expect(harness.negotiated[4].localDirection == .sendrecv)
        }
    }

    @Test("INFO with Record: on in the dialog, a 401 answered once with credentials, INFO received")
    func infoInDialog() throws {
        let harness = try UserAgentHarness(port: 25068, account: Self.account())
        defer { harness.close() }
        let sipp = try SIPpRun(
            scenario: "uas-info", port: 25078, mediaPort: 27080, keys: ["ua_uri": "sip:1001@127.0.0.1:25068"])
        defer { sipp.cleanUp() }
        let call = try harness.ua.call("sip:sipp@127.0.0.1:25078")
        #expect(try harness.run(until: { call.state == .connected }), "\(harness.stateNames)")
        var results: [SIPInDialogResult] = []
        call.sendRequest(method: .info, headers: [("Record", "on")]) { results.append($0) }
        #expect(try harness.run(until: { results.count == 1 }))
        #expect(results.first?.status == 200)
        call.sendRequest(method: .info, headers: [("Record", "off")]) { results.append($0) }
        #expect(try harness.run(until: { results.count == 2 }))
        #expect(results.last?.status == 200, "\(results)")
        #expect(try harness.run(until: { harness.infos.count == 1 }))
        #expect(harness.infos.first?.header("Record") == "on")
        call.hangUp()
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.infos.count == 1)
        var gone: SIPInDialogResult? = nil
        call.sendRequest(method: .info, headers: [("Record", "on")]) { gone = $0 }
        #expect(try harness.run(until: { gone != nil }))
        if case .callGone? = gone {} else { Issue.record("expected callGone, got \(String(describing: gone))") }
    }

    @Test("out of a dialog: OPTIONS 200 with Allow, MESSAGE 405 with Allow, unknown dialog 481")
    func outOfDialog() throws {
        let harness = try UserAgentHarness(port: 25069)
        defer { harness.close() }
        let sipp = try SIPpRun(
            scenario: "uac-out-of-dialog", port: 25079, mediaPort: 27090, remote: "127.0.0.1:25069")
        defer { sipp.cleanUp() }
        let status = try sipp.wait(running: harness.reactor)
        #expect(status == 0, "sipp: \(sipp.errors)")
        #expect(harness.states.isEmpty)
    }
}
