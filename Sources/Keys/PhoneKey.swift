/// The keys of a desk phone, independent of how a board wires them.
public enum PhoneKey: Equatable, Hashable, Sendable {
    case digit(Int)
}
