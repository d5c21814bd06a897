import CLinux
import Foundation
import Reactor

/// SplitMix64: a seeded generator, so a failing "random" input (SSRCs, fuzz-like mutations,
/// signals) can be reproduced from its seed.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs `reactor` on the real clock until `done` holds (at most `seconds`).
public func runUntil(_ reactor: Reactor, seconds: Double = 10, _ done: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() && Date() < deadline {
        try reactor.run(for: 5_000_000)
    }
}

/// A helper process (a test server) did not start as the test needs.
public struct TestServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// A new, empty directory under the system's temporary directory, named `prefix-<UUID>`.
public func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Runs `process` (a server) with no standard input or output and waits until its UDP `port`
/// shows in /proc/net/udp (at most 5 s); when it does not, runs `orElse` (the server's clean-up)
/// and throws.
public func launchUDPServer(_ process: Process, port: UInt16, name: String, orElse cleanUp: () -> Void) throws {
    try launchServer(process, ports: [port], table: "/proc/net/udp", state: "", name: name, orElse: cleanUp)
}

/// As `launchUDPServer`, for a server listening on the TCP `ports` (/proc/net/tcp, state LISTEN:
/// a connection of an earlier server on the port, in TIME_WAIT, does not count).
public func launchTCPServer(_ process: Process, ports: [UInt16], name: String, orElse cleanUp: () -> Void) throws {
    try launchServer(
        process, ports: ports, table: "/proc/net/tcp", state: "00000000:0000 0A", name: name, orElse: cleanUp)
}

/// Waits for a line of `path` with `:<port in hex> ` followed by `state` for every port.
private func launchServer(
    _ process: Process, ports: [UInt16], table path: String, state: String, name: String,
    orElse cleanUp: () -> Void
) throws {
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        cleanUp()
        throw error
    }
    let hexes = ports.map { String(format: ":%04X ", Int($0)) + state }
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
        if let table = try? String(contentsOfFile: path, encoding: .utf8), hexes.allSatisfy({ table.contains($0) }) {
            return
        }
        if !process.isRunning { break }
        usleep(20_000)
    }
    cleanUp()
    throw TestServerError(message: name + " did not start on port " + ports.map { String($0) }.joined(separator: ", "))
}

/// SIGKILL and wait: the test process blocks SIGTERM, and a child inherits the blocked mask.
public func killAndWait(_ process: Process) {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

/// One datagram from the non-blocking socket `fd` into `buffer` (its source is not kept): the
/// byte count, or -errno (-EAGAIN when nothing is queued).
public func receiveDatagram(_ fd: Int32, into buffer: inout [UInt8]) -> Int {
    var family: Int32 = 0
    var port: UInt16 = 0
    var address = [UInt8](repeating: 0, count: 16)
    return buffer.withUnsafeMutableBytes { b in
        address.withUnsafeMutableBufferPointer { a in
            Int(cl_socket_receive_from(fd, b.baseAddress, b.count, &family, a.baseAddress, &port))
        }
    }
}

/// A socket's bound address (getsockname): the address bytes (4 for IPv4, 16 for IPv6) and the
/// port; nil when the descriptor is not a bound socket.
public func socketBoundAddress(_ fd: Int32) -> (bytes: [UInt8], port: UInt16)? {
    var family: Int32 = 0
    var port: UInt16 = 0
    var bytes = [UInt8](repeating: 0, count: 16)
    let rc = bytes.withUnsafeMutableBufferPointer { cl_socket_local_address(fd, &family, $0.baseAddress, &port) }
    guard rc == 0 else { return nil }
    return (family == 4 ? Array(bytes[0..<4]) : bytes, port)
}

/// A socket of `type` (`CL_SOCK_DGRAM`, `CL_SOCK_STREAM`) bound to 127.0.0.1 on a port the kernel
/// picks, and that port; nil when the kernel refuses.
public func loopbackSocket(_ type: Int32 = Int32(CL_SOCK_DGRAM)) -> (fd: Int32, port: UInt16)? {
    let fd = cl_socket_open(4, type)
    guard fd >= 0 else { return nil }
    let loopback: [UInt8] = [127, 0, 0, 1]
    guard loopback.withUnsafeBufferPointer({ cl_socket_bind(fd, 4, $0.baseAddress, 0, 0) }) == 0,
        let port = socketBoundAddress(fd)?.port
    else {
        _ = cl_close(fd)
        return nil
    }
    return (fd, port)
}

/// The provisioning text of the phone the tests drive: account 1001 (digest password `secret`,
/// PCMU) on 127.0.0.1:`listenPort` (0: the kernel picks), record messages for 2 s, then `extra`.
public func testPhoneConfig(listenPort: UInt16, _ extra: String) -> String {
    """
    #!version:1.0.0.1
    account.1.user_name = 1001
    account.1.password = secret
    account.1.codecs = pcmu
    sip.listen_address = 127.0.0.1
    sip.listen_port = \(listenPort)
    features.record.message_time = 2
    \(extra)

    """
}
