import ArgumentParser
import Config
import Phone

/// `deskphone-tool cfg check FILE...`: checks provisioning files exactly as the phone loads them
/// (`Provisioning`): syntax and includes of every file, then every module's values over the
/// merged files. Prints each problem as `file:line: message`, unused keys as notes, and exits 1
/// when a file would be refused.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cfg",
        abstract: "Provisioning files (.cfg).",
        subcommands: [ConfigCheck.self]
    )
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check provisioning files the way the phone loads them.",
        discussion: """
            Files are layered in order (a later file overrides an earlier one), with their
            include:config files. With --board, line keys and the record key are checked against
            that board; without, any line key number is accepted. Exit status: 0 good, 1 refused.
            """
    )

    @Option(name: .long, help: "Board profile (board/NAME.cfg) the files are for.")
    var board: String?

    @Argument(help: "Provisioning files, in load order.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one .cfg file") }
    }

    func run() throws {
        var hasRecordKey = true
        var lineKeys: Int? = nil
        if let board {
            do {
                let profile = try BoardProfile.load(path: board)
                hasRecordKey = profile.hasRecordKey
                lineKeys = profile.lineKeys
            } catch {
                throw ToolError("--board: " + error.description)
            }
        }
        let problems = Provisioning.problems(paths: files, hasRecordKey: hasRecordKey, lineKeys: lineKeys)
        for problem in problems { print("error: " + problem.description) }
        guard problems.isEmpty else {
            print(String(problems.count) + (problems.count == 1 ? " problem" : " problems") + ": refused")
            throw ExitCode(1)
        }
        // Good files: the phone's view of them, for the notes.
        let provisioning: Provisioning
        do {
            provisioning = try Provisioning(paths: files, hasRecordKey: hasRecordKey, lineKeys: lineKeys)
        } catch {
            throw ToolError(error.description)
        }
        for entry in provisioning.unknownKeys {
            print("note: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
        }
        for warning in provisioning.warnings { print("warning: " + warning) }
        if let warning = provisioning.softphone.advertisedAddressWarning { print("warning: " + warning) }
        var keys: [String] = []
        for entry in provisioning.merged.entries where !keys.contains(entry.key) { keys.append(entry.key) }
        print("ok: " + String(files.count) + (files.count == 1 ? " file, " : " files, ") + String(keys.count) + " keys")
    }
}
