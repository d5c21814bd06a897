// The provisioning server handed out by DHCP (option 66, "TFTP server name", RFC 2132 §9.4), read
// from the lease file the board's DHCP client writes, sans-IO: dhclient's lease syntax and the
// `key=value` lines a udhcpc (or networkd-dispatcher) hook script writes. docs/CONFIG.md says how
// each client is set up.

/// Option 66 in a DHCP client's lease file, and the provisioning URL it stands for.
public enum DHCPLease {
    /// The longest value accepted (a DHCP option holds at most 255 bytes).
    public static let maximumValueBytes = 255

    /// The option 66 value in `text`, nil when there is none (or it is not printable text):
    /// - dhclient (`/var/lib/dhcp/dhclient.leases`): `option tftp-server-name "VALUE";` in the
    ///   last `lease { ... }` block (dhclient appends each new lease);
    /// - `key=value` lines (a udhcpc hook: `opt66=VALUE` or `tftp=VALUE`, its environment
    ///   variable; `tftp_server_name=VALUE`), the value optionally quoted; the last line wins.
    public static func tftpServerName(in text: [UInt8]) -> String? {
        var found: [UInt8]? = nil
        var inLease = false
        var leaseValue: [UInt8]? = nil
        for rawLine in text.split(separator: 10, omittingEmptySubsequences: true) {
            let line = trimmed(Array(rawLine))
            if line.isEmpty || line[0] == UInt8(ascii: "#") { continue }
            if startsWith(line, "lease") && line.last == UInt8(ascii: "{") {
                inLease = true
                leaseValue = nil
                continue
            }
            if inLease {
                if line == [UInt8(ascii: "}")] {
                    inLease = false
                    if let leaseValue { found = leaseValue }
                    continue
                }
                let prefix = Array("option tftp-server-name".utf8)
                guard startsWith(line, "option tftp-server-name"), line.count > prefix.count,
                    line[prefix.count] == 32 || line[prefix.count] == 9
                else { continue }
                var value = trimmed(Array(line[prefix.count...]))
                if value.last == UInt8(ascii: ";") { value.removeLast() }
                leaseValue = unquoted(trimmed(value))
                continue
            }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            var key = trimmed(Array(line[..<equals]))
            if startsWith(key, "export ") { key = trimmed(Array(key[7...])) }
            let name = String(decoding: key.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
            guard name == "opt66" || name == "tftp" || name == "tftp_server_name" else { continue }
            found = unquoted(trimmed(Array(line[(equals + 1)...])))
        }
        guard let found, !found.isEmpty, found.count <= maximumValueBytes else { return nil }
        for b in found where b <= 32 || b >= 127 { return nil }
        return String(decoding: found, as: UTF8.self)
    }

    /// The provisioning directory for an option 66 value: the value itself when it is a URL
    /// (`scheme://...`), else `tftp://VALUE/` (a bare server name or address, the option's
    /// meaning in RFC 2132).
    public static func provisioningURL(optionValue value: String) -> String {
        if value.utf8.count > 3 && containsScheme(Array(value.utf8)) { return value }
        return "tftp://" + value + (value.hasSuffix("/") ? "" : "/")
    }

    private static func containsScheme(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 3 else { return false }
        for i in 0..<(bytes.count - 2) where bytes[i] == UInt8(ascii: ":") {
            return i > 0 && bytes[i + 1] == UInt8(ascii: "/") && bytes[i + 2] == UInt8(ascii: "/")
        }
        return false
    }

    private static func startsWith(_ line: [UInt8], _ text: String) -> Bool {
        let prefix = Array(text.utf8)
        return line.count >= prefix.count && Array(line[0..<prefix.count]) == prefix
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 32 || bytes[start] == 9 || bytes[start] == 13) { start += 1 }
        while end > start && (bytes[end - 1] == 32 || bytes[end - 1] == 9 || bytes[end - 1] == 13) { end -= 1 }
        return Array(bytes[start..<end])
    }

    /// `"a\"b"` -> `a"b`, `'x'` -> `x`; anything else as it is.
    private static func unquoted(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 2, let first = bytes.first, first == bytes.last,
            first == UInt8(ascii: "\"") || first == UInt8(ascii: "'")
        else { return bytes }
        var out: [UInt8] = []
        var escaped = false
        for b in bytes[1..<(bytes.count - 1)] {
            if first == UInt8(ascii: "\"") && !escaped && b == UInt8(ascii: "\\") {
                escaped = true
                continue
            }
            escaped = false
            out.append(b)
        }
        return out
    }
}
