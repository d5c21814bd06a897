// What the recording controller reports: the phase of a call's recording, one event per change,
// and the status-log line for it (the `--status-log` JSON lines of the indicators).

import CLinux
import Indicators

/// Where a call's recording stands, as far as the server has confirmed it.
public enum RecordingPhase: Equatable, Sendable, CustomStringConvertible {
    /// Not recording (no confirmed start, or a confirmed stop).
    case off
    /// A start request is in flight.
    case starting
    /// The server confirmed the start (2xx).
    case on
    /// A stop request is in flight; the recording still runs.
    case stopping

    /// True while a request is in flight.
    public var isPending: Bool { self == .starting || self == .stopping }

    public var description: String {
        switch self {
        case .off: return "off"
        case .starting: return "starting"
        case .on: return "on"
        case .stopping: return "stopping"
        }
    }
}

/// One change of what the phone shows about a call's recording (or a message without a call:
/// `call` 0), for the status log, tests and integrators.
public struct RecordingEvent: Equatable, Sendable, CustomStringConvertible {
    /// The call's number (`SIPCall.id`); 0 for a message that belongs to no call.
    public var call: Int
    public var phase: RecordingPhase
    /// What the LED and icon show for this call (shown on the phone only for the active call).
    public var indication: RecordingIndication
    /// The LCD message for this call ("recording", "cannot start recording", the server's
    /// text), "" when none.
    public var text: String
    /// What caused the change: `key record`, `200 OK`, `403 Forbidden`, `timeout`, `ended
    /// (remote hang-up)`, `message expired`, ...
    public var cause: String
    /// Whether this call is the one the screen shows.
    public var isActive: Bool

    public init(
        call: Int, phase: RecordingPhase, indication: RecordingIndication, text: String, cause: String,
        isActive: Bool
    ) {
        self.call = call
        self.phase = phase
        self.indication = indication
        self.text = text
        self.cause = cause
        self.isActive = isActive
    }

    /// `call 1: recording on (recording) 'recording' after 200 OK`
    public var description: String {
        "call " + String(call) + ": recording " + phase.description + " (" + indication.description + ") '" + text
            + "' after " + cause + (isActive ? "" : " [not active]")
    }

    /// The status-log line: `{"t_ms":T,"recording":{"call":1,"state":"on","indication":"recording",
    /// "text":"recording","cause":"200 OK","active":true}}`.
    public func statusLogLine(tMilliseconds t: String) -> String {
        var s = "{\"t_ms\":" + t + ",\"recording\":{\"call\":" + String(call)
        s += ",\"state\":" + JSON.string(phase.description)
        s += ",\"indication\":" + JSON.string(indication.description)
        s += ",\"text\":" + JSON.string(text)
        s += ",\"cause\":" + JSON.string(cause)
        s += ",\"active\":" + (isActive ? "true" : "false")
        return s + "}}"
    }
}

/// Appends recording events to the status log (`--status-log PATH`) next to the LED and LCD
/// lines the indicators' `StatusLogBackend` writes there: the file is opened for appending and
/// never truncated, so create this after the `StatusLogBackend` of the same path.
public final class RecordingStatusLog {
    private var fd: Int32
    private let ownsFD: Bool
    private let clock: () -> Int64
    private let start: Int64
    /// Number of lines written.
    public private(set) var lineCount = 0
    /// The open error, or the write error while writes fail (nil again once a write succeeds).
    public private(set) var failure: String? = nil
    /// Told once when writing starts to fail (the disk is full) and once when it works again;
    /// the lines in between are lost.
    public var onFailure: ((String) -> Void)? = nil

    /// Appends to `path`; `clock` gives nanoseconds (reactor time); `start` is the time the
    /// status log counts from (the reactor time when its `StatusLogBackend` was made).
    public init(path: String, clock: @escaping () -> Int64, start: Int64) {
        let fd = cl_open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        self.fd = fd
        ownsFD = true
        self.clock = clock
        self.start = start
        if fd < 0 { failure = "status log: open " + path + " failed (errno " + String(-fd) + ")" }
    }

    /// Writes to an open descriptor the caller keeps.
    public init(fd: Int32, clock: @escaping () -> Int64, start: Int64) {
        self.fd = fd
        ownsFD = false
        self.clock = clock
        self.start = start
    }

    /// Writes one event line.
    public func write(_ event: RecordingEvent) {
        guard fd >= 0 else { return }
        let bytes = Array((event.statusLogLine(tMilliseconds: String((clock() - start) / 1_000_000)) + "\n").utf8)
        let written = bytes.withUnsafeBytes { cl_write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            if failure == nil {
                failure =
                    "status log: write failed ("
                    + (written < 0 ? String(cString: cl_strerror(Int32(-written))) : "short write") + ")"
                onFailure?(failure ?? "")
            }
            return
        }
        if failure != nil {
            failure = nil
            onFailure?("status log: writing again")
        }
        lineCount += 1
    }

    public func close() {
        if ownsFD && fd >= 0 { _ = cl_close(fd) }
        fd = -1
        onFailure = nil
    }
}
