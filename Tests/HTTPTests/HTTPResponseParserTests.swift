import TestSupport
import Testing

@testable import HTTP

/// Feeds `text` to a fresh parser `step` bytes at a time, then (if still incomplete) the end
/// of the stream.
func parse(_ text: [UInt8], step: Int = .max, close: Bool = true) -> (HTTPResponseParser.Progress, HTTPResponseParser) {
    var parser = HTTPResponseParser()
    var i = 0
    var progress = HTTPResponseParser.Progress.incomplete
    while i < text.count && progress == .incomplete {
        let end = min(text.count, i + max(1, min(step, text.count)))
        progress = parser.append(Array(text[i..<end]))
        i = end
    }
    if progress == .incomplete && close { progress = parser.finish() }
    return (progress, parser)
}

func parse(_ text: String, step: Int = .max, close: Bool = true) -> (HTTPResponseParser.Progress, HTTPResponseParser) {
    parse(Array(text.utf8), step: step, close: close)
}

@Suite("HTTP response parser (RFC 9112)")
struct HTTPResponseParserTests {
    @Test("Content-Length body, in every split")
    func contentLength() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhelloIGNORED"
        for step in [1, 2, 3, 7, 1000] {
            let (progress, parser) = parse(text, step: step, close: false)
            #expect(progress == .complete, "step \(step)")
            #expect(parser.status == 200)
            #expect(parser.reason == "OK")
            #expect(parser.body == Array("hello".utf8))
            #expect(parser.headers.map { $0.name } == ["Content-Type", "Content-Length"])
            #expect(parser.response.header("CONTENT-TYPE") == "text/xml")
        }
    }

    @Test("chunked body with extensions and trailers, in every split")
    func chunked() {
        var text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        text += "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n"
        for step in [1, 2, 5, 1000] {
            let (progress, parser) = parse(text, step: step, close: false)
            #expect(progress == .complete, "step \(step)")
            #expect(String(decoding: parser.body, as: UTF8.self) == "Wikipedia in\r\n\r\nchunks.")
        }
    }

    @Test("no length: read to close; 204 and 304 have no body; 1xx are skipped")
    func framing() {
        let (closeProgress, closeParser) = parse("HTTP/1.0 200 OK\r\n\r\nuntil close")
        #expect(closeProgress == .complete)
        #expect(closeParser.body == Array("until close".utf8))
        let (noContent, noContentParser) = parse("HTTP/1.1 204 No Content\r\n\r\n", close: false)
        #expect(noContent == .complete)
        #expect(noContentParser.status == 204)
        var interimText = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
        interimText += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let (interim, interimParser) = parse(interimText, step: 3, close: false)
        #expect(interim == .complete)
        #expect(interimParser.status == 200)
        #expect(interimParser.headers.count == 1)
        let (bareLF, bareLFParser) = parse("HTTP/1.1 201 Created\nContent-Length: 1\n\nx", close: false)
        #expect(bareLF == .complete)
        #expect(bareLFParser.status == 201)
        #expect(bareLFParser.body == [120])
        let (noReason, noReasonParser) = parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", close: false)
        #expect(noReason == .complete)
        #expect(noReasonParser.reason == "")
        let (same, _) = parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", close: false)
        #expect(same == .complete)
    }

    @Test("malformed and hostile responses fail with a reason")
    func malformed() {
        let cases: [(String, String)] = [
            ("", "malformed response: connection closed without a response"),
            ("HTTP/1.1 200 OK\r\nContent-", "malformed response: connection closed inside the response header"),
            ("HTTP/2 200\r\n\r\n", "malformed response: bad status line 'HTTP/2 200'"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "malformed response: bad status line 'HTTP/1.1 2000 OK'"),
            ("HTTP/1.1 099 X\r\n\r\n", "malformed response: bad status line 'HTTP/1.1 099 X'"),
            ("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "malformed response: header line without a name: 'NoColon'"),
            ("HTTP/1.1 200 OK\r\n: v\r\n\r\n", "malformed response: header line without a name: ': v'"),
            ("HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n", "malformed response: bad header name 'Bad Name'"),
            ("HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", "malformed response: obsolete line folding in the header"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed response: bad Content-Length '-1'"),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                "malformed response: bad Content-Length '99999999999999999999'"
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "malformed response: conflicting Content-Length values"
            ),
            ("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", "response body larger than 65536 bytes"),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "malformed response: bad chunk size line 'zz'"
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n",
                "response body larger than 65536 bytes"
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
                "malformed response: chunk data longer than its size"
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab",
                "malformed response: connection closed inside the chunked body"
            ),
            ("HTTP/1.1 200 OK\r\nX: a\u{01}b\r\n\r\n", "malformed response: control character in header 'X'"),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "malformed response: unexpected 101 Switching Protocols"),
        ]
        for (text, reason) in cases {
            for step in [1, 1000] {
                let (progress, _) = parse(text, step: step)
                #expect(progress == .failed(reason), "\(text.debugDescription) step \(step)")
            }
        }
    }

    @Test("size limits: header section, header count, chunked total, read-to-close total")
    func limits() {
        var longHeader = "HTTP/1.1 200 OK\r\nX: "
        longHeader += String(repeating: "a", count: 20_000) + "\r\n\r\n"
        #expect(
            parse(longHeader, step: 4096).0 == .failed("malformed response: header section longer than 16384 bytes"))
        let endlessHeader = "HTTP/1.1 200 OK\r\n" + String(repeating: "X: a\r\n", count: 4000)
        let endless = parse(endlessHeader, step: 512, close: false).0
        #expect(endless == .failed("malformed response: header section longer than 16384 bytes"))
        var many = "HTTP/1.1 200 OK\r\n"
        many += String(repeating: "X: a\r\n", count: 101) + "\r\n"
        #expect(parse(many).0 == .failed("malformed response: more than 100 header fields"))
        var chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for _ in 0..<70 { chunks += "400\r\n" + String(repeating: "b", count: 1024) + "\r\n" }
        #expect(parse(chunks, step: 3000).0 == .failed("response body larger than 65536 bytes"))
        let unbounded = "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "c", count: 70_000)
        #expect(parse(unbounded, step: 5000).0 == .failed("response body larger than 65536 bytes"))
        let exactly = "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "c", count: 65536)
        #expect(parse(exactly, step: 5000).0 == .complete)
    }

    /// Found by the `http` fuzz target: a chunk-size line over 1024 bytes was refused when it came
    /// in pieces but accepted when it came in one read; now it is refused both ways.
    @Test("the chunk-size line limit does not depend on the split")
    func longChunkSizeLine() {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "0", count: 1100)
            + "5\r\nhello\r\n0\r\n\r\n"
        for step in [1, 7, 64, 1000, 100_000] {
            #expect(
                parse(text, step: step).0 == .failed("malformed response: chunk size line longer than 1024 bytes"),
                "step \(step)")
        }
        // 1024 bytes before the LF are still fine.
        let longest =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + String(repeating: "x", count: 1021)
            + "\r\nhello\r\n0\r\n\r\n"
        for step in [1, 64, 100_000] {
            let (progress, parser) = parse(longest, step: step)
            #expect(progress == .complete, "step \(step)")
            #expect(parser.body == Array("hello".utf8))
        }
    }

    @Test("random bytes never crash the parser (deterministic generator)")
    func randomInput() {
        var generator = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { generator.next() }
        let pieces: [[UInt8]] = [
            Array("HTTP/1.1 200 OK\r\n".utf8), Array("Content-Length: 3\r\n".utf8),
            Array("Transfer-Encoding: chunked\r\n".utf8), Array("\r\n".utf8), Array("3\r\nabc\r\n".utf8),
            Array("0\r\n\r\n".utf8), [0, 255, 13, 10, 58, 32],
        ]
        for _ in 0..<2000 {
            var input: [UInt8] = []
            for _ in 0..<Int(next() % 8) {
                if next() % 3 == 0 {
                    input.append(UInt8(truncatingIfNeeded: next()))
                } else {
                    input += pieces[Int(next() % UInt64(pieces.count))]
                }
            }
            let (progress, parser) = parse(input, step: Int(next() % 9) + 1)
            #expect(progress != .incomplete)
            #expect(parser.body.count <= 65536)
        }
    }
}
