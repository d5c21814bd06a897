// Yealink's weekly provisioning (`auto_provision.weekly.*`): one round on each chosen day of the
// week at a random moment inside a time window, so that a fleet does not hit the server at once.
// The schedule is sans-IO (wall-clock nanoseconds in, the next moment out); `WeeklyRoundTimer`
// runs it on the reactor's wall clock (`Reactor.wallClock`, virtual in tests).

import Config
import Reactor

/// The days and the window of the weekly round (times are UTC: the firmware has no time zone).
public struct WeeklySchedule: Equatable, Sendable {
    public static let nanosecondsPerMinute: Int64 = 60_000_000_000
    public static let nanosecondsPerDay: Int64 = 1440 * nanosecondsPerMinute

    /// Days of the week, 0 = Sunday ... 6 = Saturday (`auto_provision.weekly.dayofweek` digits).
    public var days: [Int] = [0, 1, 2, 3, 4, 5, 6]
    /// Minutes after midnight (`.begin_time` / `.end_time`, HH:MM); an end at or before the begin
    /// runs past midnight (equal: the whole day).
    public var beginMinute = 0
    public var endMinute = 0

    public init(days: [Int] = [0, 1, 2, 3, 4, 5, 6], beginMinute: Int = 0, endMinute: Int = 0) {
        self.days = days
        self.beginMinute = beginMinute
        self.endMinute = endMinute
    }

    /// The window's length in nanoseconds.
    public var windowNanoseconds: Int64 {
        let minutes = endMinute > beginMinute ? endMinute - beginMinute : endMinute + 1440 - beginMinute
        return Int64(minutes) * WeeklySchedule.nanosecondsPerMinute
    }

    /// Day of the week of a Unix day number (1970-01-01 was a Thursday).
    public static func dayOfWeek(unixDay: Int64) -> Int {
        Int(((unixDay % 7) + 7 + 4) % 7)
    }

    /// The next window that ends after `now` and does not start at `after` (a window already
    /// used): its start and end, wall-clock nanoseconds; nil when no day is chosen.
    public func nextWindow(now: Int64, notStartingAt used: Int64? = nil) -> (start: Int64, end: Int64)? {
        guard !days.isEmpty else { return nil }
        let today = now >= 0 ? now / WeeklySchedule.nanosecondsPerDay : (now + 1) / WeeklySchedule.nanosecondsPerDay - 1
        for day in (today - 1)...(today + 8) where days.contains(WeeklySchedule.dayOfWeek(unixDay: day)) {
            let start = day * WeeklySchedule.nanosecondsPerDay + Int64(beginMinute) * WeeklySchedule.nanosecondsPerMinute
            let end = start + windowNanoseconds
            if end <= now || start == used { continue }
            return (start, end)
        }
        return nil
    }

    /// The moment of the next round: uniform in what is left of the next window (`random(n)` in
    /// `0..<n`), and that window's start (to pass back as `used` once the round ran).
    public func nextRound(now: Int64, used: Int64?, random: (Int64) -> Int64) -> (at: Int64, window: Int64)? {
        guard let window = nextWindow(now: now, notStartingAt: used) else { return nil }
        let from = max(window.start, now)
        let span = window.end - from
        return (from + (span > 0 ? random(span) : 0), window.start)
    }

    /// `HH:MM` as minutes after midnight; nil when it is not a time of day.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count >= 1, parts[0].count <= 2, parts[1].count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...23).contains(hours), (0...59).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    /// `2026-12-07 18:05 UTC` for wall-clock nanoseconds (civil date from the day number).
    public static func text(_ wall: Int64) -> String {
        let day = wall >= 0 ? wall / nanosecondsPerDay : (wall + 1) / nanosecondsPerDay - 1
        let minute = Int((wall - day * nanosecondsPerDay) / nanosecondsPerMinute)
        // Days to year/month/day (the proleptic Gregorian calendar, eras of 400 years).
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { (n < 10 ? "0" : "") + String(n) }
        return String(y) + "-" + two(m) + "-" + two(d) + " " + two(Int64(minute / 60)) + ":" + two(Int64(minute % 60))
            + " UTC"
    }

    /// The `auto_provision.weekly.*` keys: nil when `weekly.enable` is off.
    public static func read(_ file: ConfigFile) throws(ConfigError) -> WeeklySchedule? {
        guard try file.bool("auto_provision.weekly.enable", default: false) else { return nil }
        var schedule = WeeklySchedule()
        if let entry = file.entry("auto_provision.weekly.dayofweek") {
            var days: [Int] = []
            for b in entry.value.utf8 {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "6") else {
                    throw ConfigError(
                        entry.file, entry.line,
                        "auto_provision.weekly.dayofweek = '" + entry.value + "': expected digits 0 (Sunday) to 6")
                }
                if !days.contains(Int(b) - 48) { days.append(Int(b) - 48) }
            }
            if days.isEmpty {
                throw ConfigError(entry.file, entry.line, "auto_provision.weekly.dayofweek: at least one day is needed")
            }
            schedule.days = days.sorted()
        }
        for (key, isBegin) in [("auto_provision.weekly.begin_time", true), ("auto_provision.weekly.end_time", false)] {
            guard let entry = file.entry(key) else { continue }
            guard let minutes = WeeklySchedule.minutes(entry.value) else {
                throw ConfigError(entry.file, entry.line, key + " = '" + entry.value + "': expected HH:MM")
            }
            if isBegin { schedule.beginMinute = minutes } else { schedule.endMinute = minutes }
        }
        return schedule
    }
}

/// Runs `WeeklySchedule` on a reactor: `fire` once per chosen day at a random moment of the
/// window, on the reactor's wall clock. `close` stops it.
public final class WeeklyRoundTimer {
    public let reactor: Reactor
    public let schedule: WeeklySchedule
    private let random: (Int64) -> Int64
    private let fire: () -> Void
    private var timer: TimerID? = nil
    private var used: Int64? = nil
    /// Each scheduled moment, as a log line.
    public var onLog: (String) -> Void = { _ in }

    public init(
        reactor: Reactor, schedule: WeeklySchedule, random: @escaping (Int64) -> Int64, fire: @escaping () -> Void
    ) {
        self.reactor = reactor
        self.schedule = schedule
        self.random = random
        self.fire = fire
    }

    /// Plans the next round (again after each one).
    public func start() {
        guard timer == nil else { return }
        let now = reactor.wallClock
        guard let next = schedule.nextRound(now: now, used: used, random: random) else { return }
        onLog("provisioning: next weekly round at " + WeeklySchedule.text(next.at))
        timer = reactor.after(max(0, next.at - now)) { [self] in
            self.timer = nil
            self.used = next.window
            self.fire()
            self.start()
        }
    }

    public func close() {
        if let timer { reactor.cancel(timer) }
        timer = nil
    }
}
