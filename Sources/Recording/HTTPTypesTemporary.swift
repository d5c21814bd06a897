// TEMPORARY: copies of helper E's HTTP result types (branch rec-http, Sources/Recording/HTTP*.swift)
// so the recording controller builds before that branch merges. The lead deletes this file when
// merging rec-http; E's definitions have the same names and members.

/// An HTTP/1.1 response as the URL record client received it (RFC 9112 §4, §6).
public struct HTTPResponse {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }
}

/// The outcome of one URL record GET: a response (any status, redirects included) or why
/// there is none ("connection refused", "timeout after 5 s", ...).
public enum HTTPGetResult: CustomStringConvertible {
    case response(HTTPResponse)
    case failed(String)

    public var description: String {
        switch self {
        case .response(let r): return String(r.status) + " " + r.reason
        case .failed(let why): return why
        }
    }
}
