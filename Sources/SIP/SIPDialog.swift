// Dialog state (RFC 3261 §12): identifiers, sequence numbers, remote target and route set,
// and the requests built inside a dialog (§12.2.1.1).

/// One dialog of a call (RFC 3261 §12): Call-ID, local and remote tags, local and remote
/// URIs, CSeq numbers, the remote target (the peer's Contact, updated by target refresh
/// requests, §12.2) and the route set (from Record-Route, fixed when the dialog is created).
public struct SIPDialog: Equatable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    /// Empty while an outgoing INVITE has no tagged response yet.
    public var remoteTag: String
    /// Our From (UAC) or To (UAS) name-address, without tag.
    public var localAddress: SIPNameAddress
    /// The peer's name-address, without tag.
    public var remoteAddress: SIPNameAddress
    /// The CSeq number of our last request in this dialog.
    public var localSequence: UInt32
    /// The highest CSeq number received from the peer, nil before their first request.
    public var remoteSequence: UInt32?
    /// Where in-dialog requests go (the peer's Contact URI).
    public var remoteTarget: SIPURI
    /// Route set, in the order requests carry it.
    public var routeSet: [SIPNameAddress]
    /// False while the dialog is early (only a 1xx created it, §12.1).
    public var isConfirmed: Bool

    public init(
        callID: String, localTag: String, remoteTag: String, localAddress: SIPNameAddress,
        remoteAddress: SIPNameAddress, localSequence: UInt32, remoteSequence: UInt32?, remoteTarget: SIPURI,
        routeSet: [SIPNameAddress], isConfirmed: Bool
    ) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.localSequence = localSequence
        self.remoteSequence = remoteSequence
        self.remoteTarget = remoteTarget
        self.routeSet = routeSet
        self.isConfirmed = isConfirmed
    }

    /// The UAC's dialog from a response to its INVITE (§12.1.2): route set from the
    /// Record-Route in reverse order, remote target from the Contact.
    public static func uac(request: SIPMessage, response: SIPMessage) -> SIPDialog {
        var local = request.from
        local.tag = nil
        var remote = response.to
        remote.tag = nil
        let target = response.contacts.first?.address?.uri ?? request.requestURI ?? remote.uri
        return SIPDialog(
            callID: request.callID, localTag: request.from.tag ?? "", remoteTag: response.to.tag ?? "",
            localAddress: local, remoteAddress: remote, localSequence: request.cseq.number, remoteSequence: nil,
            remoteTarget: target, routeSet: Array(response.recordRoutes.reversed()),
            isConfirmed: (response.status ?? 0) >= 200)
    }

    /// The UAS's dialog from a request and the tag it puts in To (§12.1.1): route set from the
    /// Record-Route in order, remote target from the Contact.
    public static func uas(request: SIPMessage, localTag: String) -> SIPDialog {
        var local = request.to
        local.tag = nil
        var remote = request.from
        remote.tag = nil
        let target = request.contacts.first?.address?.uri ?? remote.uri
        return SIPDialog(
            callID: request.callID, localTag: localTag, remoteTag: request.from.tag ?? "", localAddress: local,
            remoteAddress: remote, localSequence: SIPDialog.initialSequence(), remoteSequence: request.cseq.number,
            remoteTarget: target, routeSet: request.recordRoutes, isConfirmed: false)
    }

    /// A starting CSeq below 2^31 (§8.1.1.5), random so a restarted phone does not repeat them.
    public static func initialSequence() -> UInt32 {
        let token = SIPTransactionLayer.randomToken(byteCount: 2)
        var value: UInt32 = 0
        for c in token.utf8 { value = value &* 16 &+ UInt32(c <= 0x39 ? c - 0x30 : c - 0x57) }
        return value % 10000 + 1
    }

    /// Whether `message` (a request from the peer or a response to us) belongs here (§12.2.2).
    public func matches(callID: String, localTag: String?, remoteTag: String?) -> Bool {
        callID == self.callID && (localTag ?? "") == self.localTag && (remoteTag ?? "") == self.remoteTag
    }

    /// The Request-URI and Route headers of a request (§12.2.1.1): loose routing when the
    /// first route has `lr` (or there is none), strict routing otherwise.
    public var requestTarget: (uri: SIPURI, routes: [SIPNameAddress]) {
        guard let first = routeSet.first else { return (remoteTarget, []) }
        if first.uri.parameter("lr") != nil { return (remoteTarget, routeSet) }
        var uri = first.uri
        uri.headers = []
        var routes = Array(routeSet.dropFirst())
        routes.append(SIPNameAddress(uri: remoteTarget))
        return (uri, routes)
    }

    /// The URI the next hop is found from: the first route, else the remote target (§8.1.2).
    public var nextHopURI: SIPURI { routeSet.first?.uri ?? remoteTarget }

    /// A new request in the dialog with the next CSeq (ACK and CANCEL take `sequence`).
    public mutating func makeRequest(_ method: SIPMethod, via: SIPVia, sequence: UInt32? = nil) -> SIPMessage {
        let number: UInt32
        if let sequence {
            number = sequence
        } else {
            localSequence &+= 1
            number = localSequence
        }
        var from = localAddress
        from.tag = localTag
        var to = remoteAddress
        to.tag = remoteTag.isEmpty ? nil : remoteTag
        let target = requestTarget
        var request = SIPMessage.request(
            method: method, uri: target.uri, from: from, to: to, callID: callID, cseq: number, via: via)
        if !target.routes.isEmpty { request.routes = target.routes }
        return request
    }

    public var description: String {
        "dialog " + callID + " local " + localTag + " remote " + remoteTag + " cseq " + String(localSequence)
            + (isConfirmed ? " confirmed" : " early") + " target " + remoteTarget.description
    }
}
