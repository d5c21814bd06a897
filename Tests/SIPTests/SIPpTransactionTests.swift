import Foundation
import Reactor
import Testing

@testable import SIP

/// The transport and transaction layers against a real SIP peer: SIPp (Debian sip-tester) on
/// loopback, as a UAC sending to our server transactions and as a UAS answering our client
/// transactions (RFC 3261 §17 over §18 UDP). The TU here is a minimal one: OPTIONS → 200,
/// INVITE → 486; the user agent proper is issue 7.
@Suite("SIPp against the transaction layer", .serialized)
struct SIPpTransactionTests {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sipp").path

    static var sippAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/sipp") }

    /// A transport (UDP, 127.0.0.1, any port) and a transaction layer wired together.
    final class Stack {
        let reactor: Reactor
        let transport: SIPTransportLayer
        let transactions: SIPTransactionLayer

        init() throws {
            reactor = try Reactor(clock: .monotonic)
            var configuration = SIPTransportConfiguration(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 0))
            configuration.tcp = false
            let transport = SIPTransportLayer(reactor: reactor, configuration: configuration)
            try transport.start()
            self.transport = transport
            transactions = SIPTransactionLayer(reactor: reactor) { message, peer in
                transport.send(message, to: peer)
                return true
            }
            let transactions = self.transactions
            transport.onMessage = { message, peer in transactions.receive(message, from: peer) }
            transport.onError = { peer, _ in transactions.transportFailed(peer: peer) }
        }

        var port: UInt16 { transport.localAddress(for: .udp)!.port }

        /// Runs the loop until `process` exits (or `seconds` pass); returns its exit status.
        func run(until process: Process, seconds: Int) -> Int32? {
            let deadline = reactor.now + Int64(seconds) * 1_000_000_000
            let poll = reactor.every(20_000_000) { [reactor] in
                if !process.isRunning || reactor.now > deadline { reactor.stop() }
            }
            try? reactor.run()
            reactor.cancel(poll)
            // Let the peer's last datagrams (e.g. its ACK) arrive before the test looks.
            try? reactor.run(for: 200_000_000)
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }

        func close() {
            transactions.close()
            transport.close()
            reactor.close()
        }
    }

    static func sipp(_ scenario: String, arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sipp")
        process.arguments = ["-sf", scenarios + "/" + scenario, "-m", "1", "-i", "127.0.0.1", "-timeout", "10s",
            "-trace_err", "-error_file", log] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func freePort() -> UInt16 { UInt16(20_000 + Int.random(in: 0..<20_000)) }

    @Test("SIPp as UAC: OPTIONS answered 200, INVITE answered 100 + 486, SIPp's ACK absorbed",
          .enabled(if: sippAvailable))
    func serverTransactions() throws {
        let stack = try Stack()
        defer { stack.close() }
        var requests: [String] = []
        var failures = 0
        stack.transactions.onRequest = { transaction in
            let request = transaction.request
            requests.append(request.method!.name)
            transaction.onFailure = { _ in failures += 1 }
            switch request.method! {
            case .options:
                var ok = SIPMessage.response(to: request, status: 200, toTag: "opt1")
                try? ok.setHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO")
                transaction.respond(ok)
            case .invite:
                // Answer after the 200 ms 100 Trying, so SIPp sees both.
                _ = stack.reactor.after(400_000_000) {
                    transaction.respond(SIPMessage.response(to: request, status: 486, toTag: "busy1"))
                }
            default:
                transaction.respond(SIPMessage.response(to: request, status: 405))
            }
        }
        let log = NSTemporaryDirectory() + "sipp-uac-\(getpid()).log"
        let process = try Self.sipp(
            "uac-options-invite.xml", arguments: ["-p", String(Self.freePort()), "127.0.0.1:\(stack.port)"], log: log)
        let status = stack.run(until: process, seconds: 15)
        let errors = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "sipp exited \(String(describing: status)): \(errors)")
        #expect(requests == ["OPTIONS", "INVITE"])
        #expect(failures == 0)
        #expect(stack.transport.counters.malformed == 0)
        // The INVITE server transaction saw SIPp's ACK (Confirmed, Timer I) or is already gone.
        for transaction in stack.transactions.serverTransactions where transaction.method == .invite {
            #expect(transaction.state == .confirmed || transaction.state == .terminated)
        }
    }

    @Test("SIPp as UAS: our OPTIONS gets 200; our INVITE gets 100 + 486 and the transaction ACKs it",
          .enabled(if: sippAvailable))
    func clientTransactions() throws {
        let stack = try Stack()
        defer { stack.close() }
        let sippPort = Self.freePort()
        let log = NSTemporaryDirectory() + "sipp-uas-\(getpid()).log"
        let process = try Self.sipp("uas-options-invite.xml", arguments: ["-p", String(sippPort)], log: log)
        let peer = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: sippPort))
        let target = try SIPURI(parsing: "sip:service@127.0.0.1:\(sippPort)")
        let from = SIPNameAddress(uri: try SIPURI(parsing: "sip:deskphone@127.0.0.1:\(stack.port)"),
            parameters: [SIPParameter(name: "tag", value: "dp1")])
        let to = SIPNameAddress(uri: target)
        let callID = SIPTransactionLayer.randomToken() + "@127.0.0.1"
        var events: [String] = []
        var ack: SIPMessage?
        var inviteTransaction: SIPClientTransaction?

        func request(_ method: SIPMethod, cseq: UInt32) -> SIPMessage {
            SIPMessage.request(
                method: method, uri: target, from: from, to: to, callID: callID, cseq: cseq,
                via: stack.transport.via(for: .udp, branch: stack.transactions.newBranch()))
        }
        // SIPp needs a moment to bind before our first datagram.
        _ = stack.reactor.after(300_000_000) {
            _ = try? stack.transactions.start(request(.options, cseq: 1), to: peer) { event in
                guard case .final(let response) = event else { return }
                events.append("OPTIONS \(response.status!)")
                inviteTransaction = try? stack.transactions.start(request(.invite, cseq: 2), to: peer) { event in
                    switch event {
                    case .provisional(let response): events.append("INVITE \(response.status!)")
                    case .final(let response):
                        events.append("INVITE \(response.status!)")
                        ack = inviteTransaction?.ack
                    case .timeout: events.append("INVITE timeout")
                    case .transportError: events.append("INVITE transport error")
                    case .additionalSuccess: events.append("INVITE extra 2xx")
                    }
                }
            }
        }
        let status = stack.run(until: process, seconds: 15)
        let errors = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "sipp exited \(String(describing: status)): \(errors)")
        #expect(events == ["OPTIONS 200", "INVITE 100", "INVITE 486"])
        // RFC 3261 §17.1.1.3: the ACK has the INVITE's branch and Request-URI, the To tag of
        // the 486, and CSeq 2 ACK.
        let sent = try #require(ack)
        #expect(sent.method == .ack)
        #expect(sent.cseq.number == 2 && sent.cseq.method == .ack)
        #expect(sent.to.tag != nil)
        #expect(sent.via.count == 1)
    }
}
