// The shared test support (Tests/Support/TestSupport), for every file of this target.
@_exported import TestSupport
import Foundation
import Reactor
import Testing

@testable import SIP

/// A SIPp process for one scenario of Fixtures/sipp-ua (TestSupport's `SIPpProcess`).
typealias SIPpRun = SIPpProcess

extension SIPpProcess {
    static let userAgentFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sipp-ua")

    /// SIPp running Fixtures/sipp-ua/`scenario`.xml.
    convenience init(
        scenario: String, port: UInt16, mediaPort: UInt16, remote: String? = nil, keys: [String: String] = [:],
        extra: [String] = [], timeoutSeconds: Int = 12
    ) throws {
        try self.init(
            scenarioFile: SIPpProcess.userAgentFixtures.appendingPathComponent(scenario + ".xml"), port: port,
            mediaPort: mediaPort, remote: remote, keys: keys, extra: extra, timeoutSeconds: timeoutSeconds)
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
        try runUntil(reactor, seconds: seconds, condition)
        return condition()
    }

    func close() {
        ua.close()
        transport.close()
    }

    var stateNames: String { states.map { $0.description }.joined(separator: ", ") }
}
