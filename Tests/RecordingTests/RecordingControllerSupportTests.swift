// The shared test support (Tests/Support/TestSupport), for every file of this target.
@_exported import TestSupport
import Audio
import Config
import Foundation
import HTTP
import Indicators
import Keys
import Phone
import Reactor
import SIP
import Testing

@testable import Recording

/// A SIPp UAS for one scenario of Fixtures/sipp on 127.0.0.1 (TestSupport's `SIPpProcess`).
typealias RecordingSIPp = SIPpProcess

extension SIPpProcess {
    static let recordingFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sipp")

    /// SIPp running Fixtures/sipp/`scenario`.xml with `-key ua_uri` set to the phone's URI.
    convenience init(scenario: String, port: UInt16, mediaPort: UInt16, uaURI: String, timeoutSeconds: Int = 20) throws {
        try self.init(
            scenarioFile: SIPpProcess.recordingFixtures.appendingPathComponent(scenario + ".xml"), port: port,
            mediaPort: mediaPort, keys: ["ua_uri": uaURI], timeoutSeconds: timeoutSeconds)
    }
}

/// A phone on loopback for the recording tests: a `Softphone` (the call layer the firmware
/// runs) or, with `t1Milliseconds`, a bare `SIPUserAgent` with short SIP timers; an indicator
/// model with a status log file; and the recording controller wired the way the phone wires it.
/// The phone's key path for a test: `input_event` records written to a FIFO -> the standard
/// keymap -> the key resolver -> the phone's recording controller.
final class KeyFIFOPath {
    let fifo: String
    private let router: KeyRouter
    private let source: StreamKeySource

    init(_ phone: RecordingTestPhone) throws {
        let controller = phone.controller
        let resolver = KeyResolver(reactor: phone.reactor, timing: KeyTiming()) { controller.handle($0) }
        router = KeyRouter(keymap: .standard, resolver: resolver, log: { _ in })
        fifo = phone.directory.appendingPathComponent("keys").path
        source = try StreamKeySource(path: fifo, kind: .fifo, reactor: phone.reactor, router: router)
    }

    func close() {
        source.close()
        router.close()
    }
}

final class RecordingTestPhone {
    let reactor: Reactor
    let softphone: Softphone?
    let transport: SIPTransportLayer
    let ua: SIPUserAgent
    let indicators = IndicatorModel(leds: [.record, .line(1), .line(2), .line(3)])
    let controller: RecordingController
    let statusLog: StatusLogBackend
    let recordingLog: RecordingStatusLog
    let directory: URL
    let port: UInt16
    var events: [RecordingEvent] = []
    var log: [String] = []
    var sentTimes: [(Int64, Int64)] = []
    var messages: [String] = []

    /// `config` is added to the provisioning file (line keys, timeouts).
    init(
        port: UInt16, config: String = "", hasRecordKey: Bool = true, t1Milliseconds: Int? = nil,
        messageLine: Int? = 1,
        expandURL: @escaping (String, SIPCall) -> String = { url, _ in url },
        performGET: @escaping (String, @escaping (HTTPGetResult) -> Void) -> Void = { _, done in
            done(.failed("no HTTP in this test"))
        },
        serverText: @escaping ([UInt8]) -> String? = { _ in nil }
    ) throws {
        self.port = port
        let reactor = try Reactor()
        self.reactor = reactor
        directory = try makeTemporaryDirectory("recording")
        let text = testPhoneConfig(listenPort: port, config)
        let file = try ConfigFile(text: text, path: "phone.cfg")
        if let t1 = t1Milliseconds {
            softphone = nil
            transport = SIPTransportLayer(
                reactor: reactor,
                configuration: .init(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: port), tcp: false))
            try transport.start()
            var account = SIPAccountConfiguration(userName: "1001", password: "secret")
            account.listenPort = port
            ua = SIPUserAgent(
                reactor: reactor, account: account, transport: transport,
                timers: SIPTimerValues(t1Milliseconds: t1, t2Milliseconds: 4 * t1),
                mediaAddress: { _ in ("127.0.0.1", 33990) })
        } else {
            let settings = try SoftphoneConfiguration(file)
            let input = directory.appendingPathComponent("in.raw").path
            try Data(count: 8000 * 2 * 10).write(to: URL(fileURLWithPath: input))
            let route = AudioRoute(
                capture: .rawFile(reading: input),
                playback: .rawFile(writing: directory.appendingPathComponent("out.raw").path))
            let phone = try Softphone(
                reactor: reactor, configuration: settings, handset: route, headset: route, speaker: route)
            softphone = phone
            transport = phone.transport
            ua = phone.userAgent
        }
        let path = directory.appendingPathComponent("status.log").path
        statusLog = StatusLogBackend(path: path, clock: { reactor.now }, faults: IndicatorFaults(sink: { _ in }))
        recordingLog = RecordingStatusLog(path: path, clock: { reactor.now }, start: reactor.now)
        indicators.attach(statusLog)
        let configuration = try RecordingConfiguration(file, hasRecordKey: hasRecordKey, lineKeyCount: 3)
        controller = RecordingController(
            reactor: reactor, configuration: configuration, expandURL: expandURL, performGET: performGET,
            serverText: serverText)
        // The controller writes no indicator: this rig draws what it reports, as the phone's state
        // machine does (the record LED, the icon, the record line keys), and its text on
        // `messageLine` (clearing only its own text: something else may have written the line).
        let indicators = self.indicators
        let controller = self.controller
        var lastText = ""
        controller.onIndication = { indication in
            indicators.batch {
                indicators.setRecording(indication)
                for n in controller.recordLineKeys { indicators.setLED(.line(n), indication.ledState) }
                let text = controller.shownText
                if let messageLine, text != lastText {
                    let line = messageLine < indicators.lcd.lines.count ? indicators.lcd.lines[messageLine] : ""
                    if !text.isEmpty || line == lastText { indicators.setLine(messageLine, text) }
                    lastText = text
                }
            }
        }
        controller.onEvent = { [unowned self] event in
            events.append(event)
            recordingLog.write(event)
        }
        controller.onLog = { [unowned self] line in log.append(line) }
        controller.onMessage = { [unowned self] text, _ in messages.append(text) }
        controller.onRequestSent = { [unowned self] press, sent in sentTimes.append((press, sent)) }
        if let softphone {
            softphone.onLog = { [unowned self] line in log.append(line) }
            softphone.onCallState = { call, state in controller.callStateChanged(call, state) }
            softphone.start()
        } else {
            ua.onCallState = { call, state in controller.callStateChanged(call, state) }
        }
    }

    var uri: String { "sip:1001@127.0.0.1:" + String(port) }

    func dial(_ target: String) throws -> SIPCall {
        if let softphone { return try softphone.dial(target) }
        return try ua.call(target)
    }

    /// Presses (and releases) `key` as the key source delivers it.
    func press(_ key: PhoneKey = .record) {
        #expect(controller.handle(KeyEvent(key: key, kind: .press, time: reactor.now)))
        #expect(controller.handle(KeyEvent(key: key, kind: .release, time: reactor.now)))
    }

    /// Runs the loop until `condition` holds or `seconds` of real time pass.
    @discardableResult
    func run(seconds: Double = 10, until condition: () -> Bool) throws -> Bool {
        try runUntil(reactor, seconds: seconds, condition)
        return condition()
    }

    // What the phone shows.
    var recordLED: LEDState { indicators.led(.record) }
    var recordingIcons: [LCDIcon] { indicators.lcd.icons.filter { RecordingIndication(icon: $0) != nil } }
    var messageLine: String { indicators.lcd.lines.count > 1 ? indicators.lcd.lines[1] : "" }

    /// The status log's lines.
    var statusLines: [String] {
        let text = (try? String(contentsOfFile: directory.appendingPathComponent("status.log").path, encoding: .utf8))
        return text?.split(separator: "\n").map(String.init) ?? []
    }

    func close() {
        controller.close()
        indicators.close()
        recordingLog.close()
        if let softphone {
            softphone.close()
        } else {
            ua.close()
            transport.close()
        }
        reactor.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
