import Reactor

/// Long-press and repeat timings, and which keys repeat instead of long-pressing.
public struct KeyTiming: Equatable, Sendable {
    /// Held this long, a key fires `long` once (0: never). Default 1 s.
    public var longPressNanoseconds: Int64
    /// A repeating key held this long starts repeating (0: never). Default 500 ms.
    public var repeatDelayNanoseconds: Int64
    /// Then it repeats at this interval. Default 150 ms.
    public var repeatIntervalNanoseconds: Int64
    /// Keys that repeat while held (and never fire `long`). Default: volume and arrows.
    public var repeatingKeys: [PhoneKey]

    /// The default repeating keys: volume up/down and the four arrows.
    public static let defaultRepeatingKeys: [PhoneKey] = [.volumeUp, .volumeDown, .up, .down, .left, .right]

    public init(
        longPressNanoseconds: Int64 = 1_000_000_000, repeatDelayNanoseconds: Int64 = 500_000_000,
        repeatIntervalNanoseconds: Int64 = 150_000_000, repeatingKeys: [PhoneKey] = KeyTiming.defaultRepeatingKeys
    ) {
        self.longPressNanoseconds = longPressNanoseconds
        self.repeatDelayNanoseconds = repeatDelayNanoseconds
        self.repeatIntervalNanoseconds = repeatIntervalNanoseconds
        self.repeatingKeys = repeatingKeys
    }
}

/// Turns key-down/key-up into phone key events on the reactor's clock: `press`, `release`,
/// `long` (once, when held past the long-press time) and `repeat` (repeating keys, while
/// held). Every key source feeds one of these, so no user times key holds itself.
///
/// Kernel autorepeat (evdev value 2) is ignored: repeats come from the resolver's own timers,
/// the same on every source. The hook switch never fires `long` or `repeat`. A second press
/// of a held key and a release of a key not held are dropped.
public final class KeyResolver {
    struct Held {
        var key: PhoneKey
        var timer: TimerID?
    }

    private let reactor: Reactor
    /// The timings in force.
    public let timing: KeyTiming
    private var handler: ((KeyEvent) -> Void)?
    private var held: [Held] = []

    public init(reactor: Reactor, timing: KeyTiming, handler: @escaping (KeyEvent) -> Void) {
        self.reactor = reactor
        self.timing = timing
        self.handler = handler
        held.reserveCapacity(8)
    }

    /// Keys currently held, in the order pressed.
    public var heldKeys: [PhoneKey] { held.map { $0.key } }

    /// An evdev-style key value: 0 release, 1 press, 2 autorepeat (ignored); others dropped.
    public func input(_ key: PhoneKey, value: Int32) {
        switch value {
        case 0: release(key)
        case 1: press(key)
        default: break
        }
    }

    /// The key went down.
    public func press(_ key: PhoneKey) {
        if held.contains(where: { $0.key == key }) { return }
        var timer: TimerID? = nil
        if key != .hook {
            if timing.repeatingKeys.contains(key) {
                if timing.repeatDelayNanoseconds > 0 {
                    timer = reactor.every(
                        max(1, timing.repeatIntervalNanoseconds), firstAfter: timing.repeatDelayNanoseconds
                    ) { self.emit(key, .repeat) }
                }
            } else if timing.longPressNanoseconds > 0 {
                timer = reactor.after(timing.longPressNanoseconds) { self.longFired(key) }
            }
        }
        held.append(Held(key: key, timer: timer))
        emit(key, .press)
    }

    /// The key went up.
    public func release(_ key: PhoneKey) {
        guard let i = held.firstIndex(where: { $0.key == key }) else { return }
        if let t = held[i].timer { reactor.cancel(t) }
        held.remove(at: i)
        emit(key, .release)
    }

    /// Releases every held key (the device went away, the source closed).
    public func releaseAll() {
        while let first = held.first { release(first.key) }
    }

    /// Cancels timers and drops the handler (breaks the handler's reference cycles).
    public func close() {
        for h in held { if let t = h.timer { reactor.cancel(t) } }
        held.removeAll()
        handler = nil
    }

    private func longFired(_ key: PhoneKey) {
        if let i = held.firstIndex(where: { $0.key == key }) { held[i].timer = nil }
        emit(key, .long)
    }

    private func emit(_ key: PhoneKey, _ kind: KeyEventKind) {
        handler?(KeyEvent(key: key, kind: kind, time: reactor.now))
    }
}
