/// Why a digest challenge or credentials value (RFC 3261 §22.4, RFC 7616 §3.3-3.4) could not be
/// parsed or answered. `message` is one precise line naming the parameter and byte offset.
public struct DigestError: Error, Equatable, CustomStringConvertible {
    /// The family of failure, for code that reacts differently (e.g. an unsupported scheme
    /// means "try the next challenge", a syntax error means "the server is broken").
    public enum Kind: Equatable, Sendable, CustomStringConvertible {
        /// The header value is empty or only whitespace.
        case empty
        /// The value breaks the auth-param grammar (RFC 3261 §25.1, RFC 7235 §2.1).
        case syntax
        /// The value, one parameter, or the parameter count is over the parser's limits.
        case tooLong
        /// No challenge with the Digest scheme (e.g. only Basic or Bearer).
        case unsupportedScheme
        /// A parameter the scheme requires (realm, nonce, ...) is absent.
        case missingParameter
        /// A parameter appears twice in one challenge or credentials value.
        case duplicateParameter
        /// A known parameter has a value that breaks its own grammar (e.g. nc not 8 hex digits).
        case invalidParameter
        /// The algorithm is not one this stack implements (RFC 8760 §2 lists the supported ones).
        case unsupportedAlgorithm
        /// qop is offered but holds neither auth nor auth-int.
        case unsupportedQop

        public var description: String {
            switch self {
            case .empty: "empty"
            case .syntax: "syntax"
            case .tooLong: "tooLong"
            case .unsupportedScheme: "unsupportedScheme"
            case .missingParameter: "missingParameter"
            case .duplicateParameter: "duplicateParameter"
            case .invalidParameter: "invalidParameter"
            case .unsupportedAlgorithm: "unsupportedAlgorithm"
            case .unsupportedQop: "unsupportedQop"
            }
        }
    }

    public var kind: Kind
    /// One line, e.g. `unterminated quoted string for 'nonce' starting at byte 23`.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
