// SIP: the signalling stack of the phone (RFC 3261 message model, parser and serializer,
// transports on the reactor, transactions, digest authentication, SDP offer/answer).
// Firmware module: Embedded Swift rules (typed throws, no Foundation).

/// The version of the SIP stack's wire behaviour, for User-Agent and Server headers.
public enum SIPStack {
    public static let userAgentProduct = "deskphone"
}
