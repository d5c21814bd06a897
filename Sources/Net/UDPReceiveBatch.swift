import CLinux

/// Slots for `UDPSocket.receive(into:)`: `capacity` datagram buffers of `stride` bytes, each with
/// its length and source, filled by one `recvmmsg` per call. Allocated once, reused for every
/// batch (no allocation per datagram); a slot's bytes stay valid until the next receive.
public final class UDPReceiveBatch {
    public let capacity: Int
    public let stride: Int
    let buffers: UnsafeMutableRawBufferPointer
    let lengths: UnsafeMutablePointer<Int>
    let families: UnsafeMutablePointer<Int32>
    let addresses: UnsafeMutablePointer<UInt8>
    let ports: UnsafeMutablePointer<UInt16>

    /// `capacity` is clamped to 1...16 (the C side's limit).
    public init(capacity: Int, stride: Int) {
        self.capacity = min(max(capacity, 1), 16)
        self.stride = stride
        buffers = .allocate(byteCount: self.capacity * stride, alignment: 8)
        lengths = .allocate(capacity: self.capacity)
        lengths.initialize(repeating: 0, count: self.capacity)
        families = .allocate(capacity: self.capacity)
        families.initialize(repeating: 0, count: self.capacity)
        addresses = .allocate(capacity: 16 * self.capacity)
        addresses.initialize(repeating: 0, count: 16 * self.capacity)
        ports = .allocate(capacity: self.capacity)
        ports.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        buffers.deallocate()
        lengths.deallocate()
        families.deallocate()
        addresses.deallocate()
        ports.deallocate()
    }

    /// Slot `index`'s buffer (`stride` bytes; the datagram is its first `length(index)` bytes).
    public func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffers[index * stride..<(index + 1) * stride])
    }

    /// The full length of slot `index`'s datagram: larger than `stride` when it was truncated.
    public func length(_ index: Int) -> Int { lengths[index] }

    /// The source of slot `index`'s datagram.
    public func source(_ index: Int) -> SocketAddress {
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: UnsafeRawBufferPointer(start: addresses + 16 * index, count: 16)) }
        return SocketAddress(family: families[index], bytes: raw, port: ports[index])
    }
}

extension UDPSocket {
    /// Receives the queued datagrams into `batch`'s slots, up to its capacity, in one system
    /// call: how many (0 when none is waiting, or another error). Fewer than the capacity means
    /// the queue was emptied, so no further read is needed to find out. ICMP errors that
    /// surface instead are drained through `icmpError`, at most `attempts` times.
    public func receive(
        into batch: UDPReceiveBatch, attempts: Int, icmpError: (SocketAddress, Int32) -> Void
    ) -> Int {
        var budget = attempts
        while budget > 0 && fd >= 0 {
            budget -= 1
            let n = cl_socket_receive_many(
                fd, batch.buffers.baseAddress, batch.stride, UInt32(batch.capacity), batch.lengths, batch.families,
                batch.addresses, batch.ports)
            if n >= 0 { return Int(n) }
            if SocketError.isICMPError(-n) {
                drainErrors(icmpError)
                continue
            }
            return 0
        }
        return 0
    }
}
