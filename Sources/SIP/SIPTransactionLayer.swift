// The transaction layer of RFC 3261 §17: the tables of client and server transactions on the
// reactor, message dispatch (§17.1.3, §17.2.3), and the TU's entry points.

import CLinux
import Reactor

/// All SIP transactions of one user agent on one reactor (RFC 3261 §17). The transport handler
/// feeds it every parsed message (`receive(_:from:)`); it sends through the `send` closure
/// given at init (false means the transport refused: a transport error, §17.1.4 / §17.2.4).
///
/// The TU (user agent core) starts client transactions with `start(_:to:onEvent:)` and gets
/// server transactions through `onRequest`. Messages that match no transaction go to
/// `onStrayACK` (the ACK of a 2xx, for the dialog) and `onStrayResponse` (retransmitted or
/// forked 2xx to an INVITE after its transaction ended, for the dialog; others may be
/// ignored). Terminated transactions leave the tables at once.
///
/// With `acceptedState` (default) INVITE transactions follow RFC 6026: after a 2xx they stay
/// Accepted for 64·T1 (Timers L and M), absorbing INVITE retransmissions on the server side
/// and passing every further 2xx to the TU on the client side. Without it they terminate on
/// the 2xx as in RFC 3261.
public final class SIPTransactionLayer: CustomStringConvertible {
    /// The loop the timers run on.
    public let reactor: Reactor
    /// T1, T2, T4 and the 100 Trying delay.
    public let timers: SIPTimerValues
    /// RFC 6026 Accepted states (see the type's description).
    public let acceptedState: Bool

    /// A new server transaction: the request is new (not a retransmission). The TU answers
    /// through `respond(_:)`; for a CANCEL, `cancelledTransaction` is the INVITE it cancels.
    public var onRequest: ((SIPServerTransaction) -> Void)?
    /// An ACK that no transaction absorbed: the ACK of a 2xx, for the dialog (§17.2.3, §13.3.1.4).
    public var onStrayACK: ((SIPMessage, SIPPeer) -> Void)?
    /// A response that matches no client transaction (§18.1.2): for an INVITE, a 2xx
    /// retransmission or another fork's 2xx that the UAC core must ACK; otherwise ignorable.
    public var onStrayResponse: ((SIPMessage, SIPPeer) -> Void)?

    private let sendMessage: (SIPMessage, SIPPeer) -> Bool
    private let branchSource: () -> String
    private var clients: [String: SIPClientTransaction] = [:]
    private var servers: [String: SIPServerTransaction] = [:]

    /// Messages handed to the transport (including retransmissions and ACKs).
    public private(set) var sentCount = 0
    /// Received messages dropped because they cannot belong to any transaction (no Via).
    public private(set) var droppedCount = 0
    /// New requests answered 503 without a transaction because the table was full.
    public private(set) var shedCount = 0

    /// At most this many server transactions live at once (OPTIONS, which leaves the table
    /// with its answer, does not count against it). A new request beyond it gets a
    /// stateless 503 with Retry-After (RFC 3261 §21.5.4, RFC 3261 §8.2.7) and no state, so a
    /// flood costs a bounded amount of memory and its expiry a bounded amount of loop time.
    /// Requests within a dialog (To tag) may use `inDialogReserve` more places, so a flood of
    /// strangers' requests cannot keep a BYE or re-INVITE of a call out.
    public var serverTransactionLimit = 96
    /// Extra places for in-dialog requests above `serverTransactionLimit`.
    public var inDialogReserve = 32
    /// Seconds in the Retry-After of a shed request's 503.
    public var shedRetryAfterSeconds = 10

    /// - Parameters:
    ///   - send: hands a message to the transport; false is an immediate transport error.
    ///   - branches: makes new branches (default: `z9hG4bK` + 24 random hex digits); tests
    ///     inject a counter.
    public init(
        reactor: Reactor, timers: SIPTimerValues = SIPTimerValues(), acceptedState: Bool = true,
        branches: (() -> String)? = nil, send: @escaping (SIPMessage, SIPPeer) -> Bool
    ) {
        self.reactor = reactor
        self.timers = timers
        self.acceptedState = acceptedState
        self.sendMessage = send
        self.branchSource = branches ?? { SIPTransactionLayer.randomBranch() }
    }

    /// Number of live client transactions.
    public var clientTransactionCount: Int { clients.count }
    /// Number of live server transactions.
    public var serverTransactionCount: Int { servers.count }
    /// Number of live transactions (0 once everything has terminated: nothing leaks).
    public var transactionCount: Int { clients.count + servers.count }

    public var description: String {
        "transactions: " + String(clients.count) + " client, " + String(servers.count) + " server, "
            + timers.description
    }

    /// Every live client transaction (in no particular order).
    public var clientTransactions: [SIPClientTransaction] { Array(clients.values) }
    /// Every live server transaction (in no particular order).
    public var serverTransactions: [SIPServerTransaction] { Array(servers.values) }

    // MARK: branches and tags

    /// A new branch from the layer's source (`z9hG4bK...` by default).
    public func newBranch() -> String { branchSource() }

    /// `z9hG4bK` followed by 24 random hex digits (96 bits from getrandom).
    public static func randomBranch() -> String {
        SIPTransactionMatching.magicCookie + randomToken(byteCount: 12)
    }

    /// `byteCount` random bytes (getrandom) as lowercase hex: for branches, tags and Call-IDs.
    public static func randomToken(byteCount: Int = 8) -> String {
        var bytes = [UInt8](repeating: 0, count: max(1, byteCount))
        let filled = bytes.withUnsafeMutableBytes { buffer in
            cl_getrandom(buffer.baseAddress, buffer.count)
        }
        if filled < bytes.count {
            // getrandom cannot fail for small requests after boot; never return a fixed value.
            var seed = UInt64(bitPattern: cl_monotonic_ns()) &* 0x9E37_79B9_7F4A_7C15
            for i in bytes.indices {
                seed ^= seed >> 29
                seed &*= 0xBF58_476D_1CE4_E5B9
                bytes[i] ^= UInt8(truncatingIfNeeded: seed >> 32)
            }
        }
        return hexText(bytes)
    }

    /// Bytes as lowercase hex.
    static func hexText(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for b in bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: client side

    /// Starts a client transaction for `request` (not ACK: an ACK for a 2xx is sent with
    /// `sendWithoutTransaction`). A top Via without a branch gets `newBranch()`. The request is
    /// sent at once; `onEvent` gets the responses, the timeout or the transport error.
    /// Throws when the request is a response or an ACK, has no Via, or its branch is in use.
    @discardableResult
    public func start(
        _ request: SIPMessage, to peer: SIPPeer, onEvent: @escaping (SIPClientTransactionEvent) -> Void
    ) throws(SIPError) -> SIPClientTransaction {
        guard let method = request.method else {
            throw SIPError("a client transaction needs a request, not a response", status: nil)
        }
        if method == .ack {
            throw SIPError("ACK creates no client transaction (RFC 3261 §17.1)", status: nil)
        }
        var message = request
        var vias = message.via
        guard !vias.isEmpty else {
            throw SIPError("request " + method.name + " has no Via", status: nil)
        }
        let branch: String
        if let existing = vias[0].branch, !existing.isEmpty {
            branch = existing
        } else {
            branch = newBranch()
            vias[0].branch = branch
            message.via = vias
        }
        let key = SIPTransactionMatching.clientKey(branch: branch, method: message.cseq.method)
        if clients[key] != nil {
            throw SIPError("branch " + branch + " is in use by a " + method.name + " transaction", status: nil)
        }
        let transaction = SIPClientTransaction(
            request: message, peer: peer, branch: branch, key: key, layer: self, onEvent: onEvent)
        clients[key] = transaction
        transaction.start()
        return transaction
    }

    /// Sends a message outside any transaction (the ACK of a 2xx, §13.2.2.4; the UAS core's
    /// 2xx retransmissions, §13.3.1.4). Returns the transport's verdict.
    @discardableResult
    public func sendWithoutTransaction(_ message: SIPMessage, to peer: SIPPeer) -> Bool {
        transmit(message, to: peer)
    }

    /// Starts retransmitting a 2xx to an INVITE for the UAS core (§13.3.1.4); the first copy
    /// goes through the server transaction's `respond(_:)`.
    public func retransmitSuccess(
        _ response: SIPMessage, to peer: SIPPeer,
        onFailure: @escaping (SIPServerTransactionFailure) -> Void
    ) -> SIPSuccessRetransmission {
        SIPSuccessRetransmission(
            response: response, peer: peer, reactor: reactor, timers: timers,
            send: { [self] message, peer in transmit(message, to: peer) }, onFailure: onFailure)
    }

    // MARK: the network side

    /// A parsed message from the transport (RFC 3261 §17.1.3, §17.2.3).
    public func receive(_ message: SIPMessage, from peer: SIPPeer) {
        if message.isRequest {
            receiveRequest(message, from: peer)
        } else {
            receiveResponse(message, from: peer)
        }
    }

    /// Whether `message` belongs to a transaction of this layer: a response to one of our
    /// client transactions (§17.1.3), a retransmitted request, or an ACK or CANCEL of one of our
    /// server INVITE transactions (§17.2.3, §9.2). Nothing changes.
    public func hasTransaction(for message: SIPMessage) -> Bool {
        guard message.isRequest else {
            guard let key = SIPTransactionMatching.clientKey(message) else { return false }
            return clients[key] != nil
        }
        guard let method = message.method else { return false }
        if method == .ack { return inviteTransaction(forACK: message) != nil }
        if let key = SIPTransactionMatching.serverKey(message, method: method), servers[key] != nil { return true }
        if method == .cancel, let key = SIPTransactionMatching.serverKey(message, method: .invite) {
            return servers[key] != nil
        }
        return false
    }

    private func receiveResponse(_ response: SIPMessage, from peer: SIPPeer) {
        if let key = SIPTransactionMatching.clientKey(response), let transaction = clients[key] {
            transaction.receive(response)
        } else {
            onStrayResponse?(response, peer)
        }
    }

    private func receiveRequest(_ request: SIPMessage, from peer: SIPPeer) {
        guard let method = request.method, !request.via.isEmpty else {
            droppedCount += 1
            return
        }
        if method == .ack {
            if let transaction = inviteTransaction(forACK: request), transaction.receiveACK() { return }
            onStrayACK?(request, peer)
            return
        }
        guard let key = SIPTransactionMatching.serverKey(request, method: method) else {
            droppedCount += 1
            return
        }
        if let existing = servers[key] {
            existing.receiveRetransmission()
            return
        }
        // OPTIONS keeps no place in the table (it ends with its answer), so it is never shed:
        // a phone under a flood still answers its registrar's or its proxy's pings.
        let limit = serverTransactionLimit + (request.to.tag == nil ? 0 : inDialogReserve)
        if servers.count >= limit && method != .options {
            shed(request, from: peer)
            return
        }
        let transaction = SIPServerTransaction(request: request, peer: peer, key: key, layer: self)
        if method == .cancel, let inviteKey = SIPTransactionMatching.serverKey(request, method: .invite) {
            transaction.cancelledTransaction = servers[inviteKey]
        }
        servers[key] = transaction
        transaction.start()
        guard transaction.state != .terminated else { return }
        onRequest?(transaction)
    }

    /// Answers a request 503 Service Unavailable with Retry-After, statelessly (§8.2.7): the To
    /// tag is derived from the request's branch and Call-ID, so a retransmission is answered
    /// with the same response and nothing is kept. An ACK is never answered.
    private func shed(_ request: SIPMessage, from peer: SIPPeer) {
        shedCount += 1
        var tag = request.to.tag
        if tag == nil {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in (request.via.first?.branch ?? "").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            for byte in request.callID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            tag = SIPTransactionLayer.hexText((0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * $0)) })
        }
        var response = SIPMessage.response(to: request, status: 503, toTag: tag)
        do throws(SIPError) {
            try response.addHeader("Retry-After", String(shedRetryAfterSeconds))
        } catch {
            // A decimal number is a valid Retry-After.
        }
        _ = transmit(response, to: peer)
    }

    /// The INVITE server transaction an ACK belongs to (§17.2.3). Without an RFC 3261 branch
    /// the ACK's To tag must be the tag of the response the transaction sent; the INVITE's own
    /// To tag was the same tag (re-INVITE) or none (initial INVITE).
    private func inviteTransaction(forACK ack: SIPMessage) -> SIPServerTransaction? {
        if SIPTransactionMatching.hasMagicCookie(ack.via.first?.branch) {
            guard let key = SIPTransactionMatching.serverKey(ack, method: .invite) else { return nil }
            return servers[key]
        }
        let ackTag = ack.to.tag
        let candidates: [String?] = ackTag == nil ? [nil] : [ackTag, nil]
        for inviteTag in candidates {
            guard let key = SIPTransactionMatching.serverKey(ack, method: .invite, toTag: .some(inviteTag)),
                let transaction = servers[key]
            else { continue }
            let sentTag = transaction.lastResponse?.to.tag ?? transaction.request.to.tag
            if sentTag == ackTag { return transaction }
        }
        return nil
    }

    /// The transport lost the connection to `peer` (a TCP connection closed or failed, an ICMP
    /// error): every transaction with that peer ends with a transport error (§17.1.4, §17.2.4).
    /// A peer without a connection id matches any connection to the same address.
    public func transportFailed(peer: SIPPeer) {
        for transaction in Array(clients.values) where SIPTransactionLayer.samePeer(transaction.peer, peer) {
            transaction.finish(.transportError)
        }
        for transaction in Array(servers.values) where SIPTransactionLayer.samePeer(transaction.peer, peer) {
            transaction.fail(.transportError)
        }
    }

    static func samePeer(_ a: SIPPeer, _ b: SIPPeer) -> Bool {
        guard a.transport == b.transport && a.remote == b.remote else { return false }
        guard let left = a.connection, let right = b.connection else { return true }
        return left == right
    }

    /// Ends every transaction without telling anyone and drops the TU callbacks (they usually
    /// capture the TU, which holds this layer). For shutdown.
    public func close() {
        for transaction in Array(clients.values) { transaction.terminate() }
        for transaction in Array(servers.values) { transaction.terminate() }
        onRequest = nil
        onStrayACK = nil
        onStrayResponse = nil
    }

    // MARK: for the transactions

    func transmit(_ message: SIPMessage, to peer: SIPPeer) -> Bool {
        sentCount += 1
        return sendMessage(message, peer)
    }

    func remove(_ transaction: SIPClientTransaction) {
        if clients[transaction.key] === transaction { clients[transaction.key] = nil }
    }

    func remove(_ transaction: SIPServerTransaction) {
        if servers[transaction.key] === transaction { servers[transaction.key] = nil }
    }
}
