// Several accounts on one transport (issue 16 item 2): which account's user agent a message
// from the network belongs to. Pure: the message and the user agents in, an index out.

/// Picks the user agent (one per account, all on one `SIPTransportLayer`) for a message from
/// the network: the one whose transaction or dialog it belongs to (a response by its Via
/// branch, RFC 3261 §17.1.3; a retransmission, ACK or CANCEL by its server transaction,
/// §17.2.3, §9.2; an in-dialog request by its dialog, §12.2.2); a new request by the user of
/// its Request-URI, then of its To (the account it calls); anything else to the first (the
/// default account). With one user agent it is always that one.
public enum SIPAccountRouting {
    public static func index(for message: SIPMessage, among agents: [SIPUserAgent]) -> Int {
        guard agents.count > 1 else { return 0 }
        for i in agents.indices where agents[i].owns(message) { return i }
        guard message.isRequest, message.to.tag == nil else { return 0 }
        if let user = message.requestURI?.user {
            for i in agents.indices where agents[i].account.userName == user { return i }
        }
        if let user = message.to.uri.user {
            for i in agents.indices where agents[i].account.userName == user { return i }
        }
        return 0
    }
}
