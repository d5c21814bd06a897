import Reactor
import TestSupport
import Testing

@testable import Net

/// TFTP reads on the reactor against tftpd-hpa's in.tftpd on loopback (ports 26970-26974).
@Suite("TFTP client against a real server", .serialized)
struct TFTPClientTests {
    func get(_ client: TFTPClient, _ reactor: Reactor, _ url: String, maximumBytes: Int = 262_144) throws -> TFTPResult? {
        var result: TFTPResult? = nil
        client.get(url, maximumBytes: maximumBytes) { result = $0 }
        try runUntil(reactor, seconds: 15) { result != nil }
        return result
    }

    func bytes(_ result: TFTPResult?) -> [UInt8]? {
        if case .file(let bytes)? = result { return bytes }
        return nil
    }

    @Test("files of 0, 1, one block, two blocks exactly and 100 kB arrive whole; a missing file is 'not found'; the limit holds")
    func files() throws {
        try #require(TFTPServerProcess.isInstalled, "tftpd-hpa is not installed (scripts/install-deps.sh)")
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let block = TFTPTransfer.requestedBlockSize
        let files: [(String, [UInt8])] = [
            ("empty.cfg", []), ("one.cfg", [65]), ("block.cfg", Array(big[0..<block])),
            ("two.cfg", Array(big[0..<(2 * block)])), ("big.cfg", big),
        ]
        let server = try TFTPServerProcess(port: 26970, files: files)
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let client = TFTPClient(reactor: reactor, timeoutNanoseconds: 10_000_000_000)
        defer { client.close() }
        for (name, contents) in files {
            #expect(bytes(try get(client, reactor, "tftp://127.0.0.1:26970/" + name)) == contents, "\(name)")
        }
        if case .failed(let failure)? = try get(client, reactor, "tftp://127.0.0.1:26970/missing.cfg") {
            #expect(failure.isNotFound)
        } else {
            Issue.record("a missing file was not refused")
        }
        if case .failed(let failure)? = try get(client, reactor, "tftp://127.0.0.1:26970/big.cfg", maximumBytes: 50_000) {
            #expect(failure == .tooLarge(50_000))
        } else {
            Issue.record("a file over the limit was not refused")
        }
        #expect(client.pendingCount == 0)
        #expect(reactor.timerCount == 0)
    }

    @Test("no server on the port: refused at once by the ICMP error, not after the timeout; a bad URL is refused")
    func noServer() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let client = TFTPClient(reactor: reactor, timeoutNanoseconds: 30_000_000_000)
        defer { client.close() }
        let started = reactor.now
        guard case .refused(let why)? = try get(client, reactor, "tftp://127.0.0.1:26971/a.cfg") else {
            Issue.record("no refusal")
            return
        }
        #expect(why.contains("ICMP unreachable"))
        #expect(reactor.now - started < 5_000_000_000)
        guard case .refused(let bad)? = try get(client, reactor, "tftp://127.0.0.1/") else {
            Issue.record("a URL without a file was taken")
            return
        }
        #expect(bad.hasPrefix("not a tftp://"))
        guard case .refused(let name)? = try get(client, reactor, "tftp://pbx.test/a") else {
            Issue.record("a name without a resolver was taken")
            return
        }
        #expect(name.contains("no resolver"))
        #expect(reactor.timerCount == 0 && client.pendingCount == 0)
    }
}
