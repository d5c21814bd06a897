import CLinux
import Reactor

/// Which input device an evdev key source uses.
public enum EvdevSelector: Equatable, Sendable, CustomStringConvertible {
    /// A device node (`/dev/input/event3`).
    case path(String)
    /// The first device whose name contains this text.
    case name(String)
    /// The first device with this capability.
    case capability(EvdevCapability)

    public var description: String {
        switch self {
        case .path(let p): return "evdev:" + p
        case .name(let n): return "evdev-name:" + n
        case .capability(let c): return "evdev-caps:" + c.rawValue
        }
    }
}

/// A kind of input device, for discovery by capabilities.
public enum EvdevCapability: String, Equatable, Sendable {
    /// Letters and Enter (`KEY_A`, `KEY_Z`, `KEY_ENTER`): a PC keyboard.
    case keyboard
    /// A numeric keypad (`KEY_KP0`...`KEY_KP9`) or phone dial pad (`KEY_NUMERIC_0`...`9`).
    case keypad
    /// Any code of the board's keymap: a phone's own key matrix.
    case keymap
}

/// Phone keys from an evdev device (libevdev) on the reactor: non-blocking reads, SYN_DROPPED
/// resync, optional grab, discovery by path, name or capabilities under a devices directory
/// (`/dev/input`), and hot-plug: an unplugged device (ENODEV, hang-up) is dropped, its held
/// keys released, and the source waits; inotify on the directory (plus a rescan every
/// second, for udev's late permission changes) picks the device up again when it returns.
public final class EvdevKeySource {
    /// The device this source looks for.
    public let selector: EvdevSelector
    /// The directory scanned for `event*` nodes.
    public let directory: String
    private let grab: Bool
    private let reactor: Reactor
    private let router: KeyRouter
    private let open: (String) -> InputDeviceOpenResult
    private var log: (String) -> Void
    private let rescanInterval: Int64
    private var device: (any InputDevice)? = nil
    private var deviceWatch: WatchID? = nil
    private var dirWatcher: DirectoryWatcher? = nil
    private var rescanTimer: TimerID? = nil
    private var scanPending = false
    private var syncing = false
    private var lastScanReport = ""
    private var closed = false

    /// The node of the connected device, nil while waiting for one.
    public private(set) var devicePath: String? = nil
    /// The connected device's name.
    public private(set) var deviceName: String? = nil
    /// How often a device was connected / lost (for tests and status).
    public private(set) var connectCount = 0
    public private(set) var disconnectCount = 0
    /// SYN_DROPPED resyncs done.
    public private(set) var resyncCount = 0

    /// Starts looking for the device (it need not be present yet). `open` opens a node; the
    /// default is libevdev. Fails only when nothing could ever find a device (no reactor).
    public init(
        selector: EvdevSelector, directory: String = "/dev/input", grab: Bool = false, reactor: Reactor,
        router: KeyRouter, rescanNanoseconds: Int64 = 1_000_000_000,
        log: @escaping (String) -> Void = keysLogToStandardError,
        open: @escaping (String) -> InputDeviceOpenResult = { LibevdevDevice.open(path: $0) }
    ) {
        self.selector = selector
        if case .path(let p) = selector {
            self.directory = EvdevKeySource.split(p).directory
        } else {
            self.directory = directory
        }
        self.grab = grab
        self.reactor = reactor
        self.router = router
        self.open = open
        self.log = log
        self.rescanInterval = max(1_000_000, rescanNanoseconds)
        do {
            dirWatcher = try DirectoryWatcher(directory: self.directory, reactor: reactor) { [self] name, change in
                self.directoryChanged(name, change)
            }
        } catch {
            log(error.message + "; hot-plug falls back to a rescan every second")
        }
        if !scan() { waitForDevice() }
    }

    /// Whether a device is connected.
    public var isConnected: Bool { device != nil }

    /// Stops: releases the grab, closes the device and the directory watch.
    public func close() {
        closed = true
        disconnect(reason: nil)
        if let t = rescanTimer { reactor.cancel(t) }
        rescanTimer = nil
        dirWatcher?.close()
        dirWatcher = nil
        log = { _ in }
    }

    // MARK: discovery

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// `event*` names in the directory, in numeric order.
    func candidates() -> [String] {
        let all = EvdevKeySource.listDirectory(directory) ?? []
        if case .path(let p) = selector {
            let name = EvdevKeySource.split(p).name
            return all.contains(name) ? [name] : []
        }
        let events = all.filter { $0.hasPrefix("event") }
        return events.sorted { a, b in
            let na = PhoneKey.number(in: a, after: "event") ?? Int.max
            let nb = PhoneKey.number(in: b, after: "event") ?? Int.max
            return na != nb ? na < nb : a < b
        }
    }

    /// The names in a directory, nil when it cannot be read.
    public static func listDirectory(_ path: String) -> [String]? {
        var buffer = [UInt8](repeating: 0, count: 32768)
        let n = buffer.withUnsafeMutableBytes { raw in
            cl_list_dir(path, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if n < 0 { return nil }
        var names: [String] = []
        var start = 0
        for i in 0..<n where buffer[i] == 0 {
            names.append(String(decoding: buffer[start..<i], as: UTF8.self))
            start = i + 1
        }
        return names
    }

    /// Substring test on UTF-8 bytes (Embedded Swift has no `String.contains(String)`).
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8)
        let n = Array(needle.utf8)
        if n.isEmpty { return true }
        if n.count > h.count { return false }
        for start in 0...(h.count - n.count) where h[start..<(start + n.count)].elementsEqual(n) { return true }
        return false
    }

    func matches(_ dev: any InputDevice) -> Bool {
        switch selector {
        case .path: return true
        case .name(let text): return EvdevKeySource.contains(dev.name, text)
        case .capability(.keyboard):
            return [30, 44, 28].allSatisfy { dev.hasKey($0) }  // KEY_A, KEY_Z, KEY_ENTER
        case .capability(.keypad):
            return (dev.hasKey(82) && dev.hasKey(73))  // KEY_KP0, KEY_KP9
                || (dev.hasKey(0x200) && dev.hasKey(0x209))  // KEY_NUMERIC_0, KEY_NUMERIC_9
        case .capability(.keymap):
            return router.keymap.codes.contains { dev.hasKey($0) }
        }
    }

    /// Opens the first matching device. Returns whether one is connected.
    @discardableResult
    func scan() -> Bool {
        scanPending = false
        if device != nil || closed { return device != nil }
        var report = ""
        for name in candidates() {
            let path = directory == "/" ? "/" + name : directory + "/" + name
            switch open(path) {
            case .failed(let e):
                if case .path = selector { report = path + ": " + KeysError.errnoText(e) }
            case .opened(let dev):
                if matches(dev) {
                    connect(dev, path: path)
                    return true
                }
                dev.close()
            }
        }
        if report.isEmpty { report = "no device for " + selector.description + " in " + directory }
        if report != lastScanReport {
            lastScanReport = report
            log(report + "; waiting")
        }
        return false
    }

    private func directoryChanged(_ name: String, _ change: DirectoryWatcher.Change) {
        guard device == nil, !closed else { return }
        if change == .removed { return }
        if change == .appeared && !name.hasPrefix("event") {
            if case .path(let p) = selector, EvdevKeySource.split(p).name == name {} else { return }
        }
        if scanPending { return }
        scanPending = true
        reactor.runSoon { [self] in self.scan() }
    }

    private func waitForDevice() {
        guard rescanTimer == nil, !closed else { return }
        rescanTimer = reactor.every(rescanInterval) { [self] in self.scan() }
    }

    // MARK: connection

    private func connect(_ dev: any InputDevice, path: String) {
        if let t = rescanTimer { reactor.cancel(t) }
        rescanTimer = nil
        do {
            deviceWatch = try reactor.watch(dev.fd, for: .readable) { [self] events in self.readable(events) }
        } catch {
            log(path + ": cannot watch: " + error.description)
            dev.close()
            waitForDevice()
            return
        }
        device = dev
        devicePath = path
        deviceName = dev.name
        connectCount += 1
        syncing = false
        lastScanReport = ""
        if grab {
            let rc = dev.grab(true)
            if rc < 0 { log(path + ": grab failed: " + KeysError.errnoText(rc) + "; keys are shared") }
        }
        log("using " + path + " (" + dev.name + ")")
        // Keys already down (a handset lifted before start-up) are reported as presses.
        for code in router.keymap.codes where dev.isKeyDown(code) {
            router.handle(InputEvent(type: InputEvent.typeKey, code: code, value: 1))
        }
    }

    private func disconnect(reason: String?) {
        guard let dev = device else { return }
        if let w = deviceWatch { reactor.cancel(w) }
        deviceWatch = nil
        if grab { _ = dev.grab(false) }
        dev.close()
        device = nil
        let path = devicePath ?? ""
        devicePath = nil
        deviceName = nil
        router.resolver.releaseAll()
        if let reason {
            disconnectCount += 1
            log(path + ": " + reason + "; waiting for it to come back")
            waitForDevice()
        }
    }

    private func readable(_ events: IOEvents) {
        guard let dev = device else { return }
        var count = 0
        while device != nil {
            switch dev.next(sync: syncing) {
            case .event(let e):
                router.handle(e)
            case .syncEvent(let e):
                router.handle(e)
            case .dropped:
                syncing = true
                resyncCount += 1
            case .empty:
                if syncing {
                    syncing = false
                    continue
                }
                if events.contains(.hangUp) || events.contains(.error) {
                    disconnect(reason: "device hung up")
                }
                return
            case .failed(let e):
                if e == EAGAIN || e == EINTR { return }
                disconnect(reason: e == ENODEV ? "device removed (ENODEV)" : "read failed: " + KeysError.errnoText(e))
                return
            }
            count += 1
            if count >= 4096 {
                // A flood: let the rest of the loop run, then go on (libevdev may hold events
                // in its own queue that epoll cannot see, so do not wait for readiness).
                reactor.runSoon { [self] in self.readable([]) }
                return
            }
        }
    }
}
