// The check-sync NOTIFY of desk phones (Yealink, Polycom, snom, Gigaset: an out-of-dialog
// `NOTIFY` with `Event: check-sync[;reboot=true]` from the PBX asks the phone to fetch its
// provisioning now), sans-IO: who may send it (the account's registrar only), the digest
// challenge when the account has credentials, and what the phone is asked to do.

import Config
import Digest
import Net

/// `sip.notify_reboot_enable` (Yealink's key and values) and `sip.check_sync.challenge`.
public struct SIPCheckSyncSettings: Equatable, Sendable {
    /// What a check-sync NOTIFY does about restarting (`sip.notify_reboot_enable`).
    public enum RebootPolicy: Int, Equatable, Sendable {
        /// 0: restart only when the Event header says `reboot=true` (the default here).
        case whenAsked = 0
        /// 1: restart after every check-sync (Yealink's default).
        case always = 1
        /// 2: the NOTIFY is answered 200 and otherwise ignored (no fetch, no restart).
        case ignore = 2
    }

    public var reboot: RebootPolicy = .whenAsked
    /// Whether an account with a password challenges the NOTIFY with 401 first
    /// (`sip.check_sync.challenge`, default on; snom's `challenge_checksync`).
    public var challenge = true

    public init() {}

    public init(_ file: ConfigFile) throws(ConfigError) {
        let value = try file.int("sip.notify_reboot_enable", default: 0, in: 0...2)
        reboot = RebootPolicy(rawValue: value) ?? .whenAsked
        challenge = try file.bool("sip.check_sync.challenge", default: true)
    }
}

/// What the phone does with a check-sync NOTIFY.
public enum SIPCheckSyncVerdict: Equatable {
    /// 200: fetch the provisioning now; `reboot`: then restart at a safe time.
    case accept(reboot: Bool)
    /// 200 and nothing else (`sip.notify_reboot_enable = 2`).
    case ignore
    /// 401 with this `WWW-Authenticate` value: the sender must prove it knows the password.
    case challenge(String)
    /// A final refusal (403) and why, for the log line.
    case refuse(Int, String)
}

/// Decides on check-sync NOTIFYs for one account (RFC 3261 §22 for the challenge, the UAS side):
/// only the registrar's address is listened to (the exact address and port the account
/// registers with, or any located target of a named server); with a password and
/// `challenge` on, a request must carry an `Authorization` answering one of the nonces issued
/// here in the last 30 s (each nonce is good once), for the account's user and password.
public struct SIPCheckSyncGuard {
    public static let nonceLifetime: Int64 = 30_000_000_000
    /// Nonces remembered at once (the oldest is forgotten first).
    public static let maximumNonces = 8

    public let settings: SIPCheckSyncSettings
    public let userName: String
    public let password: String
    /// The realm of our challenges: the account's server host.
    public let realm: String
    private var nonces: [(nonce: String, issued: Int64)] = []

    public init(settings: SIPCheckSyncSettings, userName: String, password: String, realm: String) {
        self.settings = settings
        self.userName = userName
        self.password = password
        self.realm = realm
    }

    /// Whether `request` is a check-sync NOTIFY; its `reboot` parameter.
    public static func checkSync(_ request: SIPMessage) -> (isCheckSync: Bool, reboot: Bool) {
        guard request.method == .notify, let event = request.header("Event") else { return (false, false) }
        var parts: [String] = []
        for part in event.split(separator: ";") {
            parts.append(ConfigFileText.asciiLowercase(String(ConfigFileText.trim(part))))
        }
        guard parts.first == "check-sync" else { return (false, false) }
        var reboot = false
        for part in parts.dropFirst() {
            let compact = String(part.unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\"" })
            if compact == "reboot=true" { reboot = true }
        }
        return (true, reboot)
    }

    /// The verdict on a check-sync NOTIFY from `remote`; `registrar` are the addresses the
    /// account's registrar was found at, `now` the loop's time, `makeNonce` a fresh random nonce.
    public mutating func decide(
        _ request: SIPMessage, from remote: SIPSocketAddress, registrar: [SIPSocketAddress], now: Int64,
        makeNonce: () -> String
    ) -> SIPCheckSyncVerdict {
        guard registrar.contains(where: { $0.hasSameHost(as: remote) && $0.port == remote.port }) else {
            return .refuse(
                403,
                registrar.isEmpty
                    ? "no registrar to trust (the account has no server)" : "not from the account's registrar")
        }
        if settings.challenge && !password.isEmpty {
            nonces.removeAll { now - $0.issued > SIPCheckSyncGuard.nonceLifetime }
            guard let authorization = request.header("Authorization") else { return challenge(now, makeNonce) }
            let credentials: DigestCredentials
            do throws(DigestError) {
                credentials = try DigestCredentials.parse(authorization)
            } catch {
                return .refuse(403, "Authorization refused: " + error.description)
            }
            guard let index = nonces.firstIndex(where: { $0.nonce == credentials.nonce }) else {
                // An old or unknown nonce: a new challenge (a retry after our restart, a late one).
                return challenge(now, makeNonce)
            }
            guard credentials.username == userName, credentials.realm == realm,
                credentials.verify(password: password, method: "NOTIFY")
            else {
                nonces.remove(at: index)
                return .refuse(403, "wrong credentials for " + credentials.username)
            }
            nonces.remove(at: index)
        }
        switch settings.reboot {
        case .ignore: return .ignore
        case .always: return .accept(reboot: true)
        case .whenAsked: return .accept(reboot: SIPCheckSyncGuard.checkSync(request).reboot)
        }
    }

    private mutating func challenge(_ now: Int64, _ makeNonce: () -> String) -> SIPCheckSyncVerdict {
        let nonce = makeNonce()
        if nonces.count >= SIPCheckSyncGuard.maximumNonces { nonces.removeFirst() }
        nonces.append((nonce: nonce, issued: now))
        return .challenge(DigestChallenge(realm: realm, nonce: nonce, algorithm: .md5, qopOptions: [.auth]).headerValue)
    }
}
