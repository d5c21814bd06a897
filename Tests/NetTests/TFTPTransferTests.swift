import Testing

@testable import Net

/// TFTP read transfers as values: the packets a server would send in, the steps out.
@Suite("TFTP transfer (RFC 1350, 2347-2349) without I/O")
struct TFTPTransferTests {
    static func data(_ block: UInt16, _ payload: [UInt8]) -> [UInt8] {
        [0, 3, UInt8(block >> 8), UInt8(block & 0xff)] + payload
    }

    static func oack(_ pairs: [(String, String)]) -> [UInt8] {
        var bytes: [UInt8] = [0, 6]
        for (name, value) in pairs { bytes += Array(name.utf8) + [0] + Array(value.utf8) + [0] }
        return bytes
    }

    static func error(_ code: UInt16, _ text: String) -> [UInt8] { TFTPTransfer.errorPacket(code: code, text) }

    static func ack(_ block: UInt16) -> [UInt8] { [0, 4, UInt8(block >> 8), UInt8(block & 0xff)] }

    func feed(_ transfer: inout TFTPTransfer, _ packet: [UInt8], port: UInt16 = 40000) -> TFTPTransfer.Step {
        packet.withUnsafeBytes { transfer.receive($0, fromPort: port) }
    }

    @Test("the read request: file name, octet mode, blksize 1428 and tsize 0, each NUL-terminated")
    func request() {
        let transfer = TFTPTransfer(fileName: "y000000000000.cfg", maximumBytes: 1000)
        #expect(transfer.request == [0, 1] + Array("y000000000000.cfg\u{0}octet\u{0}blksize\u{0}1428\u{0}tsize\u{0}0\u{0}".utf8))
    }

    @Test("options accepted: ACK 0, then full blocks of the agreed size and a short last one; the TID is the OACK's port")
    func negotiated() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        #expect(feed(&t, Self.oack([("blksize", "600"), ("tsize", "1300")])) == .send(Self.ack(0)))
        #expect(t.blockSize == 600 && t.announcedSize == 1300 && t.serverPort == 40000)
        let file = (0..<1300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(feed(&t, Self.data(1, Array(file[0..<600]))) == .send(Self.ack(1)))
        #expect(feed(&t, Self.data(2, Array(file[600..<1200]))) == .send(Self.ack(2)))
        #expect(feed(&t, Self.data(3, Array(file[1200...]))) == .finished(lastAck: Self.ack(3)))
        #expect(t.data == file && t.isOver)
        #expect(feed(&t, Self.data(3, [])) == .none)
    }

    @Test("a server that ignores options: 512-byte blocks from block 1; a size that is a multiple ends with an empty block")
    func plain() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        #expect(feed(&t, Self.data(2, [1])) == .none)  // not block 1: no transfer ID taken
        #expect(t.serverPort == nil)
        #expect(feed(&t, Self.data(1, [UInt8](repeating: 1, count: 512)), port: 40001) == .send(Self.ack(1)))
        #expect(t.blockSize == 512 && t.serverPort == 40001)
        #expect(feed(&t, Self.data(2, []), port: 40001) == .finished(lastAck: Self.ack(2)))
        #expect(t.data.count == 512)
    }

    @Test("a repeated block (our ACK was lost) is acknowledged again and kept once; a repeated OACK gets ACK 0 again")
    func duplicates() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        #expect(feed(&t, Self.oack([("blksize", "8")])) == .send(Self.ack(0)))
        #expect(feed(&t, Self.oack([("blksize", "8")])) == .send(Self.ack(0)))
        #expect(feed(&t, Self.data(1, Array(repeating: 5, count: 8))) == .send(Self.ack(1)))
        #expect(feed(&t, Self.data(1, Array(repeating: 5, count: 8))) == .send(Self.ack(1)))
        #expect(feed(&t, Self.data(3, [1])) == .none)  // ahead of the lock step: ignored
        #expect(feed(&t, Self.data(2, [9])) == .finished(lastAck: Self.ack(2)))
        #expect(t.data == Array(repeating: 5, count: 8) + [9])
    }

    @Test("a packet from another port of the server's host is refused with ERROR 5 and the transfer goes on")
    func stranger() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        _ = feed(&t, Self.oack([("tsize", "3")]))
        #expect(feed(&t, Self.data(1, [1, 2, 3]), port: 40999) == .refuse(Self.error(5, "Unknown transfer ID"), port: 40999))
        #expect(!t.isOver)
        #expect(feed(&t, Self.data(1, [1, 2, 3])) == .finished(lastAck: Self.ack(1)))
    }

    @Test("the server's ERROR ends the read: code 1 is 'not found'")
    func serverError() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        let step = feed(&t, Self.error(1, "File not found"))
        #expect(step == .failed(.server(code: 1, message: "File not found"), send: nil))
        if case .failed(let failure, _) = step {
            #expect(failure.isNotFound)
            #expect(failure.description == "TFTP error 1 (File not found)")
        }
        var other = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        if case .failed(let failure, _) = feed(&other, Self.error(2, "Access violation\u{1}")) {
            #expect(!failure.isNotFound && failure.description == "TFTP error 2 (Access violation?)")
        } else {
            Issue.record("ERROR 2 did not end the read")
        }
    }

    @Test("too large: an announced tsize over the limit, or data beyond it, is refused with ERROR 3")
    func tooLarge() {
        var announced = TFTPTransfer(fileName: "f", maximumBytes: 100)
        #expect(feed(&announced, Self.oack([("tsize", "101")])) == .failed(.tooLarge(100), send: Self.error(3, "file exceeds the client's limit")))
        var streamed = TFTPTransfer(fileName: "f", maximumBytes: 600)
        #expect(feed(&streamed, Self.data(1, Array(repeating: 0, count: 512))) == .send(Self.ack(1)))
        #expect(feed(&streamed, Self.data(2, Array(repeating: 0, count: 100))) == .failed(.tooLarge(600), send: Self.error(3, "file exceeds the client's limit")))
        #expect(streamed.isOver)
    }

    @Test("malformed answers end the read with ERROR 4/8: short, unknown opcode, unasked option, a bigger block size")
    func malformed() {
        var short = TFTPTransfer(fileName: "f", maximumBytes: 100)
        #expect(feed(&short, [0, 3, 0]) == .failed(.malformed("a packet of 3 bytes"), send: nil))
        var opcode = TFTPTransfer(fileName: "f", maximumBytes: 100)
        _ = feed(&opcode, Self.oack([]))
        #expect(feed(&opcode, [0, 9, 0, 0]) == .failed(.malformed("opcode 0.9"), send: Self.error(4, "illegal TFTP operation")))
        var unasked = TFTPTransfer(fileName: "f", maximumBytes: 100)
        #expect(feed(&unasked, Self.oack([("windowsize", "4")])) == .failed(.malformed("an option not asked for"), send: Self.error(8, "unrequested option")))
        var bigger = TFTPTransfer(fileName: "f", maximumBytes: 100)
        #expect(feed(&bigger, Self.oack([("blksize", "1500")])) == .failed(.malformed("bad blksize"), send: Self.error(8, "bad blksize")))
        var unpaired = TFTPTransfer(fileName: "f", maximumBytes: 100)
        #expect(feed(&unpaired, [0, 6] + Array("tsize".utf8) + [0]) == .failed(.malformed("an OACK that is not name/value pairs"), send: Self.error(4, "illegal TFTP operation")))
        var oversized = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        #expect(feed(&oversized, Self.data(1, Array(repeating: 0, count: 513))) == .failed(.malformed("a block of 513 bytes (block size 512)"), send: Self.error(4, "illegal TFTP operation")))
    }

    @Test("silence: the last packet again, five times, then no answer")
    func retransmission() {
        var t = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        for _ in 0..<5 { #expect(t.timeout() == .send(t.request)) }
        #expect(t.timeout() == .failed(.noAnswer, send: nil))
        var later = TFTPTransfer(fileName: "f", maximumBytes: 10_000)
        _ = feed(&later, Self.data(1, Array(repeating: 0, count: 512)))
        #expect(later.timeout() == .send(Self.ack(1)))
        #expect(feed(&later, Self.data(2, [])) == .finished(lastAck: Self.ack(2)))
        #expect(later.timeout() == .none)
    }

    @Test("tftp URLs (RFC 3617): host, IPv6 literal, port, file; refused without a file or with a mode")
    func urls() {
        #expect(TFTPURL("tftp://10.0.0.5/cfg/y000000000000.cfg") == TFTPURL(host: "10.0.0.5", port: 69, fileName: "cfg/y000000000000.cfg"))
        #expect(TFTPURL("TFTP://pbx.test:6969/a.cfg") == TFTPURL(host: "pbx.test", port: 6969, fileName: "a.cfg"))
        #expect(TFTPURL("tftp://[::1]:70/a") == TFTPURL(host: "::1", port: 70, fileName: "a"))
        #expect(TFTPURL("tftp://[::1]/a") == TFTPURL(host: "::1", port: 69, fileName: "a"))
        for bad in ["tftp://host", "tftp://host/", "tftp:///a", "tftp://host:0/a", "tftp://host:x/a", "tftp://[::1/a",
            "http://host/a", "tftp://host/a;mode=netascii", "tftp://[::1]x/a"]
        {
            #expect(TFTPURL(bad) == nil, "\(bad)")
        }
    }
}

extension TFTPURL {
    init(host: String, port: UInt16, fileName: String) {
        self.init("tftp://x/x")!
        self.host = host
        self.port = port
        self.fileName = fileName
    }
}
