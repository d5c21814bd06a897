import Audio
import Config
import Foundation
import Keys
import Phone
import SIP
import Testing

@testable import Recording

/// Record key event in -> INFO at the far end, with a second deskphone as the server on the
/// same reactor (it answers INFO with 200). Every press travels as raw input_event records
/// through a FIFO, the keymap and the resolver. By default 20 presses check that each press
/// gives exactly one INFO, alternating on and off; `RECORDING_BENCH=1000 swift test --filter
/// RecordingControllerBenchTests` prints p50/p99 over 1000 presses (no timed assertions).
@Suite("Recording controller: key press to INFO on the wire")
struct RecordingControllerBenchTests {
    @Test("latency percentiles by nearest rank; the status-log line escapes the server's text")
    func percentilesAndLogLine() {
        var latency = RecordingLatency()
        #expect(latency.percentile(50) == 0)
        for ms in (1...100).reversed() { latency.add(Int64(ms) * 1_000_000) }
        latency.add(-5)
        #expect(latency.count == 101)
        #expect(latency.percentile(50) == 50_000_000 && latency.percentile(99) == 99_000_000)
        #expect(latency.percentile(0) == 0 && latency.percentile(100) == 100_000_000)
        #expect(latency.description == "n=101 p50=50.000 ms p99=99.000 ms max=100.000 ms")
        let event = RecordingEvent(
            call: 2, phase: .off, indication: .failed, text: "Box \"full\"\n", cause: "507 Insufficient Storage",
            isActive: false)
        #expect(
            event.statusLogLine(tMilliseconds: "12")
                == #"{"t_ms":12,"recording":{"call":2,"state":"off","indication":"recording_failed","#
                + #""text":"Box \"full\"\n","cause":"507 Insufficient Storage","active":false}}"#)
    }

    @Test("each press through the input_event path gives one INFO at the peer, on and off in turn")
    func pressToWire() throws {
        let presses = Int(ProcessInfo.processInfo.environment["RECORDING_BENCH"] ?? "") ?? 20
        let phone = try RecordingTestPhone(port: 26420)
        defer { phone.close() }
        let peerConfig = try SoftphoneConfiguration(
            ConfigFile(
                text: "#!version:1.0.0.1\naccount.1.user_name = 1002\naccount.1.codecs = pcmu\n"
                    + "sip.listen_address = 127.0.0.1\nsip.listen_port = 26421\n",
                path: "peer.cfg"))
        let input = phone.directory.appendingPathComponent("peer-in.raw").path
        try Data(count: 16000).write(to: URL(fileURLWithPath: input))
        let route = AudioRoute(
            capture: .rawFile(reading: input),
            playback: .rawFile(writing: phone.directory.appendingPathComponent("peer-out.raw").path))
        let peer = try Softphone(
            reactor: phone.reactor, configuration: peerConfig, handset: route, headset: route, speaker: route)
        defer { peer.close() }
        peer.autoAnswerDelay = 0
        var received: [(time: Int64, record: String)] = []
        peer.userAgent.onInfo = { _, info in received.append((phone.reactor.now, info.header("Record") ?? "")) }
        peer.start()

        let controller = phone.controller
        let keys = try KeyFIFOPath(phone)
        defer { keys.close() }
        let fifo = keys.fifo
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: fifo))
        defer { try? writer.close() }
        let code = try #require(KeyMap.code(named: "KEY_RECORD"))
        var press: [UInt8] = []
        for value: Int32 in [1, 0] {
            press += InputEventLayout.native.encode(InputEvent(type: InputEvent.typeKey, code: code, value: value))
            press += InputEventLayout.native.encode(InputEvent(type: InputEvent.typeSyn, code: 0, value: 0))
        }

        let call = try phone.dial("sip:1002@127.0.0.1:26421")
        #expect(try phone.run { call.state == .connected })
        var toSend = RecordingLatency()
        var toWire = RecordingLatency()
        for i in 0..<presses {
            writer.write(Data(press))
            let settled = try phone.run {
                received.count == i + 1 && !controller.phase(ofCall: call.id).isPending
            }
            guard settled, phone.sentTimes.count == i + 1 else {
                Issue.record("press \(i): \(received.count) INFO received, \(phone.sentTimes.count) sent")
                break
            }
            let (pressTime, sentTime) = phone.sentTimes[i]
            toSend.add(sentTime - pressTime)
            toWire.add(received[i].time - pressTime)
        }
        #expect(received.count == presses)
        #expect(received.map { $0.record } == (0..<presses).map { $0 % 2 == 0 ? "on" : "off" })
        #expect(controller.phase(ofCall: call.id) == (presses % 2 == 0 ? .off : .on))
        print("recording bench: key event -> INFO sent: " + toSend.description)
        print("recording bench: key event -> INFO received by the peer: " + toWire.description)
        call.hangUp()
        #expect(try phone.run { phone.controller.trackedCallCount == 0 && peer.calls.isEmpty })
    }
}
