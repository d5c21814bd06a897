// A list of subscribers to one kind of event: any number of closures, each removable by the
// token it was added with. It replaces a single overwritable `on...` slot where more than one
// part of the phone (the recording controller, the firmware's scripting options, a test) wants
// the same event. Embedded-safe: a class holding an array of closures, no existentials.

/// Closures called in the order they were added with every event `send` is given. A token
/// removes one; `removeAll` (from the owner's `close()`) drops them all and breaks the cycles.
public final class Subscribers<Event> {
    /// Names one added closure (for `remove`).
    public struct Token: Equatable, Sendable {
        fileprivate let id: Int
    }

    private var entries: [(id: Int, handler: (Event) -> Void)] = []
    private var nextID = 0

    public init() {}

    /// How many closures are subscribed.
    public var count: Int { entries.count }

    /// Adds `handler`; it is called after the ones added before it.
    @discardableResult
    public func add(_ handler: @escaping (Event) -> Void) -> Token {
        nextID += 1
        entries.append((id: nextID, handler: handler))
        return Token(id: nextID)
    }

    /// Removes the closure added with `token` (nothing when it is gone already).
    public func remove(_ token: Token) {
        entries.removeAll { $0.id == token.id }
    }

    /// Drops every closure.
    public func removeAll() { entries.removeAll() }

    /// Calls every subscriber with `event`. A subscriber added or removed meanwhile takes
    /// effect from the next event (the list is read as it was when the event started).
    public func send(_ event: Event) {
        let current = entries
        for entry in current { entry.handler(event) }
    }
}
