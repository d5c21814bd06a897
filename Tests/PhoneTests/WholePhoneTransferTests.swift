import Foundation
import Indicators
import Keys
import Reactor
import SIP
import Testing

@testable import Phone

/// Blind transfer with the assembled phone on the virtual clock (RFC 3515, RFC 5589 §6), both
/// roles, against the scripted far end (a `SIPUserAgent` of its own: it sends and answers REFER
/// and NOTIFY the same way). The far end's messages all go to the phone's port, so the target
/// of each transfer is reached through the phone or is the far end itself.
@Suite("Whole phone: blind transfer", .serialized)
struct WholePhoneTransferTests {
    @Test("transferee: the far end calls, then REFERs the phone to itself; the phone calls with Referred-By, hangs up the first")
    func transferee() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        phone.farEnd.keepsInvites = true
        var events: [SIPTransferEvent] = []
        phone.farEnd.ua.onTransfer = { _, event in events.append(event) }
        let first = try phone.farEnd.call()
        try phone.run(seconds: 0.2)
        #expect(phone.lcd.title == "Incoming call")
        phone.press(.ok)
        try phone.run(seconds: 0.3)
        #expect(phone.lcd.title == "Talking")
        #expect(first.refer(to: try SIPURI(parsing: "sip:2001@127.0.0.1:" + String(phone.farEnd.port))))
        try phone.run(seconds: 0.5)
        #expect(events.first == .accepted)
        #expect(events.contains(.progress(SIPFragStatus(code: 100, reason: "Trying"))))
        #expect(events.last == .succeeded)
        let referred = phone.farEnd.invites.first { $0.header("Referred-By") != nil }
        #expect(referred?.header("Referred-By") == "<sip:2001@127.0.0.1>")
        #expect(phone.log.contains { $0.contains("call 1: REFER to sip:2001@127.0.0.1:") && $0.contains("accepted") })
        #expect(phone.machine.calls.count == 2)
        // The far end does not hang up the first call: the phone does, 2 s after NOTIFY 200.
        try phone.run(seconds: 2.5)
        #expect(first.state.isEnded)
        #expect(phone.machine.calls.map { $0.id } == [2])
        #expect(phone.lcd.title == "Talking")
        #expect(phone.activeCall?.id == 2)
        phone.hookDown()
        phone.press(.speaker)
        try phone.run(seconds: 0.5)
        #expect(phone.machine.calls.isEmpty)
    }

    @Test("transferor by keys: Transfer, number, Send; the target rings back here, is answered; NOTIFY 200 -> Transferred")
    func transferor() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.press(.transfer)
        try phone.run(seconds: 0.3)
        #expect(phone.lcd.title == "Transfer to:")
        #expect(phone.farEnd.calls.first?.isRemoteHold == true)
        for n in [2, 0, 0, 1] { phone.press(.digit(n)) }
        #expect(phone.lcd.lines.first == "2001_")
        #expect(phone.softkey("Send"))
        try phone.run(seconds: 0.3)
        // The far end (transferee) calls the target; its INVITE reaches the phone: call 2 rings.
        #expect(phone.lcd.title == "Incoming call")
        #expect(phone.lcd.lines.contains("Transfer: 180 Ringing"))
        #expect(phone.log.contains("call 1: transfer target answered 100 Trying"))
        phone.press(.ok)
        try phone.run(seconds: 0.5)
        #expect(phone.log.contains("call 1: transfer target answered 200 OK"))
        #expect(phone.machine.calls.map { $0.id } == [2])
        #expect(phone.log.contains("phone: Transferred"))
        #expect(phone.lcd.title == "Talking")
    }

    @Test("transferor: Cancel before sending resumes the call; nothing is sent")
    func cancel() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.press(.transfer)
        phone.press(.digit(5))
        try phone.run(seconds: 0.3)
        phone.press(.cancel)
        try phone.run(seconds: 0.3)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.farEnd.calls.first?.isRemoteHold == false)
        #expect(!phone.log.contains { $0.contains("REFER") })
    }
}
