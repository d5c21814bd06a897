// When the firmware re-assembles the phone (closes the `PhoneAssembly` and builds it again from
// the configuration in use), sans-IO: a check-sync `reboot=true` or a provisioned set whose
// restart-only keys changed asks for it; it happens at once when no call is up, else when the
// last call ends. The firmware's call mode carries it out.

/// The pending restart of the phone's main loop and why; restarts never interrupt a call.
public struct PhoneRestartSchedule: Equatable, Sendable {
    /// Why the phone restarts, for the log.
    public enum Reason: Equatable, Sendable {
        /// check-sync NOTIFY with `reboot=true` (or `sip.notify_reboot_enable = 1`).
        case checkSync
        /// A provisioned set changed keys that only a restart applies (their names).
        case provisioned([String])

        public var description: String {
            switch self {
            case .checkSync: return "check-sync reboot"
            case .provisioned(let keys):
                var text = ""
                for key in keys { text += (text.isEmpty ? "" : ", ") + key }
                return "provisioned keys that need a restart (" + text + ")"
            }
        }
    }

    /// The restart waiting for the calls to end (the first reason asked; nil: none).
    public private(set) var pending: Reason? = nil

    public init() {}

    /// A restart is asked for with `callsUp` calls up: the reason to restart now, or nil when it
    /// waits for the last call to end (asked again while one waits: still one restart).
    public mutating func request(_ reason: Reason, callsUp: Int) -> Reason? {
        if callsUp == 0 {
            let now = pending ?? reason
            pending = nil
            return now
        }
        if pending == nil { pending = reason }
        return nil
    }

    /// The number of calls up changed: the waiting restart's reason when it is now time.
    public mutating func callsChanged(callsUp: Int) -> Reason? {
        guard callsUp == 0, let reason = pending else { return nil }
        pending = nil
        return reason
    }

    /// The restart happened (or the phone stops): nothing waits any more.
    public mutating func clear() { pending = nil }
}
