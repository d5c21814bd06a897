/// The codec core's shared vocabulary: PCM is mono 16-bit linear (`Int16`), one frame at a
/// time, in buffers the caller owns and sizes at set-up, so no codec allocates per frame.

/// A codec failure: what went wrong, in words a log or a CLI can print as is.
public struct CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The codecs the phone speaks.
public enum CodecKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    case pcmu
    case pcma
    case g722
    case opus
    case l16
    case telephoneEvent

    public var description: String {
        switch self {
        case .pcmu: return "pcmu"
        case .pcma: return "pcma"
        case .g722: return "g722"
        case .opus: return "opus"
        case .l16: return "l16"
        case .telephoneEvent: return "telephone-event"
        }
    }
}
