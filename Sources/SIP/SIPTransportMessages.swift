// The message side of the transport layer: parsing received bytes and the Via rules of
// RFC 3261 §18.1.2, §18.2.1, §18.2.2 and RFC 3581. (Byte-level until the message API lands.)

extension SIPTransportLayer {
    /// One whole received message (datagram or framed stream message).
    func received(_ bytes: [UInt8], from peer: SIPPeer) {
        counters.messagesReceived += 1
    }
}
