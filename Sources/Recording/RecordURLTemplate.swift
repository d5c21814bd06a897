import HTTP

/// The values a URL record template can use (the admin guide's `$mac`, `$ip`, ... variables).
public struct RecordURLVariables: Equatable, CustomStringConvertible {
    public var mac: String
    public var ip: String
    public var model: String
    public var firmware: String
    public var local: String
    public var remote: String
    public var displayLocal: String
    public var displayRemote: String
    public var callID: String
    public var activeUser: String
    public var activeHost: String

    public init(
        mac: String = "", ip: String = "", model: String = "", firmware: String = "", local: String = "",
        remote: String = "", displayLocal: String = "", displayRemote: String = "", callID: String = "",
        activeUser: String = "", activeHost: String = ""
    ) {
        self.mac = mac
        self.ip = ip
        self.model = model
        self.firmware = firmware
        self.local = local
        self.remote = remote
        self.displayLocal = displayLocal
        self.displayRemote = displayRemote
        self.callID = callID
        self.activeUser = activeUser
        self.activeHost = activeHost
    }

    public var description: String {
        "mac=" + mac + " ip=" + ip + " model=" + model + " firmware=" + firmware + " local=" + local + " remote="
            + remote + " display_local=" + displayLocal + " display_remote=" + displayRemote + " call_id=" + callID
            + " active_user=" + activeUser + " active_host=" + activeHost
    }
}

/// Expands the variables of a URL record template (`linekey.N.value`), e.g.
/// `http://192.0.2.10/record?call=$call_id&from=$display_remote`. Every substituted value is
/// percent-encoded as RFC 3986 §2.1/§2.3 describe (unreserved `A-Z a-z 0-9 - . _ ~` kept, every
/// other UTF-8 byte as `%XX`), so a caller's display name or URI can add no path segment,
/// query parameter, header or second request. The template's own text is kept as written;
/// `$words` that name no variable stay as they are.
public enum RecordURLTemplate {
    /// The variable names, longest first, so `$display_local` wins over a shorter name that
    /// is its prefix.
    static let names: [[UInt8]] = [
        "display_remote", "display_local", "active_user", "active_host", "firmware", "call_id", "remote", "model",
        "local", "mac", "ip",
    ].map { Array($0.utf8) }

    /// The value of `names[index]`.
    static func value(_ index: Int, _ v: RecordURLVariables) -> String {
        switch index {
        case 0: return v.displayRemote
        case 1: return v.displayLocal
        case 2: return v.activeUser
        case 3: return v.activeHost
        case 4: return v.firmware
        case 5: return v.callID
        case 6: return v.remote
        case 7: return v.model
        case 8: return v.local
        case 9: return v.mac
        default: return v.ip
        }
    }

    public static func expand(_ template: String, _ v: RecordURLVariables) -> String {
        let t = Array(template.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(t.count + 64)
        var i = 0
        outer: while i < t.count {
            if t[i] == 36 {  // "$"
                for (index, name) in names.enumerated() {
                    let n = name.count
                    guard i + 1 + n <= t.count, t[(i + 1)..<(i + 1 + n)].elementsEqual(name) else { continue }
                    percentEncode(value(index, v), into: &out)
                    i += 1 + n
                    continue outer
                }
            }
            out.append(t[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` percent-encoded: RFC 3986 unreserved characters kept, every other UTF-8
    /// byte (`/ ? & = # % + : @`, space, CR, LF, non-ASCII, ...) as `%XX`.
    public static func percentEncode(_ value: String) -> String {
        var out: [UInt8] = []
        percentEncode(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func percentEncode(_ value: String, into out: inout [UInt8]) {
        for b in value.utf8 {
            switch b {
            case 48...57, 65...90, 97...122, 45, 46, 95, 126:
                out.append(b)
            default:
                out += [37, HTTPBytes.hexDigit(b >> 4), HTTPBytes.hexDigit(b & 15)]
            }
        }
    }
}
