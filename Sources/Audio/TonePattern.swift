/// The tones a phone makes itself (ITU-T E.180 call-progress tones, plus the local ringer).
public enum ToneKind: Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Off hook, nothing dialled yet.
    case dial
    /// The far end is alerted (until 18x brings early media).
    case ringback
    /// The far end is busy (486/600).
    case busy
    /// The network cannot complete the call (503, 408, 480...): "reorder" in the US.
    case congestion
    /// A second call arrives during a call (played in the earpiece, over the call).
    case callWaiting
    /// The local ringer for an incoming call (on the speaker).
    case ring

    /// Parses the names used in configuration keys: `dial`, `ringback`, `busy`, `congestion`,
    /// `callwaiting`, `ring`.
    public init?(parsing text: String) {
        for kind in ToneKind.allCases where kind.description == text {
            self = kind
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .dial: return "dial"
        case .ringback: return "ringback"
        case .busy: return "busy"
        case .congestion: return "congestion"
        case .callWaiting: return "callwaiting"
        case .ring: return "ring"
        }
    }
}

/// A tone description that cannot be used, with the text and the reason.
public struct ToneError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A tone as a repeating cadence of segments, each a sum of up to four sines (or silence) for
/// a time, written as in Asterisk's indications.conf: `440+480/2000,0/4000` is the US
/// ringback (two seconds of 440+480 Hz, four of silence, again and again); `425` alone sounds
/// forever; a `!` before a segment plays it only on the first pass (`!425/200,!0/200,!425/200`
/// is heard once). Every sine has the same level, in dBm0 (0 dBm0 being a sine 3.14 dB below
/// digital full scale, as in G.711).
public struct TonePattern: Equatable, Sendable, CustomStringConvertible {
    /// One step of the cadence.
    public struct Segment: Equatable, Sendable {
        /// The sines, in Hz; empty for silence.
        public var frequencies: [Int]
        /// The duration; 0 means forever (only for the last segment).
        public var milliseconds: Int
        /// Played on the first pass only.
        public var once: Bool

        public init(frequencies: [Int], milliseconds: Int, once: Bool = false) {
            self.frequencies = frequencies
            self.milliseconds = milliseconds
            self.once = once
        }
    }

    public var segments: [Segment]
    /// The level of each sine, in dBm0 (-13 by default, a common call-progress level).
    public var levelDBm0: Double

    public init(segments: [Segment], levelDBm0: Double = -13) {
        self.segments = segments
        self.levelDBm0 = levelDBm0
    }

    /// Parses the indications.conf form; refuses what the generator cannot play, naming it.
    public init(parsing text: String, levelDBm0: Double = -13) throws(ToneError) {
        var segments: [Segment] = []
        var element: [UInt8] = []
        var elements: [[UInt8]] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: ",") {
                elements.append(element)
                element.removeAll()
            } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                element.append(byte)
            }
        }
        elements.append(element)
        for (index, bytes) in elements.enumerated() {
            segments.append(try TonePattern.segment(bytes, index: index, in: text))
        }
        for (index, segment) in segments.enumerated() where segment.milliseconds == 0 && index != segments.count - 1 {
            throw ToneError(
                "tone '" + text + "': segment " + String(index + 1) + " has no duration but is not the last")
        }
        self.init(segments: segments, levelDBm0: levelDBm0)
        if levelDBm0 > 3 || levelDBm0 < -60 {
            throw ToneError("tone level " + String(Int(levelDBm0)) + " dBm0: use -60...3")
        }
    }

    private static func segment(_ bytes: [UInt8], index: Int, in text: String) throws(ToneError) -> Segment {
        func refuse(_ why: String) -> ToneError {
            ToneError("tone '" + text + "': segment " + String(index + 1) + " " + why)
        }
        var frequencies: [Int] = []
        var milliseconds = 0
        var once = false
        var number = -1
        var inDuration = false
        var position = 0
        if position < bytes.count && bytes[position] == UInt8(ascii: "!") {
            once = true
            position += 1
        }
        func finishNumber() throws(ToneError) {
            guard number >= 0 else { throw refuse("is missing a number") }
            if inDuration {
                milliseconds = number
            } else if number != 0 {
                if number < 20 || number > 20_000 { throw refuse("has a frequency of " + String(number) + " Hz") }
                frequencies.append(number)
            }
            number = -1
        }
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                number = max(0, number) * 10 + Int(byte - UInt8(ascii: "0"))
                if number > 1_000_000 { throw refuse("has a number out of range") }
            } else if byte == UInt8(ascii: "+") && !inDuration {
                try finishNumber()
            } else if byte == UInt8(ascii: "/") && !inDuration {
                try finishNumber()
                inDuration = true
            } else {
                throw refuse("has an unexpected '" + String(Character(Unicode.Scalar(byte))) + "'")
            }
        }
        try finishNumber()
        if frequencies.count > 4 { throw refuse("sums more than 4 sines") }
        if inDuration && milliseconds == 0 { throw refuse("lasts 0 ms") }
        return Segment(frequencies: frequencies, milliseconds: milliseconds, once: once)
    }

    /// The indications.conf form (parsing it gives this pattern back).
    public var description: String {
        var text = ""
        for (index, segment) in segments.enumerated() {
            if index > 0 { text += "," }
            if segment.once { text += "!" }
            if segment.frequencies.isEmpty {
                text += "0"
            } else {
                for (k, f) in segment.frequencies.enumerated() { text += (k > 0 ? "+" : "") + String(f) }
            }
            if segment.milliseconds > 0 { text += "/" + String(segment.milliseconds) }
        }
        return text
    }
}

/// The tones of one country (ITU-T E.180 Supplement 2 values, as in Asterisk's
/// indications.conf), each replaceable: board or provisioning keys `tones.country = de` and
/// `tones.busy = 425/480,0/480`. The default, `itu`, is E.180's recommended 425 Hz set (the
/// CEPT one most of Europe uses).
public struct ToneTable: Equatable, Sendable {
    public let country: String
    public var dial: TonePattern
    public var ringback: TonePattern
    public var busy: TonePattern
    public var congestion: TonePattern
    public var callWaiting: TonePattern
    public var ring: TonePattern

    /// Country codes with a built-in table.
    public static let countries = ["itu", "us", "gb", "de", "fr", "nl"]

    /// The built-in table for a country code (ISO 3166 alpha-2, lower case, or `itu`).
    public init(country: String) throws(ToneError) {
        let t: [String]
        switch country {
        case "itu", "eu":
            t = ["425", "425/1000,0/4000", "425/500,0/500", "425/250,0/250", "425/200,0/200,425/200,0/4400"]
        case "us", "ca":
            t = ["350+440", "440+480/2000,0/4000", "480+620/500,0/500", "480+620/250,0/250", "440/300,0/9700"]
        case "gb", "uk":
            t = [
                "350+450", "400+450/400,0/200,400+450/400,0/2000", "400/375,0/375",
                "400/400,0/350,400/225,0/525", "400/100,0/4000",
            ]
        case "de":
            t = ["425", "425/1000,0/4000", "425/480,0/480", "425/240,0/240", "425/200,0/200,425/200,0/5000"]
        case "fr":
            t = ["440", "440/1500,0/3500", "440/500,0/500", "440/250,0/250", "440/300,0/10000"]
        case "nl":
            t = ["425", "425/1000,0/4000", "425/500,0/500", "425/250,0/250", "425/500,0/9500"]
        default:
            throw ToneError("no tone table for country '" + country + "': use one of itu, us, gb, de, fr, nl")
        }
        self.country = country
        dial = try TonePattern(parsing: t[0])
        ringback = try TonePattern(parsing: t[1])
        busy = try TonePattern(parsing: t[2])
        congestion = try TonePattern(parsing: t[3])
        callWaiting = try TonePattern(parsing: t[4], levelDBm0: -20)
        // The ringer is the phone's own sound, on the speaker: a double ring, louder.
        ring = try TonePattern(parsing: "1000+1400/400,0/200,1000+1400/400,0/2000", levelDBm0: -8)
    }

    /// The built-in default (`itu`).
    public static var standard: ToneTable {
        do throws(ToneError) { return try ToneTable(country: "itu") } catch { fatalError("built-in tone table") }
    }

    public subscript(kind: ToneKind) -> TonePattern {
        get {
            switch kind {
            case .dial: return dial
            case .ringback: return ringback
            case .busy: return busy
            case .congestion: return congestion
            case .callWaiting: return callWaiting
            case .ring: return ring
            }
        }
        set {
            switch kind {
            case .dial: dial = newValue
            case .ringback: ringback = newValue
            case .busy: busy = newValue
            case .congestion: congestion = newValue
            case .callWaiting: callWaiting = newValue
            case .ring: ring = newValue
            }
        }
    }

    /// Replaces one tone from its configuration text (`set(.busy, "425/480,0/480")`).
    public mutating func set(_ kind: ToneKind, _ text: String, levelDBm0: Double = -13) throws(ToneError) {
        self[kind] = try TonePattern(parsing: text, levelDBm0: levelDBm0)
    }
}
