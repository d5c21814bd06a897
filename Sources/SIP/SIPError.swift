// Parse and validation errors of the SIP message layer (RFC 3261 §7, §8.2, §21.4).

/// A precise parse or validation error of a SIP message, URI or header value. `status` is the
/// response a UA would send to a request that fails this way (RFC 3261 §8.2, §21.4): 400 Bad
/// Request mostly, 505 for an unsupported SIP version, 416 for an unsupported URI scheme in
/// the Request-URI; nil when no response can be formed (e.g. the bytes are not a request).
public struct SIPError: Error, Equatable, Hashable, CustomStringConvertible {
    /// One line naming the defect, e.g. `Content-Length 200 exceeds the 42 body bytes`.
    public var message: String
    /// The status code a UA would answer a request failing this way with, or nil.
    public var status: Int?

    public init(_ message: String, status: Int? = 400) {
        self.message = message
        self.status = status
    }

    public var description: String { message }

    /// The same defect, located in a named header (`malformed Via: ...`).
    func inHeader(_ name: String) -> SIPError {
        SIPError("malformed \(name) header: " + message, status: status)
    }
}
