import Testing

@testable import Recording

@Suite("YealinkIPPhoneText body for the LCD")
struct PhoneTextXMLTests {
    func text(_ s: String) -> String? { PhoneTextXML.text(in: Array(s.utf8)) }

    @Test("the Text of a YealinkIPPhoneText object, with declaration, attributes and whitespace")
    func basic() {
        #expect(text("<YealinkIPPhoneText><Text>Recording started</Text></YealinkIPPhoneText>") == "Recording started")
        var body = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- server -->\n"
        body += "<YealinkIPPhoneText Beep=\"no\" Timeout='10' x=\"a>b\">\n  <Title wrap=\"yes\">Rec</Title>\n"
        body += "  <Text  >\n   Box full:\n\t delete old calls  </Text>\n</YealinkIPPhoneText >"
        #expect(text(body) == "Box full: delete old calls")
        #expect(text("<YealinkIPPhoneText><Text/></YealinkIPPhoneText>") == "")
        #expect(
            text("<YealinkIPPhoneText><Title>T</Title><TextColor>red</TextColor><Text>t</Text></YealinkIPPhoneText>")
                == "t")
    }

    @Test("entities, numeric references, CDATA")
    func entities() {
        var body = "<YealinkIPPhoneText><Text>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; "
        body += "&#65;&#x42;&#X43; &#233; &bogus; & x</Text></YealinkIPPhoneText>"
        #expect(text(body) == "a & b <c> \"d\" 'e' ABC é &bogus; & x")
        #expect(
            text("<YealinkIPPhoneText><Text><![CDATA[<raw> & stuff]]></Text></YealinkIPPhoneText>") == "<raw> & stuff")
    }

    @Test("control characters are stripped, line breaks become spaces")
    func controls() {
        #expect(
            text("<YealinkIPPhoneText><Text>a\u{01}b\u{1b}[2Jc&#7;d&#10;e&#0;f\u{85}g</Text></YealinkIPPhoneText>")
                == "ab[2Jcd efg")
    }

    @Test("the text is capped for the LCD")
    func capped() {
        let long = String(repeating: "é", count: 300)
        let body = "<YealinkIPPhoneText><Text>" + long + "</Text></YealinkIPPhoneText>"
        let result = text(body)
        #expect(result == String(repeating: "é", count: 128))
    }

    /// Found by the `phonetext` fuzz target: a space that fell on the 128th character was kept,
    /// so the capped text ended in a space.
    @Test("the cap never leaves a trailing space")
    func cappedWithoutTrailingSpace() {
        let body = "<YealinkIPPhoneText><Text>" + String(repeating: "a", count: 127) + " b</Text></YealinkIPPhoneText>"
        #expect(text(body) == String(repeating: "a", count: 127))
        // The crashing input, as the fuzzer wrote it.
        let hex =
            "3c5965616c696e6b495050686f6e65546578743e3c546578743e3c214154445b43415b61203c623effffffffffffffff"
            + "ffffff26c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6"
            + "c6c6c6c6c6c6c6c6c6c662000000c6c6c6c646ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
            + "fffffffffffffffffffffffffffffffff7ffffffffffffffffff3c2f54652574703e3c2f59656e6c696b61495050ffff"
            + "ffffffffffff3c2f54657874703e3c2f5965616c696e6b495050686f6e65546578743e"
        var bytes: [UInt8] = []
        var digits = Array(hex.utf8)[...]
        while digits.count >= 2 {
            bytes.append(UInt8(String(decoding: digits.prefix(2), as: UTF8.self), radix: 16)!)
            digits = digits.dropFirst(2)
        }
        #expect(bytes.count == 227)
        let result = PhoneTextXML.text(in: bytes)
        #expect(result?.unicodeScalars.count == 127)
        #expect(result?.hasSuffix(" ") == false)
    }

    @Test("anything else gives nil")
    func notText() {
        #expect(text("") == nil)
        #expect(text("recording started") == nil)
        #expect(text("<html><body><Text>x</Text></body></html>") == nil)
        #expect(text("<YealinkIPPhoneTextScreen><Text>x</Text></YealinkIPPhoneTextScreen>") == nil)
        #expect(text("<YealinkIPPhoneText><Title>only a title</Title></YealinkIPPhoneText>") == nil)
        #expect(text("<YealinkIPPhoneText><Text>never closed") == nil)
        #expect(text("<YealinkIPPhoneText/>") == nil)
        #expect(text("{\"Text\": \"json\"}") == nil)
        #expect(PhoneTextXML.text(in: [0xFF, 0xFE, 0x3C]) == nil)
    }

    @Test("invalid UTF-8 becomes U+FFFD, never a crash")
    func invalidUTF8() {
        var body = Array("<YealinkIPPhoneText><Text>a".utf8)
        body += [0xC3, 0x28, 0xFF, 0xE2, 0x82]
        body += Array("</Text></YealinkIPPhoneText>".utf8)
        #expect(PhoneTextXML.text(in: body) == "a\u{FFFD}(\u{FFFD}\u{FFFD}")
    }
}
