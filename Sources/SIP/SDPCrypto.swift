// SDES key exchange for SRTP (RFC 4568): the `a=crypto` attribute, its parser and writer, and
// the fresh keys of a call. Pure: text in, values out (the keys come from getrandom(2)).
//
// Policy (what the phone accepts, RFC 4568 §6.1-§6.4):
// - suites AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2) and
//   AEAD_AES_128_GCM (RFC 7714 §12); any other suite is refused by name.
// - one key parameter `inline:<base64 key||salt>`, of exactly the suite's length (30 bytes, 28
//   for GCM); an optional lifetime of at least 2^31 packets (a call never re-keys for it); MKI
//   is refused (the phone keeps one key per direction, so several key parameters, which need
//   MKI, are refused too).
// - session parameters: `KDR=0` and `WSH=` (a window hint) are accepted and ignored; every
//   other one (UNENCRYPTED_SRTP/SRTCP, UNAUTHENTICATED_SRTP, FEC_ORDER, FEC_KEY, a non-zero
//   KDR, unknown ones) is refused: RFC 4568 §6.3 wants a line whose parameters are not
//   understood to be declined.

import CLinux
import Net

/// An SRTP crypto suite of SDES (RFC 4568 §6.2; GCM from RFC 7714 §12).
public enum SRTPCryptoSuite: Equatable, Sendable, CaseIterable, CustomStringConvertible {
    case aesCM128HMACSHA1_80
    case aesCM128HMACSHA1_32
    case aeadAES128GCM

    /// The suite of an `a=crypto` name; nil for one the phone does not implement.
    public init?(name: String) {
        guard let suite = SRTPCryptoSuite.allCases.first(where: { $0.name == name }) else { return nil }
        self = suite
    }

    public var name: String {
        switch self {
        case .aesCM128HMACSHA1_80: return "AES_CM_128_HMAC_SHA1_80"
        case .aesCM128HMACSHA1_32: return "AES_CM_128_HMAC_SHA1_32"
        case .aeadAES128GCM: return "AEAD_AES_128_GCM"
        }
    }

    public var description: String { name }

    /// Master key plus master salt, in bytes: 16 + 14, or 16 + 12 for GCM (RFC 7714 §12).
    public var masterKeyLength: Int { self == .aeadAES128GCM ? 28 : 30 }

    /// The most SRTP packets one master key may protect (RFC 4568 §6.2: 2^48; GCM likewise).
    static let maximumLifetime: UInt64 = 1 << 48
    /// The least lifetime accepted: more than any call sends, so the phone never has to re-key.
    static let minimumLifetime: UInt64 = 1 << 31
}

/// Why an `a=crypto` line cannot be used: one sentence naming the part that is wrong.
public struct SDESCryptoRefusal: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// One `a=crypto` attribute (RFC 4568 §9.1): tag, suite, one master key and salt, optional
/// lifetime. `value` writes it; `parse` reads it, refusing what the policy above does not take.
public struct SDESCrypto: Equatable {
    /// 1...999999999, unique per m= line; the answer repeats the tag of the line it accepts.
    public var tag: Int
    public var suite: SRTPCryptoSuite
    /// Master key then master salt, `suite.masterKeyLength` bytes.
    public var keySalt: [UInt8]
    /// Packets the key may protect, as written (nil: the suite's maximum).
    public var lifetime: UInt64?

    public init(tag: Int, suite: SRTPCryptoSuite, keySalt: [UInt8], lifetime: UInt64? = nil) {
        self.tag = tag
        self.suite = suite
        self.keySalt = keySalt
        self.lifetime = lifetime
    }

    /// A fresh random key for `suite` from getrandom(2); nil if the kernel gives no randomness.
    public static func fresh(tag: Int, suite: SRTPCryptoSuite) -> SDESCrypto? {
        var key = [UInt8](repeating: 0, count: suite.masterKeyLength)
        let n = key.withUnsafeMutableBytes { cl_getrandom($0.baseAddress, $0.count) }
        guard n == key.count else { return nil }
        return SDESCrypto(tag: tag, suite: suite, keySalt: key)
    }

    /// The attribute value: `<tag> <suite> inline:<key||salt>[|<lifetime>]`.
    public var value: String {
        var text = String(tag) + " " + suite.name + " inline:" + Base64.encode(keySalt)
        if let lifetime { text += "|" + SDESCrypto.lifetimeText(lifetime) }
        return text
    }

    static func lifetimeText(_ value: UInt64) -> String {
        if value != 0, value & (value - 1) == 0 { return "2^" + String(value.trailingZeroBitCount) }
        return String(value)
    }

    /// Reads an `a=crypto` value (the text after `a=crypto:`).
    public static func parse(_ text: String) throws(SDESCryptoRefusal) -> SDESCrypto {
        let fields = text.utf8.split(separator: 0x20, omittingEmptySubsequences: true)
        guard fields.count >= 3 else {
            throw SDESCryptoRefusal("a=crypto needs a tag, a suite and a key: '" + redacted(text) + "'")
        }
        let tagText = String(decoding: fields[0], as: UTF8.self)
        guard fields[0].count <= 9, let tag = Int(tagText), tag >= 0 else {
            throw SDESCryptoRefusal("a=crypto tag '" + tagText + "' is not 1 to 9 digits")
        }
        let suiteName = String(decoding: fields[1], as: UTF8.self)
        guard let suite = SRTPCryptoSuite(name: suiteName) else {
            throw SDESCryptoRefusal("a=crypto suite '" + suiteName + "' is not supported")
        }
        let keyParams = fields[2].split(separator: 0x3B, omittingEmptySubsequences: false)  // ";"
        guard keyParams.count == 1 else {
            throw SDESCryptoRefusal("a=crypto with several keys (MKI) is not supported")
        }
        let keyParam = keyParams[0]
        let inline = Array("inline:".utf8)
        guard keyParam.count > inline.count, keyParam.prefix(inline.count).elementsEqual(inline) else {
            throw SDESCryptoRefusal("a=crypto key method is not 'inline:'")
        }
        let info = keyParam.dropFirst(inline.count).split(separator: 0x7C, omittingEmptySubsequences: false)  // "|"
        guard let keySalt = Base64.decode(String(decoding: info[0], as: UTF8.self)) else {
            throw SDESCryptoRefusal("a=crypto key is not base64")
        }
        guard keySalt.count == suite.masterKeyLength else {
            throw SDESCryptoRefusal(
                    "a=crypto key for " + suite.name + " is " + String(keySalt.count) + " bytes, not "
                        + String(suite.masterKeyLength))
        }
        var lifetime: UInt64? = nil
        for part in info.dropFirst() {
            if part.contains(0x3A) {  // ":" : an MKI
                throw SDESCryptoRefusal("a=crypto MKI is not supported")
            }
            guard lifetime == nil, let value = parseLifetime(part) else {
                throw SDESCryptoRefusal("a=crypto lifetime '" + String(decoding: part, as: UTF8.self) + "' is not valid")
            }
            guard value >= SRTPCryptoSuite.minimumLifetime, value <= SRTPCryptoSuite.maximumLifetime else {
                throw SDESCryptoRefusal(
                        "a=crypto lifetime " + lifetimeText(value) + " is outside 2^31...2^48 (no re-keying)")
            }
            lifetime = value
        }
        for field in fields.dropFirst(3) {
            let parameter = String(decoding: field, as: UTF8.self)
            if parameter == "KDR=0" || parameter.hasPrefix("WSH=") { continue }
            throw SDESCryptoRefusal("a=crypto session parameter '" + parameter + "' is not supported")
        }
        return SDESCrypto(tag: tag, suite: suite, keySalt: keySalt, lifetime: lifetime)
    }

    /// `2^n` or a decimal count; nil when it is neither or overflows.
    static func parseLifetime(_ text: Substring.UTF8View.SubSequence) -> UInt64? {
        let bytes = Array(text)
        if bytes.count > 2, bytes[0] == 0x32, bytes[1] == 0x5E {  // "2^"
            guard let exponent = decimal(bytes[2...]), exponent < 64 else { return nil }
            return 1 << exponent
        }
        return decimal(bytes[...])
    }

    static func decimal(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }

    /// `text` with every `inline:` key replaced by `inline:<redacted>`, for logs.
    public static func redacted(_ text: String) -> String {
        let marker = Array("inline:".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + marker.count <= bytes.count, bytes[i..<(i + marker.count)].elementsEqual(marker) {
                out.append(contentsOf: marker)
                out.append(contentsOf: Array("<redacted>".utf8))
                i += marker.count
                while i < bytes.count, isKeyByte(bytes[i]) { i += 1 }
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2B, 0x2F, 0x3D: return true
        default: return false
        }
    }
}

/// An account's SRTP policy (`account.N.srtp_encryption`, Yealink numbering: 0 off, 1 optional,
/// 2 mandatory).
public enum SRTPPolicy: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Plain RTP only: offers carry no keys, keys in RTP/AVP offers are ignored, RTP/SAVP is refused.
    case off
    /// Offers RTP/AVP with keys (RFC 4568 §7.1.1 best effort); answers either kind.
    case optional
    /// Offers RTP/SAVP with keys; refuses (488) an offer without a usable key.
    case mandatory

    public init?(configValue: Int) {
        let numbered: [SRTPPolicy] = [.off, .optional, .mandatory]
        guard configValue >= 0 && configValue < numbered.count else { return nil }
        self = numbered[configValue]
    }

    public var description: String {
        switch self {
        case .off: return "off"
        case .optional: return "optional"
        case .mandatory: return "mandatory"
        }
    }
}

/// The SRTP keys an offer/answer settled on for the audio stream (RFC 4568 §7): the phone
/// protects what it sends with `sendKey` (its own line) and checks what it receives with
/// `receiveKey` (the peer's line of the same tag).
public struct SDPNegotiatedSRTP: Equatable {
    public var suite: SRTPCryptoSuite
    public var tag: Int
    public var sendKey: [UInt8]
    public var receiveKey: [UInt8]

    public init(suite: SRTPCryptoSuite, tag: Int, sendKey: [UInt8], receiveKey: [UInt8]) {
        self.suite = suite
        self.tag = tag
        self.sendKey = sendKey
        self.receiveKey = receiveKey
    }
}

extension SDPMedia {
    /// The `a=crypto` lines of this m= line the phone can use, in order, and why the others are refused.
    public var cryptoAttributes: (usable: [SDESCrypto], refused: [SDESCryptoRefusal]) {
        var usable: [SDESCrypto] = []
        var refused: [SDESCryptoRefusal] = []
        for attribute in attributes where attribute.name == "crypto" {
            do throws(SDESCryptoRefusal) {
                usable.append(try SDESCrypto.parse(attribute.value ?? ""))
            } catch {
                refused.append(error)
            }
        }
        return (usable, refused)
    }

    /// Whether the m= line has any `a=crypto` line, usable or not.
    public var hasCrypto: Bool { attributes.contains { $0.name == "crypto" } }

    /// True for the secure RTP profile (RFC 3711 §12: RTP/SAVP).
    public var isSecureProfile: Bool { proto == "RTP/SAVP" }
}
