import CLinux
import Foundation
import Testing

@testable import Indicators

@Suite("Display backends")
struct DisplayBackendTests {
    @Test("terminal: golden plain picture, one redraw per loop iteration, LEDs flash in the picture")
    func terminalPlain() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let fd = cl_open(dir.file("tty"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { _ = cl_close(fd) }
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let terminal = TerminalBackend(
            fd: fd, reactor: reactor, layout: LCDLayout(columns: 24, lines: 6), leds: ["line1", "record", "message"],
            ansi: false, faults: faults)
        let model = IndicatorModel(leds: ["line1", "record", "message"])
        model.attach(terminal)
        SampleScreen.talking.show(on: model)
        _ = try reactor.runUntilIdle()
        #expect(terminal.redrawCount == 1)
        #expect(
            terminal.picture() == """
                +------------------------+
                |1009@pbx.examp REC 09:41|
                |Talking            01:23|
                |Alice Smith             |
                |1002 - G.722            |
                |                        |
                |Hold  Xfer   Rec   End  |
                +------------------------+
                [G] line1  [R] record  [ ] message

                """)
        #expect(dir.read("tty") == terminal.picture())
        model.setLineKey(1, .held)
        try reactor.run(for: 600 * ms)
        #expect(terminal.picture().hasSuffix("[ ] line1  [R] record  [ ] message\n"))
        try reactor.run(for: 500 * ms)
        #expect(terminal.picture().hasSuffix("[G] line1  [R] record  [ ] message\n"))
        #expect(messages().isEmpty)
        model.close()
        reactor.close()
    }

    @Test("terminal: golden ANSI picture")
    func terminalANSI() {
        var lcd = LCDState()
        lcd.time = "09:41"
        lcd.icons = [.recording]
        lcd.title = "Talking"
        lcd.softkeys = ["End", "", "", ""]
        let picture = TerminalBackend.picture(
            lcd: lcd, layout: LCDLayout(columns: 16, lines: 3), leds: ["record"], states: ["record": .recordOn],
            lit: ["record": true], ansi: true)
        let e = "\u{1B}["
        #expect(
            picture == e + "H" + e + "2J+----------------+\n"
                + "|" + e + "0;1;37;44m       " + e + "0;1;37;41mREC" + e + "0;1;37;44m 09:41" + e + "0m|\n"
                + "|" + e + "0;1mTalking         " + e + "0m|\n"
                + "|" + e + "0;30;47mEnd" + e + "0m             " + e + "0m|\n"
                + "+----------------+\n" + e + "1;37;41m[R]" + e + "0m record\n")
    }

    @Test("framebuffer: 1, 16 and 32 bpp frames in a file match their golden checksums")
    func framebuffer() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (faults, messages) = collectingFaults()
        let model = IndicatorModel(leds: ["record", "line1", "message"])
        SampleScreen.talking.show(on: model)
        var checksums: [String] = []
        for (bpp, w, h, cols, lines, stride) in [
            (1, 144, 32, 24, 2, 20), (16, 320, 240, 26, 8, 640), (32, 320, 240, 26, 8, 1280 + 64),
        ] {
            let format = PixelFormat(width: w, height: h, bitsPerPixel: bpp, stride: stride)
            let path = dir.file("fb" + String(bpp))
            let fb = FramebufferBackend(
                path: path, format: format, layout: LCDLayout(columns: cols, lines: lines),
                palette: bpp == 1 ? .mono : .color, reactor: nil, faults: faults)
            model.attach(fb)
            let bytes = dir.bytes("fb" + String(bpp))
            #expect(bytes.count == stride * h)
            #expect(fb.frameCount == 1 && bytes == fb.lastFrame)
            checksums.append(String(PNGEncoder.crc32(bytes), radix: 16))
            // Round trip: what the panel shows is what was drawn.
            let canvas = LCDRaster(
                width: w, height: h, layout: LCDLayout(columns: cols, lines: lines),
                palette: bpp == 1 ? .mono : .color
            ).render(model.lcd)
            let shown = format.unpack(bytes)
            if bpp == 32 { #expect(shown == canvas) }
            if bpp == 1 {
                // The mono status bar has its rule on the row's last pixel line; the REC icon is inverse.
                #expect(shown[0, 15] == 0x000000 && shown[143, 15] == 0x000000 && shown[0, 20] == 0xFFFFFF)
            }
            if bpp == 16 {
                // Pixel (0,0): status bar 0x1F3A5F in RGB565, little-endian.
                #expect(bytes[0] == 0xCB && bytes[1] == 0x19)
            }
            fb.close()
        }
        #expect(messages().isEmpty)
        #expect(checksums == ["f0d00df1", "b55bc9bc", "bea41921"], "golden checksums")
    }

    @Test("framebuffer: a plain file without geometry is refused clearly, once")
    func framebufferNoGeometry() {
        let dir = TempDir()
        defer { dir.remove() }
        let (faults, messages) = collectingFaults()
        let fb = FramebufferBackend(
            path: dir.file("fb"), format: nil, layout: LCDLayout(columns: 10, lines: 2), palette: .mono,
            reactor: nil, faults: faults)
        fb.lcdChanged(LCDState())
        fb.lcdChanged(LCDState())
        #expect(messages().count == 1)
        #expect(messages().first?.contains("set lcd.width, lcd.height and lcd.bpp") == true)
        #expect(messages().first?.contains("(Inappropriate ioctl for device)") == true)
    }

    @Test("PNG: CRC-32, Adler-32, stored blocks and chunk layout")
    func png() {
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        let big = [UInt8](repeating: 7, count: 70_000)
        let z = PNGEncoder.zlibStored(big)
        #expect(z.count == 2 + 5 + 65535 + 5 + (70_000 - 65535) + 4)
        #expect(z[2] == 0 && z[2 + 5 + 65535] == 1)
        var canvas = Canvas(width: 2, height: 1)
        canvas[1, 0] = 0xFF0000
        let file = PNGEncoder.encode(canvas)
        #expect(Array(file[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(file[12..<16]) == Array("IHDR".utf8))
        #expect(Array(file[16..<24]) == [0, 0, 0, 2, 0, 0, 0, 1])
        #expect(Array(file.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    @Test("status log: one JSON line per change, t_ms on the reactor clock, escaping")
    func statusLog() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let log = StatusLogBackend(path: dir.file("status.jsonl"), clock: { reactor.now }, faults: faults)
        let model = IndicatorModel(leds: ["record"])
        model.attach(log)
        try reactor.run(for: 1234 * ms)
        model.setRecording(.recording)
        model.setTitle("Say \"hi\"\\\n\u{1}é")
        let lines = dir.read("status.jsonl")!.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == #"{"t_ms":0,"led":"record","state":"off","color":null}"#)
        #expect(lines[2] == #"{"t_ms":1234,"led":"record","state":"on","color":"red"}"#)
        #expect(
            lines[3] == #"{"t_ms":1234,"lcd":{"account":"","time":"","icons":["recording"],"title":"","#
                + #""lines":[],"timer":null,"softkeys":["","","",""]}}"#)
        #expect(lines[4].contains(#""title":"Say \"hi\"\\\n\u0001é""#))
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
        }
        #expect(messages().isEmpty)
        log.close()
        reactor.close()
    }
}
