import ArgumentParser
import CLinux
import CMallocCounter
import CSRTP
import Media
import SIP

/// `deskphone-tool bench srtp`: SRTP protect + unprotect of one voice packet (12-byte header and
/// 160 bytes of payload: PCMU at 20 ms) through the phone's `SRTPContext`, and through libsrtp2
/// called directly with the same policy, per suite: ns per packet and heap allocations per packet.
struct SRTPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "srtp",
        abstract: "SRTP protect+unprotect per packet: SRTPContext against libsrtp2 called directly."
    )

    @Option(help: "Packets per measured run (best of 5 runs).")
    var packets = 200_000

    @Option(help: "Payload bytes per packet (160: PCMU 20 ms; 80: G.722 10 ms...).")
    var payload = 160

    func run() throws {
        print("srtp benchmark: \(packets) packets of 12 + \(payload) bytes, protect + unprotect, best of 5")
        print("suite                      path          ns/packet  allocations/packet")
        for suite in [SRTPCryptoSuite.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM] {
            let sendKey = (0..<suite.masterKeyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            let keys = SDPNegotiatedSRTP(suite: suite, tag: 1, sendKey: sendKey, receiveKey: sendKey)
            // Our context: the sender protects, a second context with the keys crossed unprotects.
            let sender = try SRTPContext(keys)
            let receiver = try SRTPContext(keys)
            let ours = measure { buffer, length in
                guard case .ok(let n) = sender.protect(buffer, length: length, capacity: 2048),
                    case .ok = receiver.unprotect(buffer, length: n)
                else { return false }
                return true
            }
            report(suite, "SRTPContext", ours)
            // libsrtp2 directly.
            let out = direct(suite, sendKey, inbound: false)
            let inb = direct(suite, sendKey, inbound: true)
            defer {
                srtp_dealloc(out)
                srtp_dealloc(inb)
            }
            let raw = measure { buffer, length in
                var n = Int32(length)
                guard srtp_protect(out, buffer, &n) == srtp_err_status_ok,
                    srtp_unprotect(inb, buffer, &n) == srtp_err_status_ok
                else { return false }
                return true
            }
            report(suite, "libsrtp2", raw)
        }
    }

    func report(_ suite: SRTPCryptoSuite, _ path: String, _ result: (ns: Double, allocations: Double)?) {
        guard let result else {
            print(suite.name.padding(26) + " " + path.padding(13) + " failed")
            return
        }
        print(
            suite.name.padding(26) + " " + path.padding(13) + " " + String(Int(result.ns.rounded())).padding(10) + " "
                + String(result.allocations))
    }

    /// Best ns per packet over 5 runs and allocations per packet, or nil when a packet failed.
    func measure(_ body: (UnsafeMutableRawPointer, Int) -> Bool) -> (ns: Double, allocations: Double)? {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }
        var sequence: UInt16 = 0
        var best = Int64.max
        var allocations: UInt64 = 0
        for _ in 0..<5 {
            let before = mc_thread_allocations()
            let start = cl_monotonic_ns()
            for _ in 0..<packets {
                sequence &+= 1
                writePacket(buffer, sequence: sequence)
                if !body(buffer, 12 + payload) { return nil }
            }
            best = min(best, cl_monotonic_ns() - start)
            allocations = mc_thread_allocations() - before
        }
        return (Double(best) / Double(packets), Double(allocations) / Double(packets))
    }

    func writePacket(_ buffer: UnsafeMutableRawPointer, sequence: UInt16) {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        bytes[0] = 0x80
        bytes[1] = 0
        bytes[2] = UInt8(sequence >> 8)
        bytes[3] = UInt8(sequence & 0xFF)
        for i in 4..<12 { bytes[i] = UInt8(i) }
        for i in 0..<payload { bytes[12 + i] = UInt8(truncatingIfNeeded: i) }
    }

    func direct(_ suite: SRTPCryptoSuite, _ key: [UInt8], inbound: Bool) -> srtp_t? {
        var policy = SRTPContext.policy(suite, inbound: inbound)
        var material = key
        var session: srtp_t? = nil
        _ = material.withUnsafeMutableBufferPointer { buffer in
            policy.key = buffer.baseAddress
            return srtp_create(&session, &policy)
        }
        return session
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
