// The libFuzzer entry for TFTP answers (Tools/deskphone-fuzz, scripts/fuzz.sh). It traps
// (`fatalError`) only on a broken invariant, never on bad input.

/// The input as datagrams from the server to one read of at most 4096 bytes: each datagram is
/// a length byte, a port byte (source port 40000 + its low bit: the transfer ID or a stranger)
/// and that many bytes. Every step must keep the transfer's promises: the file never exceeds the
/// limit, what the client sends is an ACK or an ERROR, a stranger only ever gets ERROR 5, and
/// nothing happens once the transfer is over.
public func tftpFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    var transfer = TFTPTransfer(fileName: "f.cfg", maximumBytes: 4096)
    var at = 0
    var wasOver = false
    while at + 2 <= bytes.count {
        let length = Int(bytes[at])
        let port = 40000 + UInt16(bytes[at + 1] & 1)
        at += 2
        let end = min(at + length, bytes.count)
        let step = transfer.receive(UnsafeRawBufferPointer(rebasing: bytes[at..<end]), fromPort: port)
        at = end
        tftpFuzzCheck(step, wasOver: wasOver)
        wasOver = transfer.isOver
        if end > 0 && bytes[end - 1] == 0xFF {
            // A datagram ending in 0xFF is followed by a silence of the retransmission interval.
            tftpFuzzCheck(transfer.timeout(), wasOver: wasOver)
            wasOver = transfer.isOver
        }
        if transfer.data.count > transfer.maximumBytes { fatalError("TFTP file beyond its limit") }
    }
}

private func tftpFuzzCheck(_ step: TFTPTransfer.Step, wasOver: Bool) {
    if wasOver && step != .none { fatalError("TFTP transfer acts after its end") }
    switch step {
    case .none: return
    case .send(let packet), .finished(lastAck: let packet):
        if packet.count != 4 || packet[0] != 0 || packet[1] != TFTPOpcode.acknowledgment {
            if !(packet.count >= 5 && packet[1] == TFTPOpcode.readRequest) { fatalError("TFTP client sent other than an ACK") }
        }
    case .refuse(let packet, _):
        if packet.count < 5 || packet[1] != TFTPOpcode.error || packet[3] != 5 { fatalError("TFTP stranger not given ERROR 5") }
    case .failed(_, let packet):
        if let packet, packet.count < 5 || packet[1] != TFTPOpcode.error { fatalError("TFTP failure sent other than an ERROR") }
    }
}
