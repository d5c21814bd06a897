import CLinux

/// A failed indicator device or file: what was being done, to what, and the errno.
/// `sysfs LED 'record': write /sys/class/leds/rec/brightness: ENOENT (No such file or directory)`.
public struct IndicatorError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// An error from a failed system call (`errno` positive).
    public init(_ what: String, errno: Int32) {
        var name = "errno " + String(errno)
        if let n = cl_errno_name(errno) { name = String(cString: n) }
        self.message = what + ": " + name + " (" + String(cString: cl_strerror(errno)) + ")"
    }

    public var description: String { message }
}

/// Where backends report device failures. Each distinct subject (a file, a device) is reported
/// once, so a missing LED file gives one line, not one per flash; `recovered` re-arms it.
public final class IndicatorFaults {
    private var reported: [String] = []
    private var sink: (IndicatorError) -> Void
    /// Every error reported so far (for tests and status pages), oldest first, at most 64.
    public private(set) var errors: [IndicatorError] = []

    /// Reports to `sink`; by default a line on standard error.
    public init(sink: @escaping (IndicatorError) -> Void = IndicatorFaults.standardError) {
        self.sink = sink
    }

    /// Reports `error` unless `subject` has already failed.
    public func report(_ subject: String, _ error: IndicatorError) {
        if reported.contains(subject) { return }
        reported.append(subject)
        if errors.count < 64 { errors.append(error) }
        sink(error)
    }

    /// Whether `subject` is currently failed.
    public func hasFailed(_ subject: String) -> Bool { reported.contains(subject) }

    /// `subject` works again: a later failure is reported again.
    public func recovered(_ subject: String) {
        reported.removeAll { $0 == subject }
    }

    /// Writes `deskphone: indicators: MESSAGE` to standard error.
    public static func standardError(_ error: IndicatorError) {
        let line = "deskphone: indicators: " + error.message + "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { cl_write(2, $0.baseAddress, $0.count) }
    }
}
