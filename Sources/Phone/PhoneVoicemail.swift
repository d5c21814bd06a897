// Message waiting on the phone (RFC 3842 through `SIPUserAgent.onMessageSummary`): what each
// account's mailbox holds as the screen needs it, the idle line ("2 new voicemails"), the
// message LED (slow flash while any account has new messages) and whom the Message key calls.
// Pure values; `PhoneLogic` keeps the list, `PhoneScreenModel` draws it.

import Indicators

/// One account's mailbox as the phone shows it.
public struct PhoneVoicemailView: Equatable, Sendable {
    /// The account (`account.N`).
    public var account: Int
    /// Its voicemail number (`voice_mail.number.N`), nil when none is configured.
    public var number: String?
    /// The server says messages wait (`Messages-Waiting: yes`).
    public var waiting = false
    /// New voice messages, nil when the server gave no count.
    public var newMessages: Int? = nil

    public init(account: Int, number: String? = nil, waiting: Bool = false, newMessages: Int? = nil) {
        self.account = account
        self.number = number
        self.waiting = waiting
        self.newMessages = newMessages
    }

    /// Whether the account has new messages: waiting, unless the count says none are new.
    public var hasNew: Bool { waiting && (newMessages ?? 1) > 0 }

    /// The message LED: slow-flashing red while any account has new messages.
    public static func led(_ boxes: [PhoneVoicemailView]) -> LEDState {
        boxes.contains { $0.hasNew } ? LEDState(.slowFlash, .red) : .off
    }

    /// The idle screen's line: `2 new voicemails`, `1 new voicemail`, `New voicemail` (no count
    /// given), nil when nothing is new. Counts of several accounts add up (clamped).
    public static func line(_ boxes: [PhoneVoicemailView]) -> String? {
        var total = 0
        var any = false
        for box in boxes where box.hasNew {
            any = true
            if let n = box.newMessages { total = min(99_999, total + n) }
        }
        guard any else { return nil }
        if total == 0 { return "New voicemail" }
        return String(total) + (total == 1 ? " new voicemail" : " new voicemails")
    }

    /// Whom the Message key calls: the first account with new messages that has a voicemail
    /// number, else account 1's number, else the first account's with one; nil: no number.
    public static func toDial(_ boxes: [PhoneVoicemailView]) -> (account: Int, number: String)? {
        for box in boxes where box.hasNew { if let number = box.number { return (box.account, number) } }
        for box in boxes where box.account == 1 { if let number = box.number { return (1, number) } }
        for box in boxes { if let number = box.number { return (box.account, number) } }
        return nil
    }

    /// `boxes` with account `account`'s state replaced (added when it is not there yet).
    static func noting(
        _ boxes: [PhoneVoicemailView], account: Int, waiting: Bool, newMessages: Int?
    ) -> [PhoneVoicemailView] {
        var out = boxes
        if let i = out.firstIndex(where: { $0.account == account }) {
            out[i].waiting = waiting
            out[i].newMessages = newMessages
        } else {
            out.append(PhoneVoicemailView(account: account, waiting: waiting, newMessages: newMessages))
        }
        return out
    }
}
