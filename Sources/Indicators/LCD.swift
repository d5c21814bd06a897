/// A status-bar icon on the LCD.
public enum LCDIcon: Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case recording
    case recordingPaused
    /// The recording server reported a failure, or the recording stopped unexpectedly.
    case recordingFailed
    /// The record key was pressed but the recording could not be started.
    case recordingCannotStart
    /// The record key was pressed but the recording could not be stopped.
    case recordingCannotStop
    /// A record request is in flight (the server has not answered yet).
    case recordingPending
    /// The server refused recording for this call or account (SIP 403).
    case recordingNotAllowed
    case mute
    case dnd
    case forward
    case voicemail
    case headset
    case speaker
    case locked
    /// The call shown is encrypted (SRTP): the padlock of vendor phones.
    case encrypted
    case networkDown

    /// The name used in status logs and configuration (`recording_failed`).
    public var description: String {
        switch self {
        case .recording: return "recording"
        case .recordingPaused: return "recording_paused"
        case .recordingFailed: return "recording_failed"
        case .recordingCannotStart: return "recording_cannot_start"
        case .recordingCannotStop: return "recording_cannot_stop"
        case .recordingPending: return "recording_pending"
        case .recordingNotAllowed: return "recording_not_allowed"
        case .mute: return "mute"
        case .dnd: return "dnd"
        case .forward: return "forward"
        case .voicemail: return "voicemail"
        case .headset: return "headset"
        case .speaker: return "speaker"
        case .locked: return "locked"
        case .encrypted: return "encrypted"
        case .networkDown: return "network_down"
        }
    }

    /// The short ASCII label drawn in the status bar.
    public var label: String {
        switch self {
        case .recording: return "REC"
        case .recordingPaused: return "REC||"
        case .recordingFailed: return "REC!"
        case .recordingCannotStart: return "REC:NO"
        case .recordingCannotStop: return "REC:ON!"
        case .recordingPending: return "REC..."
        case .recordingNotAllowed: return "REC:X"
        case .mute: return "MUTE"
        case .dnd: return "DND"
        case .forward: return "FWD"
        case .voicemail: return "VM"
        case .headset: return "HS"
        case .speaker: return "SPK"
        case .locked: return "LOCK"
        case .encrypted: return "SRTP"
        case .networkDown: return "NET!"
        }
    }

    /// Icons drawn as an alert (red on a colour LCD): recording and its failures.
    public var isAlert: Bool {
        switch self {
        case .recording, .recordingFailed, .recordingCannotStart, .recordingCannotStop, .recordingPending,
            .recordingNotAllowed, .networkDown:
            return true
        default: return false
        }
    }

    static let recordingIcons: [LCDIcon] = [
        .recording, .recordingPaused, .recordingFailed, .recordingCannotStart, .recordingCannotStop,
        .recordingPending, .recordingNotAllowed,
    ]
}

/// What the recording indication shows (the record LED and the status-bar icon), as driven by
/// the recording controller: recording LED on while recording; failures shown as icons.
public enum RecordingIndication: Equatable, Sendable, CustomStringConvertible {
    case idle, recording, paused, failed, cannotStart, cannotStop
    /// A start or stop request is in flight: the LED fast-flashes red until the server answers.
    case pending
    /// The server does not allow recording (SIP 403, e.g. Asterisk without one-touch recording).
    case notAllowed

    /// The indication an icon stands for (nil for icons that are not recording icons).
    public init?(icon: LCDIcon) {
        switch icon {
        case .recording: self = .recording
        case .recordingPaused: self = .paused
        case .recordingFailed: self = .failed
        case .recordingCannotStart: self = .cannotStart
        case .recordingCannotStop: self = .cannotStop
        case .recordingPending: self = .pending
        case .recordingNotAllowed: self = .notAllowed
        default: return nil
        }
    }

    /// The icon for this indication (nil when idle).
    public var icon: LCDIcon? {
        switch self {
        case .idle: return nil
        case .recording: return .recording
        case .paused: return .recordingPaused
        case .failed: return .recordingFailed
        case .cannotStart: return .recordingCannotStart
        case .cannotStop: return .recordingCannotStop
        case .pending: return .recordingPending
        case .notAllowed: return .recordingNotAllowed
        }
    }

    /// The record LED: solid red while recording, slow-flashing red while paused, fast-flashing
    /// red while a request is in flight, else off. (cannotStop keeps it on: the recording is
    /// still running.)
    public var ledState: LEDState {
        switch self {
        case .recording, .cannotStop: return .recordOn
        case .paused: return LEDState(.slowFlash, .red)
        case .pending: return LEDState(.fastFlash, .red)
        case .idle, .failed, .cannotStart, .notAllowed: return .off
        }
    }

    public var description: String { icon?.description ?? "idle" }
}

/// The LCD contents: a status bar (account, time, icons), a title, text lines, an optional
/// call timer and four softkey labels. Backends lay it out for their display.
public struct LCDState: Equatable, Sendable {
    /// Number of softkeys under the display.
    public static let softkeyCount = 4

    public var account: String = ""
    /// The clock as shown (`09:41`); the phone formats it.
    public var time: String = ""
    /// Shown icons, in display order.
    public var icons: [LCDIcon] = []
    public var title: String = ""
    public var lines: [String] = []
    /// Seconds of the running call, or nil when no timer is shown.
    public var callTimerSeconds: Int? = nil
    /// Always `softkeyCount` labels; "" for an unlabelled key.
    public var softkeys: [String] = ["", "", "", ""]

    public init() {}

    /// The call timer as `mm:ss` (`mmm:ss` past 99 minutes), or nil.
    public var callTimerText: String? {
        guard let s = callTimerSeconds else { return nil }
        let seconds = max(0, s)
        return LCDState.twoDigits(seconds / 60) + ":" + LCDState.twoDigits(seconds % 60)
    }

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }
}
