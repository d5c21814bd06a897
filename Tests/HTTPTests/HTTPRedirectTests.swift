import Net
import Testing

@testable import HTTP

@Suite("HTTP redirects, basic credentials (provisioning GETs)")
struct HTTPRedirectTests {
    func response(_ status: Int, location: String? = nil) -> HTTPResponse {
        HTTPResponse(status: status, reason: "", headers: location.map { [(name: "Location", value: $0)] } ?? [])
    }

    @Test("at most the maximum redirects are followed; one more fails with the count")
    func bound() {
        var redirects = HTTPRedirects(maximum: 5)
        var url = "http://192.0.2.1/a"
        for i in 1...5 {
            let decision = redirects.next(after: response(302, location: "/r" + String(i)), from: url)
            #expect(decision == .follow("http://192.0.2.1/r" + String(i)))
            if case .follow(let next) = decision { url = next }
        }
        #expect(redirects.followed == 5)
        #expect(redirects.remaining == 0)
        #expect(
            redirects.next(after: response(301, location: "/a"), from: url)
                == .tooMany("more than 5 redirects (the last to /a)"))
    }

    @Test("only 301/302/303/307/308 with a Location redirect; maximum 0 never follows")
    func whatRedirects() {
        var redirects = HTTPRedirects(maximum: 2)
        #expect(redirects.next(after: response(200), from: "http://192.0.2.1/") == .done)
        #expect(redirects.next(after: response(304, location: "/x"), from: "http://192.0.2.1/") == .done)
        #expect(redirects.next(after: response(302), from: "http://192.0.2.1/") == .done)
        for status in [301, 303, 307, 308] {
            var r = HTTPRedirects(maximum: 1)
            #expect(
                r.next(after: response(status, location: "/y"), from: "http://192.0.2.1/")
                    == .follow("http://192.0.2.1/y"))
        }
        var none = HTTPRedirects(maximum: 0)
        #expect(none.next(after: response(302, location: "/x"), from: "http://192.0.2.1/") == .done)
        #expect(redirects.remaining == 2)
    }

    @Test("Location forms: absolute, scheme-relative, absolute path, relative path")
    func resolve() {
        let base = "http://192.0.2.1:8080/prov/old/y000000000000.cfg?x=1"
        #expect(HTTPRedirects.resolve("http://198.51.100.2/n.cfg", against: base) == "http://198.51.100.2/n.cfg")
        #expect(HTTPRedirects.resolve("//198.51.100.2/n.cfg", against: base) == "http://198.51.100.2/n.cfg")
        #expect(HTTPRedirects.resolve("/new/a.cfg", against: base) == "http://192.0.2.1:8080/new/a.cfg")
        #expect(HTTPRedirects.resolve("b.cfg", against: base) == "http://192.0.2.1:8080/prov/old/b.cfg")
        #expect(HTTPRedirects.resolve("b.cfg", against: "http://192.0.2.1") == "http://192.0.2.1/b.cfg")
    }

    @Test("base64 (RFC 4648 §10) and the basic credentials of RFC 7617 §2")
    func basic() {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors { #expect(Base64.encode(Array(plain.utf8)) == encoded) }
        #expect(
            HTTPRequestOptions.basicAuthorization(user: "Aladdin", password: "open sesame")
                == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    }

    @Test("header fields cannot add request lines")
    func lineSafe() {
        #expect(HTTPClient.lineSafe("a\r\nX-Evil: 1", allowSpace: true) == "aX-Evil: 1")
        #expect(HTTPClient.lineSafe("If-None-Match\r\n", allowSpace: false) == "If-None-Match")
    }
}
