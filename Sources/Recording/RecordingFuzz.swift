// The libFuzzer entry for the record server's <YealinkIPPhoneText> body (Tools/deskphone-fuzz,
// scripts/fuzz.sh); here because the parser is internal to the module. It traps (`fatalError`)
// only on a broken invariant, never on bad input. HTTP responses and DNS answers have theirs in
// the HTTP and Net modules.

/// `<YealinkIPPhoneText>` bodies: the text found is at most `maximumLength` scalars, has no
/// control characters, no leading, trailing or double spaces, and reads back the same when
/// wrapped (escaped) in a minimal object of its own.
public func phoneTextFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    guard let text = PhoneTextXML.text(in: Array(bytes)) else { return }
    var count = 0
    var previousSpace = false
    for scalar in text.unicodeScalars {
        let v = scalar.value
        if v < 32 || (v >= 0x7F && v < 0xA0) { fatalError("phone text has control character " + String(v)) }
        if v == 32 && (count == 0 || previousSpace) { fatalError("phone text has a leading or double space") }
        previousSpace = v == 32
        count += 1
    }
    if previousSpace { fatalError("phone text ends in a space") }
    if count > PhoneTextXML.maximumLength { fatalError("phone text of " + String(count) + " scalars") }
    var wrapped = Array("<YealinkIPPhoneText><Text>".utf8)
    for b in text.utf8 {
        switch b {
        case 38: wrapped += Array("&amp;".utf8)
        case 60: wrapped += Array("&lt;".utf8)
        default: wrapped.append(b)
        }
    }
    wrapped += Array("</Text></YealinkIPPhoneText>".utf8)
    guard let again = PhoneTextXML.text(in: wrapped), again == text else {
        fatalError("phone text does not read back: '" + text + "'")
    }
}
