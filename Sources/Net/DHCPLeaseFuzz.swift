// The libFuzzer entry for DHCP lease files (Tools/deskphone-fuzz, scripts/fuzz.sh). It traps
// (`fatalError`) only on a broken invariant, never on bad input.

/// The input as a lease file: a value found is printable, at most 255 bytes, reads back the same
/// from an `opt66='...'` line, and its provisioning URL has a scheme.
public func dhcpLeaseFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    guard let value = DHCPLease.tftpServerName(in: Array(bytes)) else { return }
    if value.utf8.isEmpty || value.utf8.count > DHCPLease.maximumValueBytes { fatalError("DHCP value size") }
    for b in value.utf8 where b <= 32 || b >= 127 { fatalError("DHCP value not printable") }
    if DHCPLease.tftpServerName(in: Array(("opt66='" + value + "'\n").utf8)) != value {
        fatalError("DHCP value does not read back: " + value)
    }
    let url = DHCPLease.provisioningURL(optionValue: value)
    let bytes = Array(url.utf8)
    var scheme = false
    for i in 0..<max(0, bytes.count - 2) where bytes[i] == 58 && bytes[i + 1] == 47 && bytes[i + 2] == 47 { scheme = true }
    if !scheme { fatalError("DHCP provisioning URL without a scheme: " + url) }
}
