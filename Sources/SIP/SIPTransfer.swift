// Call transfer values without I/O (RFC 3515 REFER, RFC 3892 Referred-By, RFC 3891 Replaces):
// the message/sipfrag status line of a NOTIFY, the checks a REFER's Refer-To must pass, and
// what a transferor learns about its transfer.

/// The status line of a `message/sipfrag` body (RFC 3420, RFC 3515 §2.4.5): the transfer
/// target's answer as a NOTIFY reports it (`SIP/2.0 180 Ringing`). Only the first line counts;
/// headers after it are ignored.
public struct SIPFragStatus: Equatable, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The status line of `body`; nil when it is not `SIP/2.0 NNN reason` (NNN 100-699).
    public static func parse(_ body: [UInt8]) -> SIPFragStatus? {
        var end = 0
        while end < body.count && body[end] != 0x0D && body[end] != 0x0A { end += 1 }
        let prefix: [UInt8] = Array("SIP/2.0 ".utf8)
        guard end >= prefix.count + 3, end <= 512, Array(body[0..<prefix.count]) == prefix else { return nil }
        var code = 0
        for i in prefix.count..<prefix.count + 3 {
            let b = body[i]
            guard b >= 0x30 && b <= 0x39 else { return nil }
            code = code * 10 + Int(b - 0x30)
        }
        guard code >= 100 && code <= 699 else { return nil }
        let after = prefix.count + 3
        if after < end && body[after] != 0x20 { return nil }
        var reason: [UInt8] = []
        if after + 1 < end {
            for b in body[(after + 1)..<end] {
                // Reason-Phrase: no control characters but tab (RFC 3261 §25.1).
                guard b >= 0x20 || b == 0x09, b != 0x7F else { return nil }
                reason.append(b)
            }
        }
        return SIPFragStatus(code: code, reason: String(decoding: reason, as: UTF8.self))
    }

    /// The body a NOTIFY carries for `code` (`SIP/2.0 200 OK\r\n`).
    public static func body(code: Int, reason: String) -> [UInt8] {
        Array(("SIP/2.0 " + String(code) + " " + reason + "\r\n").utf8)
    }

    public var description: String { String(code) + (reason.isEmpty ? "" : " " + reason) }
}

/// A REFER's Refer-To checked (RFC 3515 §2.4.1, §2.4.2): one SIP or SIPS URI, which the
/// transferee calls. Headers in the URI (`?Replaces=...`, RFC 3891 §3) go into that INVITE.
public struct SIPReferral: Equatable, Sendable {
    /// Where the new call goes (headers removed).
    public var target: SIPURI
    /// The URI's header fields (RFC 3261 §19.1.5): name and value for the new INVITE.
    public var inviteHeaders: [SIPParameter]
    /// The REFER's Referred-By, as written (RFC 3892 §3), for the new INVITE.
    public var referredBy: String?

    /// Checks `request`'s Refer-To; throws with a reason for a 400 (none, unparsable, not a
    /// SIP URI, more than one).
    public static func check(_ request: SIPMessage) throws(SIPError) -> SIPReferral {
        let values = request.headers("Refer-To")
        guard let value = values.first else { throw SIPError("no Refer-To", status: 400) }
        guard values.count == 1 else { throw SIPError("more than one Refer-To", status: 400) }
        let address: SIPNameAddress
        do throws(SIPError) {
            address = try SIPNameAddress(parsing: value)
        } catch {
            throw SIPError("Refer-To '" + SIPReferral.clipped(value) + "': " + error.description, status: 400)
        }
        var target = address.uri
        guard target.scheme == "sip" || target.scheme == "sips", target.opaque == nil else {
            throw SIPError("Refer-To '" + SIPReferral.clipped(value) + "' is not a SIP URI", status: 400)
        }
        if case .name(let host) = target.host, host.isEmpty {
            throw SIPError("Refer-To '" + SIPReferral.clipped(value) + "' has no host", status: 400)
        }
        let headers = target.headers
        for header in headers where header.value == nil || header.name.isEmpty {
            throw SIPError("Refer-To header '" + header.name + "' has no value", status: 400)
        }
        target.headers = []
        var referredBy: String? = nil
        if let by = request.header("Referred-By") {
            do throws(SIPError) {
                referredBy = try SIPNameAddress(parsing: by).description
            } catch {
                // RFC 3892 §3: a Referred-By we cannot read is left out of the new INVITE.
                referredBy = nil
            }
        }
        return SIPReferral(target: target, inviteHeaders: headers, referredBy: referredBy)
    }

    /// The Refer-To value for `target` (RFC 3515 §2.1), with `replaces` (RFC 3891 §3: `callid;
    /// to-tag=...;from-tag=...`, escaped here) for an attended transfer.
    public static func referTo(_ target: SIPURI, replaces: String? = nil) -> String {
        var uri = target
        if let replaces { uri.headers = [SIPParameter(name: "Replaces", value: replaces)] }
        return SIPNameAddress(uri: uri).description
    }

    static func clipped(_ text: String) -> String {
        text.utf8.count <= 80 ? text : String(decoding: Array(text.utf8.prefix(80)), as: UTF8.self) + "..."
    }
}

/// What a transferor learns about the transfer it asked for (`SIPCall.refer(to:)`), through
/// `SIPUserAgent.onTransfer`.
public enum SIPTransferEvent: Equatable, Sendable, CustomStringConvertible {
    /// The transferee accepted the REFER (202).
    case accepted
    /// The transferee's new call progresses (a NOTIFY with a 1xx sipfrag).
    case progress(SIPFragStatus)
    /// The transfer target answered (a 2xx sipfrag): the call can end.
    case succeeded
    /// The REFER was refused, timed out, or the new call failed: why.
    case failed(String)

    public var description: String {
        switch self {
        case .accepted: return "accepted"
        case .progress(let status): return "progress " + status.description
        case .succeeded: return "succeeded"
        case .failed(let why): return "failed: " + why
        }
    }
}

/// libFuzzer entry for the sipfrag parser and the Refer-To check: bytes as a sipfrag body, then
/// as a Refer-To value in a REFER. Traps only when a parsed status line does not print back the same.
public func sipfragFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let body = Array(bytes)
    if let status = SIPFragStatus.parse(body) {
        let again = SIPFragStatus.parse(SIPFragStatus.body(code: status.code, reason: status.reason))
        if again != status { fatalError("sipfrag round trip changed " + status.description) }
    }
    let value = String(decoding: body.prefix(1024), as: UTF8.self)
    let party = SIPNameAddress(uri: SIPURI(user: "a", host: .name("example.com")))
    var request = SIPMessage.request(
        method: .refer, uri: party.uri, from: party, to: party, callID: "fuzz", cseq: 1,
        via: SIPVia(transport: "UDP", host: .name("example.com"), branch: "z9hG4bKfuzz"))
    do throws(SIPError) {
        try request.setHeader("Refer-To", value)
        _ = try SIPReferral.check(request)
    } catch {
        _ = error.description
    }
}
