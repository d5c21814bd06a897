import Testing

@testable import Indicators

@Suite("LCDLayout")
struct LayoutTests {
    func talkingState() -> LCDState {
        let model = IndicatorModel()
        SampleScreens.talking(model)
        return model.lcd
    }

    @Test("six lines: status, title with timer, text, softkeys")
    func sixLines() {
        let frame = LCDLayout(columns: 24, lines: 6).frame(talkingState())
        #expect(
            frame.text == """
                1009@pbx       REC 09:41
                Talking            01:23
                Alice <1002>            
                G.722                   
                                        
                Hold  Xfer   Rec   End  

                """)
        let status = frame.rows[0]
        #expect(status.styles[15] == .alert && status.styles[17] == .alert && status.styles[18] == .statusBar)
        #expect(frame.rows[5].styles[0] == .softkey && frame.rows[5].styles[5] == .normal)
        #expect(frame.rows[5].styles[23] == .softkey)
    }

    @Test("two lines: title in the status bar, first text line with the timer")
    func twoLines() {
        var lcd = talkingState()
        #expect(LCDLayout(columns: 16, lines: 2).frame(lcd).text == "Talkin REC 09:41\nAlice <100 01:23\n")
        lcd.title = ""
        lcd.callTimerSeconds = nil
        #expect(LCDLayout(columns: 16, lines: 2).frame(lcd).text == "1009@p REC 09:41\nG.722           \n")
        #expect(LCDLayout(columns: 12, lines: 1).frame(lcd).text == "Alice <1002>\n")
    }

    @Test("icons win over the account, and one icon over the clock; non-ASCII shows as ?")
    func crowdedStatus() {
        var lcd = LCDState()
        lcd.account = "Zoë"
        lcd.time = "12:00"
        lcd.icons = [.recordingCannotStart, .mute, .dnd]
        #expect(LCDLayout(columns: 24, lines: 2).frame(lcd).rows[0].text == "Zo REC:NO MUTE DND 12:00")
        #expect(LCDLayout(columns: 8, lines: 2).frame(lcd).rows[0].text == "Z REC:NO")
        #expect(LCDLayout(columns: 14, lines: 2).frame(lcd).rows[0].text == "Z REC:NO 12:00")
        lcd.account = "Zoë"
        #expect(LCDLayout(columns: 30, lines: 2).frame(lcd).rows[0].text == "Zo?      REC:NO MUTE DND 12:00")
    }
}
