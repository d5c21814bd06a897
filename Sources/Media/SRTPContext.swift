// SRTP and SRTCP (RFC 3711) for one call through libsrtp2: a sending session keyed with the
// phone's own SDES key and a receiving session keyed with the far end's (RFC 4568 §6.1). Both
// protect and unprotect in place in the caller's buffer: no allocation per packet. The
// receiving session takes any SSRC (libsrtp2 `ssrc_any_inbound`): a new far SSRC gets its own
// crypto context (replay window, rollover counter) under the same master key, RFC 4568 §6.4.

import CSRTP
import SIP

/// What happened to one packet given to `SRTPContext`.
public enum SRTPOutcome: Equatable {
    /// Protected or verified and decrypted; the length is the new one.
    case ok(Int)
    /// The authentication tag did not verify (wrong key, altered packet): drop it.
    case authenticationFailure
    /// Seen before, or older than the replay window: drop it.
    case replay
    /// Any other libsrtp2 status (too short, no room for the tag, ...): drop it.
    case failed(Int32)
}

/// The SRTP/SRTCP sessions of one call (RFC 3711 §3.2): `protect` what is sent, `unprotect`
/// what is received. Made per negotiated key pair: a re-key is a new context, which keeps the
/// previous context's session of a direction whose key did not change (its rollover counter
/// and replay window must go on: a far end that keeps its key after a re-INVITE keeps its
/// packet index, RFC 3711 §3.3.1).
public final class SRTPContext {
    /// The suite both directions use.
    public let suite: SRTPCryptoSuite
    /// The keys in force.
    let keys: SDPNegotiatedSRTP
    /// Bytes `protect` may add to an RTP packet (tag) or `protectRTCP` to an RTCP one (tag + index).
    public static let maximumTrailer = Int(SRTP_MAX_TRAILER_LEN) + 4

    private var sending: srtp_t? = nil
    private var receiving: srtp_t? = nil

    /// srtp_init's status, run once (a lazy static: safe when tests make contexts on several threads).
    private static let libraryStatus: UInt32 = srtp_init().rawValue

    /// The two sessions for `keys`; throws with libsrtp2's status when it refuses a key. A
    /// direction whose suite and key are those of `previous` takes over its session.
    public init(_ keys: SDPNegotiatedSRTP, continuing previous: SRTPContext? = nil) throws(MediaError) {
        suite = keys.suite
        self.keys = keys
        guard keys.sendKey.count == keys.suite.masterKeyLength, keys.receiveKey.count == keys.suite.masterKeyLength
        else { throw MediaError("SRTP key length is not " + String(keys.suite.masterKeyLength) + " bytes") }
        guard SRTPContext.libraryStatus == srtp_err_status_ok.rawValue else {
            throw MediaError("srtp_init failed: status " + String(SRTPContext.libraryStatus))
        }
        let same = previous.map { $0.suite == keys.suite } ?? false
        let keepSending = same && previous!.keys.sendKey == keys.sendKey && previous!.sending != nil
        let keepReceiving = same && previous!.keys.receiveKey == keys.receiveKey && previous!.receiving != nil
        var newSending: srtp_t? = nil
        if !keepSending { newSending = try SRTPContext.session(keys.suite, keys.sendKey, inbound: false) }
        var newReceiving: srtp_t? = nil
        if !keepReceiving {
            do throws(MediaError) {
                newReceiving = try SRTPContext.session(keys.suite, keys.receiveKey, inbound: true)
            } catch {
                if let newSending { srtp_dealloc(newSending) }
                throw error
            }
        }
        // Nothing can fail from here on: take over the kept sessions.
        if keepSending {
            sending = previous!.sending
            previous!.sending = nil
        } else {
            sending = newSending
        }
        if keepReceiving {
            receiving = previous!.receiving
            previous!.receiving = nil
        } else {
            receiving = newReceiving
        }
    }

    deinit {
        if let sending { srtp_dealloc(sending) }
        if let receiving { srtp_dealloc(receiving) }
    }

    /// The libsrtp2 policy of `suite` for one direction, without its key (the benchmark's
    /// direct calls use it too).
    public static func policy(_ suite: SRTPCryptoSuite, inbound: Bool) -> srtp_policy_t {
        var policy = srtp_policy_t()
        switch suite {
        case .aesCM128HMACSHA1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aesCM128HMACSHA1_32:
            // The short tag is for SRTP only; SRTCP keeps the 80-bit tag (RFC 4568 §6.2.2).
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aeadAES128GCM:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        }
        policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound
        policy.window_size = 128
        policy.allow_repeat_tx = 0
        return policy
    }

    private static func session(_ suite: SRTPCryptoSuite, _ key: [UInt8], inbound: Bool) throws(MediaError) -> srtp_t {
        var policy = SRTPContext.policy(suite, inbound: inbound)
        var material = key
        var session: srtp_t? = nil
        let status = material.withUnsafeMutableBufferPointer { buffer -> srtp_err_status_t in
            policy.key = buffer.baseAddress
            return srtp_create(&session, &policy)
        }
        // libsrtp2 derived its session keys; the master key copy is wiped.
        for index in material.indices { material[index] = 0 }
        guard status == srtp_err_status_ok, let session else {
            throw MediaError("srtp_create failed for " + suite.name + ": status " + String(status.rawValue))
        }
        return session
    }

    /// Protects the RTP packet of `length` bytes at `packet` in place; `capacity` must leave
    /// `maximumTrailer` bytes after it.
    public func protect(_ packet: UnsafeMutableRawPointer, length: Int, capacity: Int) -> SRTPOutcome {
        SRTPContext.run(srtp_protect, sending, packet, length, room: capacity - length)
    }

    /// Verifies and decrypts the SRTP packet of `length` bytes at `packet` in place.
    public func unprotect(_ packet: UnsafeMutableRawPointer, length: Int) -> SRTPOutcome {
        SRTPContext.run(srtp_unprotect, receiving, packet, length, room: nil)
    }

    /// Protects a compound RTCP packet in place (SRTCP, RFC 3711 §3.4).
    public func protectRTCP(_ packet: UnsafeMutableRawPointer, length: Int, capacity: Int) -> SRTPOutcome {
        SRTPContext.run(srtp_protect_rtcp, sending, packet, length, room: capacity - length)
    }

    /// Verifies and decrypts an SRTCP packet in place.
    public func unprotectRTCP(_ packet: UnsafeMutableRawPointer, length: Int) -> SRTPOutcome {
        SRTPContext.run(srtp_unprotect_rtcp, receiving, packet, length, room: nil)
    }

    /// One libsrtp2 call on `session` over the packet in place; `room` (protecting): the bytes free
    /// after the packet, which must hold the longest trailer.
    @inline(__always)
    private static func run(
        _ call: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t,
        _ session: srtp_t?, _ packet: UnsafeMutableRawPointer, _ length: Int, room: Int?
    ) -> SRTPOutcome {
        guard let session else { return .failed(-1) }
        if let room, room < SRTPContext.maximumTrailer { return .failed(-2) }
        var n = Int32(length)
        return outcome(call(session, packet, &n), n)
    }

    private static func outcome(_ status: srtp_err_status_t, _ length: Int32) -> SRTPOutcome {
        switch status {
        case srtp_err_status_ok: return .ok(Int(length))
        case srtp_err_status_auth_fail: return .authenticationFailure
        case srtp_err_status_replay_fail, srtp_err_status_replay_old: return .replay
        default: return .failed(Int32(bitPattern: status.rawValue))
        }
    }
}
