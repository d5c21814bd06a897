// The provisioning edge on the reactor: fetches the plan's files in order with `HTTPClient`
// (credentials, redirects, size limit, timeouts, conditional GETs) or `TFTPClient` (tftp:// URLs), checks the set with the local
// files, stores it, and hands the new configuration over; at boot (bounded) and on a repeating
// timer. The decisions are `ProvisioningPlan`'s, `ProvisioningCache`'s and `ProvisioningCandidate`'s.

import Config
import HTTP
import Net
import Reactor
import Recording
import TLS

/// Fetches the phone's provisioning from `auto_provision.server.url` on the reactor: one round
/// fetches the common file and the MAC file (a 404 skips a file), checks them with the local files
/// (`Provisioning`), stores the good set (`ProvisioningStore`) and reports it; a failed round logs
/// `provisioning failed: ...` and changes nothing. Rounds never overlap.
public final class AutoProvisioner {
    /// How one round ended.
    public enum Outcome {
        /// A new good set, stored: the phone's configuration from now on.
        case provisioned(Provisioning, files: Int)
        /// The same files as the set in use: nothing to apply.
        case unchanged(files: Int)
        case failed(String)
    }

    /// The fetched files, or why the fetch failed.
    public enum FetchResult {
        case files([ProvisionedFile])
        case failed(String)
    }

    public let reactor: Reactor
    public let settings: AutoProvisionSettings
    public let plan: ProvisioningPlan
    public let store: ProvisioningStore?
    /// The client TLS profile of https URLs (the phone's `security.*`; the assembly shares it).
    public let tls: TLSClientProfile
    private let serverURL: String
    private let localPaths: [String]
    private let hasRecordKey: Bool
    private let lineKeys: Int?
    private let http: HTTPClient
    private let tftp: TFTPClient
    private var cache = ProvisioningCache()
    private var applied: [ProvisionedFile]? = nil
    private var repeatTimer: TimerID? = nil
    private var busy = false
    private var closed = false
    /// The last LCD text ("provisioning...", "provisioned (N files)", "provisioning failed").
    public private(set) var status = ""

    /// Every log line.
    public var onLog: (String) -> Void = { _ in }
    /// Each new LCD text.
    public var onStatus: (String) -> Void = { _ in }

    /// A provisioner for `serverURL` with `settings`; the board gives the common file's name, the
    /// record key and the line keys for the checks; `store` nil keeps nothing on the device; `tls`
    /// checks https servers.
    public init(
        reactor: Reactor, serverURL: String, settings: AutoProvisionSettings, commonFile: String, mac: String,
        localPaths: [String], hasRecordKey: Bool, lineKeys: Int?, store: ProvisioningStore?, userAgent: String,
        tls: TLSClientProfile
    ) {
        self.reactor = reactor
        self.serverURL = serverURL
        self.settings = settings
        plan = ProvisioningPlan(serverURL: serverURL, commonFile: commonFile, mac: mac)
        self.store = store
        self.localPaths = localPaths
        self.hasRecordKey = hasRecordKey
        self.lineKeys = lineKeys
        http = HTTPClient(
            reactor: reactor, userAgent: userAgent, timeoutNanoseconds: Int64(settings.timeoutSeconds) * 1_000_000_000)
        let resolver = DNSResolver.system(reactor: reactor)
        http.resolver = resolver
        self.tls = tls
        http.tls = tls
        tftp = TFTPClient(
            reactor: reactor, resolver: resolver, timeoutNanoseconds: Int64(settings.timeoutSeconds) * 1_000_000_000)
    }

    /// Fetches the plan's files in order; `completion` runs once on the loop.
    public func fetch(completion: @escaping (FetchResult) -> Void) {
        fetch(0, [], completion)
    }

    private func fetch(_ index: Int, _ files: [ProvisionedFile], _ completion: @escaping (FetchResult) -> Void) {
        guard index < plan.urls.count else {
            if files.isEmpty {
                completion(.failed("no provisioning file on the server (" + PhoneAssembly.joined(plan.urls) + ")"))
            } else {
                completion(.files(files))
            }
            return
        }
        let url = plan.urls[index]
        if TFTPURL(url) != nil {
            fetchByTFTP(index, files, completion)
            return
        }
        var options = HTTPRequestOptions()
        options.maximumRedirects = ProvisioningPlan.maximumRedirects
        options.maximumBodyBytes = ProvisioningPlan.maximumFileBytes
        if !settings.userName.isEmpty {
            options.credentials = HTTPCredentials(user: settings.userName, password: settings.password)
        }
        options.headers += cache.conditionalHeaders(for: url)
        let started = http.get(url, options: options) { [self] result in
            guard !self.closed else { return }
            switch result {
            case .failed(let why):
                completion(.failed(url + ": " + why))
            case .response(let response):
                if response.status == 404 || response.status == 410 {
                    self.cache.forget(url)
                    self.onLog(
                        "provisioning: GET " + url + ": " + String(response.status) + " (not on the server: skipped)")
                    self.fetch(index + 1, files, completion)
                    return
                }
                let text = self.cache.text(
                    for: url, status: response.status, etag: response.header("ETag"),
                    lastModified: response.header("Last-Modified"), body: response.body)
                guard let text else {
                    completion(.failed(url + ": " + response.description))
                    return
                }
                let what =
                    response.status == 304
                    ? "304 Not Modified (the copy fetched before)"
                    : String(response.status) + " ("
                        + String(response.body.count) + " bytes)"
                self.onLog("provisioning: GET " + url + ": " + what)
                self.fetch(index + 1, files + [ProvisionedFile(url: url, text: text)], completion)
            }
        }
        _ = started  // a refused URL still completes (on the next loop pass)
    }

    /// `plan.urls[index]` by TFTP: a file the server does not have (ERROR 1) is skipped as a 404 is.
    private func fetchByTFTP(
        _ index: Int, _ files: [ProvisionedFile], _ completion: @escaping (FetchResult) -> Void
    ) {
        let url = plan.urls[index]
        tftp.get(url, maximumBytes: ProvisioningPlan.maximumFileBytes) { [self] result in
            guard !self.closed else { return }
            switch result {
            case .file(let bytes):
                self.onLog("provisioning: TFTP " + url + ": " + String(bytes.count) + " bytes")
                let file = ProvisionedFile(url: url, text: String(decoding: bytes, as: UTF8.self))
                self.fetch(index + 1, files + [file], completion)
            case .failed(let failure) where failure.isNotFound:
                self.onLog("provisioning: TFTP " + url + ": " + failure.description + " (not on the server: skipped)")
                self.fetch(index + 1, files, completion)
            case .failed(let failure):
                completion(.failed(url + ": " + failure.description))
            case .refused(let why):
                completion(.failed(url + ": " + why))
            }
        }
    }

    /// One round: fetch, check with the local files, store, report. `completion` runs once.
    public func runRound(completion: @escaping (Outcome) -> Void) {
        guard !busy, !closed else { return }
        busy = true
        report("provisioning: provisioning... from " + serverURL, status: "provisioning...")
        fetch { [self] result in
            self.busy = false
            switch result {
            case .failed(let why):
                completion(self.failed(why))
            case .files(let files):
                let count = String(files.count) + (files.count == 1 ? " file" : " files")
                if let applied = self.applied, applied == files {
                    self.report("provisioning: unchanged (" + count + ")", status: "provisioned (" + count + ")")
                    completion(.unchanged(files: files.count))
                    return
                }
                let checked = ProvisioningCandidate.check(
                    files, storedPath: self.store?.path, localPaths: self.localPaths, hasRecordKey: self.hasRecordKey,
                    lineKeys: self.lineKeys)
                switch checked {
                case .failure(let error):
                    completion(self.failed(error.description))
                case .success(let candidate):
                    if let store = self.store {
                        do throws(ConfigError) {
                            try store.save(candidate.storedText)
                        } catch {
                            completion(self.failed("cannot store the set: " + error.description))
                            return
                        }
                        self.onLog("provisioning: stored the set in " + store.path)
                    }
                    self.applied = files
                    self.report("provisioning: provisioned (" + count + ")", status: "provisioned (" + count + ")")
                    completion(.provisioned(candidate.provisioning, files: files.count))
                }
            }
        }
    }

    private func failed(_ why: String) -> Outcome {
        report("provisioning failed: " + why + " (the last good set stays)", status: "provisioning failed")
        return .failed(why)
    }

    private func report(_ line: String, status: String) {
        onLog(line)
        self.status = status
        onStatus(status)
    }

    /// With `auto_provision.repeat.enable`, a round every interval; each new good set goes to `apply`.
    public func startRepeating(apply: @escaping (Provisioning) -> Void) {
        guard settings.repeatEnabled, repeatTimer == nil, !closed else { return }
        let interval = settings.repeatIntervalNanoseconds
        onLog("provisioning: again every " + String(interval / 1_000_000_000) + " s")
        repeatTimer = reactor.every(interval) { [self] in
            self.runRound { outcome in
                if case .provisioned(let provisioning, _) = outcome { apply(provisioning) }
            }
        }
    }

    /// Stops the timer and any fetch in flight (no completion runs). Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        if let repeatTimer { reactor.cancel(repeatTimer) }
        repeatTimer = nil
        http.close()
        tftp.close()
    }

    /// The configuration the phone boots on. The local files (`local`, already checked), over a
    /// stored last good set when `directory` has one; then, with a server URL and
    /// `auto_provision.power_on`, one round run on `reactor` before anything else (bounded by the
    /// timeout for each file): its good set wins, a failure leaves the set above. Returns the
    /// provisioner (nil without a server URL) for the repeat timer.
    public static func boot(
        reactor: Reactor, board: BoardProfile, local: Provisioning, directory: String?, firmware: String,
        log: @escaping (String) -> Void
    ) -> (provisioning: Provisioning, provisioner: AutoProvisioner?) {
        let localPaths = local.paths
        let store = directory.map { ProvisioningStore(directory: $0) }
        var current = local
        if let store, store.hasSet {
            do throws(ConfigError) {
                current = try Provisioning(paths: [store.path] + localPaths, board: board)
                log("provisioning: last good set " + store.path)
            } catch {
                log("provisioning: the stored set is refused: " + error.description + " (local files only)")
            }
        }
        let settings = current.autoProvision
        guard let url = settings.serverURL else { return (current, nil) }
        let provisioner = AutoProvisioner(
            reactor: reactor, serverURL: url, settings: settings, commonFile: board.provisionCommonFile,
            mac: current.network.mac, localPaths: localPaths, hasRecordKey: board.hasRecordKey,
            lineKeys: board.lineKeys, store: store,
            userAgent: HTTPClient.userAgent(firmware: firmware, model: board.model, mac: current.network.mac),
            tls: current.softphone.tls.profile())
        provisioner.onLog = log
        guard settings.powerOn else { return (current, provisioner) }
        var finished = false
        var fetched: Provisioning? = nil
        provisioner.runRound { outcome in
            finished = true
            if case .provisioned(let provisioning, _) = outcome { fetched = provisioning }
            reactor.stop()
        }
        let bound = Int64(settings.timeoutSeconds) * Int64(provisioner.plan.urls.count) * 1_000_000_000 + 500_000_000
        do throws(ReactorError) {
            try reactor.run(for: bound)
        } catch {
            log("provisioning: reactor: " + error.description)
        }
        if !finished {
            provisioner.http.cancelAll()
            provisioner.tftp.cancelAll()
            provisioner.busy = false
            _ = provisioner.failed("no answer within " + String(bound / 1_000_000_000) + " s")
        }
        return (fetched ?? current, provisioner)
    }
}
