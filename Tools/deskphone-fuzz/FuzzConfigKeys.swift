// Fuzz targets of what the phone reads from files and devices: `.cfg` provisioning text (Config)
// and raw `input_event` streams (Keys). Each traps only on a broken invariant.
import Config
import HTTP  // FuzzSplits: the split sizes every fuzz target draws from its input
import Keys
import Reactor

enum ConfigKeysFuzz {
    /// `.cfg` text (with and without the version line required): the entries of a file that
    /// parses, written again as `key = "value"` lines under a version line, parse to the same
    /// keys and values; the typed accessors never trap.
    static func cfg(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        for strict in [true, false] {
            let file: ConfigFile
            do throws(ConfigError) {
                file = try ConfigFile(text: text, path: "fuzz.cfg", requireVersionLine: strict)
            } catch {
                if error.line < 0 { fatalError("config error at line \(error.line)") }
                _ = error.description
                continue
            }
            var again = "#!version:1.0.0.1\n"
            for entry in file.entries {
                if entry.key.isEmpty || entry.line < 1 {
                    fatalError("config entry '\(entry.key)' at \(entry.location)")
                }
                again += entry.key + " = \"" + entry.value + "\"\n"
                _ = try? file.int(entry.key, default: 0, in: -1000...1000)
                _ = try? file.bool(entry.key, default: false)
            }
            do throws(ConfigError) {
                let reread = try ConfigFile(text: again, path: "again.cfg")
                guard reread.entries.count == file.entries.count else {
                    fatalError("config round trip: \(file.entries.count) entries became \(reread.entries.count)")
                }
                for (a, b) in zip(file.entries, reread.entries) where a.key != b.key || a.value != b.value {
                    fatalError("config round trip changed \(a.key) = '\(a.value)' to \(b.key) = '\(b.value)'")
                }
            } catch {
                fatalError("config entries written again do not parse: \(error.description)\n\(again)")
            }
            if let first = file.entries.first { _ = file.entries(withPrefix: String(first.key.prefix(3))) }
        }
    }

    nonisolated(unsafe) static var reactor: Reactor? = nil

    /// `input_event` streams: the first byte picks the layout (16 or 24 bytes), the rest is the
    /// stream. Decoded in random splits it gives the same events as record by record, each record
    /// re-encodes to its bytes, and the events, routed through the standard keymap to a key
    /// resolver on a virtual clock (record timestamps as the spacing), give a well-formed key
    /// event sequence: a release only of a held key, `long` once per press of a non-repeating key,
    /// `repeat` only of a held repeating key, and nothing held after the end.
    static func keys(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let layout: InputEventLayout = first & 1 == 0 ? .bytes24 : .bytes16
        let stream = UnsafeRawBufferPointer(rebasing: bytes[1...])
        let size = layout.size
        var expected: [InputEvent] = []
        var offset = 0
        while offset + size <= stream.count {
            let event = layout.decode(stream.baseAddress! + offset)
            if layout.encode(event) != Array(stream[offset..<(offset + size)]) {
                fatalError("input_event record does not re-encode to its bytes")
            }
            expected.append(event)
            offset += size
        }
        var decoder = InputEventDecoder(layout: layout)
        var events: [InputEvent] = []
        var splits = FuzzSplits(bytes)
        var i = 0
        while i < stream.count {
            let n = min(stream.count - i, splits.next(2 * size + 3))
            decoder.feed(UnsafeRawBufferPointer(rebasing: stream[i..<(i + n)])) { events.append($0) }
            i += n
        }
        if events != expected || decoder.partialCount != stream.count % size {
            fatalError("input_event decoding depends on the split: \(events.count) vs \(expected.count) events")
        }

        if reactor == nil { reactor = try? Reactor(clock: .virtual(startNanoseconds: 0)) }
        guard let reactor else { fatalError("no reactor") }
        let timing = KeyTiming()
        var held: [PhoneKey: Bool] = [:]  // key -> long fired
        var failure: String? = nil
        let resolver = KeyResolver(reactor: reactor, timing: timing) { event in
            switch event.kind {
            case .press:
                if held[event.key] != nil { failure = "second press of held \(event.key)" }
                held[event.key] = false
            case .release:
                if held[event.key] == nil { failure = "release of \(event.key), not held" }
                held[event.key] = nil
            case .long:
                if held[event.key] != false || timing.repeatingKeys.contains(event.key) || event.key == .hook {
                    failure = "long of \(event.key) not held, fired twice or a repeating key"
                }
                held[event.key] = true
            case .repeat:
                if held[event.key] == nil || !timing.repeatingKeys.contains(event.key) {
                    failure = "repeat of \(event.key) not held or not repeating"
                }
            }
        }
        let router = KeyRouter(keymap: KeyMap.standard, resolver: resolver, log: { _ in })
        var previous: Int64? = nil
        for event in events {
            let t = event.timeNanoseconds
            if let previous {
                let gap = min(max(0, t &- previous), 3_000_000_000)
                try? reactor.run(for: gap)
            }
            previous = t
            router.handle(event)
            if let failure { fatalError("key events: " + failure) }
        }
        try? reactor.run(for: 2_000_000_000)
        resolver.releaseAll()
        if let failure { fatalError("key events: " + failure) }
        if !held.isEmpty || !resolver.heldKeys.isEmpty { fatalError("keys still held after releaseAll") }
        router.close()
        if reactor.timerCount != 0 { fatalError("key timers left after close: \(reactor.timerCount)") }
    }
}
