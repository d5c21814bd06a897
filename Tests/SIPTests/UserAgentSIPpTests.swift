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
