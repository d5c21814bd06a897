import Config
import Foundation
import Reactor
import Testing

@testable import Phone

/// The weekly round (`auto_provision.weekly.*`) on the virtual clock, the DHCP keys, and when a
/// restart of the phone happens (`PhoneRestartSchedule`).
@Suite("Provisioning: weekly schedule, DHCP option 66 keys, restart only with no call up")
struct ProvisioningScheduleTests {
    static func settings(_ lines: String) throws -> AutoProvisionSettings {
        try AutoProvisionSettings(ConfigFile(text: "#!version:1.0.0.1\n" + lines, path: "a.cfg"))
    }

    /// Monday 2026-12-07 00:00 UTC in Unix nanoseconds.
    static let monday: Int64 = 1_796_601_600 * 1_000_000_000
    static let minute = WeeklySchedule.nanosecondsPerMinute
    static let day = WeeklySchedule.nanosecondsPerDay

    @Test("the keys: off by default; days as digits 0-6, HH:MM times; bad values refused at their line")
    func keys() throws {
        #expect(try Self.settings("").weekly == nil)
        let set = try Self.settings(
            "auto_provision.weekly.enable = 1\nauto_provision.weekly.dayofweek = 135\n"
                + "auto_provision.weekly.begin_time = 02:00\nauto_provision.weekly.end_time = 03:30\n")
        #expect(set.weekly == WeeklySchedule(days: [1, 3, 5], beginMinute: 120, endMinute: 210))
        #expect(try Self.settings("auto_provision.weekly.enable = 1\n").weekly == WeeklySchedule())
        #expect(throws: ConfigError("a.cfg", 3, "auto_provision.weekly.dayofweek = '17': expected digits 0 (Sunday) to 6")) {
            try Self.settings("auto_provision.weekly.enable = 1\nauto_provision.weekly.dayofweek = 17\n")
        }
        #expect(throws: ConfigError("a.cfg", 3, "auto_provision.weekly.end_time = '24:00': expected HH:MM")) {
            try Self.settings("auto_provision.weekly.enable = 1\nauto_provision.weekly.end_time = 24:00\n")
        }
        #expect(WeeklySchedule.dayOfWeek(unixDay: 0) == 4)  // 1970-01-01, a Thursday
        #expect(WeeklySchedule.dayOfWeek(unixDay: Self.monday / Self.day) == 1)
        #expect(WeeklySchedule.text(Self.monday + 125 * Self.minute) == "2026-12-07 02:05 UTC")
        #expect(WeeklySchedule.text(951_782_400 * 1_000_000_000) == "2000-02-29 00:00 UTC")
    }

    @Test("two weeks on the virtual clock: one round on each chosen day, inside the window, at varied moments")
    func twoWeeks() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: Self.monday + 150 * Self.minute))
        let schedule = WeeklySchedule(days: [1, 3, 5], beginMinute: 120, endMinute: 210)
        var rounds: [Int64] = []
        var seed: UInt64 = 7
        let timer = WeeklyRoundTimer(
            reactor: reactor, schedule: schedule,
            random: { bound in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int64((seed >> 33) % UInt64(bound))
            },
            fire: { rounds.append(reactor.wallClock) })
        var log: [String] = []
        timer.onLog = { log.append($0) }
        timer.start()
        try reactor.run(for: 14 * Self.day - 150 * Self.minute)  // to Monday 00:00, two weeks on
        timer.close()
        // Started inside Monday's window (02:30): its rest counts; then Wed, Fri, Mon, Wed, Fri.
        #expect(rounds.count == 6)
        var days: [Int64] = []
        for at in rounds {
            let day = at / Self.day
            let minute = (at - day * Self.day) / Self.minute
            #expect(minute >= 120 && minute < 210)
            #expect([1, 3, 5].contains(WeeklySchedule.dayOfWeek(unixDay: day)))
            days.append(day - Self.monday / Self.day)
        }
        #expect(days == [0, 2, 4, 7, 9, 11])
        #expect(rounds[0] >= Self.monday + 150 * Self.minute)
        #expect(Set(rounds.map { ($0 % Self.day) / Self.minute }).count > 1)
        #expect(log.first?.hasPrefix("provisioning: next weekly round at 2026-12-07 0") == true)
    }

    @Test("a window past midnight and a whole day")
    func windows() {
        let late = WeeklySchedule(days: [0], beginMinute: 23 * 60, endMinute: 60)
        #expect(late.windowNanoseconds == 120 * Self.minute)
        // Monday 00:30 is inside Sunday's window, which runs to 01:00.
        let window = late.nextWindow(now: Self.monday + 30 * Self.minute)
        #expect(window?.start == Self.monday - 60 * Self.minute)
        #expect(window?.end == Self.monday + 60 * Self.minute)
        #expect(WeeklySchedule(days: [2], beginMinute: 0, endMinute: 0).windowNanoseconds == Self.day)
        #expect(WeeklySchedule(days: []).nextWindow(now: 0) == nil)
    }

    @Test("DHCP option 66: the keys, and the server read from the lease file when no URL is set")
    func dhcp() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dhcp-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lease = directory + "/udhcpc.env"
        try "opt66=192.0.2.5\n".write(toFile: lease, atomically: true, encoding: .utf8)
        var log: [String] = []
        let set = try Self.settings("auto_provision.dhcp_option.lease_file = " + lease + "\n")
        #expect(set.dhcpOptionEnabled && set.dhcpLeaseFile == lease)
        #expect(set.dhcpServerURL(log: { log.append($0) }) == "tftp://192.0.2.5/")
        #expect(log == ["provisioning: server from DHCP option 66 in " + lease + ": tftp://192.0.2.5/"])
        // A configured URL wins; enable = 0 ignores the lease; a lease without option 66 says so.
        #expect(
            try Self.settings(
                "auto_provision.server.url = http://192.0.2.1/\nauto_provision.dhcp_option.lease_file = " + lease + "\n"
            ).dhcpServerURL(log: { _ in }) == nil)
        #expect(
            try Self.settings(
                "auto_provision.dhcp_option.enable = 0\nauto_provision.dhcp_option.lease_file = " + lease + "\n"
            ).dhcpServerURL(log: { _ in }) == nil)
        try "ip=192.0.2.50\n".write(toFile: lease, atomically: true, encoding: .utf8)
        log = []
        #expect(set.dhcpServerURL(log: { log.append($0) }) == nil)
        #expect(log == ["provisioning: no option 66 (TFTP server name) in " + lease])
        try "opt66=ftp://192.0.2.5/\n".write(toFile: lease, atomically: true, encoding: .utf8)
        log = []
        #expect(set.dhcpServerURL(log: { log.append($0) }) == nil)
        #expect(log.first?.hasSuffix(": not an http://, https:// or tftp:// server (ignored)") == true)
        #expect(try Self.settings("").dhcpServerURL(log: { _ in }) == nil)
    }

    @Test("a restart happens at once with no call up, else when the last call ends, once")
    func restart() {
        var schedule = PhoneRestartSchedule()
        #expect(schedule.request(.checkSync, callsUp: 0) == .checkSync)
        #expect(schedule.pending == nil)
        #expect(schedule.request(.provisioned(["account.1.display_name"]), callsUp: 1) == nil)
        #expect(schedule.request(.checkSync, callsUp: 2) == nil)
        #expect(schedule.callsChanged(callsUp: 1) == nil)
        #expect(schedule.callsChanged(callsUp: 0) == .provisioned(["account.1.display_name"]))
        #expect(schedule.callsChanged(callsUp: 0) == nil)
        #expect(
            PhoneRestartSchedule.Reason.provisioned(["a", "b"]).description
                == "provisioned keys that need a restart (a, b)")
        _ = schedule.request(.checkSync, callsUp: 1)
        schedule.clear()
        #expect(schedule.callsChanged(callsUp: 0) == nil)
    }
}

@Suite("Provisioning: include:config")
struct ProvisioningIncludeTests {
    @Test("include lines: their URLs resolved against the including file's URL")
    func urls() {
        let text = "#!version:1.0.0.1\ninclude:config \"sip.cfg\"\n  include:config </shared/codecs.cfg>\r\n"
            + "include:config http://other.test/x.cfg\nfeatures.dnd.enable = 1\n"
        #expect(
            ProvisioningInclude.urls(in: text, base: "http://192.0.2.1:8080/prov/001565a1b2c3.cfg") == [
                "http://192.0.2.1:8080/prov/sip.cfg", "http://192.0.2.1:8080/shared/codecs.cfg", "http://other.test/x.cfg",
            ])
        #expect(ProvisioningInclude.urls(in: "a = 1\n", base: "http://h/x.cfg").isEmpty)
    }

    @Test("an included file's keys take the include line's place: lines below it win, lines above lose")
    func inline() throws {
        let main = ProvisionedFile(
            url: "http://h/p/m.cfg",
            text: "#!version:1.0.0.1\nvoice.volume.ringer = 3\nfeatures.dnd.enable = 1\ninclude:config \"inc/a.cfg\"\n"
                + "features.dnd.enable = 0\n")
        let included = ProvisionedFile(
            url: "http://h/p/inc/a.cfg", text: "#!version:1.0.0.1\nvoice.volume.ringer = 9\nfeatures.dnd.enable = 1\n",
            includedBy: "http://h/p/m.cfg")
        let candidate = try ProvisioningCandidate.check(
            [included, main], storedPath: nil, localPaths: [], hasRecordKey: false, lineKeys: nil
        ).get()
        #expect(candidate.files.count == 1)
        let merged = ConfigFile(merging: candidate.files)
        #expect(merged.entry("voice.volume.ringer")?.value == "9")
        #expect(merged.entry("voice.volume.ringer")?.file == "http://h/p/inc/a.cfg")
        #expect(merged.entry("features.dnd.enable")?.value == "0")
        #expect(candidate.storedText.contains("voice.volume.ringer = \"9\""))
        // An include the server did not have (not fetched) is skipped.
        let alone = try ProvisioningCandidate.check(
            [main], storedPath: nil, localPaths: [], hasRecordKey: false, lineKeys: nil
        ).get()
        #expect(ConfigFile(merging: alone.files).entry("voice.volume.ringer")?.value == "3")
    }

    @Test("relative references: a scheme as it is, /path on the host, else the including file's directory")
    func resolve() {
        #expect(ProvisioningInclude.resolve("a.cfg", against: "tftp://192.0.2.1:6969/dir/y.cfg") == "tftp://192.0.2.1:6969/dir/a.cfg")
        #expect(ProvisioningInclude.resolve("sub/a.cfg", against: "http://h/y.cfg") == "http://h/sub/a.cfg")
        #expect(ProvisioningInclude.resolve("a.cfg", against: "http://h") == "http://h/a.cfg")
        #expect(ProvisioningInclude.resolve("/a.cfg", against: "http://h:80/d/y.cfg") == "http://h:80/a.cfg")
        #expect(ProvisioningInclude.resolve("tftp://t/a.cfg", against: "http://h/y.cfg") == "tftp://t/a.cfg")
        #expect(ProvisioningInclude.resolve("a:b.cfg", against: "http://h/d/") == "http://h/d/a:b.cfg")
    }
}
