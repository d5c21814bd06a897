import Testing

@testable import SIP

/// Parses a valid fixture and checks that its canonical serialization re-parses equal.
func parseValid(_ set: String, _ name: String) throws -> SIPMessage {
    let bytes = fixture(set, name)
    #expect(!bytes.isEmpty, "fixture \(name) is missing")
    let message = try SIPMessage.parse(bytes)
    let again = try SIPMessage.parse(message.serialized())
    #expect(again == message, "\(name): the canonical form re-parses to another message")
    #expect(again.serialized() == message.serialized())
    return message
}

@Suite("RFC 4475 §3.1.1 valid torture messages")
struct TortureRFC4475ValidTests {
    @Test("3.1.1.1 wsinv: folding, LWS everywhere, escapes in quotes, compact and odd-case names")
    func wsinv() throws {
        let m = try parseValid("rfc4475", "wsinv")
        #expect(m.method == .invite)
        #expect(m.requestURI?.user == "vivekg")
        #expect(m.requestURI?.host == .name("chair-dnrc.example.com"))
        #expect(m.requestURI?.parameter("unknownparam") == .some(nil))
        #expect(m.to.displayName == nil)
        #expect(m.to.uri.user == "vivekg")
        #expect(m.to.tag == "1918181833n")
        #expect(m.from.displayName == "J Rosenberg \\\"")
        #expect(m.from.uri.user == "jdrosen")
        #expect(m.from.tag == "98asjd8")
        #expect(m.maxForwards == 68)
        #expect(m.callID == "wsinv.ndaksdj@192.0.2.1")
        #expect(m.cseq == SIPCSeq(number: 9, method: .invite))
        #expect(m.via.count == 3)
        #expect(m.via.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(m.via.map(\.host) == [.ipv4("192.0.2.2"), .name("spindle.example.com"), .ipv4("192.168.255.111")])
        #expect(m.via.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(m.header("Subject") == "")
        #expect(m.header("s") == "")
        #expect(m.header("NewFangledHeader") == "newfangled value continued newfangled value")
        #expect(m.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;")
        #expect(m.contentType == "application/sdp")
        let route = try #require(m.routes.first)
        #expect(route.uri.host == .name("services.example.com"))
        #expect(route.uri.parameter("lr") == .some(nil))
        #expect(route.uri.parameter("unknownwith") == .some("value"))
        #expect(route.uri.parameter("unknown-no-value") == .some(nil))
        let contact = try #require(m.contacts.first?.address)
        #expect(contact.displayName == "Quoted string \"\"")
        #expect(contact.uri.user == "jdrosen")
        #expect(contact.parameter("newparam") == .some("newvalue"))
        #expect(contact.parameter("secondparam") == .some(nil))
        #expect(m.contacts.first?.qThousandths == 330)
        #expect(m.body.count == 150)
        // Canonical names in the output, folded lines joined.
        let text = String(decoding: m.serialized(), as: UTF8.self)
        #expect(text.contains("\r\nTo: sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"))
        #expect(text.contains("\r\nMax-Forwards: 0068\r\n"))
        #expect(text.contains("\r\nCSeq: 0009 INVITE\r\n"))
        #expect(text.contains("\r\nSubject: \r\n"))
        #expect(text.contains("\r\nContact: \"Quoted string"))
        #expect(text.hasSuffix("Content-Length: 150\r\n\r\n" + String(decoding: m.body, as: UTF8.self)))
    }

    @Test("3.1.1.2 intmeth: unusual token characters, quoted control characters, UTF-8")
    func intmeth() throws {
        let m = try parseValid("rfc4475", "intmeth")
        let method = "!interesting-Method0123456789_*+`.%indeed'~"
        #expect(m.method == .other(method))
        #expect(m.method != .invite)
        #expect(m.cseq == SIPCSeq(number: 139_122_385, method: .other(method)))
        #expect(m.requestURI?.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(m.requestURI?.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(m.requestURI?.host == .name("example.com"))
        #expect(m.via.first?.branch == "z9hG4bK-.!%66*_+`'~")
        #expect(m.to.displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        #expect(m.to.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(m.from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(m.from.parameter("fromParam''~+*_!.-%") == .some("\"работающий\""))
        #expect(m.from.tag == "_token~1'+`*%!-.")
        #expect(m.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(m.maxForwards == 255)
        #expect(m.header("extensionHeader-!.%*+_`'~") == "\u{FEFF}大停電")
        #expect(m.body.isEmpty)
    }

    @Test("3.1.1.3 esc01: %-escapes in user parts and URI parameters are decoded")
    func esc01() throws {
        let m = try parseValid("rfc4475", "esc01")
        #expect(m.requestURI?.user == "sips:user@example.com")
        #expect(m.requestURI?.host == .name("example.net"))
        #expect(m.to.uri.user == "user")
        #expect(m.from.uri.user == "I have spaces")
        #expect(m.callID == "esc01.239409asdfakjkn23onasd0-3234")
        #expect(m.contentType == "application/sdp")
        let contact = try #require(m.contacts.first?.address)
        #expect(contact.uri.user == "caller")
        #expect(contact.uri.parameter("lr") == .some(nil))
        #expect(contact.uri.parameter("name") == .some("value%41"))
        // Re-escaped on output only where needed.
        #expect(m.requestURI?.description == "sip:sips%3Auser%40example.com@example.net")
        #expect(contact.uri.description == "sip:caller@host5.example.net;lr;name=value%2541")
    }

    @Test("3.1.1.4 escnull: escaped NULs stay inside the user part")
    func escnull() throws {
        let m = try parseValid("rfc4475", "escnull")
        #expect(m.method == .register)
        #expect(m.to.uri.user == "null-\u{0}-null")
        #expect(m.from.uri.user == "null-\u{0}-null")
        #expect(m.contacts.compactMap { $0.address?.uri.user } == ["\u{0}", "\u{0}\u{0}"])
        #expect(m.contacts[0].address?.uri.description == "sip:%00@host5.example.com")
        #expect(m.body.isEmpty)
    }

    @Test("3.1.1.5 esc02: % is not an escape in methods, display names, branches or header names")
    func esc02() throws {
        let m = try parseValid("rfc4475", "esc02")
        #expect(m.method == .other("RE%47IST%45R"))
        #expect(m.method != .register)
        #expect(m.to.displayName == "%Z%45")
        #expect(m.via.first?.branch == "z9hG4bK209%fzsnel234")
        #expect(m.contacts.compactMap { $0.address?.uri.user } == ["alias1", "alias3"])
        #expect(m.header("C%6Fntact") == "<sip:alias2@host2.example.com>")
    }

    @Test("3.1.1.6 lwsdisp: no space between display name and <")
    func lwsdisp() throws {
        let m = try parseValid("rfc4475", "lwsdisp")
        #expect(m.from.displayName == "caller")
        #expect(m.from.uri.user == "caller")
        #expect(m.from.tag == "323")
    }

    @Test("3.1.1.7 longreq: long values and 34 Via values in mixed name forms")
    func longreq() throws {
        let m = try parseValid("rfc4475", "longreq")
        let extreme = String(repeating: "extreme", count: 10)
        #expect(m.to.displayName == "I have a user name of \(extreme) proportion")
        #expect(m.to.uri.port == 6000)
        #expect(m.to.uri.parameters.count == 3)
        #expect(m.from.tag == "12" + String(repeating: "982", count: 50) + "424")
        #expect(m.via.count == 34)
        #expect(m.via.first?.host == .name("sip33.example.com"))
        #expect(m.via.last?.received == "192.0.2.5")
        #expect(m.via.last?.branch == "very" + String(repeating: "long", count: 50) + "branchvalue")
        #expect(m.contacts.first?.address?.uri.user == String(repeating: "amazinglylongcallername", count: 5))
        #expect(m.body.count == 150)
    }

    @Test("3.1.1.8 dblreq: bytes after Content-Length are not a second message")
    func dblreq() throws {
        let m = try parseValid("rfc4475", "dblreq")
        #expect(m.method == .register)
        #expect(m.callID == "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
        #expect(m.body.isEmpty)
        #expect(m.contacts.first?.address?.uri.host == .name("host.example.com"))
    }

    @Test("3.1.1.9 semiuri: semicolons in the user part; a folded Accept list")
    func semiuri() throws {
        let m = try parseValid("rfc4475", "semiuri")
        #expect(m.requestURI?.user == "user;par=u@example.net")
        #expect(m.requestURI?.host == .name("example.com"))
        #expect(m.requestURI?.parameters.isEmpty == true)
        #expect(
            m.headers("Accept") == [
                "application/sdp", "application/pkcs7-mime", "multipart/mixed", "multipart/signed", "message/sip",
                "message/sipfrag",
            ])
    }

    @Test("3.1.1.10 transports: known and unknown Via transports")
    func transports() throws {
        let m = try parseValid("rfc4475", "transports")
        #expect(m.via.map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        #expect(m.callID == "transports.kijh4akdnaqjkwendsasfdj")
    }

    @Test("3.1.1.11 mpart01: a binary multipart body with NULs is framed by Content-Length")
    func mpart01() throws {
        let m = try parseValid("rfc4475", "mpart01")
        #expect(m.method == .message)
        #expect(m.body.count == 553)
        #expect(m.body.contains(0))
        #expect(m.contentType == "multipart/mixed;boundary=7a9cbec02ceef655")
        #expect(m.header("Date") == "Sat, 15 Oct 2005 04:44:56 GMT")
        #expect(m.via.first?.rport == .some(nil))
        #expect(m.via.first?.port == 5070)
        #expect(Array(m.body.suffix(22)) == Array("\r\n--7a9cbec02ceef655--\r\n".utf8.suffix(22)))
    }

    @Test("3.1.1.12 unreason: a UTF-8 reason phrase")
    func unreason() throws {
        let m = try parseValid("rfc4475", "unreason")
        #expect(m.status == 200)
        #expect(m.reason == "= 2**3 * 5**2 но сто девяносто девять - простое")
        #expect(m.body.count == 154)
    }

    @Test("3.1.1.13 noreason: an empty reason phrase")
    func noreason() throws {
        let m = try parseValid("rfc4475", "noreason")
        #expect(m.status == 100)
        #expect(m.reason == "")
        #expect(m.to.tag == "902jndnke3")
    }
}

/// One invalid fixture: the exact error and, for requests, whether a response can be built.
struct InvalidCase: CustomStringConvertible {
    let name: String
    let message: String
    let status: Int?
    /// A response (with `status`) can be built from the request's remaining valid headers.
    let answerable: Bool
    var description: String { name }
}

@Suite("RFC 4475 §3.1.2 invalid torture messages")
struct TortureRFC4475InvalidTests {
    static let cases: [InvalidCase] = [
        InvalidCase(
            name: "badinv01", message: "malformed Via header: empty parameter name", status: 400, answerable: false),
        InvalidCase(
            name: "clerr", message: "Content-Length 9999 exceeds the 154 body bytes", status: 400, answerable: true),
        InvalidCase(
            name: "ncl", message: "malformed Content-Length header: invalid Content-Length '-999'", status: 400,
            answerable: true),
        InvalidCase(
            name: "scalar02", message: "malformed CSeq header: CSeq number 36893488147419103232 exceeds 2^31-1",
            status: 400, answerable: false),
        InvalidCase(
            name: "scalarlg", message: "malformed CSeq header: CSeq number 9292394834772304023312 exceeds 2^31-1",
            status: nil, answerable: false),
        InvalidCase(
            name: "quotbal", message: "malformed To header: unterminated quoted display name", status: 400,
            answerable: false),
        InvalidCase(name: "ltgtruri", message: "Request-URI is enclosed in '<' '>'", status: 400, answerable: true),
        InvalidCase(name: "lwsruri", message: "whitespace inside the Request-URI", status: 400, answerable: true),
        InvalidCase(
            name: "lwsstart", message: "extra whitespace in the Request-Line before the Request-URI", status: 400,
            answerable: true),
        InvalidCase(
            name: "trws", message: "trailing whitespace after the SIP version in the Request-Line", status: 400,
            answerable: true),
        InvalidCase(
            name: "escruri", message: "Request-URI carries headers ('?...'), which RFC 3261 §19.1.1 forbids there",
            status: 400, answerable: true),
        InvalidCase(
            name: "baddate", message: "malformed Date header: Date 'Fri, 01 Jan 2010 16:00:00 EST' is not in GMT",
            status: 400, answerable: true),
        InvalidCase(
            name: "regbadct", message: "malformed Contact header: '?' in an addr-spec outside '<' '>'", status: 400,
            answerable: true),
        InvalidCase(
            name: "badaspec", message: "malformed To header: whitespace inside <URI>", status: 400, answerable: false),
        InvalidCase(
            name: "baddn", message: "malformed From header: invalid character ',' in unquoted display name",
            status: 400, answerable: false),
        InvalidCase(name: "badvers", message: "unsupported SIP version SIP/7.0", status: 505, answerable: true),
        InvalidCase(
            name: "mismatch01", message: "CSeq method INVITE does not match the request method OPTIONS", status: 400,
            answerable: true),
        InvalidCase(
            name: "mismatch02", message: "CSeq method INVITE does not match the request method NEWMETHOD",
            status: 400, answerable: true),
        InvalidCase(
            name: "bigcode", message: "status code '4294967301' is not three digits", status: nil, answerable: false),
    ]

    @Test("each is rejected with an error naming its defect", arguments: cases)
    func rejected(_ c: InvalidCase) throws {
        let bytes = fixture("rfc4475", c.name)
        #expect(!bytes.isEmpty)
        let error = try #require(parseResult(bytes).error, "\(c.name) parsed")
        #expect(error.message == c.message)
        #expect(error.status == c.status)
        let response = SIPMessage.rejection(of: bytes, error: error, toTag: "rej1")
        #expect((response != nil) == c.answerable)
        if let response {
            #expect(response.status == c.status)
            #expect(response.reason == SIPMessage.reasonPhrase(c.status ?? 0))
            #expect(response.to.tag != nil)
            #expect(!response.via.isEmpty)
            // The 400 itself is a valid message (a 505 copies the Via of the other SIP version,
            // which this SIP/2.0 parser does not take back).
            if c.status != 505 {
                let back = try SIPMessage.parse(response.serialized())
                #expect(back == response)
            } else {
                #expect(
                    String(decoding: response.serialized(), as: UTF8.self).contains(
                        "\r\nVia: SIP/7.0/UDP c.example.com"))
            }
        }
    }

    @Test("every fixture of the suite is covered")
    func coverage() {
        let valid = [
            "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri",
            "transports", "mpart01", "unreason", "noreason",
        ]
        #expect(fixtureNames("rfc4475") == (valid + Self.cases.map(\.name)).sorted())
    }

    @Test("a 400 for clerr copies the request's dialog headers")
    func clerrAnswer() throws {
        let bytes = fixture("rfc4475", "clerr")
        let error = try #require(parseResult(bytes).error)
        let response = try #require(SIPMessage.rejection(of: bytes, error: error, toTag: "x1"))
        #expect(response.status == 400)
        #expect(response.callID == "clerr.0ha0isndaksdjweiafasdk3")
        #expect(response.cseq == SIPCSeq(number: 8, method: .invite))
        #expect(response.from.tag == "93942939o2")
        #expect(response.to.tag == "x1")
        #expect(response.via.first?.branch == "z9hG4bK-39234-23523")
        #expect(response.body.isEmpty)
    }
}
