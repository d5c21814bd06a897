import CLinux
import Config
import Testing

@testable import Indicators

@Suite("IndicatorsConfiguration")
struct ConfigurationTests {
    func parse(_ body: String) throws(ConfigError) -> IndicatorsConfiguration {
        try IndicatorsConfiguration(board: ConfigFile(text: "#!version:1.0.0.1\n" + body, path: "b.cfg"))
    }

    @Test("a colour framebuffer phone with sysfs LEDs")
    func colourPhone() throws {
        let c = try parse(
            """
            led.line1.backend = sysfs:phone:{color}:line1
            led.line1.colors = green, red
            led.record.backend = sysfs:phone:red:record
            led.sysfs_dir = /tmp/leds
            lcd.backend = framebuffer:/dev/fb0
            lcd.width = 320
            lcd.height = 240
            lcd.bpp = 16
            lcd.columns = 26
            lcd.lines = 8
            """)
        #expect(c.ledIDs == ["line1", "record"])
        #expect(c.leds[0].target == .sysfs("phone:{color}:line1") && c.leds[0].colors == [.green, .red])
        #expect(c.sysfsDirectory == "/tmp/leds")
        #expect(c.lcdTarget == .framebuffer("/dev/fb0"))
        #expect(c.pixelFormat == PixelFormat(width: 320, height: 240, bitsPerPixel: 16))
        #expect(c.layout == LCDLayout(columns: 26, lines: 8))
        #expect(c.color, "colour by default above 1 bpp")
    }

    @Test("the pc-keyboard board: evdev LED, terminal LCD; defaults")
    func pcKeyboard() throws {
        let c = try parse(
            """
            led.record.backend = evdev:LED_SCROLLL
            led.mute.backend = evdev:LED_CAPSL
            led.line1.backend = terminal
            led.evdev_device = /dev/input/event3
            lcd.backend = terminal
            """)
        #expect(c.leds.map(\.target) == [.evdev("LED_SCROLLL", 2), .evdev("LED_CAPSL", 1), .terminal])
        #expect(c.evdevDevice == "/dev/input/event3")
        #expect(c.lcdTarget == .terminal && c.layout == LCDLayout(columns: 24, lines: 6) && !c.color)
        #expect(c.pixelFormat == nil)
        #expect(try parse("").leds.isEmpty)
    }

    @Test("errors name the file and line and say what is wrong")
    func errors() {
        func error(_ body: String) -> String {
            do {
                _ = try parse(body)
                return "no error"
            } catch { return error.description }
        }
        #expect(
            error("led.rec.backend = blink\n")
                == "b.cfg:2: led.rec.backend = 'blink': expected sysfs:NAME, evdev:LED_SCROLLL, terminal or none")
        #expect(
            error("led.rec.backend = evdev:LED_FOO\nled.evdev_device = /dev/x\n").hasPrefix(
                "b.cfg:2: led.rec.backend = 'evdev:LED_FOO': unknown keyboard LED (LED_NUML, LED_CAPSL, LED_SCROLLL"))
        #expect(
            error("led.rec.backend = evdev:LED_SCROLLL\n")
                == "b.cfg:2: led.rec.backend = 'evdev:LED_SCROLLL': led.evdev_device is not set")
        #expect(
            error("led.line1.backend = sysfs:line1\nled.line1.colors = red,green\n")
                == "b.cfg:2: led.line1.backend = 'sysfs:line1': a multi-colour LED needs '{color}' in its sysfs name "
                + "(one LED per colour, e.g. phone:{color}:line1)")
        #expect(
            error("led.line1.backend = none\nled.line1.colors = red,blue\n")
                == "b.cfg:3: led.line1.colors: unknown colour 'blue' (red, green, amber)")
        #expect(error("led.line1.colors = red\n") == "b.cfg:2: LED 'line1' has no led.line1.backend")
        #expect(
            error("led.line1.blink = 1\n")
                == "b.cfg:2: unknown key 'led.line1.blink' (led.<id>.backend or led.<id>.colors)")
        #expect(error("led.a.b.backend = none\n").hasPrefix("b.cfg:2: unknown key 'led.a.b.backend'"))
        #expect(
            error("lcd.backend = framebuffer:/dev/fb0\nlcd.width = 128\n")
                == "b.cfg:3: lcd.width, lcd.height and lcd.bpp go together: lcd.height is not set")
        #expect(
            error("lcd.width = 128\nlcd.height = 64\nlcd.bpp = 8\n") == "b.cfg:4: lcd.bpp = 8: expected 1, 16 or 32")
        #expect(
            error("lcd.width = 128\nlcd.height = 64\nlcd.bpp = 1\nlcd.stride = 8\n")
                == "b.cfg:5: lcd.stride = 8: shorter than one line (16 bytes)")
        #expect(
            error("lcd.width = 128\nlcd.height = 64\nlcd.bpp = 1\nlcd.columns = 30\n")
                == "b.cfg:5: 30 columns x 7 lines do not fit 128x64 pixels (a character cell is at least 6x9)")
        #expect(
            error("lcd.backend = fb\n")
                == "b.cfg:2: lcd.backend = 'fb': expected terminal, framebuffer:/dev/fbN or none")
        #expect(error("lcd.colour = 1\n") == "b.cfg:2: unknown key 'lcd.colour'")
        #expect(
            error("led.x.backend = sysfs:../y\n")
                == "b.cfg:2: led.x.backend = 'sysfs:../y': a sysfs LED name has no '/'")
    }

    @Test("the factory builds the configured backends; a missing device is reported, not fatal")
    func factory() throws {
        let dir = TempDir()
        defer { dir.remove() }
        dir.makeSysfsLED("rec", maxBrightness: 1)
        let c = try parse(
            """
            led.record.backend = sysfs:rec
            led.mute.backend = evdev:LED_CAPSL
            led.evdev_device = /nonexistent/event0
            led.line1.backend = terminal
            led.sysfs_dir = \(dir.path)
            lcd.backend = framebuffer:\(dir.file("fb"))
            lcd.width = 144
            lcd.height = 32
            lcd.bpp = 1
            """)
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let devnull = cl_open_devnull()
        defer { _ = cl_close(devnull) }
        let backends = c.makeBackends(
            reactor: reactor, faults: faults, terminalFD: devnull, ansi: false, statusLogPath: dir.file("log"))
        #expect(backends.count == 5)
        let model = c.makeModel()
        for b in backends { model.attach(b) }
        SampleScreen.talking.show(on: model)
        _ = try reactor.runUntilIdle()
        #expect(dir.read("rec/brightness") == "1")
        #expect(dir.bytes("fb").count == 18 * 32)
        #expect(dir.read("log")?.contains("\"recording\"") == true)
        #expect(messages() == ["evdev LEDs: open /nonexistent/event0: ENOENT (No such file or directory)"])
        model.close()
        reactor.close()
    }
}

func cl_open_devnull() -> Int32 { cl_open("/dev/null", O_WRONLY, 0) }
