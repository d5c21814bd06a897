import CMallocCounter
import Testing

@testable import SIP

@Suite("SIP stream framer (RFC 3261 §18.3, RFC 5626 §3.5.1)")
struct StreamFramerTests {
    static func message(_ body: String = "", extra: String = "", lengthHeader: String? = nil) -> [UInt8] {
        let length = lengthHeader ?? "Content-Length: \(body.utf8.count)\r\n"
        let text =
            "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
            + extra + length + "\r\n" + body
        return Array(text.utf8)
    }

    static func drain(_ framer: inout SIPStreamFramer) throws(SIPStreamFramingError) -> [SIPStreamFrame] {
        var frames: [SIPStreamFrame] = []
        while let frame = try framer.next() { frames.append(frame) }
        return frames
    }

    @Test("a message split into single bytes comes out whole, once")
    func byteByByte() throws {
        let m = Self.message("v=0\r\n")
        var framer = SIPStreamFramer()
        var frames: [SIPStreamFrame] = []
        for byte in m {
            framer.append([byte])
            frames += try Self.drain(&framer)
        }
        #expect(frames == [.message(m)])
        #expect(framer.bufferedCount == 0)
    }

    @Test("three messages in one chunk, then a partial fourth")
    func severalInOneRead() throws {
        let a = Self.message("one")
        let b = Self.message("")
        let c = Self.message("three!")
        let d = Self.message("four")
        var framer = SIPStreamFramer()
        framer.append(a + b + c + Array(d[0..<20]))
        #expect(try Self.drain(&framer) == [.message(a), .message(b), .message(c)])
        #expect(framer.hasPartialMessage)
        framer.append(Array(d[20...]))
        #expect(try Self.drain(&framer) == [.message(d)])
        #expect(!framer.hasPartialMessage)
    }

    @Test("compact name, odd case, folded value and bare LF line ends")
    func contentLengthForms() throws {
        var framer = SIPStreamFramer()
        let compact = Self.message("abc", lengthHeader: "l: 3\r\n")
        let upper = Self.message("abcd", lengthHeader: "CONTENT-length :\r\n   4 \r\n")
        let bare = Array("SIP/2.0 200 OK\nVia: SIP/2.0/TCP h\nl:2\n\nok".utf8)
        framer.append(compact + upper + bare)
        #expect(try Self.drain(&framer) == [.message(compact), .message(upper), .message(bare)])
    }

    @Test("a header that merely contains the letters is not Content-Length")
    func lookalikes() throws {
        var framer = SIPStreamFramer()
        let m = Self.message("xy", extra: "X-Content-Length: 99\r\nLength: 7\r\n")
        framer.append(m)
        #expect(try Self.drain(&framer) == [.message(m)])
    }

    @Test("CRLFCRLF is a ping, lone CRLFs between messages are skipped")
    func keepAlive() throws {
        var server = SIPStreamFramer()
        let m = Self.message("")
        server.append(Array("\r\n\r\n".utf8) + Array("\r\n".utf8) + m + Array("\r\n".utf8))
        #expect(try Self.drain(&server) == [.ping, .message(m)])
        // The trailing CRLF may be half a ping: the rest arrives later.
        server.append(Array("\r\n".utf8))
        #expect(try Self.drain(&server) == [.ping])
        var client = SIPStreamFramer(reportsPongs: true)
        client.append(Array("\r\n".utf8))
        #expect(try Self.drain(&client) == [.pong])
    }

    @Test("a message without Content-Length is fatal on a stream")
    func missingLength() {
        var framer = SIPStreamFramer()
        framer.append(Self.message("", lengthHeader: ""))
        #expect(throws: SIPStreamFramingError.missingContentLength) { try framer.next() }
        // The framer stays failed.
        framer.append(Self.message(""))
        #expect(throws: SIPStreamFramingError.missingContentLength) { try framer.next() }
    }

    @Test("invalid or conflicting Content-Length")
    func invalidLength() {
        for header in [
            "Content-Length: 1x\r\n", "Content-Length: -1\r\n", "Content-Length:\r\n",
            "Content-Length: 1\r\nl: 2\r\n", "l: 99999999999999\r\n",
        ] {
            var framer = SIPStreamFramer()
            framer.append(Self.message("", lengthHeader: header))
            #expect(throws: SIPStreamFramingError.invalidContentLength) { try framer.next() }
        }
    }

    @Test("header and message size limits")
    func limits() {
        let limits = SIPStreamFramer.Limits(maxHeaderBytes: 200, maxMessageBytes: 300)
        var endless = SIPStreamFramer(limits: limits)
        // A slowloris peer: header lines without the empty line, beyond the limit.
        for _ in 0..<20 { endless.append(Array("X-Filler: aaaaaaaaaaaa\r\n".utf8)) }
        #expect(throws: SIPStreamFramingError.headerTooLarge(limit: 200)) { try endless.next() }

        var big = SIPStreamFramer(limits: limits)
        // The declared length is refused as soon as the header block is in, before the body.
        let header = Self.message("", lengthHeader: "Content-Length: 5000\r\n")
        big.append(header)
        #expect(throws: SIPStreamFramingError.messageTooLarge(size: 5000 + header.count, limit: 300)) {
            try big.next()
        }
    }

    @Test("limits allow a message of exactly the maximum size")
    func exactLimit() throws {
        let m = Self.message(String(repeating: "a", count: 50))
        var framer = SIPStreamFramer(limits: .init(maxHeaderBytes: m.count - 50, maxMessageBytes: m.count))
        framer.append(m)
        #expect(try Self.drain(&framer) == [.message(m)])
    }

    @Test("framing allocates per message, not per byte or per chunk")
    func allocations() throws {
        let m = Self.message(String(repeating: "b", count: 300))
        let stream = [UInt8]((0..<200).map { _ in m }.joined())
        var framer = SIPStreamFramer()
        // Warm up: the buffer reaches its working size.
        framer.append(m)
        _ = try Self.drain(&framer)
        var messages = 0
        let before = mc_thread_allocations()
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 13)
            stream[offset..<end].withUnsafeBytes { framer.append($0) }
            offset = end
            while let frame = try framer.next() {
                if case .message = frame { messages += 1 }
            }
        }
        let allocations = mc_thread_allocations() - before
        #expect(messages == 200)
        // One array per message; 13-byte chunks of ~470-byte messages add none.
        #expect(allocations <= UInt64(messages) + 4, "\(allocations) allocations")
    }
}
