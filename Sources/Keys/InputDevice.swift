import CEvdev
import CLinux

/// What one read from an input device gave.
public enum InputDeviceRead: Equatable, Sendable {
    /// An event in normal mode.
    case event(InputEvent)
    /// The kernel dropped events (`SYN_DROPPED`): read with `sync: true` until `.empty`.
    case dropped
    /// An event of a resync: the difference between the state before the drop and now.
    case syncEvent(InputEvent)
    /// Nothing more right now (EAGAIN; in sync mode: the resync is complete).
    case empty
    /// The read failed with this errno (ENODEV: the device was unplugged).
    case failed(Int32)
}

/// One opened input device, as the evdev key source uses it. `LibevdevDevice` is the real
/// one; tests substitute their own (this machine class often has no `/dev/input`).
public protocol InputDevice: AnyObject {
    /// The descriptor the reactor watches for readability.
    var fd: Int32 { get }
    /// The device's name (`AT Translated Set 2 keyboard`).
    var name: String { get }
    /// Whether the device can send `EV_KEY` `code`.
    func hasKey(_ code: UInt16) -> Bool
    /// Whether key `code` is down right now (the state when the device was opened or synced).
    func isKeyDown(_ code: UInt16) -> Bool
    /// EVIOCGRAB on or off: while grabbed, no other reader (console, X) sees the keys.
    /// Returns 0 or -errno.
    func grab(_ on: Bool) -> Int32
    /// Reads the next event (`sync`: the next event of a resync after `.dropped`).
    func next(sync: Bool) -> InputDeviceRead
    /// Frees the device and closes its descriptor.
    func close()
}

/// The result of opening an input device.
public enum InputDeviceOpenResult {
    case opened(any InputDevice)
    /// The errno of the failure (ENOENT, EACCES, ENOTTY for a file that is not a device).
    case failed(Int32)
}

/// An evdev device through libevdev: non-blocking reads, SYN_DROPPED resync, grab.
public final class LibevdevDevice: InputDevice {
    public let fd: Int32
    private var device: OpaquePointer?

    /// Opens `path` read-only, non-blocking, and reads its capabilities.
    public static func open(path: String) -> InputDeviceOpenResult {
        let fd = cl_open(path, O_RDONLY | O_NONBLOCK, 0)
        if fd < 0 { return .failed(-fd) }
        var dev: OpaquePointer? = nil
        let rc = libevdev_new_from_fd(fd, &dev)
        if rc < 0 || dev == nil {
            _ = cl_close(fd)
            return .failed(rc < 0 ? -rc : EINVAL)
        }
        return .opened(LibevdevDevice(fd: fd, device: dev))
    }

    init(fd: Int32, device: OpaquePointer?) {
        self.fd = fd
        self.device = device
    }

    deinit { close() }

    public var name: String {
        guard let device, let n = libevdev_get_name(device) else { return "" }
        return String(cString: n)
    }

    public func hasKey(_ code: UInt16) -> Bool {
        guard let device else { return false }
        return libevdev_has_event_code(device, UInt32(InputEvent.typeKey), UInt32(code)) == 1
    }

    public func isKeyDown(_ code: UInt16) -> Bool {
        guard let device else { return false }
        return libevdev_get_event_value(device, UInt32(InputEvent.typeKey), UInt32(code)) != 0
    }

    public func grab(_ on: Bool) -> Int32 {
        guard let device else { return -EBADF }
        return libevdev_grab(device, on ? LIBEVDEV_GRAB : LIBEVDEV_UNGRAB)
    }

    public func next(sync: Bool) -> InputDeviceRead {
        guard let device else { return .failed(EBADF) }
        var ev = input_event()
        let flags = sync ? LIBEVDEV_READ_FLAG_SYNC.rawValue : LIBEVDEV_READ_FLAG_NORMAL.rawValue
        let rc = libevdev_next_event(device, flags, &ev)
        let event = InputEvent(type: ev.type, code: ev.code, value: ev.value)
        if rc == Int32(LIBEVDEV_READ_STATUS_SUCCESS.rawValue) { return sync ? .syncEvent(event) : .event(event) }
        if rc == Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue) { return sync ? .syncEvent(event) : .dropped }
        if rc == -EAGAIN { return .empty }
        if rc == -EINTR { return .empty }
        return .failed(rc < 0 ? -rc : EIO)
    }

    public func close() {
        if let device { libevdev_free(device) }
        if device != nil { _ = cl_close(fd) }
        device = nil
    }
}
