// A line-command channel for scripts, tests and demos before there are keys: `dial URI`,
// `answer`, `hangup`, `hold`, `dtmf 123`, ... read from a FIFO, a file or standard input.

import CLinux
import Reactor
import SIP

/// Reads newline-terminated commands from a FIFO (created when missing, held open read-write
/// so writers may come and go), standard input (`-`) or a regular file (read at once), on the
/// reactor. Lines longer than 1 KiB are refused, not split.
public final class ControlChannel {
    public let path: String
    private let reactor: Reactor
    private var fd: Int32 = -1
    private var watchID: WatchID? = nil
    private var pending: [UInt8] = []
    private var discarding = false
    private var onLine: ((String) -> Void)?
    private var onEnd: (() -> Void)?
    static let maximumLine = 1024

    /// Opens `path` ("-" = standard input) and delivers each line to `onLine`; `onEnd` runs at
    /// end of input (never for a FIFO).
    public init(
        reactor: Reactor, path: String, onLine: @escaping (String) -> Void, onEnd: @escaping () -> Void = {}
    ) throws(SoftphoneError) {
        self.reactor = reactor
        self.path = path
        self.onLine = onLine
        self.onEnd = onEnd
        if path == "-" {
            fd = cl_dup(0)
            _ = cl_set_nonblocking(fd, 1)
        } else {
            var isFIFO = cl_is_fifo(path)
            if isFIFO == -ENOENT {
                let rc = cl_mkfifo(path, 0o600)
                if rc < 0 && rc != -EEXIST { throw ControlChannel.failure(path, "mkfifo", rc) }
                isFIFO = 1
            }
            if isFIFO < 0 { throw ControlChannel.failure(path, "stat", isFIFO) }
            fd = cl_open(path, (isFIFO == 1 ? O_RDWR : O_RDONLY) | O_NONBLOCK, 0)
        }
        if fd < 0 {
            let e = fd
            fd = -1
            throw ControlChannel.failure(path, "open", e)
        }
        do throws(ReactorError) {
            watchID = try reactor.watch(fd, for: .readable) { [self] _ in readAvailable() }
        } catch {
            if error.errno == EPERM {
                // A regular file: read it all on the next loop pass.
                reactor.runSoon { [self] in readAvailable() }
            } else {
                _ = cl_close(fd)
                fd = -1
                throw SoftphoneError("control " + path + ": " + error.description)
            }
        }
    }

    /// Stops reading and drops the callbacks.
    public func close() {
        if let watchID { reactor.cancel(watchID) }
        watchID = nil
        // Standard input shares its file description with the shell: give it back blocking.
        if fd >= 0 && path == "-" { _ = cl_set_nonblocking(fd, 0) }
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
        onLine = nil
        onEnd = nil
    }

    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 512)
        var rounds = 0
        while fd >= 0 && rounds < 64 {
            rounds += 1
            let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                for i in 0..<n { take(buffer[i]) }
                continue
            }
            if n == -Int(EAGAIN) || n == -Int(EINTR) { return }
            // End of input (or a read error): deliver a last unterminated line, then stop.
            if !pending.isEmpty && !discarding { deliver() }
            let end = onEnd
            close()
            end?()
            return
        }
        if fd >= 0 && watchID == nil { reactor.runSoon { [self] in readAvailable() } }
    }

    private func take(_ byte: UInt8) {
        if byte == 10 {
            if !discarding { deliver() }
            pending.removeAll(keepingCapacity: true)
            discarding = false
            return
        }
        guard !discarding else { return }
        if pending.count >= ControlChannel.maximumLine {
            discarding = true
            pending.removeAll(keepingCapacity: true)
            onLine?("")
            return
        }
        pending.append(byte)
    }

    private func deliver() {
        var line = pending
        pending.removeAll(keepingCapacity: true)
        while let last = line.last, last == 13 || last == 32 || last == 9 { line.removeLast() }
        onLine?(String(decoding: line, as: UTF8.self))
    }

    static func failure(_ path: String, _ call: String, _ errno: Int32) -> SoftphoneError {
        SoftphoneError("control " + path + ": " + call + ": " + String(cString: cl_strerror(-errno)))
    }
}

extension Softphone {
    /// Carries out one control command on the newest live call and returns its log line when
    /// the command is wrong (nil when it was carried out or logged by the phone itself):
    /// `dial URI`, `answer`, `reject [STATUS]`, `hangup`, `hold`, `resume`, `dtmf DIGITS`,
    /// `mute`, `unmute`. (`quit` is the caller's business.)
    public func perform(command line: String) -> String? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first else { return nil }
        let argument = words.count > 1 ? String(words[1]) : nil
        if verb == "dial" {
            guard let target = argument else { return "control: dial needs a URI" }
            do throws(SIPError) {
                try dial(target)
            } catch {
                return "control: dial " + target + ": " + error.description
            }
            return nil
        }
        guard let call = currentCall else { return "control: " + String(verb) + ": no call" }
        switch verb {
        case "answer": answer(call)
        case "reject":
            var status = 486
            if let argument {
                guard let parsed = Int(argument), (400...699).contains(parsed) else {
                    return "control: reject takes a status 400...699"
                }
                status = parsed
            }
            call.reject(status: status)
        case "hangup": call.hangUp()
        case "hold":
            if !call.hold() { return "control: cannot hold call " + String(call.id) + " (" + call.state.description + ")" }
        case "resume":
            if !call.resume() {
                return "control: cannot resume call " + String(call.id) + " (" + call.state.description + ")"
            }
        case "dtmf":
            guard let digits = argument else { return "control: dtmf needs digits" }
            sendDigits(digits, on: call)
        case "mute": setMuted(true, on: call)
        case "unmute": setMuted(false, on: call)
        default:
            return "control: unknown command '" + String(line.prefix(80)) + "'"
        }
        return nil
    }
}
