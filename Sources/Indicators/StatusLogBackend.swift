import CLinux
import Reactor

/// The JSON-lines status log (`--status-log PATH`): one JSON object per LED or LCD change,
/// for automation, with the milliseconds since the log started:
/// `{"t_ms":1234,"led":"record","state":"on","color":"red"}` and
/// `{"t_ms":1234,"lcd":{"account":"1009","time":"09:41","icons":["recording"],"title":"Talking",
/// "lines":["Alice"],"timer":"01:23","softkeys":["Hold","Xfer","Rec","End"]}}`.
public final class StatusLogBackend: IndicatorBackend {
    private var fd: Int32
    private let ownsFD: Bool
    private let name: String
    private let clock: () -> Int64
    private let start: Int64
    private let faults: IndicatorFaults
    /// Number of lines written.
    public private(set) var lineCount = 0

    /// Appends to a new or truncated file at `path`; `clock` gives nanoseconds (reactor time).
    public convenience init(path: String, clock: @escaping () -> Int64, faults: IndicatorFaults) {
        let fd = cl_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        if fd < 0 { faults.report("log:" + path, IndicatorError("status log: open " + path, errno: -fd)) }
        self.init(fd: fd, ownsFD: true, name: path, clock: clock, faults: faults)
    }

    /// Writes to an open descriptor the caller keeps.
    public convenience init(fd: Int32, clock: @escaping () -> Int64, faults: IndicatorFaults) {
        self.init(fd: fd, ownsFD: false, name: "fd " + String(fd), clock: clock, faults: faults)
    }

    private init(fd: Int32, ownsFD: Bool, name: String, clock: @escaping () -> Int64, faults: IndicatorFaults) {
        self.fd = fd
        self.ownsFD = ownsFD
        self.name = name
        self.clock = clock
        self.start = clock()
        self.faults = faults
    }

    private var milliseconds: String { String((clock() - start) / 1_000_000) }

    public func ledChanged(_ id: LEDID, _ state: LEDState) {
        emit(StatusLogBackend.ledLine(tMilliseconds: milliseconds, id, state))
    }

    public func lcdChanged(_ lcd: LCDState) {
        emit(StatusLogBackend.lcdLine(tMilliseconds: milliseconds, lcd))
    }

    /// `{"t_ms":T,"led":"ID","state":"MODE","color":"COLOR"|null}`
    static func ledLine(tMilliseconds t: String, _ id: LEDID, _ state: LEDState) -> String {
        var s =
            "{\"t_ms\":" + t + ",\"led\":" + JSON.string(id.name) + ",\"state\":"
            + JSON.string(state.mode.description) + ",\"color\":"
        s += state.color.map { JSON.string($0.description) } ?? "null"
        return s + "}"
    }

    /// `{"t_ms":T,"lcd":{...}}` with every LCD field.
    static func lcdLine(tMilliseconds t: String, _ lcd: LCDState) -> String {
        var s = "{\"t_ms\":" + t + ",\"lcd\":{\"account\":" + JSON.string(lcd.account)
        s += ",\"time\":" + JSON.string(lcd.time)
        s += ",\"icons\":" + JSON.array(lcd.icons.map { $0.description })
        s += ",\"title\":" + JSON.string(lcd.title)
        s += ",\"lines\":" + JSON.array(lcd.lines)
        s += ",\"timer\":" + (lcd.callTimerText.map { JSON.string($0) } ?? "null")
        s += ",\"softkeys\":" + JSON.array(lcd.softkeys)
        return s + "}}"
    }

    private func emit(_ line: String) {
        guard fd >= 0 else { return }
        if let error = FileIO.write(fd, Array((line + "\n").utf8), what: "status log: write " + name) {
            faults.report("log:" + name, error)
            return
        }
        faults.recovered("log:" + name)
        lineCount += 1
    }

    public func close() {
        if ownsFD && fd >= 0 { _ = cl_close(fd) }
        fd = -1
    }
}

/// JSON text for strings and string arrays (RFC 8259 §7: quote, backslash and control
/// characters escaped; other characters written as UTF-8).
public enum JSON {
    public static func string(_ s: String) -> String {
        var out: [UInt8] = [0x22]
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0..<0x20, 0x7F:
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    public static func array(_ items: [String]) -> String {
        var s = "["
        for (i, item) in items.enumerated() {
            if i > 0 { s += "," }
            s += string(item)
        }
        return s + "]"
    }
}
