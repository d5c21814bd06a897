import Config
import Net
import Reactor
import Testing

@testable import SIP

/// RFC 5626 outbound (SIPOutbound.swift, SIPSTUN.swift, SIPRegistration+Outbound.swift): the
/// pure parts (instance URN, Contact parameters, Require/Flow-Timer, backoff, STUN encode and
/// parse with RFC 5769's test vector), then a registration on the virtual clock whose registrar
/// supports outbound: STUN keep-alives every Flow-Timer, `;ob` on a call's Contact, a missed
/// STUN response and a changed NAT mapping each a flow failure that registers again at once,
/// and the §4.5 backoff after the registrar stops answering.
@Suite("SIP outbound (RFC 5626)")
struct OutboundTests {
    static let second = SIPTimerValues.second

    // MARK: pure parts

    @Test("the instance URN: a version-3 UUID of the MAC, stable, one per MAC")
    func instance() {
        let a = SIPOutbound.instanceURN(mac: "001565AABBCC")
        #expect(a == SIPOutbound.instanceURN(mac: "001565AABBCC"))
        #expect(a != SIPOutbound.instanceURN(mac: "001565AABBCD"))
        let uuid = Array(a.dropFirst("urn:uuid:".count))
        #expect(a.hasPrefix("urn:uuid:") && uuid.count == 36)
        #expect(uuid[8] == "-" && uuid[13] == "-" && uuid[18] == "-" && uuid[23] == "-")
        #expect(uuid[14] == "3")  // version 3 (name-based, MD5)
        #expect("89ab".contains(uuid[19]))  // RFC 4122 variant
    }

    @Test("Contact parameters: +sip.instance quoted with angle brackets and reg-id; they parse back")
    func contactParameters() throws {
        var contact = SIPNameAddress(uri: try SIPURI(parsing: "sip:1001@192.0.2.10:5060"))
        contact.parameters += SIPOutbound.contactParameters(
            instance: "urn:uuid:00000000-0000-3000-8000-000000000001", regID: 2)
        #expect(
            contact.description
                == "<sip:1001@192.0.2.10:5060>;+sip.instance="
                + "\"<urn:uuid:00000000-0000-3000-8000-000000000001>\";reg-id=2"
        )
        let parsed = try SIPNameAddress(parsing: contact.description)
        #expect(parsed.parameter("+sip.instance") == .some("\"<urn:uuid:00000000-0000-3000-8000-000000000001>\""))
        #expect(parsed.parameter("reg-id") == .some("2"))
    }

    static func ok(_ headers: String) throws -> SIPMessage {
        let text =
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
            + "To: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" + headers + "Content-Length: 0\r\n\r\n"
        return try SIPMessage.parse(Array(text.utf8))
    }

    @Test("Require: outbound and Flow-Timer in a 2xx to REGISTER")
    func requireAndFlowTimer() throws {
        #expect(SIPOutbound.registrarSupportsOutbound(try Self.ok("Require: outbound\r\n")))
        #expect(SIPOutbound.registrarSupportsOutbound(try Self.ok("Require: path, Outbound\r\n")))
        #expect(!SIPOutbound.registrarSupportsOutbound(try Self.ok("Supported: outbound\r\n")))
        #expect(!SIPOutbound.registrarSupportsOutbound(try Self.ok("")))
        #expect(SIPOutbound.flowTimer(try Self.ok("Flow-Timer: 25\r\n")) == 25)
        #expect(SIPOutbound.flowTimer(try Self.ok("Flow-Timer:  120 \r\n")) == 120)
        for bad in ["0", "abc", "25s", "9999999", "-5", ""] {
            #expect(SIPOutbound.flowTimer(try Self.ok("Flow-Timer: " + bad + "\r\n")) == nil, "\(bad)")
        }
        #expect(SIPOutbound.flowTimer(try Self.ok("")) == nil)
    }

    @Test("keep-alive interval 80-100 % of Flow-Timer; §4.5 backoff min(1800, base * 2^n) at 50-100 %")
    func intervalsAndBackoff() {
        #expect(SIPOutbound.keepAliveInterval(flowTimer: 25, configured: 30, random: { _ in 0 }) == 20)
        #expect(SIPOutbound.keepAliveInterval(flowTimer: 25, configured: 30, random: { $0 - 1 }) == 25)
        #expect(SIPOutbound.keepAliveInterval(flowTimer: nil, configured: 30, random: { _ in 0 }) == 30)
        let top: (UInt32) -> UInt32 = { $0 - 1 }
        #expect(
            (0...6).map { SIPOutbound.recoveryDelay(failures: $0, allFailed: true, random: top) }
                == [30, 60, 120, 240, 480, 960, 1800])
        #expect(SIPOutbound.recoveryDelay(failures: 1, allFailed: true, random: { _ in 0 }) == 30)
        #expect(SIPOutbound.recoveryDelay(failures: 1, allFailed: false, random: top) == 180)
        #expect(SIPOutbound.recoveryDelay(failures: 40, allFailed: false, random: top) == 1800)
    }

    @Test("the keys: account.N.sip_outbound.enable (off by default), the instance from network.mac")
    func keys() throws {
        func account(_ text: String) throws -> SIPAccountConfiguration {
            try SIPAccountConfiguration(ConfigFile(text: text, path: "t.cfg", requireVersionLine: false), account: 1)
        }
        #expect(try account("").outbound.enabled == false)
        let on = try account("account.1.sip_outbound.enable = 1\nnetwork.mac = 00:15:65:aa:bb:cc\n").outbound
        #expect(on.enabled)
        #expect(on.instance == SIPOutbound.instanceURN(mac: "001565AABBCC"))
        #expect(throws: ConfigError.self) { _ = try account("account.1.sip_outbound.enable = 2\n") }
    }

    // MARK: STUN

    /// RFC 5769 §2.2: a binding success response with XOR-MAPPED-ADDRESS 192.0.2.1:32853 (and
    /// SOFTWARE, MESSAGE-INTEGRITY, FINGERPRINT, which the phone skips).
    static let rfc5769IPv4: [UInt8] = [
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
        0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
        0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ]

    @Test("STUN: RFC 5769's IPv4 response; request and response round trips (IPv4, IPv6)")
    func stunEncodeParse() throws {
        let vector = try STUNMessage.parse(Self.rfc5769IPv4)
        #expect(vector.type == STUNMessage.bindingSuccessType)
        #expect(vector.transactionID == [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae])
        #expect(vector.mapped == SocketAddress(ipv4: 192, 0, 2, 1, port: 32853))
        #expect(Self.rfc5769IPv4.withUnsafeBytes { STUNMessage.isSTUN($0) })

        let id: [UInt8] = Array(1...12)
        let request = STUNMessage.bindingRequest(transactionID: id)
        #expect(request == [0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42] + id)
        #expect(try STUNMessage.parse(request) == STUNMessage(type: STUNMessage.bindingRequestType, transactionID: id))
        #expect(!Array("REGISTER sip:x SIP/2.0\r\n".utf8).withUnsafeBytes { STUNMessage.isSTUN($0) })

        for mapped in [
            SocketAddress(ipv4: 203, 0, 113, 7, port: 40123),
            try #require(SocketAddress(literal: "2001:db8::42", port: 5060)),
        ] {
            let response = STUNMessage.bindingSuccess(transactionID: id, mapped: mapped)
            let parsed = try STUNMessage.parse(response)
            #expect(parsed == STUNMessage(type: STUNMessage.bindingSuccessType, transactionID: id, mapped: mapped))
        }
    }

    @Test("STUN: malformed datagrams are errors that say what is wrong, never a trap")
    func stunMalformed() throws {
        let id: [UInt8] = Array(1...12)
        let good = STUNMessage.bindingSuccess(transactionID: id, mapped: SocketAddress(ipv4: 192, 0, 2, 1, port: 1))
        var cases: [([UInt8], String)] = [
            (Array(good[0..<19]), "shorter than a header"),
            ([0xC0] + Array(good[1...]), "first two bits"),
            (Array(good[0..<4]) + [0, 0, 0, 0] + Array(good[8...]), "magic cookie"),
            (good + [0, 0, 0, 0], "bytes follow the header"),
        ]
        var odd = good
        odd[3] = 13
        cases.append((odd, "not a multiple of 4"))
        var overrun = good
        overrun[23] = 40  // the attribute claims 40 bytes
        cases.append((overrun, "overruns"))
        var family = good
        family[25] = 7
        cases.append((family, "address family 7"))
        var short = STUNMessage.bindingRequest(transactionID: id)
        short[3] = 8
        short += [0x00, 0x20, 0x00, 0x04, 0, 1, 0, 0]
        cases.append((short, "address attribute of 4 bytes"))
        for (bytes, what) in cases {
            do {
                _ = try STUNMessage.parse(bytes)
                Issue.record("parsed: \(what)")
            } catch {
                #expect(error.description.contains(what), "\(error.description) vs \(what)")
            }
        }
    }

    // MARK: a registration with outbound, on the virtual clock

    /// A scripted registrar that supports outbound (Require: outbound, Flow-Timer: 20) and answers
    /// STUN binding requests while `answersSTUN`, with `mapping` as the reflexive address.
    final class Rig {
        let scripted: ScriptedPeerUA
        var reactor: Reactor { scripted.reactor }
        var ua: SIPUserAgent { scripted.ua }
        var stun: [(time: Int64, id: [UInt8])] = []
        var answersSTUN = true
        var answersREGISTER = true
        var mapping = SocketAddress(ipv4: 203, 0, 113, 7, port: 40123)

        init(flowTimer: Int? = 20, supported: Bool = true) throws {
            var account = SIPAccountConfiguration(userName: "1001", serverAddress: "192.0.2.1", expires: 600)
            account.outbound = SIPOutboundSettings(
                enabled: true, instance: SIPOutbound.instanceURN(mac: "001565AABBCC"))
            account.keepAlive = SIPKeepAliveSettings(enabled: false, interval: 30, learnsPublicAddress: false)
            scripted = try ScriptedPeerUA(account: account)
            scripted.ua.random = { bound in bound == 256 ? UInt32.random(in: 0..<256) : 0 }
            scripted.answer = { [unowned self] request in
                guard answersREGISTER else { return nil }
                if request.method == .invite { return SIPMessage.response(to: request, status: 486, toTag: "x") }
                guard request.method == .register else { return nil }
                var ok = SIPMessage.response(to: request, status: 200, toTag: "reg")
                if let contact = request.header("Contact") { try? ok.addHeader("Contact", contact) }
                if supported { try? ok.addHeader("Require", "outbound") }
                if let flowTimer { try? ok.addHeader("Flow-Timer", String(flowTimer)) }
                return ok
            }
            let peer = scripted.peer
            scripted.ua.sendDatagram = { [unowned self] bytes, to in
                guard let request = try? STUNMessage.parse(bytes), to == peer else {
                    Issue.record("not a STUN request to the registrar")
                    return
                }
                stun.append((reactor.now, request.transactionID))
                guard answersSTUN else { return }
                let response = STUNMessage.bindingSuccess(transactionID: request.transactionID, mapped: mapping)
                reactor.runSoon { self.ua.receiveSTUN(response, from: peer) }
            }
        }

        var registers: [(time: Int64, message: SIPMessage)] {
            scripted.requests.filter { $0.message.method == .register }
        }

        /// Starts registering and runs the clock for `seconds`.
        func start(running seconds: Int64) throws {
            ua.start()
            try reactor.run(for: seconds * OutboundTests.second)
        }

        func close() { scripted.close() }
    }

    @Test(
        "REGISTER offers outbound; the flow's STUN keep-alives run every 80 % of Flow-Timer; a call's Contact has ;ob")
    func flow() throws {
        let r = try Rig()
        defer { r.close() }
        try r.start(running: 1)
        let register = try #require(r.registers.first?.message)
        #expect(register.optionTags("Supported").contains("outbound"))
        #expect(register.optionTags("Supported").contains("path"))
        let contact = try SIPNameAddress(parsing: try #require(register.header("Contact")))
        #expect(
            contact.parameter("+sip.instance") == .some("\"<" + SIPOutbound.instanceURN(mac: "001565AABBCC") + ">\""))
        #expect(contact.parameter("reg-id") == .some("1"))
        #expect(contact.uri.parameter("ob") == nil)
        let registration = try #require(r.ua.registration)
        #expect(registration.isOutboundFlow && registration.outboundRegID == 1 && registration.flowTimer == 20)

        try r.reactor.run(for: 40 * Self.second)
        // random 0: 80 % of 20 s = 16 s after the 200 (at 0 s), each answered.
        #expect(r.stun.map { $0.time / Self.second } == [16, 32])
        #expect(registration.stunRequestsSent == 2 && registration.stunResponsesMatched == 2)
        #expect(registration.stunMappedAddress == r.mapping)
        #expect(r.registers.count == 1)  // nothing failed

        // A dialog-forming request of a flow carries ;ob in its Contact (§4.2.1).
        _ = try r.ua.call("sip:2000@192.0.2.1")
        try r.reactor.run(for: 1 * Self.second)
        let invite = try #require(r.scripted.requests.last { $0.message.method == .invite }?.message)
        #expect(try SIPNameAddress(parsing: try #require(invite.header("Contact"))).uri.parameter("ob") == .some(nil))
    }

    @Test("a missed STUN response: retransmissions, then a flow failure and REGISTER at once; then the §4.5 backoff")
    func missedResponse() throws {
        let r = try Rig()
        defer { r.close() }
        try r.start(running: 20)
        #expect(r.stun.count == 1)
        r.answersSTUN = false
        try r.reactor.run(for: 22 * Self.second)  // to 42 s
        // The request at 32 s and its retransmissions at 32.5, 33.5, 35.5, 39.5 s (same id); failed at 41.5 s.
        let ms = SIPTimerValues.second / 1000
        #expect(r.stun.dropFirst().map { $0.time / ms } == [32_000, 32_500, 33_500, 35_500, 39_500])
        #expect(Set(r.stun.dropFirst().map { $0.id }).count == 1)
        #expect(r.registers.map { $0.time / ms } == [0, 41_500])
        #expect(r.ua.registration?.isOutboundFlow == true)  // the new REGISTER's 200 made a new flow

        // The registrar goes silent: the next failure waits the §4.5 backoff (random 0: 50 % of 60 s).
        r.answersREGISTER = false
        try r.reactor.run(for: 60 * Self.second)  // the STUN at 57.5 s fails at 67 s; REGISTER times out 32 s later
        let failedAt = try #require(r.registers.last?.time)
        #expect(failedAt == 67 * Self.second)
        if case .failed = r.ua.registration?.state {
        } else {
            Issue.record("not failed: \(String(describing: r.ua.registration?.state))")
        }
        #expect(r.ua.registration?.isOutboundFlow == false)
        try r.reactor.run(for: 31 * Self.second)
        #expect(r.registers.last?.time == failedAt + 32 * Self.second + 30 * Self.second)
    }

    @Test("a changed NAT mapping in a STUN response is a flow failure: REGISTER at once")
    func mappingChange() throws {
        let r = try Rig()
        defer { r.close() }
        try r.start(running: 20)
        #expect(r.registers.count == 1)
        r.mapping = SocketAddress(ipv4: 203, 0, 113, 7, port: 40999)
        try r.reactor.run(for: 13 * Self.second)
        #expect(r.registers.map { $0.time / Self.second } == [0, 32])
    }

    @Test("a registrar without Require: outbound: a plain binding, no STUN, no ;ob")
    func unsupported() throws {
        let r = try Rig(supported: false)
        defer { r.close() }
        try r.start(running: 61)
        #expect(r.ua.registration?.isOutboundFlow == false)
        #expect(r.stun.isEmpty)
        if case .registered = r.ua.registration?.state {} else { Issue.record("not registered") }
    }

    @Test("a stray or malformed STUN datagram changes nothing")
    func stray() throws {
        let r = try Rig()
        defer { r.close() }
        try r.start(running: 1)
        let stray = STUNMessage.bindingSuccess(transactionID: Array(repeating: 9, count: 12), mapped: r.mapping)
        #expect(!r.ua.receiveSTUN(stray, from: r.scripted.peer))
        #expect(!r.ua.receiveSTUN([0, 1, 0, 4, 0x21, 0x12, 0xA4, 0x42], from: r.scripted.peer))
        try r.reactor.run(for: 40 * Self.second)
        #expect(r.registers.count == 1 && r.stun.count == 2)
    }
}
