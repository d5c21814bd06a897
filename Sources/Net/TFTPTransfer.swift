// One TFTP read as values (sans-IO): RFC 1350 (octet mode, lock-step DATA/ACK, the server's
// transfer ID), RFC 2347 option negotiation with the block size (RFC 2348) and the transfer size
// (RFC 2349). `TFTPClient` carries the steps out on a UDP socket and the reactor.

/// A TFTP read request and its transfer: `request` is the first datagram (to the server's port
/// 69 or the one its URL names); each datagram from the server goes to `receive`, each silence
/// of the retransmission interval to `timeout`; the returned step says what to send and whether
/// the transfer is over. The file grows in `data`. Nothing here allocates per block beyond the
/// file itself and the ACK it returns.
public struct TFTPTransfer {
    /// What the runtime does after an input.
    public enum Step: Equatable {
        /// Nothing to send (a duplicate, a stray packet).
        case none
        /// Send these bytes to the server's transfer port (`serverPort`).
        case send([UInt8])
        /// Send this ERROR to `port` (a packet from a stranger, RFC 1350 §4: "Unknown transfer
        /// ID"); the transfer goes on.
        case refuse([UInt8], port: UInt16)
        /// The file is whole: send this last ACK, then the transfer is over (`data`).
        case finished(lastAck: [UInt8])
        /// The transfer is over without a file; `send` (an ERROR for the server) when not nil.
        case failed(TFTPFailure, send: [UInt8]?)
    }

    /// The block size asked for (RFC 2348): a 1500-byte Ethernet MTU less IP, UDP and TFTP headers.
    public static let requestedBlockSize = 1428
    /// Retransmissions of one packet before the transfer gives up (RFC 1350 leaves it to the client).
    public static let maximumRetransmissions = 5

    public let fileName: String
    public let maximumBytes: Int
    /// The first datagram: the read request with its options.
    public let request: [UInt8]
    /// The file so far.
    public private(set) var data: [UInt8] = []
    /// The server's transfer ID (its source port), once its first answer came.
    public private(set) var serverPort: UInt16? = nil
    /// The block size in force: 512 until an OACK gives another.
    public private(set) var blockSize = 512
    /// The size the server announced (tsize in its OACK).
    public private(set) var announcedSize: Int? = nil
    private var expectedBlock: UInt16 = 1
    /// The last DATA block kept (and acknowledged).
    private var lastDataBlock: UInt16? = nil
    private var lastSent: [UInt8]
    private var retransmissions = 0
    private var over = false

    /// A read of `fileName` in octet mode, refused beyond `maximumBytes`.
    public init(fileName: String, maximumBytes: Int) {
        self.fileName = fileName
        self.maximumBytes = maximumBytes
        var packet: [UInt8] = [0, TFTPOpcode.readRequest]
        for field in [fileName, "octet", "blksize", String(TFTPTransfer.requestedBlockSize), "tsize", "0"] {
            packet += Array(field.utf8)
            packet.append(0)
        }
        request = packet
        lastSent = packet
    }

    public var isOver: Bool { over }

    /// A datagram of `count` bytes at `bytes` from the server's host, source port `port`.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, fromPort port: UInt16) -> Step {
        guard !over else { return .none }
        if let serverPort, port != serverPort {
            return .refuse(TFTPTransfer.errorPacket(code: 5, "Unknown transfer ID"), port: port)
        }
        let opcode = bytes.count >= 2 && bytes[0] == 0 ? bytes[1] : 0
        guard bytes.count >= 4 || opcode == TFTPOpcode.optionAcknowledgment else {
            return fail(.malformed("a packet of " + String(bytes.count) + " bytes"))
        }
        switch opcode {
        case TFTPOpcode.data:
            let second = TFTPTransfer.uint16(bytes, 2)
            return data(block: second, UnsafeRawBufferPointer(rebasing: bytes[4...]), port: port)
        case TFTPOpcode.optionAcknowledgment:
            return optionAcknowledgment(UnsafeRawBufferPointer(rebasing: bytes[2...]), port: port)
        case TFTPOpcode.error:
            let second = TFTPTransfer.uint16(bytes, 2)
            over = true
            let message = TFTPTransfer.printable(UnsafeRawBufferPointer(rebasing: bytes[4...]))
            return .failed(.server(code: second, message: message), send: nil)
        default:
            return fail(.malformed("opcode " + String(bytes[0]) + "." + String(bytes[1])))
        }
    }

    /// The retransmission interval passed without an answer: the last packet again, or the end.
    public mutating func timeout() -> Step {
        guard !over else { return .none }
        retransmissions += 1
        if retransmissions > TFTPTransfer.maximumRetransmissions {
            over = true
            return .failed(.noAnswer, send: nil)
        }
        return .send(lastSent)
    }

    private mutating func data(block: UInt16, _ payload: UnsafeRawBufferPointer, port: UInt16) -> Step {
        if serverPort == nil {
            // The server ignored the options: plain RFC 1350, 512-byte blocks, from block 1.
            guard block == 1 else { return .none }
            serverPort = port
        }
        guard payload.count <= blockSize else {
            return fail(.malformed("a block of " + String(payload.count) + " bytes (block size " + String(blockSize) + ")"))
        }
        if let lastDataBlock, block == lastDataBlock {
            // Our ACK was lost: the server sent the block again. ACK it again, keep the data once.
            return .send(TFTPTransfer.ack(block))
        }
        guard block == expectedBlock else { return .none }
        guard data.count + payload.count <= maximumBytes else {
            return fail(.tooLarge(maximumBytes), code: 3, "file exceeds the client's limit")
        }
        data.append(contentsOf: payload)
        lastDataBlock = block
        let ack = TFTPTransfer.ack(block)
        retransmissions = 0
        if payload.count < blockSize {
            over = true
            return .finished(lastAck: ack)
        }
        expectedBlock = expectedBlock &+ 1
        lastSent = ack
        return .send(ack)
    }

    private mutating func optionAcknowledgment(_ options: UnsafeRawBufferPointer, port: UInt16) -> Step {
        guard serverPort == nil else {
            // A repeated OACK (our ACK 0 was lost): answer it again.
            return expectedBlock == 1 ? .send(TFTPTransfer.ack(0)) : .none
        }
        serverPort = port
        // name NUL value NUL pairs; the server answers only options the client asked for (RFC 2347).
        var at = 0
        while at < options.count {
            guard let nameEnd = TFTPTransfer.nul(options, from: at), let valueEnd = TFTPTransfer.nul(options, from: nameEnd + 1)
            else { return fail(.malformed("an OACK that is not name/value pairs")) }
            let name = UnsafeRawBufferPointer(rebasing: options[at..<nameEnd])
            let value = TFTPTransfer.number(UnsafeRawBufferPointer(rebasing: options[(nameEnd + 1)..<valueEnd]))
            at = valueEnd + 1
            if TFTPTransfer.equalsLowercased(name, "blksize") {
                // RFC 2348: the server may only lower it; 8 is the smallest valid size.
                guard let value, value >= 8, value <= TFTPTransfer.requestedBlockSize else {
                    return fail(.malformed("bad blksize"), code: 8, "bad blksize")
                }
                blockSize = value
            } else if TFTPTransfer.equalsLowercased(name, "tsize") {
                guard let value else { return fail(.malformed("bad tsize"), code: 8, "bad tsize") }
                announcedSize = value
                if value > maximumBytes { return fail(.tooLarge(maximumBytes), code: 3, "file exceeds the client's limit") }
            } else {
                return fail(.malformed("an option not asked for"), code: 8, "unrequested option")
            }
        }
        let ack = TFTPTransfer.ack(0)
        lastSent = ack
        retransmissions = 0
        return .send(ack)
    }

    private mutating func fail(_ failure: TFTPFailure, code: UInt16 = 4, _ message: String = "illegal TFTP operation")
        -> Step
    {
        over = true
        return .failed(failure, send: serverPort == nil ? nil : TFTPTransfer.errorPacket(code: code, message))
    }

    // MARK: packets

    static func ack(_ block: UInt16) -> [UInt8] {
        [0, TFTPOpcode.acknowledgment, UInt8(block >> 8), UInt8(block & 0xff)]
    }

    /// An ERROR packet (RFC 1350 §5): code and message.
    public static func errorPacket(code: UInt16, _ message: String) -> [UInt8] {
        [0, TFTPOpcode.error, UInt8(code >> 8), UInt8(code & 0xff)] + Array(message.utf8) + [0]
    }

    static func uint16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }

    /// Up to the first NUL, printable ASCII kept and anything else shown as '?', at most 200 bytes.
    static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            if byte == 0 || out.count == 200 { break }
            out.append(byte >= 32 && byte < 127 ? byte : UInt8(ascii: "?"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The index of the first NUL at or after `from`, nil when there is none.
    static func nul(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        while index < bytes.count {
            if bytes[index] == 0 { return index }
            index += 1
        }
        return nil
    }

    /// Decimal digits (at most 9) as a number; nil for anything else.
    static func number(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// Whether `bytes` is `name` (lowercase ASCII) in any case.
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] | 0x20 != name.utf8Start[index] { return false }
        return true
    }
}

/// Why a TFTP read ended without its file.
public enum TFTPFailure: Equatable, Sendable, CustomStringConvertible {
    /// The server's ERROR packet (code 1: file not found).
    case server(code: UInt16, message: String)
    case noAnswer
    case tooLarge(Int)
    case malformed(String)

    /// The server has no such file (ERROR 1, RFC 1350 §5).
    public var isNotFound: Bool {
        if case .server(let code, _) = self { return code == 1 }
        return false
    }

    public var description: String {
        switch self {
        case .server(let code, let message):
            return "TFTP error " + String(code) + (message.isEmpty ? "" : " (" + message + ")")
        case .noAnswer: return "no TFTP answer"
        case .tooLarge(let limit): return "file larger than " + String(limit) + " bytes"
        case .malformed(let what): return "malformed TFTP answer: " + what
        }
    }
}

/// RFC 1350 §5 and RFC 2347 opcodes.
enum TFTPOpcode {
    static let readRequest: UInt8 = 1
    static let data: UInt8 = 3
    static let acknowledgment: UInt8 = 4
    static let error: UInt8 = 5
    static let optionAcknowledgment: UInt8 = 6
}
