// The provisioning edge on the reactor: fetches the plan's files in order with `HTTPClient`
// (credentials, redirects, size limit, timeouts, conditional GETs) or `TFTPClient` (tftp:// URLs), checks the set with the local
// files, stores it, and hands the new configuration over; at boot (bounded) and on a repeating
// timer. The decisions are `ProvisioningPlan`'s, `ProvisioningCache`'s and `ProvisioningCandidate`'s.

import CLinux
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
    private var weeklyTimer: WeeklyRoundTimer? = nil
    private var busy = false
    /// Files fetched by `include:config` in the current round.
    private var includedFiles = 0
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

    /// Fetches the plan's files in order, each after the files it includes (`include:config`,
    /// `ProvisioningInclude`); `completion` runs once on the loop.
    public func fetch(completion: @escaping (FetchResult) -> Void) {
        includedFiles = 0
        fetchPlanned(0, [], completion)
    }

    /// One file as fetched: its text, not on the server (404/410, TFTP error 1), or why not.
    private enum FileFetch {
        case text(String)
        case missing
        case failed(String)
    }

    private func fetchPlanned(_ index: Int, _ files: [ProvisionedFile], _ completion: @escaping (FetchResult) -> Void) {
        guard index < plan.urls.count else {
            if files.isEmpty {
                completion(.failed("no provisioning file on the server (" + PhoneAssembly.joined(plan.urls) + ")"))
            } else {
                completion(.files(files))
            }
            return
        }
        fetchWithIncludes(plan.urls[index], chain: [], files) { [self] result in
            switch result {
            case .files(let more): self.fetchPlanned(index + 1, more, completion)
            case .failed: completion(result)
            }
        }
    }

    /// `url` and the files it includes (depth first; the check puts their keys in the include
    /// lines' places); `files` are those fetched so far, `chain` the files including this one.
    private func fetchWithIncludes(
        _ url: String, chain: [String], _ files: [ProvisionedFile], _ completion: @escaping (FetchResult) -> Void
    ) {
        fetchFile(url) { [self] fetched in
            switch fetched {
            case .failed(let why):
                completion(.failed(url + ": " + why))
            case .missing:
                completion(.files(files))
            case .text(let text):
                let includes = ProvisioningInclude.urls(in: text, base: url)
                let file = ProvisionedFile(url: url, text: text, includedBy: chain.last)
                if includes.isEmpty {
                    completion(.files(files + [file]))
                    return
                }
                if chain.count + 1 >= ProvisioningInclude.maximumDepth {
                    completion(
                        .failed(
                            url + ": include:config nested deeper than " + String(ProvisioningInclude.maximumDepth)
                                + " files"))
                    return
                }
                self.fetchIncludes(includes, 0, chain + [url], files) { result in
                    switch result {
                    case .files(let more): completion(.files(more + [file]))
                    case .failed: completion(result)
                    }
                }
            }
        }
    }

    private func fetchIncludes(
        _ urls: [String], _ index: Int, _ chain: [String], _ files: [ProvisionedFile],
        _ completion: @escaping (FetchResult) -> Void
    ) {
        guard index < urls.count else {
            completion(.files(files))
            return
        }
        let url = urls[index]
        if chain.contains(url) {
            completion(.failed(url + ": include:config cycle (" + PhoneAssembly.joined(chain + [url]) + ")"))
            return
        }
        includedFiles += 1
        if includedFiles > ProvisioningInclude.maximumFiles {
            completion(
                .failed(url + ": more than " + String(ProvisioningInclude.maximumFiles) + " included files in one round"))
            return
        }
        onLog("provisioning: " + chain[chain.count - 1] + " includes " + url)
        fetchWithIncludes(url, chain: chain, files) { [self] result in
            switch result {
            case .files(let more): self.fetchIncludes(urls, index + 1, chain, more, completion)
            case .failed: completion(result)
            }
        }
    }

    /// One file by HTTP (credentials, redirects, size limit, conditional GET) or TFTP.
    private func fetchFile(_ url: String, _ completion: @escaping (FileFetch) -> Void) {
        if TFTPURL(url) != nil {
            fetchByTFTP(url, completion)
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
                completion(.failed(why))
            case .response(let response):
                if response.status == 404 || response.status == 410 {
                    self.cache.forget(url)
                    self.onLog(
                        "provisioning: GET " + url + ": " + String(response.status) + " (not on the server: skipped)")
                    completion(.missing)
                    return
                }
                let text = self.cache.text(
                    for: url, status: response.status, etag: response.header("ETag"),
                    lastModified: response.header("Last-Modified"), body: response.body)
                guard let text else {
                    completion(.failed(response.description))
                    return
                }
                let what =
                    response.status == 304
                    ? "304 Not Modified (the copy fetched before)"
                    : String(response.status) + " ("
                        + String(response.body.count) + " bytes)"
                self.onLog("provisioning: GET " + url + ": " + what)
                completion(.text(text))
            }
        }
        _ = started  // a refused URL still completes (on the next loop pass)
    }

    /// `url` by TFTP: a file the server does not have (ERROR 1) is skipped as a 404 is.
    private func fetchByTFTP(_ url: String, _ completion: @escaping (FileFetch) -> Void) {
        tftp.get(url, maximumBytes: ProvisioningPlan.maximumFileBytes) { [self] result in
            guard !self.closed else { return }
            switch result {
            case .file(let bytes):
                self.onLog("provisioning: TFTP " + url + ": " + String(bytes.count) + " bytes")
                completion(.text(String(decoding: bytes, as: UTF8.self)))
            case .failed(let failure) where failure.isNotFound:
                self.onLog("provisioning: TFTP " + url + ": " + failure.description + " (not on the server: skipped)")
                completion(.missing)
            case .failed(let failure):
                completion(.failed(failure.description))
            case .refused(let why):
                completion(.failed(why))
            }
        }
    }

    /// One round: fetch, check with the local files, store, report. `completion` runs once.
    /// Returns false (and `completion` never runs) while a round is running or after `close`.
    @discardableResult
    public func runRound(completion: @escaping (Outcome) -> Void) -> Bool {
        guard !busy, !closed else { return false }
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
        return true
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

    /// With `auto_provision.repeat.enable`, a round every interval; with `auto_provision.weekly.enable`
    /// one on each chosen day at a random moment of the window; each new good set goes to `apply`.
    public func startRepeating(apply: @escaping (Provisioning) -> Void) {
        if let schedule = settings.weekly, weeklyTimer == nil, !closed {
            let weekly = WeeklyRoundTimer(
                reactor: reactor, schedule: schedule,
                random: { bound in
                    var value: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &value) { cl_getrandom($0.baseAddress, 8) }
                    return bound <= 0 ? 0 : Int64(value % UInt64(bound))
                },
                fire: { [self] in
                    self.runRound { outcome in
                        if case .provisioned(let provisioning, _) = outcome { apply(provisioning) }
                    }
                })
            weekly.onLog = { [self] line in self.onLog(line) }
            weeklyTimer = weekly
            weekly.start()
        }
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
        weeklyTimer?.close()
        weeklyTimer = nil
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
        guard let url = settings.serverURL ?? settings.dhcpServerURL(log: log) else { return (current, nil) }
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
