import CLinux
import CMallocCounter
import Foundation
import Indicators
import Keys
import Reactor
import Recording
import SIP
import TestSupport
import Testing

@testable import Phone

/// The assembled phone (`PhoneAssembly`, as the firmware builds it) on the virtual clock with a
/// scripted far end on loopback and ALSA `null` audio: key events in, the LCD/LED model, the
/// log and the status log out. Each scenario takes milliseconds of real time.
@Suite("Whole phone on the virtual clock", .serialized)
struct WholePhoneTests {
    /// Dials 2001 by keys and waits until the far end has answered.
    static func talking(_ phone: WholePhone) throws {
        phone.dial("2001")
        try phone.run(seconds: 0.5)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.machine.screen == .talking)
    }

    @Test("dial by keys, talk, hang up by the hook")
    func dialTalkHangUp() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        #expect(phone.machine.screen == .idle)
        phone.press(.hook)
        #expect(phone.lcd.title == "Dial")
        for n in [2, 0, 0, 1] { phone.press(.digit(n)) }
        #expect(phone.lcd.lines.first == "2001_")
        phone.press(.pound)
        try phone.run(seconds: 0.5)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.lcd.lines.first == "2001@127.0.0.1")
        #expect(phone.led(.line(1)) == .lineTalking)
        #expect(phone.farEnd.calls.first?.state == .connected)
        try phone.run(seconds: 3)
        #expect(phone.lcd.callTimerSeconds == 3 || phone.lcd.callTimerSeconds == 4)
        phone.hookDown()
        try phone.run(seconds: 0.5)
        #expect(phone.machine.screen == .idle)
        #expect(phone.lcd.lines.contains("Call ended"))
        #expect(phone.led(.line(1)) == .off)
        #expect(phone.farEnd.calls.isEmpty)
        #expect(phone.log.contains("screen: talking call 1") && phone.log.contains("screen: idle"))
        #expect(phone.log.contains { $0.hasPrefix("call 1: stats ") })
        // The status log saw the same screens.
        #expect(phone.statusLines.contains { $0.contains("\"title\":\"Talking\"") })
        #expect(phone.statusLines.contains { $0.contains("\"led\":\"line1\",\"state\":\"on\",\"color\":\"green\"") })
    }

    @Test("record on and off with the server answering 200: INFO Record on/off, record LED, status log")
    func recordOnOff() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        phone.press(.record)
        #expect(phone.recordingLines.last?.contains("\"state\":\"starting\"") == true)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.infos.map(\.record) == ["on"])
        #expect(phone.led(.record) == .recordOn)
        #expect(phone.lcd.icons.contains(.recording))
        #expect(phone.recordingLines.last?.contains("\"state\":\"on\"") == true)
        #expect(phone.recordingLines.last?.contains("\"cause\":\"200 OK\"") == true)
        #expect(phone.log.contains { $0.hasPrefix("recording: call 1: recording on") })
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.infos.map(\.record) == ["on", "off"])
        #expect(phone.led(.record) == .off)
        #expect(!phone.lcd.icons.contains(.recording))
        #expect(phone.recordingLines.last?.contains("\"state\":\"off\"") == true)
        phone.hookDown()
        try phone.run(seconds: 0.5)
        #expect(phone.machine.screen == .idle && phone.assembly.recording.trackedCallCount == 0)
    }

    @Test(
        "record refused: the server answers 403, 481 or 500; the LED stays off and the LCD says why",
        arguments: [
            (403, "403 Forbidden", "recording not allowed"),
            (481, "call ended (dialog gone (481))", nil),
            (500, "500 Server Internal Error", "cannot start recording"),
        ] as [(Int, String, String?)])
    func recordRefused(status: Int, cause: String, shown: String?) throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        phone.farEnd.infoScript = [.status(status)]
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.infos.map(\.record) == ["on"])
        #expect(phone.led(.record) == .off)
        #expect(!phone.statusLines.contains { $0.contains("\"led\":\"record\",\"state\":\"on\"") })
        #expect(phone.assembly.recording.phase(ofCall: 1) == .off)
        #expect(phone.recordingLines.last?.contains("\"cause\":\"" + cause + "\"") == true)
        if let shown { #expect(phone.lcd.lines.contains(shown)) }
        if status == 481 {
            // RFC 3261 §12.2.1.2: a 481 to a request in a dialog ends the dialog, so the call.
            #expect(phone.log.contains("call 1: ended (dialog gone (481))"))
            #expect(phone.machine.screen == .idle && phone.lcd.lines.contains("Call ended"))
            #expect(phone.led(.line(1)) == .off)
        } else {
            // The call goes on.
            #expect(phone.machine.screen == .talking && phone.farEnd.calls.first?.state == .connected)
            // The next press tries again, and this time the server agrees.
            phone.press(.record)
            try phone.run(seconds: 0.2)
            #expect(phone.led(.record) == .recordOn)
        }
    }

    @Test("record with no answer: the INFO times out (Timer F), the LED stays off")
    func recordTimeout() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        phone.farEnd.infoScript = [.drop]
        phone.press(.record)
        try phone.run(seconds: 1)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .starting)
        #expect(phone.lcd.icons.contains(.recordingPending))
        // Timer F: 64 * T1 = 32 s after the press.
        try phone.run(seconds: 31.5)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .off)
        #expect(phone.led(.record) == .off)
        #expect(phone.recordingLines.last?.contains("\"cause\":\"timeout (no answer)\"") == true)
        #expect(phone.lcd.lines.contains("cannot start recording"))
        #expect(phone.lcd.icons.contains(.recordingCannotStart))
        #expect(phone.machine.screen == .talking)
        // The message and its icon go after features.record.message_time (2 s).
        try phone.run(seconds: 2.5)
        #expect(!phone.lcd.icons.contains(.recordingCannotStart) && !phone.lcd.lines.contains("cannot start recording"))
        #expect(phone.recordingLines.last?.contains("\"cause\":\"message expired\"") == true)
    }

    @Test("record with a 401 challenge: the INFO is sent again with credentials and the 200 turns it on")
    func recordChallenged() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        phone.farEnd.infoScript = [.challenge]
        phone.press(.record)
        try phone.run(seconds: 0.3)
        #expect(phone.farEnd.infos.map(\.authorized) == [false, true])
        #expect(phone.farEnd.infos.map(\.record) == ["on", "on"])
        #expect(phone.led(.record) == .recordOn)
        #expect(phone.recordingLines.last?.contains("\"cause\":\"200 OK\"") == true)
    }

    @Test("hold and resume: line LED slow flash, the far end sees the hold, the recording state stays")
    func holdResume() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.led(.record) == .recordOn)
        phone.press(.hold)
        try phone.run(seconds: 0.3)
        #expect(phone.machine.screen == .held && phone.lcd.title == "On hold")
        #expect(phone.led(.line(1)) == .lineHeld)
        #expect(phone.farEnd.calls.first?.state == .remoteHeld)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .on)
        phone.press(.hold)
        try phone.run(seconds: 0.3)
        #expect(phone.machine.screen == .talking && phone.led(.line(1)) == .lineTalking)
        #expect(phone.farEnd.calls.first?.state == .connected)
        #expect(phone.log.contains("screen: held call 1"))
    }

    @Test("call waiting: a second call during a call, answered (the first is held), then hung up")
    func callWaiting() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try Self.talking(phone)
        let second = try phone.farEnd.call()
        try phone.run(seconds: 0.3)
        #expect(phone.machine.screen == .incoming)
        #expect(phone.led(.line(2)) == .lineIncoming)
        #expect(phone.lcd.lines == ["Far End", "With: 2001@127.0.0.1"])
        #expect(phone.softkey("Answer"))
        try phone.run(seconds: 0.3)
        #expect(second.state == .connected)
        #expect(phone.led(.line(1)) == .lineHeld && phone.led(.line(2)) == .lineTalking)
        #expect(phone.lcd.softkeys.first == "Swap")
        // Recording follows the active call: the second call is not recorded.
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.assembly.recording.phase(ofCall: 2) == .on)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .off)
        #expect(phone.softkey("End"))
        try phone.run(seconds: 0.5)
        #expect(phone.machine.calls.count == 1 && phone.machine.screen == .held)
        #expect(phone.led(.record) == .off)
        #expect(phone.softkey("Resume"))
        try phone.run(seconds: 0.3)
        #expect(phone.machine.screen == .talking)
    }

    @Test("an incoming call rings and is answered by the hook; the far end hangs up")
    func incomingFarEndHangsUp() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        let call = try phone.farEnd.call()
        try phone.run(seconds: 0.3)
        #expect(phone.lcd.title == "Incoming call" && phone.led(.line(1)) == .lineIncoming)
        phone.press(.hook)
        try phone.run(seconds: 0.3)
        #expect(call.state == .connected && phone.lcd.title == "Talking")
        phone.farEnd.hangUp()
        try phone.run(seconds: 0.5)
        #expect(phone.machine.screen == .idle && phone.lcd.lines.contains("Call ended"))
        #expect(phone.led(.line(1)) == .off)
    }

    @Test("reload: a bad file is refused and the last good configuration stays; a good one applies, line keys too")
    func reload() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        let path = phone.directory.appendingPathComponent("phone.cfg").path
        let good = try String(contentsOfFile: path, encoding: .utf8)
        try (good + "linekey.2.type = 25x\n").write(toFile: path, atomically: true, encoding: .utf8)
        phone.assembly.reload()
        #expect(phone.log.last?.hasSuffix("(reload refused: the last good configuration stays)") == true)
        #expect(phone.machine.recordLineKeys.isEmpty && phone.assembly.provisioning.recording.keys.count == 1)
        try (good + "linekey.2.type = 25\n").write(toFile: path, atomically: true, encoding: .utf8)
        phone.assembly.reload()
        #expect(phone.log.last == "config: reloaded")
        #expect(phone.machine.recordLineKeys == [2] && phone.assembly.recording.recordLineKeys == [2])
        // Line key 2 is a record key now: its LED shows the recording.
        try Self.talking(phone)
        phone.press(.line(2))
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.infos.map(\.record) == ["on"])
        #expect(phone.led(.line(2)) == .recordOn && phone.led(.record) == .recordOn)
    }

    @Test("call states fan out to any number of subscribers; a removed one hears no more")
    func subscribers() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        var first: [String] = []
        var second: [String] = []
        let token = phone.assembly.callStates.add { first.append($0.state.description) }
        phone.assembly.callStates.add { second.append($0.state.description) }
        try Self.talking(phone)
        #expect(!first.isEmpty && first == second)
        #expect(first.last == SIPCallState.connected.description)
        phone.assembly.callStates.remove(token)
        let heard = first.count
        phone.hookDown()
        try phone.run(seconds: 0.5)
        #expect(first.count == heard)
        #expect(second.last?.hasPrefix("ended") == true)
    }
}

/// 10,000 calls through the whole phone with record toggles: nothing may grow.
@Suite("Whole phone soak", .serialized)
struct WholePhoneSoakTests {
    /// The soak phone's RTP ports: above the kernel's ephemeral range (32768-60999), where no other
    /// test binds, so its sockets can be told apart from those of suites running in parallel.
    static let rtpPorts: ClosedRange<UInt16> = 62_000...62_999

    static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }
    }

    /// The descriptors that are the phone's: sockets bound to its SIP port or its RTP range
    /// (other suites may run in parallel and open their own).
    static func phoneDescriptors(sipPort: UInt16) -> Int {
        openDescriptors().filter { fd in
            guard let port = socketBoundAddress(fd)?.port else { return false }
            return port == sipPort || rtpPorts.contains(port)
        }.count
    }

    struct Figures: CustomStringConvertible {
        var calls = 0
        var liveBlocks: Int64 = 0
        var timers = 0
        var watches = 0
        var descriptors = 0
        var phoneDescriptors = 0
        var tracked = 0
        var softphoneCalls = 0
        var media = 0
        var description: String {
            "after \(calls) calls: live heap blocks \(liveBlocks), reactor timers \(timers), watches \(watches), "
                + "descriptors \(descriptors) (the phone's \(phoneDescriptors)), recording-tracked calls \(tracked), "
                + "softphone calls \(softphoneCalls), media \(media)"
        }
    }

    @Test("10,000 calls with record on/off: no growth of heap blocks, timers, descriptors or tracked calls")
    func soak() throws {
        let phone = try WholePhone(
            config: "rtp.port_min = \(Self.rtpPorts.lowerBound)\nrtp.port_max = \(Self.rtpPorts.upperBound)\n",
            statusLog: false, farEndTimers: SIPTimerValues(t1Milliseconds: 50))
        let sipPort = phone.assembly.softphone.transport.sentByPort(for: .udp)
        defer { phone.close() }
        phone.farEnd.keepsInfos = false
        func oneCall() throws {
            phone.dial("2001")
            try phone.run(seconds: 0.1)
            phone.press(.record)
            try phone.run(seconds: 0.05)
            phone.press(.record)
            try phone.run(seconds: 0.05)
            phone.hookDown()
            try phone.run(seconds: 0.1)
        }
        func figures(_ calls: Int) -> Figures {
            Figures(
                calls: calls, liveBlocks: mc_thread_live_blocks(), timers: phone.reactor.timerCount,
                watches: phone.reactor.watchCount, descriptors: Self.openDescriptors().count,
                phoneDescriptors: Self.phoneDescriptors(sipPort: sipPort),
                tracked: phone.assembly.recording.trackedCallCount,
                softphoneCalls: phone.assembly.softphone.calls.count,
                media: phone.assembly.softphone.media.count)
        }
        // Warm up (tables reach their working size), then settle: Timer K/J and the message timers.
        for _ in 0..<200 { try oneCall() }
        try phone.run(seconds: 60)
        phone.log.removeAll(keepingCapacity: true)
        let start = Date()
        let before = figures(200)
        var samples: [Figures] = []
        let total = 10_000
        for n in 1...total {
            try oneCall()
            if n % 2_500 == 0 {
                try phone.run(seconds: 60)
                phone.log.removeAll(keepingCapacity: true)
                samples.append(figures(200 + n))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("soak: " + before.description)
        for sample in samples { print("soak: " + sample.description) }
        print("soak: \(total) calls in \(String(format: "%.1f", seconds)) s real time")
        let after = samples.last!
        // Every call recorded: an INFO on and an INFO off each.
        #expect(phone.farEnd.infoCount == 2 * (total + 200))
        #expect(after.timers == before.timers)
        #expect(after.watches == before.watches)
        #expect(after.phoneDescriptors == before.phoneDescriptors && before.phoneDescriptors >= 2)
        #expect(after.tracked == 0 && after.softphoneCalls == 0 && after.media == 0)
        // No block per call survives it: less than one block per 20 calls over the run (a leak of
        // one block per call would be 10,000).
        #expect(after.liveBlocks - before.liveBlocks < Int64(total / 20))
    }
}
