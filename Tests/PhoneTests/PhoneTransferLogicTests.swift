import Keys
import SIP
import Testing

@testable import Phone

/// Blind transfer from the keys in `PhoneLogic` alone (RFC 5589 §6, the transferor): the exact
/// actions and the screen, no softphone.
@Suite("Phone logic: blind transfer (pure)")
struct PhoneTransferLogicTests {
    typealias Rig = PhoneLogicTests.Rig

    static func transferAction(_ actions: [PhoneAction]) -> PhoneAction? {
        actions.first { if case .transfer = $0 { return true } else { return false } }
    }

    @Test("Transfer holds the call and opens Transfer to:; digits, Send -> REFER; 2xx hangs up, says Transferred")
    func blindSuccess() {
        var rig = Rig()
        rig.connectedCall(1)
        #expect(rig.press(.transfer).contains(.hold(call: 1, report: false)))
        _ = rig.call(1, .held)
        #expect(rig.logic.shown.title == "Transfer to:")
        #expect(rig.logic.shown.lines == ["_", "On hold: Peer"])
        #expect(rig.logic.shown.softkeys == ["", "", "", "Cancel"])
        rig.type("20011")
        _ = rig.softkey("Delete")
        #expect(rig.logic.shown.lines == ["2001_", "On hold: Peer"])
        #expect(rig.logic.shown.softkeys == ["Send", "Delete", "", "Cancel"])
        let sent = rig.softkey("Send")
        #expect(Self.transferAction(sent) == .transfer(call: 1, target: PhoneLogicTests.uri2001))
        #expect(!sent.contains { if case .sendDigit = $0 { return true } else { return false } })
        #expect(rig.logic.shown.title == "On hold")
        #expect(rig.logic.message == "Transferring to 2001")
        _ = rig.input(.transfer(call: 1, .accepted))
        _ = rig.input(.transfer(call: 1, .progress(SIPFragStatus(code: 180, reason: "Ringing"))))
        #expect(rig.logic.message == "Transfer: 180 Ringing")
        // A second Transfer while one is under way does not start another.
        #expect(Self.transferAction(rig.press(.transfer)) == nil)
        #expect(rig.logic.message == "Transfer under way")
        #expect(rig.input(.transfer(call: 1, .succeeded)).contains(.hangUp(call: 1)))
        _ = rig.call(1, .ended(.localHangUp))
        #expect(rig.logic.message == "Transferred")
        #expect(rig.logic.activeCallID == nil)
    }

    @Test("Transfer again sends; a failure leaves the call held and says why")
    func blindFailure() {
        var rig = Rig()
        rig.connectedCall(1)
        _ = rig.press(.transfer)
        _ = rig.call(1, .held)
        rig.type("2001")
        #expect(Self.transferAction(rig.press(.transfer)) == .transfer(call: 1, target: PhoneLogicTests.uri2001))
        let failed = rig.input(.transfer(call: 1, .failed("486 Busy Here")))
        #expect(!failed.contains(.hangUp(call: 1)))
        #expect(rig.logic.message == "Transfer failed: 486 Busy Here")
        #expect(rig.logic.shown.title == "On hold")
        #expect(rig.logic.shown.softkeys.first == "Resume")
        // A REFER that could not be sent at all.
        _ = rig.press(.transfer)
        rig.type("2001")
        _ = rig.press(.ok)
        _ = rig.input(.failed(.transfer("the call cannot be transferred now")))
        #expect(rig.logic.message == "Transfer failed: the call cannot be transferred now")
        #expect(rig.logic.transfer == PhoneTransferState())
    }

    @Test("Cancel before sending resumes the call; Transfer without a call says so")
    func cancel() {
        var rig = Rig()
        #expect(Self.transferAction(rig.press(.transfer)) == nil)
        #expect(rig.logic.message == "Transfer: no call to transfer")
        rig.connectedCall(1)
        _ = rig.press(.transfer)
        _ = rig.call(1, .held)
        rig.type("20")
        let cancelled = rig.press(.cancel)
        #expect(cancelled.contains(.resume(call: 1, report: false)))
        #expect(Self.transferAction(cancelled) == nil)
        #expect(rig.logic.message == "Transfer cancelled")
        _ = rig.call(1, .connected)
        #expect(rig.logic.shown.title == "Talking")
        // Digits go to the far end again (DTMF), not to a transfer.
        #expect(rig.press(.digit(5)).contains(.sendDigit(call: 1, 53)))
    }

    @Test("transferee: the new call takes the audio when the transferred one ends")
    func transfereeFocus() {
        var rig = Rig()
        rig.connectedCall(1)
        _ = rig.call(2, .calling)
        _ = rig.call(2, .connected)
        #expect(rig.logic.activeCallID == 1)
        let ended = rig.call(1, .ended(.localHangUp))
        #expect(ended.contains(.activeCall(2)))
        #expect(ended.contains(.focus(call: 2, path: nil)))
        #expect(rig.logic.shown.title == "Talking")
    }
}
