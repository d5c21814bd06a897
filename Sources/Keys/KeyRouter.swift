import CLinux

/// Writes one line to standard error: the Keys module's default log.
public func keysLogToStandardError(_ line: String) {
    var text = "keys: " + line + "\n"
    text.withUTF8 { buffer in _ = cl_write(2, buffer.baseAddress, buffer.count) }
}

/// Takes raw `input_event`s from any source, maps `EV_KEY` codes through the keymap and
/// feeds the resolver. `EV_SYN`, `EV_MSC` and other types are ignored; an unmapped code is
/// logged once (the first time it arrives), as is a key value outside 0/1/2.
public final class KeyRouter {
    /// The keymap in force.
    public let keymap: KeyMap
    /// The resolver that times holds.
    public let resolver: KeyResolver
    private var log: (String) -> Void
    private var reported: Set<UInt16> = []
    private var reportedBadValue = false

    public init(keymap: KeyMap, resolver: KeyResolver, log: @escaping (String) -> Void) {
        self.keymap = keymap
        self.resolver = resolver
        self.log = log
    }

    /// Codes logged as unmapped so far.
    public var unknownCodesSeen: [UInt16] { reported.sorted() }

    /// One raw event.
    public func handle(_ event: InputEvent) {
        guard event.type == InputEvent.typeKey else { return }
        guard let key = keymap[event.code] else {
            if !reported.contains(event.code) {
                reported.insert(event.code)
                log("unmapped key code " + KeyMap.name(ofCode: event.code) + " (" + String(event.code) + ") ignored")
            }
            return
        }
        guard event.value >= 0 && event.value <= 2 else {
            if !reportedBadValue {
                reportedBadValue = true
                log("key value " + String(event.value) + " for " + key.name + " ignored (expected 0, 1 or 2)")
            }
            return
        }
        resolver.input(key, value: event.value)
    }

    /// Drops the log closure and closes the resolver.
    public func close() {
        resolver.close()
        log = { _ in }
    }
}
