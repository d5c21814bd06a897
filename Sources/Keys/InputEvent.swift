import CLinux

/// One kernel input event (`struct input_event`) with its timestamp, independent of the
/// layout it was read in.
public struct InputEvent: Equatable, Sendable {
    /// `EV_SYN`, `EV_KEY`, `EV_MSC`, ...
    public var type: UInt16
    public var code: UInt16
    /// For `EV_KEY`: 0 release, 1 press, 2 kernel autorepeat.
    public var value: Int32
    public var seconds: Int64
    public var microseconds: Int64

    public init(type: UInt16, code: UInt16, value: Int32, seconds: Int64 = 0, microseconds: Int64 = 0) {
        self.type = type
        self.code = code
        self.value = value
        self.seconds = seconds
        self.microseconds = microseconds
    }

    /// The timestamp in nanoseconds.
    public var timeNanoseconds: Int64 { seconds &* 1_000_000_000 &+ microseconds &* 1000 }

    public static let typeSyn: UInt16 = 0x00
    public static let typeKey: UInt16 = 0x01
    public static let typeMsc: UInt16 = 0x04
    /// `SYN_DROPPED`: the kernel's buffer overran and events were lost.
    public static let synDropped: UInt16 = 3
}

/// The byte layout of `struct input_event`: 24 bytes where `time_t`/`long` are 64-bit
/// (x86_64, aarch64), 16 bytes on 32-bit ARM. Little-endian in both.
public enum InputEventLayout: Int, Equatable, Sendable, CustomStringConvertible {
    /// `{ u32 sec; u32 usec; u16 type; u16 code; s32 value }` (32-bit ARM).
    case bytes16 = 16
    /// `{ u64 sec; u64 usec; u16 type; u16 code; s32 value }` (64-bit Linux).
    case bytes24 = 24

    /// The layout of the build's own `struct input_event`.
    public static var native: InputEventLayout { cl_input_event_size() == 16 ? .bytes16 : .bytes24 }

    /// Record size in bytes.
    public var size: Int { rawValue }

    public var description: String { String(rawValue) + "-byte" }

    /// The record for `event` in this layout (for recordings, tests and benchmarks).
    public func encode(_ event: InputEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size)
        func put(_ value: UInt64, _ count: Int) {
            for i in 0..<count { out.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
        }
        let timeWidth = self == .bytes24 ? 8 : 4
        put(UInt64(bitPattern: event.seconds), timeWidth)
        put(UInt64(bitPattern: event.microseconds), timeWidth)
        put(UInt64(event.type), 2)
        put(UInt64(event.code), 2)
        put(UInt64(UInt32(bitPattern: event.value)), 4)
        return out
    }

    /// Decodes one record from exactly `size` bytes at `bytes`.
    public func decode(_ bytes: UnsafeRawPointer) -> InputEvent {
        func get(_ offset: Int, _ count: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<count { v |= UInt64(bytes.load(fromByteOffset: offset + i, as: UInt8.self)) << UInt64(8 * i) }
            return v
        }
        let seconds: Int64
        let micros: Int64
        let rest: Int
        if self == .bytes24 {
            seconds = Int64(bitPattern: get(0, 8))
            micros = Int64(bitPattern: get(8, 8))
            rest = 16
        } else {
            seconds = Int64(Int32(bitPattern: UInt32(get(0, 4))))
            micros = Int64(Int32(bitPattern: UInt32(get(4, 4))))
            rest = 8
        }
        return InputEvent(
            type: UInt16(get(rest, 2)), code: UInt16(get(rest + 2, 2)),
            value: Int32(bitPattern: UInt32(get(rest + 4, 4))), seconds: seconds, microseconds: micros)
    }
}

/// Cuts a byte stream into `input_event` records of one layout. Reads may end anywhere: a
/// partial record is kept until the rest arrives. Never allocates after creation.
public struct InputEventDecoder {
    /// The record layout this decoder reads.
    public let layout: InputEventLayout
    private var partial: [UInt8]

    public init(layout: InputEventLayout = .native) {
        self.layout = layout
        partial = [UInt8](repeating: 0, count: 24)
        partialCount = 0
    }

    /// Bytes of an incomplete record waiting for the rest.
    public private(set) var partialCount: Int

    /// Feeds the bytes of one read; `body` gets each complete record in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ body: (InputEvent) -> Void) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let size = layout.size
        var offset = 0
        if partialCount > 0 {
            let take = min(size - partialCount, bytes.count)
            for i in 0..<take { partial[partialCount + i] = bytes[i] }
            partialCount += take
            offset = take
            if partialCount < size { return }
            let event = partial.withUnsafeBytes { layout.decode($0.baseAddress!) }
            partialCount = 0
            body(event)
        }
        while bytes.count - offset >= size {
            body(layout.decode(base + offset))
            offset += size
        }
        let left = bytes.count - offset
        for i in 0..<left { partial[i] = bytes[offset + i] }
        partialCount = left
    }

    /// Forgets a partial record (after a reopen).
    public mutating func reset() { partialCount = 0 }
}
