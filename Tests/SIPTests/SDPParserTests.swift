import Foundation
import Testing

@testable import SIP

/// The SDP fixtures in Fixtures/sdp (valid descriptions) and Fixtures/sdp/invalid.
enum SDPFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sdp")

    static func bytes(_ name: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
            return []
        }
        return [UInt8](data)
    }

    static func names(_ subdirectory: String = "") -> [String] {
        let path = subdirectory.isEmpty ? directory.path : directory.appendingPathComponent(subdirectory).path
        let all = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return all.filter { $0.hasSuffix(".sdp") }.sorted().map { subdirectory.isEmpty ? $0 : subdirectory + "/" + $0 }
    }

    static func session(_ name: String) throws -> SDPSession { try SDPSession.parse(bytes(name)) }

    /// `bytes` with every bare LF turned into CRLF.
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A, index == 0 || bytes[index - 1] != 0x0D { out.append(0x0D) }
            out.append(byte)
        }
        return out
    }
}

@Suite("SDP parser and serializer")
struct SDPParserTests {
    @Test("every fixture parses, serializes to its own text with CRLF, and parses back equal")
    func fixturesRoundTrip() throws {
        let names = SDPFixtures.names()
        #expect(names.count >= 14)
        for name in names {
            let bytes = SDPFixtures.bytes(name)
            let session = try SDPSession.parse(bytes)
            let canonical = session.serialized()
            #expect(canonical == SDPFixtures.crlf(bytes), "\(name)")
            #expect(try SDPSession.parse(canonical) == session, "\(name)")
        }
    }

    @Test("RFC 4317 §2.1 offer: a single-space s=, audio and video, static and dynamic payload types")
    func rfc4317Offer() throws {
        let offer = try SDPFixtures.session("rfc4317-2.1-offer.sdp")
        #expect(offer.sessionName == " ")
        #expect(offer.origin.username == "alice" && offer.origin.sessionID == "2890844526")
        #expect(offer.origin.sessionVersion == 2_890_844_526)
        #expect(offer.connection == SDPConnection(addressType: "IP4", address: "host.atlanta.example.com"))
        #expect(offer.timings == [SDPTiming(start: 0, stop: 0)])
        #expect(offer.media.count == 2)
        let audio = offer.media[0]
        #expect(audio.media == "audio" && audio.port == 49170 && audio.proto == "RTP/AVP")
        #expect(audio.payloadTypes == [0, 8, 97])
        #expect(audio.rtpMap(for: 97) == SDPRTPMap(payloadType: 97, encodingName: "iLBC", clockRate: 8000))
        #expect(audio.rtpMap(for: 8)?.encodingName == "PCMA")
        #expect(offer.media[1].formats == ["31", "32"])
        #expect(offer.media[1].rtpMap(for: 32)?.clockRate == 90000)
        #expect(offer.direction(ofMedia: 0) == .sendrecv)
    }

    @Test("every session-level line type of RFC 8866 §5, repeat times, port counts, several media c=")
    func allLineTypes() throws {
        let session = try SDPFixtures.session("rfc8866-example.sdp")
        #expect(session.information == "SDP Offer #1")
        #expect(session.uri == "http://www.jdoe.example.com/home.html")
        #expect(session.emails == ["Jane Doe <jane@jdoe.example.com>"])
        #expect(session.phones == ["+1 617 555-6011"])
        #expect(session.bandwidths == [SDPBandwidth(type: "CT", value: 128)])
        #expect(
            session.timings == [SDPTiming(start: 3_724_394_400, stop: 3_724_398_000, repeats: ["604800 3600 0 90000"])])
        #expect(session.timeZones == "3730928400 -1h 3749680800 0")
        #expect(session.encryptionKey == "prompt")
        #expect(session.direction == .recvonly)
        #expect(session.direction(ofMedia: 0) == .recvonly)
        #expect(session.media[1].port == 49180 && session.media[1].portCount == 2)
        #expect(session.media[1].information == "second stream")
        #expect(session.media[2].connections.map(\.address) == ["2001:db8::2", "2001:db8::3"])
        #expect(session.connection(ofMedia: 2)?.addressType == "IP6")
        #expect(session.connection(ofMedia: 0)?.address == "198.51.100.1")
    }

    @Test("IPv6 connection, session-level direction, media bandwidth, fmtp and rtcp accessors")
    func accessors() throws {
        let polycom = try SDPFixtures.session("polycom-ipv6-video.sdp")
        #expect(polycom.connection == SDPConnection(address: "2001:db8::20"))
        #expect(polycom.connection?.addressType == "IP6")
        #expect(polycom.direction == .sendrecv && polycom.media[0].direction == nil)
        #expect(polycom.media[1].bandwidths == [SDPBandwidth(type: "TIAS", value: 384_000)])
        #expect(polycom.media[0].formatParameters(for: 102) == "bitrate=32000")
        #expect(polycom.media[0].formatParameters(for: 9) == nil)

        let soft = try SDPFixtures.session("softphone-opus-l16.sdp")
        let audio = soft.media[0]
        #expect(audio.ptime == 40 && audio.maxptime == nil)
        #expect(
            audio.rtpMap(for: 111) == SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.formatParameters(for: 111) == "maxplaybackrate=16000;useinbandfec=1")
        #expect(audio.rtcp == SDPRTCPAddress(port: 30011, connection: SDPConnection(address: "198.51.100.8")))
        #expect(audio.rtpMap(for: 120) == nil)

        let baresip = try SDPFixtures.session("baresip-offer.sdp")
        #expect(baresip.attribute("tool") == .some("baresip 3.10.0"))
        #expect(baresip.media[0].attribute("rtcp-mux") == .some(nil))
        #expect(baresip.media[0].attribute("nothing") == nil)
        #expect(baresip.media[0].bandwidths == [SDPBandwidth(type: "AS", value: 93)])
        #expect(baresip.media[0].attributeValues("rtpmap").count == 5)

        let asterisk = try SDPFixtures.session("asterisk-offer.sdp")
        #expect(asterisk.media[0].maxptime == 150 && asterisk.media[0].ptime == 20)
    }

    @Test("a media direction overrides the session's; setDirection replaces the old one")
    func directions() throws {
        var session = try SDPSession.parse(
            "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=sendonly\n"
                + "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=inactive\n")
        #expect(session.direction(ofMedia: 0) == .sendonly)
        #expect(session.direction(ofMedia: 1) == .inactive)
        #expect(session.direction(ofMedia: 5) == .sendrecv)
        session.media[1].setDirection(.recvonly)
        #expect(session.media[1].attributes == [SDPAttribute("recvonly")])
        #expect(SDPDirection.sendonly.reversed == .recvonly && SDPDirection.inactive.reversed == .inactive)
        #expect(SDPDirection(sends: true, receives: true) == .sendrecv)
    }

    @Test("lenient where real phones are: LF, empty lines, missing s= and t=, spaces, empty values")
    func leniency() throws {
        let session = try SDPSession.parse(
            "v=0\r\n\r\no=-  7   8 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\n\nm=audio 0 RTP/AVP\n"
                + "a=x-empty:\na=ptime:20.0\n\n")
        #expect(session.sessionName == "-")
        #expect(session.timings == [SDPTiming()])
        #expect(session.origin.sessionID == "7" && session.origin.sessionVersion == 8)
        #expect(session.media[0].formats.isEmpty)
        #expect(session.media[0].attributes[0] == SDPAttribute("x-empty", ""))
        #expect(session.media[0].ptime == 20)
        let text = String(decoding: session.serialized(), as: UTF8.self)
        #expect(
            text.hasPrefix(
                "v=0\r\no=- 7 8 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 0 RTP/AVP\r\n"))
        #expect(try SDPSession.parse(session.serialized()) == session)
        #expect(try SDPSession.parse("v=0\no=- 1 1 IN IP4 a\ns=\nt=0 0").sessionName == "")
        // Lines of a section in any order: the serializer writes the RFC order.
        let reordered = try SDPSession.parse("v=0\no=- 1 1 IN IP4 a\nt=0 0\nc=IN IP4 a\ns=x\n")
        #expect(reordered.description == "v=0\r\no=- 1 1 IN IP4 a\r\ns=x\r\nc=IN IP4 a\r\nt=0 0\r\n")
    }

    @Test("rtpmap values: well-formed ones parse, malformed ones give nil")
    func rtpmapValues() {
        #expect(SDPRTPMap(value: "0 PCMU/8000") == SDPRTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000))
        #expect(SDPRTPMap(value: "101 telephone-event/8000 ")?.encodingName == "telephone-event")
        #expect(SDPRTPMap(value: "111 opus/48000/2")?.channels == 2)
        #expect(SDPRTPMap(value: "111 opus/48000/2")?.description == "111 opus/48000/2")
        for bad in ["x PCMU/8000", "0 PCMU", "0 PCMU/abc", "128 PCMU/8000", "0 /8000", "0 PCMU/8000/2/1", "", "0"] {
            #expect(SDPRTPMap(value: bad) == nil, "\(bad)")
        }
        #expect(SDPRTPMap.staticPayloadType(9)?.clockRate == 8000)
        #expect(SDPRTPMap.staticPayloadType(97) == nil)
    }

    @Test("malformed descriptions are rejected with the line and what is wrong")
    func malformed() {
        let base = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"
        let cases: [(String, Int, String)] = [
            ("", 0, "empty session description (no v= line)"),
            ("o=- 1 1 IN IP4 a\n", 1, "the description must begin with 'v=0'"),
            ("v=1\n", 1, "unsupported protocol version 'v=1' (only 0 is defined)"),
            ("v=0\ns=-\n", 2, "no o= line"),
            ("v=0\no=- 1 IN IP4 a\n", 2, "o= needs 6 fields"),
            ("v=0\no=- 1 99999999999999999999 IN IP4 a\n", 2, "o= session version '99999999999999999999' is not"),
            (base + "m=audio 70000 RTP/AVP 0\n", 5, "m= port '70000' is not 0...65535"),
            (base + "m=audio -1 RTP/AVP 0\n", 5, "m= port '-1' is not 0...65535"),
            (base + "m=audio 4000/0 RTP/AVP 0\n", 5, "m= number of ports '0' is not 1...65535"),
            (base + "m=audio 4000\n", 5, "m= needs '<media> <port> <proto> <fmt> ...'"),
            (base + "m=au(dio 4000 RTP/AVP 0\n", 5, "m= media type 'au(dio' is not a token"),
            (base + "m=audio 4000 RTP//AVP 0\n", 5, "m= protocol 'RTP//AVP' is not token/token"),
            (base + "c=IN 192.0.2.1\n", 5, "c= needs '<nettype> <addrtype> <address>'"),
            (base + "c=IN IP4 [::1]\n", 5, "c= IP4 address '[::1]' is malformed"),
            (base + "y=1\n", 5, "unknown line type 'y='"),
            (base + "Q=1\n", 5, "unknown line type 'Q='"),
            (
                base + "m=audio 4000 RTP/AVP 0\nt=0 0\n", 6,
                "t= is a session-level line and cannot follow the m= of line 5"
            ),
            (base + "m=audio 4000 RTP/AVP 0\ni=a\ni=b\n", 7, "second i= in a media section"),
            ("v=0\no=- 1 1 IN IP4 a\no=- 1 1 IN IP4 a\n", 3, "second o= line"),
            (base + "s=again\n", 5, "second s= line"),
            (base + "c=IN IP4 a\nc=IN IP4 b\n", 6, "second session-level c= line"),
            (base + "v=0\n", 5, "second v= line"),
            ("v=0\nr=1 2 3\n", 2, "r= before any t= line"),
            ("v=0\nm=audio 1 RTP/AVP 0\n", 2, "m= line before the o= line"),
            (base + "t 0 0\n", 5, "expected '<type>=<value>', got 't 0 0'"),
            (base + " a=x\n", 5, "expected '<type>=<value>'"),
            ("v=0\no=- 1 1 IN IP4 a\rs=-\n", 2, "CR not followed by LF"),
            ("v=0\no=- 1 1 IN IP4 a\ns=\u{0}\n", 3, "NUL byte"),
            (base + "b=AS64\n", 5, "b= needs '<bwtype>:<bandwidth>', got 'AS64'"),
            (base + "b=AS:lots\n", 5, "b= bandwidth 'lots' is not a 64-bit number"),
            ("v=0\no=- 1 1 IN IP4 a\nt=now 0\n", 3, "t= needs '<start-time> <stop-time>' (two numbers)"),
            (base + "a=\n", 5, "a= without an attribute name"),
            (base + "a=bad name:1\n", 5, "attribute name 'bad name' is not a token"),
        ]
        for (text, line, message) in cases {
            do {
                let session = try SDPSession.parse(text)
                Issue.record("accepted \(text.debugDescription): \(session.description)")
            } catch {
                #expect(error.line == line, "\(text.debugDescription): \(error.description)")
                #expect(error.message.hasPrefix(message), "\(text.debugDescription): \(error.description)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("the invalid fixtures are rejected with a one-line error naming the line")
    func invalidFixtures() {
        let names = SDPFixtures.names("invalid")
        #expect(names.count >= 15)
        for name in names {
            #expect(throws: SDPError.self, "\(name)") { try SDPSession.parse(SDPFixtures.bytes(name)) }
            do {
                _ = try SDPSession.parse(SDPFixtures.bytes(name))
            } catch {
                #expect(error.description.hasPrefix(name == "invalid/empty.sdp" ? "empty" : "line "), "\(name)")
            }
        }
    }

    @Test("error descriptions are one precise line")
    func errorText() {
        #expect(
            SDPError(line: 4, "m= port '70000' is not 0...65535").description
                == "line 4: m= port '70000' is not 0...65535")
        #expect(SDPError("no usable audio stream").description == "no usable audio stream")
        do {
            _ = try SDPSession.parse("v=0\no=- 1 1 IN IP4 a\nm=audio 99999 RTP/AVP 0")
        } catch {
            #expect(error.description == "line 3: m= port '99999' is not 0...65535")
        }
    }

    @Test("mutated and random inputs never trap, and whatever parses round-trips (fuzz entry)")
    func mutations() {
        var generator = SDPMutationRandom(seed: 0x5D9)
        var inputs: [[UInt8]] = SDPFixtures.names().map { SDPFixtures.bytes($0) }
        inputs += SDPFixtures.names("invalid").map { SDPFixtures.bytes($0) }
        let alphabet = Array("v=o-sicbtrzkam0123456789 /:.\r\n\tIP46RTP/AVP\u{0}\u{FF}".utf8)
        var parsed = 0
        for round in 0..<3000 {
            var bytes = inputs[round % inputs.count]
            let edits = 1 + Int(generator.next() % 6)
            for _ in 0..<edits {
                let position = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 4 {
                case 0 where !bytes.isEmpty: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1 where !bytes.isEmpty: bytes.remove(at: position)
                case 2: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                default: bytes = Array(bytes.prefix(position))
                }
            }
            if (try? SDPSession.parse(bytes)) != nil { parsed += 1 }
            bytes.withUnsafeBytes { sdpFuzzEntry($0) }
        }
        for _ in 0..<300 {
            let random = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            random.withUnsafeBytes { sdpFuzzEntry($0) }
        }
        #expect(parsed > 300)
    }
}

/// A small deterministic generator for the mutation test.
typealias SDPMutationRandom = SplitMix64
