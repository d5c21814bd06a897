// Call transfer in a call's dialog (RFC 3515 REFER with its implicit `refer` subscription,
// RFC 3892 Referred-By): the transferee answers REFER, calls the Refer-To target and reports the
// new call's progress in NOTIFYs with message/sipfrag bodies; the transferor sends REFER and
// reads those NOTIFYs.

import Reactor

/// A call's part in a transfer (stored in `SIPCall.transfer`).
struct SIPCallTransfer {
    /// Transferee, on the new call: the call whose REFER placed it (its NOTIFYs go there).
    var referrer: SIPCall? = nil
    /// Transferee, on the new call: headers its INVITE carries (Referred-By, Replaces).
    var inviteHeaders: [(String, String)] = []
    /// Transferee, on the new call: the 180 was reported already.
    var notifiedRinging = false
    /// Transferee, on the referred call: the new call placed for its REFER (one at a time).
    var referredCallID: Int? = nil
    /// Transferor: our REFER is out or accepted; its NOTIFYs are expected.
    var referring = false
}

extension SIPCall {
    /// How long a transferee waits for the transferor's BYE after reporting success before it
    /// hangs up the referred call itself (RFC 5589 §6: the transferor normally ends it).
    static let transferHangUpDelay: Int64 = 2_000_000_000

    // MARK: transferor (RFC 3515 §2.4.1, RFC 5589 §6)

    /// Asks the far end to call `target` (REFER, with Referred-By: our address of record) and,
    /// for an attended transfer, to replace the dialog `replaces` names (RFC 3891). What follows
    /// arrives through `SIPUserAgent.onTransfer`. False when the call is not established or a
    /// transfer is already under way.
    @discardableResult
    public func refer(to target: SIPURI, replaces: String? = nil) -> Bool {
        guard let ua = userAgent, state.isEstablished, !transfer.referring else { return false }
        transfer.referring = true
        let us = SIPNameAddress(uri: ua.account.addressOfRecord(localHost: ua.localHost))
        let headers = [
            ("Refer-To", SIPReferral.referTo(target, replaces: replaces)),
            ("Referred-By", us.description),
            ("Contact", ua.contact(transport: signallingTransport ?? .udp).description),
        ]
        ua.log("call " + String(id) + ": REFER to " + target.description)
        sendRequest(method: .refer, headers: headers) { [self] result in
            guard transfer.referring else { return }
            switch result {
            case .response(let response):
                let status = response.status ?? 0
                if status >= 200 && status < 300 {
                    userAgent?.onTransfer?(self, .accepted)
                } else {
                    let reason: String = response.reason ?? ""
                    transferFailed("REFER refused: " + String(status) + " " + reason)
                }
            case .timeout: transferFailed("no answer to REFER")
            case .transportError: transferFailed("REFER not sent")
            case .callGone: transferFailed("the call ended")
            }
        }
        return true
    }

    /// `refer(to:)` for a dialled target (a SIP URI, or a number on the account's server domain,
    /// as `SIPUserAgent.call(_:)` reads it); throws when the target is unusable or the call cannot
    /// be transferred now.
    public func refer(toTarget target: String) throws(SIPError) {
        guard let ua = userAgent else { throw SIPError("the call is over", status: nil) }
        let uri = try ua.targetURI(target)
        guard refer(to: uri) else { throw SIPError("the call cannot be transferred now", status: nil) }
    }

    func transferFailed(_ why: String) {
        transfer.referring = false
        userAgent?.log("call " + String(id) + ": transfer failed: " + why)
        userAgent?.onTransfer?(self, .failed(why))
    }

    /// A NOTIFY in the dialog: the `refer` subscription our REFER created reports the new call
    /// (RFC 3515 §2.4.4). 489 for another event package, 481 with no transfer under way, 400
    /// for a sipfrag that is not a status line (the transfer and the call stay as they are).
    func receiveNotify(_ transaction: SIPServerTransaction) {
        guard let ua = userAgent else { return }
        let request = transaction.request
        let event = SIPCall.eventPackage(request.header("Event") ?? "")
        guard event == "refer" else {
            ua.log("call " + String(id) + ": NOTIFY for event '" + SIPReferral.clipped(event) + "' refused (489)")
            respond(transaction, 489)
            return
        }
        guard transfer.referring else {
            ua.log("call " + String(id) + ": NOTIFY with no transfer under way refused (481)")
            respond(transaction, 481, reason: "Subscription does not exist")
            return
        }
        guard let status = SIPFragStatus.parse(request.body) else {
            ua.log(
                "call " + String(id) + ": NOTIFY with an unreadable sipfrag ("
                    + String(request.body.count) + " bytes) refused (400); the transfer goes on")
            respond(transaction, 400, reason: "Bad sipfrag")
            return
        }
        respond(transaction, 200)
        let terminated = SIPCall.eventPackage(request.header("Subscription-State") ?? "") == "terminated"
        ua.log("call " + String(id) + ": transfer target answered " + status.description)
        if status.code >= 200 && status.code < 300 {
            transfer.referring = false
            ua.onTransfer?(self, .succeeded)
        } else if status.code >= 300 {
            transferFailed(status.description)
        } else if terminated {
            transferFailed("the transferee ended the subscription")
        } else {
            ua.onTransfer?(self, .progress(status))
        }
    }

    /// The first token of an Event or Subscription-State value, lowercased (`refer;id=3` is `refer`).
    static func eventPackage(_ value: String) -> String {
        var token: [UInt8] = []
        for b in value.utf8 {
            if b == 0x3B { break }
            if b == 0x20 || b == 0x09 { continue }
            token.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
        }
        return String(decoding: token, as: UTF8.self)
    }

    // MARK: transferee (RFC 3515 §2.4.2–§2.4.5)

    /// A REFER in the dialog: a Refer-To that is not one SIP URI gets 400 (the call stays); a
    /// second transfer while one runs 491; else 202, NOTIFY `100 Trying`, and a new call to
    /// the target carrying Referred-By (RFC 3892) and a Replaces given in the URI (RFC 3891).
    func receiveRefer(_ transaction: SIPServerTransaction) {
        guard let ua = userAgent else { return }
        let referral: SIPReferral
        do throws(SIPError) {
            referral = try SIPReferral.check(transaction.request)
        } catch {
            ua.log("call " + String(id) + ": REFER refused (400): " + error.description)
            respond(transaction, 400, reason: "Bad Refer-To")
            return
        }
        guard transfer.referredCallID == nil else {
            ua.log("call " + String(id) + ": REFER refused (491): a transfer is under way")
            respond(transaction, 491)
            return
        }
        respond(transaction, 202)
        ua.log(
            "call " + String(id) + ": REFER to " + referral.target.description + " accepted"
                + (referral.referredBy.map { " (referred by " + $0 + ")" } ?? ""))
        notifyReferral(SIPFragStatus(code: 100, reason: "Trying"), final: false)
        var headers: [(String, String)] = []
        if let by = referral.referredBy { headers.append(("Referred-By", by)) }
        for header in referral.inviteHeaders {
            if let value = header.value, ConfigFileText.asciiLowercase(header.name) == "replaces" {
                headers.append(("Replaces", value))
            }
        }
        do throws(SIPError) {
            let placed = try ua.call(referral.target.description) { call in
                call.transfer.referrer = self
                call.transfer.inviteHeaders = headers
            }
            if !placed.state.isEnded { transfer.referredCallID = placed.id }
        } catch {
            ua.log("call " + String(id) + ": transfer call not placed: " + error.description)
            notifyReferral(SIPFragStatus(code: 503, reason: "Service Unavailable"), final: true)
        }
    }

    /// The new call of a transfer changed state: the transferor hears of it (180 once, the final
    /// status once); on success the referred call is hung up unless the transferor does it first.
    func reportToReferrer(_ newState: SIPCallState) {
        guard let referrer = transfer.referrer else { return }
        switch newState {
        case .ringing:
            guard !transfer.notifiedRinging else { return }
            transfer.notifiedRinging = true
            referrer.notifyReferral(SIPFragStatus(code: 180, reason: "Ringing"), final: false)
        case .connected, .held, .remoteHeld:
            transfer.referrer = nil
            referrer.transfer.referredCallID = nil
            referrer.notifyReferral(SIPFragStatus(code: 200, reason: "OK"), final: true)
            guard let ua = referrer.userAgent else { return }
            ua.reactor.after(SIPCall.transferHangUpDelay) {
                guard !referrer.state.isEnded else { return }
                ua.log("call " + String(referrer.id) + ": transferred; hanging up")
                referrer.hangUp()
            }
        case .ended(let reason):
            transfer.referrer = nil
            referrer.transfer.referredCallID = nil
            referrer.notifyReferral(SIPCall.fragStatus(for: reason), final: true)
        default:
            return
        }
    }

    /// The status a NOTIFY reports for a new call that ended before it was answered.
    static func fragStatus(for reason: SIPCallEndReason) -> SIPFragStatus {
        switch reason {
        case .rejected(let status, let text): return SIPFragStatus(code: status, reason: text)
        case .timeout: return SIPFragStatus(code: 408, reason: "Request Timeout")
        case .transportError: return SIPFragStatus(code: 503, reason: "Service Unavailable")
        case .failed: return SIPFragStatus(code: 500, reason: "Server Internal Error")
        default: return SIPFragStatus(code: 487, reason: "Request Terminated")
        }
    }

    /// A NOTIFY of the `refer` subscription with `status` as its sipfrag (RFC 3515 §2.4.5);
    /// `final` ends the subscription. Nothing when the call is over.
    func notifyReferral(_ status: SIPFragStatus, final: Bool) {
        guard let ua = userAgent, state.isEstablished else { return }
        let headers = [
            ("Event", "refer"),
            ("Subscription-State", final ? "terminated;reason=noresource" : "active;expires=60"),
            ("Contact", ua.contact(transport: signallingTransport ?? .udp).description),
        ]
        sendRequest(
            method: .notify, headers: headers, body: SIPFragStatus.body(code: status.code, reason: status.reason),
            contentType: "message/sipfrag;version=2.0"
        ) { [self] result in
            if let code = result.status, code >= 200 && code < 300 { return }
            userAgent?.log("call " + String(id) + ": NOTIFY (" + status.description + ") not accepted: "
                + result.description)
        }
    }
}
