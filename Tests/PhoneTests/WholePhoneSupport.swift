import CLinux
import Config
import Foundation
import Indicators
import Keys
import Reactor
import Recording
import TestSupport
import Testing

@testable import Phone
@testable import SIP

/// A scripted SIP far end for the whole-phone tests: a `SIPUserAgent` (user 2001, no
/// registrar) behind a loopback UDP socket watched by the phone's reactor, so it lives on the
/// virtual clock. It answers the phone's INVITEs as told (`answerCalls`), can call the phone
/// (`call`), and answers each INFO by the next entry of `infoScript` (200 by default; `nil`
/// drops it, so the phone times out; 401 challenges, and the retry with credentials gets 200).
final class FarEnd {
    /// How to answer one INFO.
    enum InfoAnswer: Equatable {
        case status(Int)
        case drop
        case challenge
        /// The status, sent `seconds` after the INFO arrived (its retransmissions meanwhile are
        /// dropped).
        case late(Int, seconds: Double)
        /// Two final answers to the same INFO, one right after the other.
        case twice(Int, Int)
    }

    let reactor: Reactor
    let ua: SIPUserAgent
    let fd: Int32
    let rtpSink: Int32
    let port: UInt16
    /// Where the phone listens (set once the phone is built).
    var phonePort: UInt16 = 0
    /// Answers to the next INFOs, in order; when empty: 200.
    var infoScript: [InfoAnswer] = []
    /// Every INFO that reached the far end (first transmissions and retries with credentials;
    /// not retransmissions), with its `Record:` header.
    private(set) var infos: [(record: String, authorized: Bool)] = []
    /// How many INFOs reached the far end (as `infos.count`, also when `keepsInfos` is off).
    private(set) var infoCount = 0
    /// Keep every INFO in `infos` (off in the soak, where the list would only grow).
    var keepsInfos = true
    /// The status to answer the phone's calls with (nil: let them ring).
    var answerStatus: Int? = 200
    /// Act as the phone's registrar too: REGISTER gets 200 with its Contact for 3600 s.
    var registrar = false
    /// Drop REGISTERs unanswered (a registrar gone quiet).
    var ignoresRegister = false
    /// Every REGISTER that reached the far end (with `registrar` on), retransmissions included.
    private(set) var registers: [SIPMessage] = []
    /// Every SUBSCRIBE that reached the far end (with `registrar` on; each answered 200).
    private(set) var subscribes: [SIPMessage] = []
    /// The phone's answers to the NOTIFYs the far end sent (`sendRaw`), in order.
    private(set) var notifyAnswers: [Int] = []
    /// Every INVITE that reached the far end (initial and re-INVITEs, retransmissions included),
    /// while `keepsInvites` is on (off by default: the soak's list would only grow).
    private(set) var invites: [SIPMessage] = []
    var keepsInvites = false
    /// The last INFOs seen (CSeq and Call-ID), to tell retransmissions.
    private var seenInfo: [String] = []
    private var watch: WatchID? = nil
    private var rtpWatch: WatchID? = nil
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// `timers`: the far end's SIP timers (the soak shortens T1 so that the far end's finished
    /// server transactions, kept for 64*T1, stay under its table's cap at one call every 0.3 s).
    /// `srtp`: the far end's SRTP policy (its keys are fresh per call, as the phone's).
    init(reactor: Reactor, timers: SIPTimerValues = SIPTimerValues(), srtp: SRTPPolicy = .off) throws {
        self.reactor = reactor
        guard let signalling = loopbackSocket(), let media = loopbackSocket() else {
            throw TestServerError(message: "no UDP socket on 127.0.0.1 for the far end")
        }
        (fd, port) = signalling
        rtpSink = media.fd
        let rtpPort = media.port
        let fd = self.fd
        let box = PortBox()
        var account = SIPAccountConfiguration(userName: "2001", displayName: "Far End")
        account.srtp = srtp
        ua = SIPUserAgent(
            reactor: reactor, account: account,
            localHost: "127.0.0.1", localPort: port, timers: timers,
            mediaAddress: { _ in ("127.0.0.1", rtpPort) },
            send: { message, _ in
                let bytes = message.serialized()
                let address: [UInt8] = [127, 0, 0, 1]
                let n = bytes.withUnsafeBytes { b in
                    address.withUnsafeBufferPointer { a in
                        cl_socket_send_to(fd, b.baseAddress, b.count, 4, a.baseAddress, box.port)
                    }
                }
                return n == bytes.count
            })
        portBox = box
        ua.onCallState = { [unowned self] call, state in
            if state == .incoming, let status = answerStatus {
                if status == 200 { _ = call.answer() } else { call.reject(status: status) }
            }
        }
        watch = try reactor.watch(fd, for: .readable) { [unowned self] _ in receive() }
        rtpWatch = try reactor.watch(rtpSink, for: .readable) { [unowned self] _ in drainRTP() }
    }

    private let portBox: PortBox

    /// Connects the far end to the phone's SIP port.
    func connect(to phonePort: UInt16) {
        self.phonePort = phonePort
        portBox.port = phonePort
    }

    /// Calls the phone (user 1001); the call is the far end's.
    @discardableResult
    func call() throws -> SIPCall {
        try ua.call("sip:1001@127.0.0.1:" + String(phonePort))
    }

    /// The far end's live calls.
    var calls: [SIPCall] { ua.calls }

    /// The far end hangs up its newest call.
    func hangUp() { ua.calls.last?.hangUp() }

    private var phonePeer: SIPPeer {
        SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: phonePort))
    }

    private func receive() {
        while true {
            let n = receiveDatagram(fd, into: &buffer)
            guard n > 0 else { return }
            guard let message = try? SIPMessage.parse(Array(buffer[0..<n])) else { continue }
            if message.isRequest, message.method == .info, !handleInfo(message) { continue }
            if keepsInvites, message.isRequest, message.method == .invite { invites.append(message) }
            if registrar, message.isRequest, message.method == .subscribe {
                subscribes.append(message)
                var ok = SIPMessage.response(to: message, status: 200, toTag: message.to.tag ?? "mwi")
                try? ok.addHeader("Expires", message.header("Expires") ?? "3600")
                send(ok)
                continue
            }
            if !message.isRequest, message.cseq.method == .notify, let status = message.status {
                notifyAnswers.append(status)
                continue
            }
            if registrar, message.isRequest, message.method == .register {
                if ignoresRegister { continue }
                registers.append(message)
                var ok = SIPMessage.response(to: message, status: 200, toTag: "reg")
                if let contact = message.header("Contact") { try? ok.addHeader("Contact", contact + ";expires=3600") }
                send(ok)
                continue
            }
            ua.transactions.receive(message, from: phonePeer)
        }
    }

    /// True when the INFO goes on to the user agent (which answers 200).
    private func handleInfo(_ message: SIPMessage) -> Bool {
        let authorized = message.header("Authorization") != nil
        let key = message.callID + " " + message.cseq.description
        let first = !seenInfo.contains(key)
        if first {
            if seenInfo.count == 16 { seenInfo.removeFirst() }
            seenInfo.append(key)
            infoCount += 1
            if keepsInfos { infos.append((record: message.header("Record") ?? "", authorized: authorized)) }
        }
        if authorized { return true }
        guard first else {
            // A retransmission: the same fate as the first (dropped stays dropped).
            return false
        }
        let answer = infoScript.isEmpty ? .status(200) : infoScript.removeFirst()
        switch answer {
        case .status(200): return true
        case .status(let code):
            send(SIPMessage.response(to: message, status: code, toTag: nil))
            return false
        case .drop:
            return false
        case .late(let code, let seconds):
            let response = SIPMessage.response(to: message, status: code, toTag: nil)
            reactor.after(Int64(seconds * 1_000_000_000)) { [unowned self] in
                if !vanished { send(response) }
            }
            return false
        case .twice(let first, let second):
            send(SIPMessage.response(to: message, status: first, toTag: nil))
            send(SIPMessage.response(to: message, status: second, toTag: nil))
            return false
        case .challenge:
            var challenge = SIPMessage.response(to: message, status: 401, toTag: nil)
            try? challenge.addHeader("WWW-Authenticate", "Digest realm=\"farend\", nonce=\"4f2a9c\", algorithm=MD5")
            send(challenge)
            return false
        }
    }

    private func send(_ message: SIPMessage) {
        let bytes = message.serialized()
        let address: [UInt8] = [127, 0, 0, 1]
        _ = bytes.withUnsafeBytes { b in
            address.withUnsafeBufferPointer { a in
                cl_socket_send_to(fd, b.baseAddress, b.count, 4, a.baseAddress, phonePort)
            }
        }
    }

    /// Whether `vanish()` closed the far end's sockets.
    private(set) var vanished = false

    /// The far end's host goes away: its SIP and RTP sockets close, so the phone's packets to
    /// them get ICMP port unreachable (loopback) and nothing answers any more.
    func vanish() {
        guard !vanished else { return }
        vanished = true
        portBox.port = 0  // the far end's user agent sends nothing more (port 0 is refused)
        if let watch { reactor.cancel(watch) }
        if let rtpWatch { reactor.cancel(rtpWatch) }
        watch = nil
        rtpWatch = nil
        _ = cl_close(fd)
        _ = cl_close(rtpSink)
    }

    private func drainRTP() {
        while buffer.withUnsafeMutableBytes({ cl_socket_receive(rtpSink, $0.baseAddress, $0.count) }) > 0 {}
    }

    func close() {
        ua.close()
        vanish()
    }
}

/// The phone's port, known only after the far end's user agent is built.
final class PortBox {
    var port: UInt16 = 0
}

/// The assembled phone (`PhoneAssembly`, the firmware's wiring) on the sim board with ALSA's
/// `null` audio, on a virtual-clock reactor, with a `FarEnd` on loopback: key events in, the
/// LCD/LED model, the log and the status log out. A scenario reads like what a person does:
/// `phone.dial("2001")`, `phone.press(.record)`, `phone.run(seconds: 1)`,
/// `#expect(phone.lcd.title == "Talking")`.
final class WholePhone {
    let reactor: Reactor
    let farEnd: FarEnd
    let assembly: PhoneAssembly
    let directory: URL
    let statusLogPath: String?
    /// Every log line the firmware would print.
    var log: [String] {
        get { logLines.lines }
        set { logLines.lines = newValue }
    }
    /// Holds the log from the first line the assembly writes while it is built.
    private final class LogLines {
        var lines: [String] = []
    }
    private let logLines = LogLines()

    static let boardPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../board/sim.cfg").standardizedFileURL.path

    /// `config`: more provisioning lines (`FAREND_PORT` stands for the far end's SIP port).
    /// `statusLog`: write the JSON-lines status log (off in the soak, where the file would only
    /// grow). `farEndTimers`: the far end's SIP timers. `statusLogAt`: write the status log there
    /// instead (a fault: `/dev/full`). `farEndSRTP`: the far end's SRTP policy. `registrar`: the
    /// far end registers the phone too (`FarEnd.registrar`).
    init(
        config: String = "", statusLog: Bool = true, statusLogAt: String? = nil,
        farEndTimers: SIPTimerValues = SIPTimerValues(), farEndSRTP: SRTPPolicy = .off, registrar: Bool = false
    ) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 1_000_000_000))
        farEnd = try FarEnd(reactor: reactor, timers: farEndTimers, srtp: farEndSRTP)
        directory = try makeTemporaryDirectory("wholephone")
        let cfg = directory.appendingPathComponent("phone.cfg").path
        let text = testPhoneConfig(
            listenPort: 0,
            "dialplan.1.number = 2001\ndialplan.1.uri = sip:2001@127.0.0.1:\(farEnd.port)\n"
                + config.replacingOccurrences(of: "FAREND_PORT", with: String(farEnd.port)))
        try text.write(toFile: cfg, atomically: true, encoding: .utf8)
        let board = try BoardProfile.load(path: WholePhone.boardPath)
        let provisioning = try Provisioning(paths: [cfg], board: board)
        var options = PhoneAssemblyOptions()
        options.capture = .null
        options.playback = .null
        options.resolveHostNames = false
        statusLogPath = statusLogAt ?? (statusLog ? directory.appendingPathComponent("status.jsonl").path : nil)
        options.statusLogPath = statusLogPath
        let lines = logLines
        assembly = try PhoneAssembly(
            reactor: reactor, board: board, provisioning: provisioning, options: options,
            log: { line in lines.lines.append(line) })
        farEnd.connect(to: assembly.softphone.transport.sentByPort(for: .udp))
        farEnd.registrar = registrar
        assembly.start()
        try run(seconds: 0.01)
    }

    var lcd: LCDState { assembly.indicators.lcd }
    func led(_ id: LEDID) -> LEDState { assembly.indicators.led(id) }
    var machine: PhoneStateMachine { assembly.machine }
    var activeCall: SIPCall? { assembly.machine.activeCall }

    /// A key pressed and released (the hook: lifted only; `hangUp()` puts it down).
    func press(_ key: PhoneKey) {
        assembly.handle(KeyEvent(key: key, kind: .press, time: reactor.now))
        if key != .hook { assembly.handle(KeyEvent(key: key, kind: .release, time: reactor.now)) }
    }

    /// The handset goes back down.
    func hookDown() { assembly.handle(KeyEvent(key: .hook, kind: .release, time: reactor.now)) }

    /// Lifts the handset, types `number` and `#`.
    func dial(_ number: String) {
        press(.hook)
        for c in number {
            switch c {
            case "*": press(.star)
            case "#": press(.pound)
            default: press(.digit(Int(String(c))!))
            }
        }
        press(.pound)
    }

    /// Presses the softkey labelled `label`; false when no softkey says it.
    @discardableResult
    func softkey(_ label: String) -> Bool {
        guard let index = lcd.softkeys.firstIndex(of: label) else { return false }
        press(.softkey(index + 1))
        return true
    }

    /// Runs the virtual clock for `seconds` (instant in real time).
    func run(seconds: Double) throws {
        try reactor.run(for: Int64(seconds * 1_000_000_000))
    }

    /// The status log's lines so far.
    var statusLines: [String] {
        guard let statusLogPath, let text = try? String(contentsOfFile: statusLogPath, encoding: .utf8) else {
            return []
        }
        return text.split(separator: "\n").map(String.init)
    }

    /// The status log's recording lines (`{"t_ms":T,"recording":{...}}`) so far.
    var recordingLines: [String] { statusLines.filter { $0.contains("\"recording\":{") } }

    func close() {
        assembly.close()
        farEnd.close()
        reactor.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
