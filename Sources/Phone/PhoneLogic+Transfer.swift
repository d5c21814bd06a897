// Blind transfer from the keys (RFC 5589 §6, the transferor's side), sans-IO like the rest of
// `PhoneLogic`: Transfer during a call holds it and opens "Transfer to:"; digits, then OK, Send
// or Transfer again ask the runtime to REFER the call (`PhoneAction.transfer`); Cancel gives up
// and resumes. The transfer's progress (`PhoneInput.transfer`) shows under the screen; on
// success the call is hung up and the phone says "Transferred", on failure it stays on hold.

import Keys
import SIP

/// The blind transfer being set up or under way (`PhoneLogic.transfer`).
public struct PhoneTransferState: Equatable, Sendable {
    /// The call being transferred.
    public var callID: Int? = nil
    /// The number typed so far on the "Transfer to:" screen; nil when that screen is not up.
    public var digits: String? = nil
    /// The REFER went out for `callID` (its progress is shown until it ends).
    public var sent = false
    /// The call that was transferred and is being hung up: its end says "Transferred".
    public var doneCallID: Int? = nil

    public init() {}
}

extension PhoneLogic {
    /// The Transfer key: opens "Transfer to:" for the call the keys act on (held first), and on
    /// that screen sends the transfer.
    func transferKey() {
        if transfer.digits != nil {
            sendTransfer()
            return
        }
        guard let a = activeIndex, calls[a].state.isEstablished else {
            flash("Transfer: no call to transfer", nanoseconds: PhoneLogic.messageTime)
            return
        }
        let id = calls[a].id
        if transfer.sent && transfer.callID == id {
            flash("Transfer under way", nanoseconds: PhoneLogic.messageTime)
            return
        }
        transfer = PhoneTransferState()
        transfer.callID = id
        transfer.digits = ""
        if calls[a].state != .held { emit(.hold(call: id, report: false)) }
    }

    /// A key while "Transfer to:" is up; true when it was the transfer's.
    func transferScreenKey(_ key: PhoneKey) -> Bool {
        guard let digits = transfer.digits else { return false }
        switch key {
        case .digit(let n): transfer.digits = digits + String(n)
        case .star: transfer.digits = digits + "*"
        case .pound, .ok: sendTransfer()
        case .cancel: cancelTransfer()
        case .softkey(let n):
            let labels = shown.softkeys
            guard n >= 1, n <= labels.count else { return true }
            switch labels[n - 1] {
            case "Send": sendTransfer()
            case "Delete": if !digits.isEmpty { transfer.digits = String(digits.dropLast()) }
            case "Cancel": cancelTransfer()
            default: break
            }
        default: return false
        }
        return true
    }

    func sendTransfer() {
        guard let id = transfer.callID, let number = transfer.digits, !number.isEmpty else { return }
        transfer.digits = nil
        guard let target = settings.target(for: number) else {
            cancelTransfer()
            return
        }
        transfer.sent = true
        emit(.transfer(call: id, target: target))
        flash("Transferring to " + number, nanoseconds: PhoneLogic.transferWait)
    }

    func cancelTransfer() {
        if let id = transfer.callID, index(of: id) != nil { emit(.resume(call: id, report: false)) }
        transfer = PhoneTransferState()
        flash("Transfer cancelled", nanoseconds: PhoneLogic.messageTime)
    }

    /// The transfer of call `id` progressed (`PhoneInput.transfer`).
    func transferProgressed(_ id: Int, _ event: SIPTransferEvent) {
        guard transfer.sent, transfer.callID == id else { return }
        switch event {
        case .accepted: flash("Transfer accepted", nanoseconds: PhoneLogic.transferWait)
        case .progress(let status): flash("Transfer: " + status.description, nanoseconds: PhoneLogic.transferWait)
        case .succeeded:
            transfer = PhoneTransferState()
            transfer.doneCallID = id
            flash("Transferred", nanoseconds: PhoneLogic.messageTime)
            emit(.hangUp(call: id))
        case .failed(let why):
            transfer = PhoneTransferState()
            flash("Transfer failed: " + why, nanoseconds: PhoneLogic.messageTime)
        }
    }

    /// Call `id` ended: a transfer of it is over; the text for its end ("Transferred" when it was).
    func transferCallEnded(_ id: Int) -> String? {
        if transfer.doneCallID == id {
            transfer.doneCallID = nil
            return "Transferred"
        }
        if transfer.callID == id { transfer = PhoneTransferState() }
        return nil
    }

    /// How long the transfer's progress messages stay (the target may ring for a while).
    static let transferWait: Int64 = 30_000_000_000
}

extension PhoneScreenModel {
    /// The "Transfer to:" screen over the held call while the number is typed.
    static func applyTransfer(_ input: PhoneScreenInput, to model: inout PhoneScreenModel, title: inout String) {
        guard let digits = input.transferDigits else { return }
        title = "Transfer to:"
        var lines = [digits + "_"]
        for call in input.calls where call.id == input.activeCallID { lines.append("On hold: " + call.party) }
        model.lines = lines
        model.softkeys = [digits.isEmpty ? "" : "Send", digits.isEmpty ? "" : "Delete", "", "Cancel"]
    }
}
