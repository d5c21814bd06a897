// The RTP/RTCP socket pair of one call (RFC 3550 §11): an even port for RTP and the port above
// it for RTCP, from the configured range (tried from a random start) or from the kernel.

import Net
import Reactor

/// Opens the pair an `RTPSession` sends and receives on.
enum RTPPortPair {
    private static func openOne(_ reactor: Reactor, _ bind: RTPEndpoint, port: UInt16, _ lastError: inout Int32)
        -> UDPSocket?
    {
        do throws(SocketError) {
            return try UDPSocket(reactor: reactor, bind: bind.with(port: port), v6Only: false)
        } catch {
            lastError = error.errno
            return nil
        }
    }

    /// An RTP socket on an even port and RTCP on the next (RFC 3550 §11).
    static func open(
        _ reactor: Reactor, _ bind: RTPEndpoint, _ configuration: RTPSessionConfiguration
    ) throws(MediaError) -> (rtp: UDPSocket, rtcp: UDPSocket, port: UInt16) {
        var lastError: Int32 = 0
        if configuration.portMin > 0 && configuration.portMax >= configuration.portMin {
            let low = (configuration.portMin + 1) & ~1
            let high = min(configuration.portMax, 65534)
            let count = high >= low ? (high - low) / 2 + 1 : 0
            var random = MediaRandom()
            let first = count > 0 ? Int(random.next() % UInt64(count)) : 0
            for k in 0..<count {
                let port = UInt16(low + 2 * ((first + k) % count))
                guard let rtp = openOne(reactor, bind, port: port, &lastError) else { continue }
                guard let rtcp = openOne(reactor, bind, port: port + 1, &lastError) else {
                    rtp.close()
                    continue
                }
                return (rtp, rtcp, port)
            }
            throw MediaError(
                "no free RTP port pair in " + String(configuration.portMin) + "..." + String(configuration.portMax),
                errno: lastError)
        }
        for _ in 0..<64 {
            var error: Int32 = 0
            guard let rtp = openOne(reactor, bind, port: 0, &error) else {
                throw MediaError("bind RTP " + bind.description, errno: error)
            }
            let port = rtp.localAddress?.port ?? 0
            if port & 1 == 0 && port < 65534 {
                if let rtcp = openOne(reactor, bind, port: port + 1, &lastError) { return (rtp, rtcp, port) }
            }
            rtp.close()
        }
        throw MediaError("no free even RTP port with RTCP above it", errno: lastError)
    }
}
