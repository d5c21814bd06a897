/// ASCII byte helpers for names and error messages (host names, header names, quoted input).
public enum ASCIIText {
    /// `s` with A-Z turned into a-z.
    public static func lowercased(_ s: ArraySlice<UInt8>) -> [UInt8] {
        s.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    /// Text safe to quote in a message: printable ASCII kept, anything else as `\xHH`, at most
    /// 64 bytes.
    public static func printable(_ s: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        for (n, c) in s.enumerated() {
            if n == 64 {
                out += Array("...".utf8)
                break
            }
            if c >= 32 && c < 127 && c != 92 {
                out.append(c)
            } else {
                out += [92, 120, hexDigit(c >> 4), hexDigit(c & 15)]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The upper-case hex digit of `v` (0...15), as in percent-encoding (RFC 3986 §2.1).
    public static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 55 + v }
}
