import Testing

@testable import Keys

@Suite("PhoneKey and KeyEvent")
struct PhoneKeyTests {
    @Test("every key's config name parses back to the key")
    func namesRoundTrip() {
        var all = PhoneKey.namedKeys
        for d in 0...9 { all.append(.digit(d)) }
        for n in 1...4 { all.append(.softkey(n)) }
        for n in [1, 2, 10, 99] { all.append(.line(n)) }
        for key in all {
            #expect(PhoneKey(name: key.name) == key, "\(key.name)")
            #expect(key.isValid)
        }
        #expect(Set(all.map { $0.name }).count == all.count)
    }

    @Test("names as documented")
    func names() {
        #expect(PhoneKey.digit(5).name == "digit5")
        #expect(PhoneKey.volumeUp.name == "volume_up")
        #expect(PhoneKey.volumeDown.name == "volume_down")
        #expect(PhoneKey.softkey(2).name == "softkey2")
        #expect(PhoneKey.line(3).name == "line3")
        #expect(PhoneKey.pound.name == "pound")
    }

    @Test("out-of-range and malformed names are refused", arguments: [
        "digit10", "digit", "digit-1", "softkey0", "softkey5", "line0", "line100", "line01", "Hook", "",
        "volumeup", "line1x",
    ])
    func badNames(_ name: String) {
        #expect(PhoneKey(name: name) == nil)
    }

    @Test("event descriptions: press record, long digit5")
    func descriptions() {
        #expect(KeyEvent(key: .record, kind: .press, time: 0).description == "press record")
        #expect(KeyEvent(key: .record, kind: .release, time: 0).description == "release record")
        #expect(KeyEvent(key: .digit(5), kind: .long, time: 0).description == "long digit5")
        #expect(KeyEvent(key: .volumeUp, kind: .repeat, time: 0).description == "repeat volume_up")
    }
}
