/// Base64 (RFC 4648 §4, with padding): HTTP basic credentials (RFC 7617) and SDES keys in
/// `a=crypto` (RFC 4568 §6.1).
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(digit(group >> 18))
            out.append(digit(group >> 12))
            out.append(i + 1 < bytes.count ? digit(group >> 6) : 61)  // "="
            out.append(i + 2 < bytes.count ? digit(group) : 61)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes; nil for a character outside the alphabet, a misplaced `=`, or
    /// a length that is no whole number of bytes. Missing trailing padding is accepted.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3 + 2)
        var group: UInt32 = 0
        var count = 0
        var padding = 0
        for byte in text.utf8 {
            if byte == 61 {  // "="
                padding += 1
                if padding > 2 { return nil }
                continue
            }
            guard padding == 0, let value = value(of: byte) else { return nil }
            group = group << 6 | UInt32(value)
            count += 1
            if count == 4 {
                out.append(UInt8(truncatingIfNeeded: group >> 16))
                out.append(UInt8(truncatingIfNeeded: group >> 8))
                out.append(UInt8(truncatingIfNeeded: group))
                group = 0
                count = 0
            }
        }
        switch count {
        case 0: return padding == 0 ? out : nil
        case 2:
            guard padding == 0 || padding == 2 else { return nil }
            out.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            guard padding <= 1 else { return nil }
            out.append(UInt8(truncatingIfNeeded: group >> 10))
            out.append(UInt8(truncatingIfNeeded: group >> 2))
        default: return nil
        }
        return out
    }

    private static func digit(_ v: UInt32) -> UInt8 {
        let v = UInt8(v & 63)
        switch v {
        case 0..<26: return 65 + v
        case 26..<52: return 97 + v - 26
        case 52..<62: return 48 + v - 52
        case 62: return 43  // "+"
        default: return 47  // "/"
        }
    }

    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case 65...90: return byte - 65
        case 97...122: return byte - 97 + 26
        case 48...57: return byte - 48 + 52
        case 43: return 62
        case 47: return 63
        default: return nil
        }
    }
}
