import ArgumentParser
import Config
import Phone
import Reactor

/// `deskphone-tool provision fetch URL --mac MAC`: what a phone with that MAC would fetch from
/// the provisioning server (the same `AutoProvisioner` and checks as the phone), the merged
/// result and its problems; nothing is stored or applied.
struct ProvisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Provisioning from a server (auto_provision.*).",
        subcommands: [ProvisionFetch.self]
    )
}

struct ProvisionFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a phone's provisioning files and print them merged, applying nothing.",
        discussion: """
            Fetches the common file (the board's board.provision_common_file, default \
            y000000000000.cfg), then <mac>.cfg, from the URL's directory, as the phone does \
            (basic credentials, up to 5 redirects, 256 KiB per file); a 404 skips a file. The \
            files are checked together with the local files given, later wins. Exit status: 0 \
            good, 1 refused or not fetched.
            """
    )

    @Argument(help: "The server directory (auto_provision.server.url).")
    var url: String

    @Option(name: .long, help: "The phone's MAC address (network.mac).")
    var mac: String

    @Option(name: .long, help: "Board profile (board/NAME.cfg): common file name, line keys, record key.")
    var board: String?

    @Option(name: .long, help: "HTTP basic user name (auto_provision.server.username).")
    var user: String = ""

    @Option(name: .long, help: "HTTP basic password (auto_provision.server.password).")
    var password: String = ""

    @Option(name: .long, help: "Seconds for each file (auto_provision.server.timeout).")
    var timeout: Int = 10

    @Argument(help: "The phone's local .cfg files, applied after the fetched ones.")
    var local: [String] = []

    func run() throws {
        var commonFile = ProvisioningPlan.defaultCommonFile
        var hasRecordKey = true
        var lineKeys: Int? = nil
        var model = "tool"
        if let board {
            do {
                let profile = try BoardProfile.load(path: board)
                commonFile = profile.provisionCommonFile
                hasRecordKey = profile.hasRecordKey
                lineKeys = profile.lineKeys
                model = profile.model
            } catch {
                throw ToolError("--board: " + error.description)
            }
        }
        var settings = AutoProvisionSettings()
        settings.userName = user
        settings.password = password
        settings.timeoutSeconds = max(1, min(120, timeout))
        let reactor = try Reactor()
        defer { reactor.close() }
        let provisioner = AutoProvisioner(
            reactor: reactor, serverURL: url, settings: settings, commonFile: commonFile, mac: mac, localPaths: local,
            hasRecordKey: hasRecordKey, lineKeys: lineKeys, store: nil,
            userAgent: "deskphone-tool " + model + " " + mac, tls: SIPTLSSettings().profile())
        defer { provisioner.close() }
        for planned in provisioner.plan.urls { print("plan: " + planned) }
        for path in local { print("plan: " + path + " (local)") }
        provisioner.onLog = { line in print(line) }
        var result: AutoProvisioner.FetchResult? = nil
        provisioner.fetch { fetched in
            result = fetched
            reactor.stop()
        }
        try reactor.run(for: Int64(settings.timeoutSeconds) * 2 * 1_000_000_000 + 500_000_000)
        guard let result else { throw ToolError("no answer within the timeout") }
        let files: [ProvisionedFile]
        switch result {
        case .failed(let why):
            print("error: " + why)
            throw ExitCode(1)
        case .files(let fetched):
            files = fetched
        }
        switch ProvisioningCandidate.check(
            files, storedPath: nil, localPaths: local, hasRecordKey: hasRecordKey, lineKeys: lineKeys)
        {
        case .failure(let error):
            print("error: " + error.description)
            print("refused: the phone would keep its last good set")
            throw ExitCode(1)
        case .success(let candidate):
            var shown: [String] = []
            let entries = candidate.provisioning.merged.entries
            for entry in entries.reversed() where !shown.contains(entry.key) { shown.append(entry.key) }
            for key in shown.reversed() {
                if let entry = candidate.provisioning.merged.entry(key) {
                    print("merged: " + entry.key + " = " + entry.value + "    # " + entry.location)
                }
            }
            for entry in candidate.provisioning.unknownKeys {
                print("note: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
            }
            print(
                "ok: " + String(files.count) + (files.count == 1 ? " file" : " files") + " fetched, "
                    + String(shown.count) + " keys")
        }
    }
}
