// What the phone's screen and LEDs show, computed by a pure function from values (the calls as
// the screen sees them, the dialling state, the settings that show): `PhoneScreenModel.make`.
// `PhoneLogic` gathers the values and calls it; `PhoneStateMachine.render()` is the one writer that applies
// the model to the indicators (which pass on only what changed).

import Audio
import Indicators
import Keys
import SIP

/// One live call as the screen needs it.
public struct PhoneCallView: Equatable, Sendable {
    public var id: Int
    public var state: SIPCallState
    /// Who is on the other end (`PhoneStateMachine.partyText`).
    public var party: String
    /// Our microphone is muted on this call.
    public var muted: Bool
    /// The call has its media (RTP session and audio) open (for the mute key).
    public var hasMedia = false
    /// The call's audio is SRTP.
    public var encrypted: Bool
    /// The account the call is on (`account.N`).
    public var account = 1

    public init(id: Int, state: SIPCallState, party: String, muted: Bool = false, encrypted: Bool = false) {
        self.id = id
        self.state = state
        self.party = party
        self.muted = muted
        self.encrypted = encrypted
    }
}

/// Everything the screen is computed from.
public struct PhoneScreenInput: Equatable, Sendable {
    /// Live calls, oldest first.
    public var calls: [PhoneCallView] = []
    /// The call the keys act on.
    public var activeCallID: Int? = nil
    /// The dialling screen is up (digits typed so far: `dialed`).
    public var dialing = false
    public var dialed = ""
    public var doNotDisturb = false
    /// There is a number to redial.
    public var canRedial = false
    /// The brief message under the lines.
    public var message: String? = nil
    public var path: AudioPath = .speaker
    public var headsetMode = false
    public var accountLabel = ""
    /// Line keys that are record keys: their LEDs show the recording, not a call.
    public var recordLineKeys: [Int] = []
    /// The recording indication when the phone draws it (nil: it does not).
    public var recording: RecordingIndication? = nil
    /// How many line keys the previous screen lit (they are turned off when calls go).
    public var lineKeysShown = 1
    /// The number typed on the "Transfer to:" screen; nil when it is not up.
    public var transferDigits: String? = nil
    /// The accounts when there are several (empty with one: the screen is the single-account one).
    public var accounts: [PhoneAccountView] = []
    /// The account a number being dialled goes out on.
    public var dialAccount = 1
    /// The one account's registration when it registers (nil: not heard of yet, no registrar,
    /// or several accounts, whose Line keys show theirs): the idle screen says when it is not
    /// registered, e.g. while the phone registers again after a network change.
    public var registration: LineKeyState? = nil
    /// Each account's mailbox (MWI): the idle line and the message LED.
    public var voicemail: [PhoneVoicemailView] = []

    public init() {}
}

/// One of the phone's accounts as the screen shows it: its number N (`account.N`, line key N),
/// its label, and its registration on its Line key's LED.
public struct PhoneAccountView: Equatable, Sendable {
    public var number: Int
    public var label: String
    public var line: LineKeyState

    public init(number: Int, label: String, line: LineKeyState = .idle) {
        self.number = number
        self.label = label
        self.line = line
    }

    /// Account `number` in `accounts`, if it is there.
    public static func find(_ number: Int, in accounts: [PhoneAccountView]) -> PhoneAccountView? {
        for account in accounts where account.number == number { return account }
        return nil
    }
}

/// What the screen and the LEDs show: the LCD's account, title, lines and softkeys, the status
/// icons and the LEDs that follow them, the line keys, the call timer and the recording.
public struct PhoneScreenModel: Equatable, Sendable {
    public var screen: PhoneScreen = .idle
    /// The call the screen is about (for the log's `talking call 2`).
    public var callID: Int? = nil
    public var account = ""
    public var title = ""
    public var lines: [String] = []
    public var softkeys: [String] = []
    /// Icons shown: DND, mute (with the mute LED), speaker (with its LED), headset (with its LED).
    public var doNotDisturb = false
    public var muted = false
    /// The lock icon: the call shown is encrypted (SRTP).
    public var encrypted = false
    public var speaker = false
    public var headset = false
    /// Line key `n`'s state at index `n - 1`; nil for a record key (the recording shows there).
    public var lineKeys: [LineKeyState?] = []
    /// The call whose timer runs (nil: no call timer).
    public var timerCallID: Int? = nil
    /// The recording indication to draw (nil: the phone does not draw it).
    public var recording: RecordingIndication? = nil
    /// Number of live calls (the next screen's `lineKeysShown`).
    public var callCount = 0
    /// The message LED (slow flash while new messages wait).
    public var messageLED = LEDState.off

    public init() {}

    /// The screen's name in the log: `idle`, `talking call 2`.
    public var logName: String { screen.description + (callID.map { " call " + String($0) } ?? "") }

    /// The screen for `input`.
    public static func make(_ input: PhoneScreenInput) -> PhoneScreenModel {
        var model = PhoneScreenModel()
        let live = input.calls
        var active: PhoneCallView? = nil
        var incoming: PhoneCallView? = nil
        for call in live {
            if active == nil, call.id == input.activeCallID { active = call }
            if incoming == nil, call.state == .incoming { incoming = call }
        }
        model.account = input.accountLabel
        model.callID = active?.id
        var title = input.accountLabel
        if let incoming {
            model.screen = .incoming
            title = "Incoming call"
            model.lines.append(incoming.party)
            if let active { model.lines.append((active.state == .held ? "On hold: " : "With: ") + active.party) }
            model.softkeys = ["Answer", "", "", "Reject"]
        } else if let active {
            model.lines.append(active.party)
            let alone = live.count == 1
            switch active.state {
            case .idle, .calling, .ringing:
                model.screen = .calling
                title = active.state == .calling || active.state == .idle ? "Calling" : "Ringing"
                model.softkeys = ["", "", "", "Cancel"]
            case .held:
                model.screen = .held
                title = "On hold"
                model.softkeys = ["Resume", alone ? "New" : "Swap", "", "End"]
            case .connected, .remoteHeld:
                model.screen = .talking
                title = active.state == .remoteHeld ? "Held by far end" : "Talking"
                model.softkeys = [alone ? "Hold" : "Swap", active.muted ? "Unmute" : "Mute", "", "End"]
            default:
                model.screen = .idle
            }
            for other in live where other.id != active.id && other.state == .held {
                model.lines.append("On hold: " + other.party)
            }
        } else if input.dialing {
            model.screen = .dialing
            title = "Dial"
            model.lines.append(input.dialed + "_")
            let empty = input.dialed.isEmpty
            model.softkeys = [empty ? "" : "Send", empty ? "" : "Delete", "", "Cancel"]
        } else {
            model.screen = .idle
            title = input.doNotDisturb ? "Do not disturb" : "Ready"
            model.softkeys = [input.canRedial ? "Redial" : "", input.doNotDisturb ? "DND off" : "DND", "", "Dial"]
            if let registration = input.registration, registration != .registered {
                model.lines.append(registration == .registering ? "Registering..." : "Not registered")
            }
            if let line = PhoneVoicemailView.line(input.voicemail) { model.lines.append(line) }
        }
        applyTransfer(input, to: &model, title: &title)
        if let message = input.message { model.lines.append(message) }
        // Several accounts: the account field names the line that rings, the call's or the one
        // dialled on.
        if input.accounts.count > 1,
            let number = incoming?.account ?? active?.account ?? (input.dialing ? input.dialAccount : nil),
            let account = PhoneAccountView.find(number, in: input.accounts)
        {
            model.account = account.label
        }
        model.title = title
        model.doNotDisturb = input.doNotDisturb
        model.muted = active?.muted ?? false
        model.encrypted = active.map { $0.encrypted && $0.state.isEstablished } ?? false
        let audioOn = active != nil || model.screen == .dialing
        model.speaker = audioOn && input.path == .speaker
        model.headset = input.headsetMode
        // Several accounts: line key N without a call shows account N's registration.
        var accountKeys = 0
        if input.accounts.count > 1 { for account in input.accounts { accountKeys = max(accountKeys, account.number) } }
        let count = max(1, min(PhoneKey.maxLine, max(live.count, input.lineKeysShown, accountKeys)))
        for n in 1...count {
            if input.recordLineKeys.contains(n) {
                model.lineKeys.append(nil)
                continue
            }
            var state = LineKeyState.idle
            if n <= live.count {
                switch live[n - 1].state {
                case .incoming: state = .incoming
                case .held: state = .held
                case .ended: state = .idle
                default: state = .talking
                }
            } else if accountKeys > 0, let account = PhoneAccountView.find(n, in: input.accounts) {
                state = account.line
            }
            model.lineKeys.append(state)
        }
        model.timerCallID = model.screen == .talking || model.screen == .held ? active?.id : nil
        model.recording = input.recording
        model.callCount = live.count
        model.messageLED = PhoneVoicemailView.led(input.voicemail)
        return model
    }
}
