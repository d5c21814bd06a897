// SIP over TLS (RFC 3261 §26.2.1, RFC 5630): the seam between the transport layer and a TLS
// engine, and the TLS side of a connection. A TLS connection is a TCP connection with a
// `SIPTLSSession` between the socket and the SIP framer: ciphertext from the socket goes into
// the session, plaintext out of it into the framer; SIP bytes go into the session and its
// ciphertext into the connection's output queue. Requests wait in the connection's plaintext
// queue until the handshake is done. The engine (module TLS over mbedTLS) is given to the layer
// by the phone's assembly (`SIPTransportLayer.makeTLSSession`), so SIP does not link a TLS
// library and the transport logic stays testable.

import Net
import Reactor

/// Where a TLS session is (the engine's view, after the last `advance()`).
public enum SIPTLSProgress: Equatable, Sendable {
    case handshaking
    case established
    /// The handshake or the session failed; the text names the reason (a refused certificate:
    /// "certificate for 'x' not valid for 'pbx.test'", "untrusted CA", an alert).
    case failed(String)
    /// The peer closed the session (close_notify).
    case closed
}

/// One client-side TLS session, sans-IO: bytes in, bytes out; never touches the socket.
public protocol SIPTLSSession: AnyObject {
    /// Ciphertext read from the socket.
    func receiveCiphertext(_ bytes: UnsafeRawBufferPointer)
    /// Runs the handshake as far as the input allows (or decrypts input once established).
    func advance() -> SIPTLSProgress
    /// Appends every ciphertext byte waiting to be sent (handshake records, alerts, data).
    func takeCiphertext(into output: inout [UInt8])
    /// Encrypts plaintext (after `.established`); false when the session refuses it.
    func writePlaintext(_ bytes: [UInt8]) -> Bool
    /// Appends every decrypted byte available.
    func readPlaintext(into output: inout [UInt8])
    /// Ends the session (sends close_notify into the ciphertext) and frees it.
    func close()
}

/// What `SIPTransportLayer.makeTLSSession` gives for a new connection.
public enum SIPTLSSessionStart {
    case session(any SIPTLSSession)
    /// No session could be made (configuration: the trust file cannot be read, ...).
    case failed(String)
}

extension SIPTransportLayer {
    /// The name a TLS connection to `remote` checks the server certificate against (RFC 5922
    /// §4: the SIP domain the target was found for), else the address itself (an IP literal,
    /// checked against the certificate's IP addresses).
    func tlsServerName(for remote: SIPSocketAddress) -> String {
        tlsServerNames[remote] ?? remote.plainHostText
    }

    /// Starts the TLS session of a new outbound connection; nil after reporting why not.
    func startTLSSession(to remote: SIPSocketAddress) -> (any SIPTLSSession)? {
        let peer = SIPPeer(transport: .tls, remote: remote)
        guard let makeTLSSession else {
            report(peer, .transportUnavailable(.tls))
            return nil
        }
        switch makeTLSSession(remote, tlsServerName(for: remote)) {
        case .session(let session):
            return session
        case .failed(let reason):
            report(peer, .tls(reason))
            return nil
        }
    }

    /// Queues SIP bytes on a connection: straight into its output for TCP; for TLS through the
    /// session once it is established, else into the plaintext queue.
    func queueOutput(_ c: SIPTransportConnection, _ bytes: [UInt8]) {
        guard let session = c.tls else {
            appendOutput(c, bytes)
            return
        }
        guard c.secured else {
            c.plaintextQueue.append(contentsOf: bytes)
            return
        }
        if !session.writePlaintext(bytes) { report(c.peer, .tls("the session refused data")) }
        var ciphertext: [UInt8] = []
        session.takeCiphertext(into: &ciphertext)
        appendOutput(c, ciphertext)
    }

    func appendOutput(_ c: SIPTransportConnection, _ bytes: [UInt8]) {
        if c.outputSent > 0 && c.outputSent == c.output.count {
            c.output.removeAll(keepingCapacity: true)
            c.outputSent = 0
        }
        c.output.append(contentsOf: bytes)
    }

    /// Drives a TLS connection after its socket connected or new ciphertext arrived: the
    /// handshake, then the queued requests and the decrypted input into the framer. Returns
    /// false once the connection is gone (a failed handshake is reported with its reason and
    /// closes the connection: never a fallback to another transport).
    func advanceTLS(_ c: SIPTransportConnection) -> Bool {
        guard let session = c.tls else { return true }
        let id = c.id
        let progress = session.advance()
        var ciphertext: [UInt8] = []
        session.takeCiphertext(into: &ciphertext)
        appendOutput(c, ciphertext)
        switch progress {
        case .handshaking:
            break
        case .established:
            if !c.secured {
                c.secured = true
                if let timer = c.connectTimer { reactor.cancel(timer) }
                c.connectTimer = nil
                counters.tlsHandshakes += 1
                let queued = c.plaintextQueue
                c.plaintextQueue = []
                if !queued.isEmpty { queueOutput(c, queued) }
            }
            var plaintext: [UInt8] = []
            session.readPlaintext(into: &plaintext)
            if !plaintext.isEmpty {
                c.lastActivity = reactor.now
                plaintext.withUnsafeBytes { c.framer.append($0) }
                if !drainFrames(c) { return false }
            }
        case .failed(let reason):
            flush(c)  // the alert, when the socket takes it
            counters.tlsFailures += 1
            report(c.peer, .tls(reason))
            closeConnection(id)
            return false
        case .closed:
            if c.queuedBytes > 0 { report(c.peer, .connectionReset) }
            closeConnection(id)
            return false
        }
        if c.connected { flush(c) }
        return connections[id] === c
    }
}
