import Testing

@testable import Indicators

@Suite("IndicatorModel")
struct ModelTests {
    @Test("desk-phone LED conventions")
    func conventions() {
        #expect(LineKeyState.talking.ledState == LEDState(.on, .green))
        #expect(LineKeyState.incoming.ledState == LEDState(.fastFlash, .green))
        #expect(LineKeyState.held.ledState == LEDState(.slowFlash, .green))
        #expect(LineKeyState.idle.ledState == .off)
        #expect(RecordingIndication.recording.ledState == LEDState(.on, .red))
        #expect(RecordingIndication.failed.ledState == .off)
        #expect(LEDState(.off, .red).color == nil)
        #expect(LEDID.line(3) == "line3")
        #expect(LEDMode.slowFlash.isLit(atMilliseconds: 499) && !LEDMode.slowFlash.isLit(atMilliseconds: 500))
        #expect(LEDMode.fastFlash.isLit(atMilliseconds: 99) && !LEDMode.fastFlash.isLit(atMilliseconds: 100))
        #expect(LEDMode.fastFlash.isLit(atMilliseconds: 200))
    }

    @Test("attach shows the current state; changes are passed on once; no change, no call")
    func notifications() {
        let model = IndicatorModel(leds: ["line1", "record"])
        let b = RecordingBackend()
        model.attach(b)
        #expect(b.events == ["line1=off", "record=off", "lcd"])
        b.events = []
        model.setLineKey(1, .incoming)
        model.setLineKey(1, .incoming)
        model.setTitle("Incoming")
        model.setTitle("Incoming")
        #expect(b.events == ["line1=fast_flash green", "lcd"])
        b.events = []
        model.batch {
            model.setLineKey(1, .talking)
            model.setTitle("Talking")
            model.setLines(["Alice"])
            model.setCallTimer(seconds: 0)
        }
        #expect(b.events == ["line1=on green", "lcd"])
        #expect(b.lcds.last?.title == "Talking" && b.lcds.last?.callTimerText == "00:00")
        model.close()
        #expect(b.closed && model.backendCount == 0)
    }

    @Test("recording indication: LED and exclusive icon in one update")
    func recording() {
        let model = IndicatorModel(leds: ["record"])
        let b = RecordingBackend()
        model.attach(b)
        model.setIcon(.mute, true)
        b.events = []
        model.setRecording(.recording)
        #expect(b.events == ["record=on red", "lcd"])
        #expect(model.lcd.icons == [.recording, .mute])
        model.setRecording(.cannotStop)
        #expect(model.lcd.icons == [.recordingCannotStop, .mute])
        #expect(model.recordingIndication == .cannotStop)
        #expect(model.led(.record) == .recordOn)
        model.setRecording(.failed)
        #expect(model.led(.record) == .off && model.recordingIndication == .failed)
        model.setRecording(.idle)
        #expect(model.lcd.icons == [.mute] && model.recordingIndication == .idle)
    }

    @Test("call timer counts on the reactor clock, mm:ss")
    func callTimer() throws {
        let reactor = virtualReactor()
        let model = IndicatorModel()
        model.startCallTimer(on: reactor)
        #expect(model.lcd.callTimerText == "00:00")
        try reactor.run(for: 83_500 * ms)
        #expect(model.lcd.callTimerText == "01:23")
        model.setCallTimer(seconds: 6001)
        #expect(model.lcd.callTimerText == "100:01")
        model.stopCallTimer()
        #expect(model.lcd.callTimerSeconds == nil && reactor.timerCount == 0)
        reactor.close()
    }

    @Test("softkeys are always four; lines grow; clock formatting")
    func lcdSetters() {
        let model = IndicatorModel()
        model.setSoftkeys(["A", "B", "C", "D", "E"])
        #expect(model.lcd.softkeys == ["A", "B", "C", "D"])
        model.setSoftkeys(["Only"])
        #expect(model.lcd.softkeys == ["Only", "", "", ""])
        model.setLine(2, "third")
        #expect(model.lcd.lines == ["", "", "third"])
        model.setTime(hour: 9, minute: 5)
        #expect(model.lcd.time == "09:05")
        model.clearScreen()
        #expect(model.lcd.lines.isEmpty && model.lcd.time == "09:05")
    }

    @Test("faults are reported once per subject until recovered")
    func faults() {
        let (faults, messages) = collectingFaults()
        faults.report("a", IndicatorError("first"))
        faults.report("a", IndicatorError("again"))
        faults.report("b", IndicatorError("other"))
        faults.recovered("a")
        faults.report("a", IndicatorError("third"))
        #expect(messages() == ["first", "other", "third"])
        #expect(IndicatorError("open x", errno: 2).message == "open x: ENOENT (No such file or directory)")
    }
}
