// A call's session timer (RFC 4028): the headers its INVITEs carry, the timer that makes the
// refresher refresh at half the interval (by UPDATE when the peer allows it, else re-INVITE),
// and the BYE when the other side did not refresh.
// The negotiation itself is SIPSessionTimerNegotiation's (values in, values out).

import Reactor

extension SIPCall {
    var sessionSettings: SIPSessionTimerSettings { userAgent?.account.sessionTimer ?? SIPSessionTimerSettings() }

    /// Supported: timer, Session-Expires and Min-SE on an INVITE we send (initial, re-INVITE,
    /// refresh), when the account has session timers. `seconds`: the interval to ask for (after
    /// a 422), else the running timer's, else the configured one.
    func addSessionTimerHeaders(_ request: inout SIPMessage, seconds: Int? = nil) {
        let settings = sessionSettings
        guard settings.enabled else { return }
        askedSessionExpires = seconds ?? sessionTimer?.interval ?? settings.expires
        for (name, value) in SIPSessionTimerNegotiation.requestHeaders(
            settings, seconds: askedSessionExpires, weRefresh: sessionTimer?.weRefresh)
        {
            SIPUserAgent.add(&request, name, value)
        }
    }

    /// Starts (or restarts, after every 2xx to an INVITE of the dialog) the session timer;
    /// nil stops it.
    func runSessionTimer(_ timer: SIPSessionTimer?) {
        cancelSessionTimer()
        let changed = timer != sessionTimer
        sessionTimer = timer
        guard let timer, let ua = userAgent, !state.isEnded else { return }
        if changed { ua.log("call " + String(id) + ": session timer " + timer.description) }
        let seconds = timer.weRefresh ? timer.refreshSeconds : timer.expirySeconds
        sessionTimerID = ua.reactor.after(Int64(seconds) * SIPTimerValues.second) { [self] in
            sessionTimerID = nil
            sessionTimerFired()
        }
    }

    func cancelSessionTimer() {
        if let timer = sessionTimerID { userAgent?.reactor.cancel(timer) }
        sessionTimerID = nil
    }

    private func sessionTimerFired() {
        guard let timer = sessionTimer, let ua = userAgent, state.isEstablished else { return }
        if !timer.weRefresh {
            ua.log(
                "call " + String(id) + ": session expired: no refresh within " + String(timer.interval)
                    + " s (RFC 4028): BYE")
            sendBye()
            end(.failed("session expired"))
            return
        }
        let method = peerAllowsUpdate ? "UPDATE" : "re-INVITE"
        if peerAllowsUpdate ? sendRefreshUpdate() : sendReinvite(hold: isLocalHold, refresh: true) {
            ua.log("call " + String(id) + ": session refresh (" + method + ")")
        } else {
            // A re-INVITE or UPDATE is under way (ours or theirs): its 2xx restarts the timer;
            // if it does not, look again in a second.
            sessionTimerID = ua.reactor.after(SIPTimerValues.second) { [self] in
                sessionTimerID = nil
                sessionTimerFired()
            }
        }
    }

    /// 422 with our Min-SE (RFC 4028 §9): the interval asked for is below what we accept.
    func refuseTooSmall(_ transaction: SIPServerTransaction, minSE: Int) {
        guard let ua = userAgent else { return }
        var response = SIPMessage.response(to: transaction.request, status: 422, toTag: dialog?.localTag)
        SIPUserAgent.add(&response, "Min-SE", String(minSE))
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        transaction.respond(response)
    }
}
