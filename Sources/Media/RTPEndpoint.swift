import Net

/// An IPv4 or IPv6 address and a UDP port with no heap storage (`Net.SocketAddress`), so the
/// receive path can compare a packet's source with the latched far end (RFC 4961 symmetric
/// RTP) without allocating.
public typealias RTPEndpoint = SocketAddress
