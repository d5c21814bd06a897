// The I/O edge of RFC 3263 server location: a `SIPServerLocator` driven by `Net.DNSResolver`
// on the reactor.

import Net

/// Runs a locator to the end, asking its DNS questions one after the other through a resolver.
public enum SIPServerResolution {
    /// `completion` gets the targets in order and the locator's notes (one per question). It runs
    /// on the loop; for an IP literal (no question to ask) it runs inside this call.
    public static func run(
        _ locator: SIPServerLocator, resolver: DNSResolver,
        completion: @escaping ([SIPServerTarget], [String]) -> Void
    ) {
        var locator = locator
        switch locator.next() {
        case .done(let targets):
            completion(targets, locator.notes)
        case .query(let name, let type):
            resolver.query(name, type: type) { result in
                locator.receive(result)
                run(locator, resolver: resolver, completion: completion)
            }
        }
    }
}
