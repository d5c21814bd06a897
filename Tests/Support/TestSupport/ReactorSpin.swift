import Reactor

/// Runs the reactor on the real clock in short slices until `condition` holds, at most about
/// `limit` seconds (a guard against hanging, not a timing assertion). Returns the condition.
@discardableResult
public func spin(_ reactor: Reactor, limit: Double = 3, until condition: () -> Bool) -> Bool {
    let deadline = reactor.now + Int64(limit * 1e9)
    while !condition() {
        if reactor.now > deadline { return false }
        try? reactor.run(for: 5_000_000)
    }
    return true
}
