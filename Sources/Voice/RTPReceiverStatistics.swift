// Reception statistics of RTP sources, as RFC 3550 Appendix A computes them: sequence number
// validation with probation and MAX_DROPOUT/MAX_MISORDER (A.1), expected and lost packets and the
// fraction lost per report interval (A.3), and interarrival jitter in timestamp units (A.8, the
// integer form scaled by 16). `RTPReceiver` keeps the current source and a candidate: a new SSRC
// must pass probation before it replaces the current one (the far end restarted its stream).
// `RTPRemoteAddressLatch` decides, before the receiver sees a packet, whether it comes from the far
// end at all (symmetric RTP tied to the signalled address).

/// What sequence validation (RFC 3550 A.1) made of one packet.
public enum RTPSequenceVerdict: Equatable, Sendable, CustomStringConvertible {
    /// In sequence (or a duplicate or a packet reordered within MAX_MISORDER): counted.
    case valid
    /// The source is on probation (not yet MIN_SEQUENTIAL packets in sequence): not counted.
    case probation
    /// A jump beyond MAX_DROPOUT: not counted unless the next packet follows on from it.
    case jump
    /// The packet followed on from a jump: the source's sequence space restarted here.
    case restarted

    public var description: String {
        switch self {
        case .valid: return "valid"
        case .probation: return "probation"
        case .jump: return "jump"
        case .restarted: return "restarted"
        }
    }
}

/// Per-source reception state and statistics (RFC 3550 A.1, A.3, A.8).
public struct RTPSource: Equatable, Sendable, CustomStringConvertible {
    /// Packets in sequence needed before a source is valid.
    public static let minSequential = 2
    /// Largest forward jump taken as loss rather than a restart.
    public static let maxDropout: UInt16 = 3000
    /// Largest backward step taken as reordering rather than a restart.
    public static let maxMisorder: UInt16 = 100
    static let sequenceModulus: UInt32 = 1 << 16

    public let ssrc: UInt32
    /// RTP clock rate, for arrival times in timestamp units.
    public let clockRate: Int
    /// Highest sequence number seen.
    public private(set) var maxSequence: UInt16
    /// Shifted count of sequence number cycles (multiples of 65536).
    public private(set) var cycles: UInt32 = 0
    /// First sequence number counted.
    public private(set) var baseSequence: UInt32
    /// Last jump's sequence number plus one (A.1 bad_seq).
    var badSequence: UInt32
    /// Packets still needed in sequence before the source is valid.
    public private(set) var probation: Int
    /// Packets counted as received (duplicates included, as A.1 does).
    public private(set) var received: UInt32 = 0
    var expectedPrior: UInt32 = 0
    var receivedPrior: UInt32 = 0
    /// Relative transit time of the last packet (arrival minus timestamp, timestamp units).
    var transit: UInt32 = 0
    var hasTransit = false
    /// Interarrival jitter ×16 (A.8 integer form).
    public private(set) var jitterScaled: UInt32 = 0
    /// Middle 32 bits of the NTP timestamp of the last SR from this source, 0 if none.
    public private(set) var lastSR: UInt32 = 0
    /// When that SR arrived (any monotonic ns clock).
    public private(set) var lastSRArrivalNanoseconds: Int64 = 0

    /// A source first heard with sequence number `sequence`, on probation (A.1).
    public init(ssrc: UInt32, sequence: UInt16, clockRate: Int) {
        self.ssrc = ssrc
        self.clockRate = clockRate
        maxSequence = sequence &- 1
        baseSequence = UInt32(sequence)
        badSequence = RTPSource.sequenceModulus + 1
        probation = RTPSource.minSequential
    }

    /// A.1 init_seq.
    mutating func initSequence(_ sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        badSequence = RTPSource.sequenceModulus + 1
        cycles = 0
        received = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// A.1 update_seq: validates `sequence` and counts the packet when it is valid.
    public mutating func update(sequence: UInt16) -> RTPSequenceVerdict {
        let delta = sequence &- maxSequence
        if probation > 0 {
            if sequence == maxSequence &+ 1 {
                probation -= 1
                maxSequence = sequence
                if probation == 0 {
                    initSequence(sequence)
                    received += 1
                    return .valid
                }
            } else {
                probation = RTPSource.minSequential - 1
                maxSequence = sequence
            }
            return .probation
        } else if delta < RTPSource.maxDropout {
            // In order, with a permissible gap.
            if sequence < maxSequence { cycles &+= RTPSource.sequenceModulus }
            maxSequence = sequence
        } else if UInt32(delta) <= RTPSource.sequenceModulus - UInt32(RTPSource.maxMisorder) {
            // A very large jump: a restart if the next packet follows on.
            if UInt32(sequence) == badSequence {
                initSequence(sequence)
                received += 1
                return .restarted
            }
            badSequence = (UInt32(sequence) + 1) & (RTPSource.sequenceModulus - 1)
            return .jump
        }
        // Duplicates and reordered packets fall through and count.
        received += 1
        return .valid
    }

    /// A.8: updates the jitter with a packet's RTP timestamp and arrival time (ns on any clock that
    /// does not jump; only differences matter).
    public mutating func updateJitter(timestamp: UInt32, arrivalNanoseconds: Int64) {
        let arrival = UInt32(truncatingIfNeeded: RTCPTime.ticks(nanoseconds: arrivalNanoseconds, clockRate: clockRate))
        let newTransit = arrival &- timestamp
        defer {
            transit = newTransit
            hasTransit = true
        }
        guard hasTransit else { return }
        let step = Int32(bitPattern: newTransit &- transit)
        let d = step < 0 ? UInt32(-Int64(step)) : UInt32(step)
        // J += |D| - ((J + 8) >> 4), in the ×16 scale.
        jitterScaled = jitterScaled &+ d &- ((jitterScaled &+ 8) >> 4)
    }

    /// Takes one packet: sequence validation, then jitter for counted packets.
    public mutating func receive(sequence: UInt16, timestamp: UInt32, arrivalNanoseconds: Int64) -> RTPSequenceVerdict {
        let verdict = update(sequence: sequence)
        if verdict == .restarted { hasTransit = false }
        if verdict == .valid || verdict == .restarted {
            updateJitter(timestamp: timestamp, arrivalNanoseconds: arrivalNanoseconds)
        }
        return verdict
    }

    /// Notes an SR from this source (for LSR/DLSR in the next report block).
    public mutating func receivedSenderReport(ntpTimestamp: UInt64, arrivalNanoseconds: Int64) {
        lastSR = RTCPTime.middle32(ntpTimestamp)
        lastSRArrivalNanoseconds = arrivalNanoseconds
    }

    /// Extended highest sequence number received (cycles in the high 16 bits).
    public var extendedMaxSequence: UInt32 { cycles &+ UInt32(maxSequence) }
    /// Packets expected since counting began (A.3).
    public var expected: UInt32 { extendedMaxSequence &- baseSequence &+ 1 }
    /// Packets lost since counting began (negative with duplicates), clamped to 24 bits signed (A.3).
    public var cumulativeLost: Int32 {
        let lost = Int64(expected) - Int64(received)
        return Int32(min(max(lost, -0x80_0000), 0x7F_FFFF))
    }
    /// Interarrival jitter in timestamp units (A.8: J >> 4).
    public var jitter: UInt32 { jitterScaled >> 4 }
    /// Whether the source has passed probation.
    public var isValid: Bool { probation == 0 }

    /// The report block on this source at `nowNanoseconds` (same clock as the SR arrivals), and
    /// starts the next interval for the fraction lost (A.3).
    public mutating func makeReportBlock(nowNanoseconds: Int64) -> RTCPReportBlock {
        let expectedNow = expected
        let expectedInterval = expectedNow &- expectedPrior
        expectedPrior = expectedNow
        let receivedInterval = received &- receivedPrior
        receivedPrior = received
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        let fraction: UInt8 =
            expectedInterval == 0 || lostInterval <= 0
            ? 0 : UInt8(min(255, (lostInterval << 8) / Int64(expectedInterval)))
        let dlsr = lastSR == 0 ? 0 : RTCPTime.compact(nanoseconds: nowNanoseconds - lastSRArrivalNanoseconds)
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: cumulativeLost,
            extendedHighestSequence: extendedMaxSequence, jitter: jitter, lastSR: lastSR, delaySinceLastSR: dlsr)
    }

    public var description: String {
        "source \(RTPBytes.hex(ssrc)) highest=\(extendedMaxSequence) expected=\(expected) received=\(received) "
            + "lost=\(cumulativeLost) jitter=\(jitter)" + (isValid ? "" : " (probation)")
    }
}

/// What `RTPReceiver` made of a packet.
public enum RTPReceiveVerdict: Equatable, Sendable, CustomStringConvertible {
    /// From the current source and in sequence: play it.
    case accepted
    /// From the current source, on probation: the very first packets of a call; worth playing.
    case probation
    /// A jump in the current source's sequence numbers, awaiting confirmation.
    case jump
    /// The current source's sequence numbers restarted: reset playout.
    case restarted
    /// From a source other than the current one, still on probation: dropped.
    case otherSource
    /// A new source passed probation and replaced the current one (`previousSSRC`): reset playout.
    case sourceChanged(previousSSRC: UInt32)

    public var description: String {
        switch self {
        case .accepted: return "accepted"
        case .probation: return "probation"
        case .jump: return "jump"
        case .restarted: return "restarted"
        case .otherSource: return "other source"
        case .sourceChanged(let previous): return "source changed from \(RTPBytes.hex(previous))"
        }
    }

    /// Whether the packet should go on to the jitter buffer.
    public var shouldPlay: Bool {
        switch self {
        case .accepted, .probation, .restarted, .sourceChanged: return true
        case .jump, .otherSource: return false
        }
    }
}

/// Reception of the far end's RTP stream: the current source's statistics, and a candidate when
/// packets with another SSRC arrive (RFC 3550 §8.2: the far end may change SSRC, e.g. after a
/// transfer or an SBC switching media). The candidate replaces the current source once it passes
/// probation. Also counts packets that failed to parse. The receiver does not look at source
/// addresses: its caller drops other sources' packets first (`RTPRemoteAddressLatch`), so a new
/// SSRC here is the far end's own.
public struct RTPReceiver: Sendable, CustomStringConvertible {
    public let clockRate: Int
    /// The source being played, nil before the first packet.
    public private(set) var current: RTPSource?
    /// A new source waiting to prove itself.
    public private(set) var candidate: RTPSource?
    /// Datagrams dropped as malformed.
    public private(set) var malformed = 0
    /// Packets of other sources dropped while on probation, and jump packets.
    public private(set) var dropped = 0

    public init(clockRate: Int) { self.clockRate = clockRate }

    /// Counts a datagram that failed to parse.
    public mutating func countMalformed() { malformed += 1 }

    /// Takes one parsed packet and its arrival time.
    public mutating func receive(_ packet: RTPPacket, arrivalNanoseconds: Int64) -> RTPReceiveVerdict {
        receive(
            ssrc: packet.ssrc, sequence: packet.sequence, timestamp: packet.timestamp,
            arrivalNanoseconds: arrivalNanoseconds)
    }

    /// Takes one packet's SSRC, sequence number, timestamp and arrival time.
    public mutating func receive(
        ssrc: UInt32, sequence: UInt16, timestamp: UInt32, arrivalNanoseconds: Int64
    ) -> RTPReceiveVerdict {
        if current == nil { current = RTPSource(ssrc: ssrc, sequence: sequence, clockRate: clockRate) }
        if current!.ssrc == ssrc {
            let verdict = current!.receive(
                sequence: sequence, timestamp: timestamp, arrivalNanoseconds: arrivalNanoseconds)
            switch verdict {
            case .valid: return .accepted
            case .probation: return .probation
            case .jump:
                dropped += 1
                return .jump
            case .restarted: return .restarted
            }
        }
        if candidate?.ssrc != ssrc { candidate = RTPSource(ssrc: ssrc, sequence: sequence, clockRate: clockRate) }
        let verdict = candidate!.receive(
            sequence: sequence, timestamp: timestamp, arrivalNanoseconds: arrivalNanoseconds)
        guard verdict == .valid else {
            dropped += 1
            return .otherSource
        }
        let previous = current!.ssrc
        current = candidate
        candidate = nil
        return .sourceChanged(previousSSRC: previous)
    }

    /// Notes an SR; only the current source's count.
    public mutating func receivedSenderReport(ssrc: UInt32, ntpTimestamp: UInt64, arrivalNanoseconds: Int64) {
        guard current?.ssrc == ssrc else { return }
        current!.receivedSenderReport(ntpTimestamp: ntpTimestamp, arrivalNanoseconds: arrivalNanoseconds)
    }

    /// The report block on the current source, nil before it is valid (RFC 3550 §6.4: report only
    /// on sources heard from).
    public mutating func makeReportBlock(nowNanoseconds: Int64) -> RTCPReportBlock? {
        guard current?.isValid == true else { return nil }
        return current!.makeReportBlock(nowNanoseconds: nowNanoseconds)
    }

    public var description: String {
        "RTP receiver: " + (current?.description ?? "no source") + " malformed=\(malformed) dropped=\(dropped)"
    }
}

/// What `RTPRemoteAddressLatch` made of a packet's source address.
public enum RTPLatchVerdict: Equatable, Sendable, CustomStringConvertible {
    /// From the address media goes to: go on with the packet.
    case peer
    /// The latch took this address now; `moved` when media went elsewhere before.
    case latched(moved: Bool)
    /// From any other address: drop the packet (never played, never moves the destination).
    case foreign

    public var description: String {
        switch self {
        case .peer: return "peer"
        case .latched(let moved): return moved ? "latched (moved)" : "latched"
        case .foreign: return "foreign"
        }
    }

    /// Whether the packet comes from the far end and may go on to the receiver.
    public var isFromPeer: Bool { self != .foreign }
}

/// Symmetric RTP (RFC 4961) tied to signalling, as a decision on values. Media goes to the address
/// of the SDP (c=/m=) until the latch takes one, once: the signalled address whenever its first
/// packet comes, or, for a far end behind NAT, the source of the first packet that arrives before
/// `learningUntil` (a short window at the start of the stream). A packet from the signalled address
/// inside the window wins over an address learnt there (a stranger that raced the far end). After
/// that nothing moves it: packets from any other address are `.foreign`, which is what stops an
/// "RTP Bleed" hijack (CVE-2017-14099 class) in mid-call. Only a new offer/answer that changes the
/// remote address makes a new latch. Times are the caller's clock (ns); no allocation.
public struct RTPRemoteAddressLatch<Address: Equatable & Sendable>: Sendable {
    /// The address from signalling (SDP c=/m=).
    public let signalled: Address
    /// The address taken from received packets, nil until the first one from the far end.
    public private(set) var learnt: Address?
    /// Until when (clock ns, exclusive) another address than the signalled one may be learnt.
    public private(set) var learningUntil: Int64

    /// A latch on `signalled` that may learn another address before `learningUntil` (pass 0 or
    /// a past time to accept only the signalled address).
    public init(signalled: Address, learningUntil: Int64) {
        self.signalled = signalled
        self.learningUntil = learningUntil
    }

    /// Where to send media now.
    public var destination: Address { learnt ?? signalled }

    /// A new offer/answer that kept the address: while nothing was learnt yet (the far end has
    /// not sent), the learning window runs again until `until`. A taken address stays.
    public mutating func reopenLearning(until: Int64) {
        if learnt == nil && until > learningUntil { learningUntil = until }
    }

    /// Takes the source address of a packet that parsed and carries a negotiated payload type,
    /// and its arrival time.
    public mutating func observe(_ address: Address, at now: Int64) -> RTPLatchVerdict {
        if let learnt, address == learnt { return .peer }
        let open = now < learningUntil
        if address == signalled && (learnt == nil || open) {
            let moved = learnt != nil
            learnt = address
            return .latched(moved: moved)
        }
        guard learnt == nil, open else { return .foreign }
        learnt = address
        return .latched(moved: true)
    }
}
