// The phone's side of message waiting: each account's voicemail number for the Message key, and
// its message-summary NOTIFYs into the logic (`PhoneInput.messageWaiting`).

import SIP

extension PhoneStateMachine {
    /// Takes each account's voicemail number (`voice_mail.number.N`) and listens to its
    /// message-summary NOTIFYs (`SIPUserAgent.onMessageSummary`; the user agent's `close()`
    /// drops the listener).
    public func noteVoicemail(of agents: [SIPUserAgent]) {
        var boxes: [PhoneVoicemailView] = []
        for agent in agents {
            boxes.append(PhoneVoicemailView(account: agent.accountNumber, number: agent.account.mwi.voicemailNumber))
            let number = agent.accountNumber
            agent.onMessageSummary = { [self] summary in noteMessageSummary(account: number, summary) }
        }
        logic.voicemail = boxes
        render()
    }
}
