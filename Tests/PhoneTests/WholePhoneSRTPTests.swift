import Foundation
import Indicators
import SIP
import Testing

@testable import Phone

/// The assembled phone with `account.1.srtp_encryption` against the scripted far end, on the
/// virtual clock: the offer/answer policy end to end, the lock icon, the plain-transport warning.
@Suite("Whole phone with SRTP (SDES) on the virtual clock", .serialized)
struct WholePhoneSRTPTests {
    @Test("mandatory both sides: the call is SRTP, the lock shows while talking, the SDES warning comes once, no key is logged")
    func mandatory() throws {
        let phone = try WholePhone(config: "account.1.srtp_encryption = 2", farEndSRTP: .mandatory)
        defer { phone.close() }
        phone.dial("2001")
        try phone.run(seconds: 0.5)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.lcd.icons.contains(.encrypted))
        #expect(phone.farEnd.calls.first?.isEncrypted == true)
        #expect(phone.log.contains { $0.hasPrefix("call 1: media PCMU/8000") && $0.hasSuffix(" srtp AES_CM_128_HMAC_SHA1_80") })
        #expect(phone.log.filter { $0.contains("warning: SRTP keys (SDES) went over plain UDP") }.count == 1)
        #expect(phone.lcd.lines.contains("SRTP keys sent over plain UDP"))
        #expect(phone.machine.softphone.media[1]?.session.isEncrypted == true)
        // Hold and resume: new offers, new keys, still one warning.
        phone.press(.hold)
        try phone.run(seconds: 0.5)
        phone.press(.hold)
        try phone.run(seconds: 3)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.lcd.icons.contains(.encrypted))
        #expect(phone.log.filter { $0.contains("warning: SRTP keys") }.count == 1)
        #expect(phone.log.filter { $0.contains("rtp: media: SRTP ") }.count >= 2, "a new context per new key pair")
        #expect(!phone.log.contains { $0.contains("inline:") })
        phone.hookDown()
        try phone.run(seconds: 0.5)
        #expect(!phone.lcd.icons.contains(.encrypted))
        let stats = try #require(phone.log.first { $0.hasPrefix("call 1: stats ") })
        #expect(stats.hasSuffix(" srtp_auth_failures=0 srtp_replays=0"))
    }

    @Test("mandatory here, off at the far end: the far end refuses the RTP/SAVP offer with 488, no call")
    func mandatoryAgainstOff() throws {
        let phone = try WholePhone(config: "account.1.srtp_encryption = 2")
        defer { phone.close() }
        phone.dial("2001")
        try phone.run(seconds: 1)
        #expect(phone.lcd.title != "Talking")
        #expect(phone.farEnd.calls.isEmpty)
        #expect(phone.log.contains { $0.hasPrefix("call 1: ended") && $0.contains("488") })
        #expect(!phone.lcd.icons.contains(.encrypted))
    }

    @Test("optional here, off at the far end: plain RTP, no lock, no warning")
    func optionalAgainstOff() throws {
        let phone = try WholePhone(config: "account.1.srtp_encryption = 1")
        defer { phone.close() }
        phone.dial("2001")
        try phone.run(seconds: 0.5)
        #expect(phone.lcd.title == "Talking")
        #expect(!phone.lcd.icons.contains(.encrypted))
        #expect(!phone.log.contains { $0.contains("warning: SRTP") })
        #expect(phone.log.contains { $0.hasPrefix("call 1: media PCMU/8000") && !$0.contains("srtp") })
    }

    @Test("an incoming call offered without keys to a mandatory phone is refused with 488")
    func incomingPlainToMandatory() throws {
        let phone = try WholePhone(config: "account.1.srtp_encryption = 2")
        defer { phone.close() }
        let call = try phone.farEnd.call()
        try phone.run(seconds: 1)
        #expect(call.state.isEnded)
        #expect(phone.machine.screen == .idle)
        #expect(phone.log.contains { $0.contains("cannot answer the offer") && $0.contains("mandatory") })
    }
}
