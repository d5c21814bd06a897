import CLinux
import Testing

@testable import Keys

@Suite("input_event layouts and the stream decoder")
struct InputEventTests {
    @Test("the build's layout is sizeof(struct input_event)")
    func nativeLayout() {
        #expect(InputEventLayout.native.size == cl_input_event_size())
        #expect(InputEventLayout.native.size == MemoryLayout<input_event>.size)
    }

    @Test("24-byte records: the kernel's exact bytes", arguments: [InputEventLayout.bytes24, .bytes16])
    func knownBytes(_ layout: InputEventLayout) {
        let e = InputEvent(type: 1, code: 0x3B, value: 1, seconds: 0x1234_5678, microseconds: 999_999)
        let bytes = layout.encode(e)
        #expect(bytes.count == layout.size)
        let expected: [UInt8]
        if layout == .bytes24 {
            expected = [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0x3F, 0x42, 0x0F, 0, 0, 0, 0, 0, 1, 0, 0x3B, 0, 1, 0, 0, 0]
        } else {
            expected = [0x78, 0x56, 0x34, 0x12, 0x3F, 0x42, 0x0F, 0, 1, 0, 0x3B, 0, 1, 0, 0, 0]
        }
        #expect(bytes == expected)
        let back = bytes.withUnsafeBytes { layout.decode($0.baseAddress!) }
        #expect(back == e)
    }

    @Test("the native layout matches what the C struct holds")
    func matchesCStruct() {
        var ev = input_event()
        ev.type = 1
        ev.code = 30
        ev.value = 2
        let bytes = withUnsafeBytes(of: &ev) { Array($0) }
        let decoded = bytes.withUnsafeBytes { InputEventLayout.native.decode($0.baseAddress!) }
        #expect(decoded.type == 1 && decoded.code == 30 && decoded.value == 2)
    }

    @Test("records split across reads at every possible point, both layouts",
          arguments: [InputEventLayout.bytes24, .bytes16])
    func partialReads(_ layout: InputEventLayout) {
        let events = recording([(0, 30, 1), (120, 30, 0), (300, 0x3B, 1), (1500, 0x3B, 0)])
        let bytes = encode(events, layout)
        for chunk in 1...(layout.size * 2 + 3) {
            var decoder = InputEventDecoder(layout: layout)
            var out: [InputEvent] = []
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + chunk)
                bytes[i..<end].withUnsafeBytes { decoder.feed($0) { out.append($0) } }
                i = end
            }
            #expect(out == events, "chunk \(chunk)")
            #expect(decoder.partialCount == 0)
        }
    }

    @Test("garbage bytes decode to events without trapping")
    func garbage() {
        var decoder = InputEventDecoder(layout: .bytes24)
        var state: UInt64 = 42
        var bytes: [UInt8] = []
        for _ in 0..<10_007 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(UInt8(truncatingIfNeeded: state >> 40))
        }
        var n = 0
        bytes.withUnsafeBytes { decoder.feed($0) { _ in n += 1 } }
        #expect(n == 10_007 / 24)
        #expect(decoder.partialCount == 10_007 % 24)
    }
}
