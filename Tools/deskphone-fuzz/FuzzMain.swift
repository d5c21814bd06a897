// Host-only tool, kept in Tools/ (Sources/ is firmware): libFuzzer entry points for every parser
// that reads the outside (issue 5): SIP messages and TCP stream framing, URI, sipfrag and Refer-To, SDP, SDES a=crypto
// and digest auth, message-summary bodies (RFC 3842, MWI) and STUN (RFC 5626 keep-alive responses); RTP, RTCP and
// RFC 4733 events;
// HTTP responses and record URLs, DNS and TFTP answers, DHCP lease files (option 66), NETLINK_ROUTE datagrams
// and <YealinkIPPhoneText> bodies; `.cfg` text and
// `input_event` streams. Built by scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address -DFUZZING`;
// the target is chosen by the environment variable DESKPHONE_FUZZ_TARGET (a `FuzzTarget` name).
// A plain build is a replayer: `deskphone-fuzz TARGET FILE|DIR...` runs each input once.
import Glibc
import Digest
import HTTP
import Net
import Recording
import SIP

/// One fuzz target: feeds arbitrary bytes to a parser; traps only on a real bug (a round trip
/// that changes meaning), never on bad input.
enum FuzzTarget: String, CaseIterable {
    case message, framer, uri, sdp, crypto, auth, mwi, stun, sipfrag
    case rtp, rtcp, dtmf
    case http, dns, tftp, phonetext, dhcp, netlink
    case cfg, keys
    case tls

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .message: FuzzTarget.message(bytes)
        case .framer: FramerFuzz.framer(bytes)
        case .uri: FuzzTarget.uri(bytes)
        case .sdp: sdpFuzzEntry(bytes)
        case .crypto: sdpCryptoFuzzEntry(bytes)
        case .auth: digestFuzzEntry(bytes)
        case .mwi: messageSummaryFuzzEntry(bytes)
        case .stun: stunFuzzEntry(bytes)
        case .sipfrag: sipfragFuzzEntry(bytes)
        case .rtp: VoiceFuzz.rtp(bytes)
        case .rtcp: VoiceFuzz.rtcp(bytes)
        case .dtmf: VoiceFuzz.dtmf(bytes)
        case .http: httpFuzzEntry(bytes)
        case .dns: dnsFuzzEntry(bytes)
        case .tftp: tftpFuzzEntry(bytes)
        case .dhcp: dhcpLeaseFuzzEntry(bytes)
        case .netlink: netlinkFuzzEntry(bytes)
        case .phonetext: phoneTextFuzzEntry(bytes)
        case .cfg: ConfigKeysFuzz.cfg(bytes)
        case .keys: ConfigKeysFuzz.keys(bytes)
        case .tls: TLSFuzz.client(bytes)
        }
    }

    /// A message that parses must serialize to bytes that parse to the same serialization; its
    /// RAck likewise.
    static func message(_ bytes: UnsafeRawBufferPointer) {
        guard let message = try? SIPMessage.parse(bytes) else { return }
        let once = message.serialized()
        guard let again = try? SIPMessage.parse(once) else {
            fatalError("serialization of a valid message does not parse:\n\(String(decoding: once, as: UTF8.self))")
        }
        let twice = again.serialized()
        if once != twice {
            fatalError("serialization is not stable:\n\(String(decoding: once, as: UTF8.self))")
        }
        _ = SIPMessage.response(to: message, status: 400)
        // RAck (RFC 3262 §7.2): what parses prints as text that parses to the same.
        if let rack = SIPCall.rack(message.header("RAck")) {
            let text = String(rack.rseq) + " " + String(rack.cseq) + " " + rack.method
            guard let again = SIPCall.rack(text), again == rack else { fatalError("RAck does not round-trip: " + text) }
        }
    }

    /// A URI that parses must print as text that parses to an equal URI.
    static func uri(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let uri = try? SIPURI(parsing: text) else { return }
        guard let again = try? SIPURI(parsing: uri.description) else {
            fatalError("URI text does not parse again: \(uri.description)")
        }
        if again != uri { fatalError("URI changes meaning: \(text) -> \(uri.description)") }
    }
}

#if FUZZING
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil {
        let name = getenv("DESKPHONE_FUZZ_TARGET").map { String(cString: $0) } ?? "message"
        guard let target = FuzzTarget(rawValue: name) else { fatalError("unknown DESKPHONE_FUZZ_TARGET \(name)") }
        selected = target
    }
    selected!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
struct FuzzReplay {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 3, let target = FuzzTarget(rawValue: args[1]) else {
            print("usage: deskphone-fuzz " + FuzzTarget.allCases.map(\.rawValue).joined(separator: "|") + " FILE|DIR...")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst(2) {
            for file in files(at: path) {
                guard let bytes = read(file) else { continue }
                bytes.withUnsafeBytes { target.run($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs through \(target.rawValue)")
    }

    static func files(at path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            out.append(path + "/" + name)
        }
        return out.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
#endif
