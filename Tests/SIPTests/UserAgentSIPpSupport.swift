import Foundation
import Reactor
import Testing

@testable import SIP

/// A SIPp process for one scenario of Fixtures/sipp-ua, on 127.0.0.1, one call (`-m 1`),
/// errors traced into a scratch directory.
final class SIPpRun {
    let process = Process()
    let directory: URL
    let scenario: String

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sipp-ua")

    /// `remote` (host:port) makes SIPp a client; `keys` become `-key name value`.
    init(
        scenario: String, port: UInt16, mediaPort: UInt16, remote: String? = nil, keys: [String: String] = [:],
        extra: [String] = [], timeoutSeconds: Int = 12
    ) throws {
        self.scenario = scenario
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sipp-ua-" + scenario + "-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + String(port))
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments: [String] = []
        if let remote { arguments.append(remote) }
        arguments += [
            "-sf", SIPpRun.fixtures.appendingPathComponent(scenario + ".xml").path,
            "-i", "127.0.0.1", "-p", String(port), "-mp", String(mediaPort), "-m", "1",
            "-timeout", String(timeoutSeconds) + "s", "-timeout_error", "-trace_err", "-trace_msg", "-nostdin",
            "-max_recv_loops", "1000",
        ]
        for (name, value) in keys.sorted(by: { $0.key < $1.key }) { arguments += ["-key", name, value] }
        arguments += extra
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sipp")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "dumb"
        process.environment = environment
        try process.run()
        SIPpRun.waitUntilBound(udpPort: port)
    }

    /// Waits (at most 3 s) until something listens on UDP `port` (from /proc/net/udp), so a
    /// request sent right after the launch is not answered by ICMP port unreachable.
    static func waitUntilBound(udpPort port: UInt16) {
        let needle = ":" + String(format: "%04X", port) + " "
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            if let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8), table.contains(needle) {
                return
            }
            usleep(20_000)
        }
    }

    var isRunning: Bool { process.isRunning }

    /// Runs `reactor` until SIPp exits (or `seconds` pass); returns SIPp's exit status.
    @discardableResult
    func wait(running reactor: Reactor, seconds: Double = 14) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            try reactor.run(for: 10_000_000)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        // Let the last messages SIPp sent be processed.
        try reactor.run(for: 50_000_000)
        return process.terminationStatus
    }

    /// SIPp's error trace (empty when it logged nothing).
    var errors: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var text = ""
        for file in files where file.hasSuffix("_errors.log") || file.hasSuffix("_messages.log") {
            text += (try? String(contentsOfFile: directory.appendingPathComponent(file).path, encoding: .utf8)) ?? ""
        }
        return text
    }

    func cleanUp() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A user agent on a real UDP socket at 127.0.0.1:`port`, with the state it reports.
final class UserAgentHarness {
    let reactor: Reactor
    let transport: SIPTransportLayer
    let ua: SIPUserAgent
    var states: [SIPCallState] = []
    var negotiated: [SDPNegotiatedAudio] = []
    var mediaStopped = 0
    var registrationStates: [SIPRegistrationState] = []
    var infos: [SIPMessage] = []
    var log: [String] = []
    var onIncoming: ((SIPCall) -> Void)?

    init(port: UInt16, account: SIPAccountConfiguration? = nil, mediaPort: UInt16 = 40000) throws {
        reactor = try Reactor()
        transport = SIPTransportLayer(
            reactor: reactor,
            configuration: .init(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: port), tcp: false))
        try transport.start()
        var configuration = account ?? SIPAccountConfiguration(userName: "1001")
        configuration.listenPort = port
        ua = SIPUserAgent(
            reactor: reactor, account: configuration, transport: transport,
            mediaAddress: { _ in ("127.0.0.1", mediaPort) })
        ua.onCallState = { [unowned self] call, state in
            states.append(state)
            if state == .incoming { onIncoming?(call) }
        }
        ua.onMediaNegotiated = { [unowned self] _, audio in negotiated.append(audio) }
        ua.onMediaStopped = { [unowned self] _ in mediaStopped += 1 }
        ua.onRegistrationState = { [unowned self] state in registrationStates.append(state) }
        ua.onInfo = { [unowned self] _, info in infos.append(info) }
        ua.onLog = { [unowned self] line in log.append(line) }
    }

    /// Runs the loop until `condition` holds or `seconds` pass; returns the condition.
    @discardableResult
    func run(until condition: () -> Bool, seconds: Double = 10) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline {
            try reactor.run(for: 5_000_000)
        }
        return condition()
    }

    func close() {
        ua.close()
        transport.close()
    }

    var stateNames: String { states.map { $0.description }.joined(separator: ", ") }
}
