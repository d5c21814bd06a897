import Audio
import Indicators
import SIP
import Testing

@testable import Phone

/// `PhoneScreenModel.make`: the screen and LEDs as a pure function of values, no softphone, no
/// indicators.
@Suite("Phone screen model (pure)")
struct PhoneScreenModelTests {
    static func input(_ configure: (inout PhoneScreenInput) -> Void = { _ in }) -> PhoneScreenInput {
        var input = PhoneScreenInput()
        input.accountLabel = "2001"
        configure(&input)
        return input
    }

    /// The screen with `calls` and call `active` on it.
    static func screen(
        _ calls: [PhoneCallView], active: Int?, _ configure: (inout PhoneScreenInput) -> Void = { _ in }
    ) -> PhoneScreenModel {
        PhoneScreenModel.make(
            input {
                $0.calls = calls
                $0.activeCallID = active
                configure(&$0)
            })
    }

    @Test func idle() {
        let model = PhoneScreenModel.make(Self.input())
        #expect(model.screen == .idle)
        #expect(model.logName == "idle")
        #expect(model.account == "2001")
        #expect(model.title == "Ready")
        #expect(model.lines == [])
        #expect(model.softkeys == ["", "DND", "", "Dial"])
        #expect(!model.doNotDisturb && !model.muted && !model.speaker && !model.headset)
        #expect(model.lineKeys == [.idle])
        #expect(model.timerCallID == nil)
        #expect(model.recording == nil)

        let dnd = PhoneScreenModel.make(
            Self.input {
                $0.doNotDisturb = true
                $0.canRedial = true
                $0.message = "Call ended"
            })
        #expect(dnd.title == "Do not disturb")
        #expect(dnd.softkeys == ["Redial", "DND off", "", "Dial"])
        #expect(dnd.lines == ["Call ended"])
        #expect(dnd.doNotDisturb)
    }

    @Test func dialling() {
        let empty = PhoneScreenModel.make(Self.input { $0.dialing = true })
        #expect(empty.screen == .dialing)
        #expect(empty.title == "Dial")
        #expect(empty.lines == ["_"])
        #expect(empty.softkeys == ["", "", "", "Cancel"])
        #expect(empty.speaker)
        let typed = PhoneScreenModel.make(
            Self.input {
                $0.dialing = true
                $0.dialed = "2002"
                $0.path = .handset
            })
        #expect(typed.lines == ["2002_"])
        #expect(typed.softkeys == ["Send", "Delete", "", "Cancel"])
        #expect(!typed.speaker)
    }

    @Test func ringingOutAndIn() {
        let out = PhoneScreenModel.make(
            Self.input {
                $0.calls = [PhoneCallView(id: 1, state: .ringing(early: false), party: "Bob")]
                $0.activeCallID = 1
            })
        #expect(out.screen == .calling)
        #expect(out.logName == "calling call 1")
        #expect(out.title == "Ringing")
        #expect(out.lines == ["Bob"])
        #expect(out.softkeys == ["", "", "", "Cancel"])
        #expect(out.lineKeys == [.talking])
        #expect(out.timerCallID == nil)

        let incoming = PhoneScreenModel.make(
            Self.input { $0.calls = [PhoneCallView(id: 4, state: .incoming, party: "Alice")] })
        #expect(incoming.screen == .incoming)
        #expect(incoming.logName == "incoming")
        #expect(incoming.title == "Incoming call")
        #expect(incoming.lines == ["Alice"])
        #expect(incoming.softkeys == ["Answer", "", "", "Reject"])
        #expect(incoming.lineKeys == [.incoming])
        #expect(!incoming.speaker)
    }

    @Test func connectedMutedOnSpeaker() {
        let model = PhoneScreenModel.make(
            Self.input {
                $0.calls = [PhoneCallView(id: 2, state: .connected, party: "Bob", muted: true)]
                $0.activeCallID = 2
                $0.path = .speaker
                $0.lineKeysShown = 3
            })
        #expect(model.screen == .talking)
        #expect(model.title == "Talking")
        #expect(model.softkeys == ["Hold", "Unmute", "", "End"])
        #expect(model.muted && model.speaker && !model.headset)
        // Line keys lit by the previous screen are turned off.
        #expect(model.lineKeys == [.talking, .idle, .idle])
        #expect(model.timerCallID == 2)
    }

    @Test func heldCallAndASecondCall() {
        let model = Self.screen(
            [PhoneCallView(id: 1, state: .held, party: "Bob"), PhoneCallView(id: 2, state: .connected, party: "Carol")],
            active: 2
        ) {
            $0.headsetMode = true
            $0.path = .headset
        }
        #expect(model.screen == .talking)
        #expect(model.lines == ["Carol", "On hold: Bob"])
        #expect(model.softkeys == ["Swap", "Mute", "", "End"])
        #expect(model.lineKeys == [.held, .talking])
        #expect(model.headset && !model.speaker)
        #expect(model.timerCallID == 2)

        // The held call on screen, with a new call ringing in.
        let ringing = Self.screen(
            [PhoneCallView(id: 1, state: .held, party: "Bob"), PhoneCallView(id: 3, state: .incoming, party: "Dave")],
            active: 1)
        #expect(ringing.screen == .incoming)
        #expect(ringing.lines == ["Dave", "On hold: Bob"])
        #expect(ringing.lineKeys == [.held, .incoming])
        #expect(ringing.timerCallID == nil)

        let held = Self.screen([PhoneCallView(id: 1, state: .held, party: "Bob")], active: 1)
        #expect(held.title == "On hold")
        #expect(held.softkeys == ["Resume", "New", "", "End"])
        #expect(held.timerCallID == 1)
    }

    @Test func recordingPendingAndOn() {
        for indication in [RecordingIndication.pending, .recording] {
            let model = PhoneScreenModel.make(
                Self.input {
                    $0.calls = [PhoneCallView(id: 1, state: .connected, party: "Bob")]
                    $0.activeCallID = 1
                    $0.recordLineKeys = [2]
                    $0.recording = indication
                    $0.lineKeysShown = 2
                })
            #expect(model.recording == indication)
            // The record line key is left to the recording.
            #expect(model.lineKeys == [.talking, nil])
        }
        #expect(PhoneScreenModel.make(Self.input()).recording == nil)
    }
}
