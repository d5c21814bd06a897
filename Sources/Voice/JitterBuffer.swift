// The adaptive jitter buffer: RTP packets in (with their arrival time), device periods of PCM out.
//
// Packets wait in a fixed table of slots (payload bytes in one arena allocated at init). On each
// `pull` the buffer decodes the packet whose timestamp is next into a sample FIFO (or conceals a
// missing one: codec PLC, Opus FEC from the following packet), and plays one period from the FIFO:
// normally, accelerated or expanded by one pitch period (JitterBufferTimeStretcher), so that the
// current delay (wall clock minus media position minus the delay floor) follows the estimator's
// target (JitterBufferDelayEstimator) in the middle of a talkspurt. A missing packet's slot is
// concealed and passed (a packet arriving after its slot is late and dropped), so an outage never
// leaves extra delay behind. In a DTX silence (the next packet's sequence number follows on but its
// timestamp jumps) the silence is lengthened or shortened so the talkspurt starts at the target
// delay. The floor follows the network (and clock drift) packet by packet. Sequence numbers and
// timestamps are unwrapped to 64 bits; an SSRC change, a sequence jump or a timestamp jump starts a
// new timeline (resync). No allocation after init.

/// Settings of a `JitterBuffer`: codec, RTP clock, device period and capacity.
public struct JitterBufferConfiguration: Sendable {
    /// The codec; `frameMilliseconds` is the packet duration (ptime), the concealment unit.
    public var codec: CodecConfiguration
    /// RTP timestamp clock (8000 for G.711 and G.722, 48000 for Opus).
    public var clockRate: Int
    /// Output period in milliseconds (the device period).
    public var periodMilliseconds: Int
    /// Packet slots (enough for ~2 s of packets by default).
    public var capacity: Int
    /// Largest payload stored; longer payloads are dropped.
    public var maxPayloadBytes: Int
    /// Margin used before the estimator has data (ms).
    public var initialMarginMilliseconds: Double = 40
    /// Extra delay on top of the estimator's margin (ms).
    public var extraDelayMilliseconds: Double = 0
    /// Upper bound on the target delay above the floor (ms).
    public var maximumDelayMilliseconds: Double = 600
    /// No arrival for this long (ms) counts as a stall: the audio still here is stretched.
    public var stallMilliseconds: Double = 45
    /// How far above the target (ms) stall stretching may take the delay.
    public var stallStretchMilliseconds: Double = 150

    /// Settings for `codec` played out in `periodMilliseconds` periods.
    public init(codec: CodecConfiguration, periodMilliseconds: Int = 10) {
        self.codec = codec
        switch codec.kind {
        case .g722: clockRate = 8000
        case .opus: clockRate = 48000
        default: clockRate = codec.sampleRate
        }
        self.periodMilliseconds = periodMilliseconds
        capacity = max(32, 2_000 / max(1, codec.frameMilliseconds))
        maxPayloadBytes = min(codec.maxPayloadBytes, 1_500)
    }
}

/// What one output period holds, as the playout log names it.
public enum JitterBufferFrameKind: Equatable, Sendable, CustomStringConvertible {
    case normal
    case expand
    case accelerate
    case preemptive
    case silence
    case cng

    public var description: String {
        switch self {
        case .normal: return "normal"
        case .expand: return "expand"
        case .accelerate: return "accelerate"
        case .preemptive: return "preemptive"
        case .silence: return "silence"
        case .cng: return "cng"
        }
    }
}

/// One period handed out by `JitterBuffer.pull`: its kind and the packet whose audio starts in it.
public struct JitterBufferFrame: Equatable, Sendable {
    public var kind: JitterBufferFrameKind
    /// RTP sequence number of the packet whose first sample plays in this period, if any.
    public var sequence: UInt16?
}

/// Counters of what the jitter buffer did.
public struct JitterBufferStatistics: Equatable, Sendable {
    public var received = 0
    public var duplicates = 0
    public var late = 0
    public var overflow = 0
    public var invalid = 0
    public var decoded = 0
    public var concealed = 0
    public var recoveredFEC = 0
    public var resyncs = 0
    public var accelerated = 0
    public var preemptive = 0
    public var periods = 0
}

/// Adaptive jitter buffer with time-stretching and concealment (see the file comment); pure logic.
public final class JitterBuffer {
    public let configuration: JitterBufferConfiguration
    public private(set) var statistics = JitterBufferStatistics()
    /// Delay estimator (floor and margin).
    public private(set) var estimator: JitterBufferDelayEstimator
    let stretcher: JitterBufferTimeStretcher
    let decoder: VoiceDecoder

    let sampleRate: Int
    let periodSamples: Int
    let frameSamples: Int
    let capacity: Int
    let slotBytes: Int

    // Packet slots.
    private let slotSeq: UnsafeMutablePointer<Int64>  // extended sequence, -1 = empty
    private let slotTs: UnsafeMutablePointer<Int64>  // extended timestamp in samples
    private let slotLength: UnsafeMutablePointer<Int>
    private let arena: UnsafeMutableRawPointer
    /// The last sequence numbers taken in (duplicate detection), a power-of-two ring.
    private let seenSeq: UnsafeMutablePointer<Int64>
    private let seenCapacity: Int

    // Stream state.
    private var started = false
    private var ssrc: UInt32 = 0
    private var highestSeq: Int64 = 0
    private var highestSeqRaw: UInt16 = 0
    private var referenceTs: Int64 = 0  // extended RTP ticks of the packet with highestSeq
    private var referenceTsRaw: UInt32 = 0
    /// Extended ticks are mapped onto a timeline base so a resync starts a fresh timeline.
    private var timelineOffset: Int64 = 0

    // Playout state.
    private var playing = false
    private var nextTs: Int64 = 0
    private var lastDecodedSeq: Int64 = -1
    private var lastArrivalSamples: Double = 0
    private var previousLag = 0
    /// Samples concealed without passing the media position in the current underrun.
    private var heldSamples = 0

    // FIFO of decoded samples: [0, writeIndex) valid, read position readIndex, history before it.
    private let fifo: UnsafeMutablePointer<Int16>
    private let fifoCapacity: Int
    private var readIndex: Int
    private var writeIndex: Int
    private let historyKeep: Int
    /// Absolute sample counters (never reset) for the segment list.
    private var appendedTotal: Int64 = 0
    private var consumedTotal: Int64 = 0
    // Segments of the FIFO: start (absolute), media timestamp at start, kind, sequence (-1: none).
    private let segmentCapacity = 32
    private let segStart: UnsafeMutablePointer<Int64>
    private let segTs: UnsafeMutablePointer<Int64>
    private let segKind: UnsafeMutablePointer<UInt8>
    private let segSeq: UnsafeMutablePointer<Int64>
    private var segHead = 0
    private var segCount = 0
    /// Sequence numbers that started but could not be reported yet (two starts in one period).
    private var pendingStart: Int64 = -1

    private static let kindDecoded: UInt8 = 0
    private static let kindConcealed: UInt8 = 1
    private static let kindSilence: UInt8 = 2

    /// Makes a buffer and its decoder; allocates everything it will ever use.
    public init(_ configuration: JitterBufferConfiguration) throws(CodecError) {
        self.configuration = configuration
        decoder = try VoiceDecoder(configuration.codec)
        sampleRate = configuration.codec.sampleRate
        frameSamples = configuration.codec.frameSamples
        periodSamples = sampleRate * configuration.periodMilliseconds / 1_000
        capacity = max(4, configuration.capacity)
        slotBytes = max(1, configuration.maxPayloadBytes)
        estimator = JitterBufferDelayEstimator(
            packetMilliseconds: configuration.codec.frameMilliseconds,
            initialMarginMilliseconds: configuration.initialMarginMilliseconds)
        stretcher = JitterBufferTimeStretcher(sampleRate: sampleRate, periodSamples: periodSamples)
        slotSeq = .allocate(capacity: capacity)
        slotSeq.initialize(repeating: -1, count: capacity)
        slotTs = .allocate(capacity: capacity)
        slotTs.initialize(repeating: 0, count: capacity)
        slotLength = .allocate(capacity: capacity)
        slotLength.initialize(repeating: 0, count: capacity)
        arena = .allocate(byteCount: capacity * slotBytes, alignment: 16)
        var seen = 64
        while seen < 4 * capacity { seen *= 2 }
        seenCapacity = seen
        seenSeq = .allocate(capacity: seen)
        seenSeq.initialize(repeating: -1, count: seen)
        historyKeep = stretcher.maximumLag + 1
        let maxPacketSamples = sampleRate * 120 / 1_000
        fifoCapacity = historyKeep + 4 * periodSamples + 2 * stretcher.maximumLag + 2 * maxPacketSamples
            + 2 * frameSamples
        fifo = .allocate(capacity: fifoCapacity)
        fifo.initialize(repeating: 0, count: fifoCapacity)
        readIndex = historyKeep
        writeIndex = historyKeep
        segStart = .allocate(capacity: segmentCapacity)
        segStart.initialize(repeating: 0, count: segmentCapacity)
        segTs = .allocate(capacity: segmentCapacity)
        segTs.initialize(repeating: 0, count: segmentCapacity)
        segKind = .allocate(capacity: segmentCapacity)
        segKind.initialize(repeating: 0, count: segmentCapacity)
        segSeq = .allocate(capacity: segmentCapacity)
        segSeq.initialize(repeating: -1, count: segmentCapacity)
    }

    deinit {
        slotSeq.deallocate()
        slotTs.deallocate()
        slotLength.deallocate()
        arena.deallocate()
        seenSeq.deallocate()
        fifo.deallocate()
        segStart.deallocate()
        segTs.deallocate()
        segKind.deallocate()
        segSeq.deallocate()
    }

    // MARK: time units

    private func samples(nanoseconds: Int64) -> Double {
        Double(nanoseconds) * Double(sampleRate) / 1e9
    }

    private func milliseconds(samples: Double) -> Double { samples * 1_000 / Double(sampleRate) }

    private func samples(milliseconds: Double) -> Double { milliseconds * Double(sampleRate) / 1_000 }

    private func ticksToSamples(_ ticks: Int64) -> Int64 {
        ticks * Int64(sampleRate) / Int64(configuration.clockRate)
    }

    /// Current target of the delay above the floor, in ms (margin + one period + extra).
    public var targetDelayMilliseconds: Double {
        min(
            configuration.maximumDelayMilliseconds,
            estimator.marginMilliseconds + Double(configuration.periodMilliseconds) + 2
                + configuration.extraDelayMilliseconds)
    }

    /// Packets waiting in the buffer.
    public var bufferedPackets: Int {
        var n = 0
        for i in 0..<capacity where slotSeq[i] >= 0 { n += 1 }
        return n
    }

    // MARK: insert

    /// Takes one RTP packet. `arrivalNanoseconds` is the receive time on the playout clock.
    /// Duplicates, late packets and packets of an old timeline are counted and dropped.
    public func insert(
        sequence: UInt16, timestamp: UInt32, ssrc packetSSRC: UInt32, marker: Bool,
        payload: UnsafeRawBufferPointer, arrivalNanoseconds: Int64
    ) {
        guard payload.count > 0, payload.count <= slotBytes else {
            statistics.invalid += 1
            return
        }
        let arrival = samples(nanoseconds: arrivalNanoseconds)
        if !started {
            startTimeline(sequence: sequence, timestamp: timestamp, ssrc: packetSSRC, arrival: arrival)
        } else if packetSSRC != ssrc {
            resync(sequence: sequence, timestamp: timestamp, ssrc: packetSSRC, arrival: arrival)
        }
        var seqDelta = Int64(Int16(bitPattern: sequence &- highestSeqRaw))
        var tsDelta = Int64(Int32(bitPattern: timestamp &- referenceTsRaw))
        var extTs = timelineOffset + ticksToSamples(referenceTs + tsDelta)
        let delay = arrival - Double(extTs)
        // A timestamp jump: the packet claims to be far earlier than the network allows, or moves
        // backwards while its sequence number moves forwards, or the sequence jumps a lot.
        let floorSamples = samples(milliseconds: estimator.floorMilliseconds)
        let tooEarly = estimator.hasFloor && delay < floorSamples - samples(milliseconds: 1_000)
        let backwards = seqDelta > 0 && tsDelta < -Int64(configuration.clockRate)
        let tooLate = estimator.hasFloor && seqDelta > 0 && delay > floorSamples + samples(milliseconds: 10_000)
        if tooEarly || backwards || tooLate || seqDelta > 1_000 || seqDelta < -1_000 {
            resync(sequence: sequence, timestamp: timestamp, ssrc: packetSSRC, arrival: arrival)
            seqDelta = 0
            tsDelta = 0
            extTs = timelineOffset + ticksToSamples(referenceTs)
        }
        let extSeq = highestSeq + seqDelta
        if seqDelta > 0 {
            estimator.recordLoss(Int(seqDelta - 1), expected: Int(seqDelta))
            highestSeq = extSeq
            highestSeqRaw = sequence
            referenceTs += tsDelta
            referenceTsRaw = timestamp
        }
        statistics.received += 1
        // Duplicate: this sequence number was taken in already.
        let seen = Int(extSeq & Int64(seenCapacity - 1))
        if seenSeq[seen] == extSeq {
            statistics.duplicates += 1
            statistics.received -= 1
            return
        }
        seenSeq[seen] = extSeq
        if seqDelta < 0 { estimator.recordLoss(-1, expected: 0) }
        estimator.observe(delayMilliseconds: milliseconds(samples: arrival - Double(extTs)))
        lastArrivalSamples = arrival
        // Late: its slot has been played (or concealed) already.
        if playing && extTs + Int64(frameSamples / 2) < nextTs {
            statistics.late += 1
            return
        }
        store(seq: extSeq, ts: extTs, payload: payload)
        _ = marker
    }

    private func startTimeline(sequence: UInt16, timestamp: UInt32, ssrc packetSSRC: UInt32, arrival: Double) {
        started = true
        ssrc = packetSSRC
        highestSeqRaw = sequence
        referenceTsRaw = timestamp
        referenceTs = 0
        highestSeq = (highestSeq + 1_000_000) & ~Int64(0xFFFF) | Int64(sequence)
        // Put the new timeline's media time next to the arrival time: delays stay small numbers.
        timelineOffset = Int64(arrival) - ticksToSamples(0)
    }

    private func resync(sequence: UInt16, timestamp: UInt32, ssrc packetSSRC: UInt32, arrival: Double) {
        statistics.resyncs += 1
        for i in 0..<capacity { slotSeq[i] = -1 }
        estimator.resetFloor()
        playing = false
        lastDecodedSeq = -1
        startTimeline(sequence: sequence, timestamp: timestamp, ssrc: packetSSRC, arrival: arrival)
        // The FIFO keeps what is queued; its samples still play (on the old timeline).
        pendingStart = -1
    }

    private func findSlot(seq: Int64) -> Int? {
        let i = Int(seq % Int64(capacity))
        return slotSeq[i] == seq ? i : nil
    }

    private func store(seq: Int64, ts: Int64, payload: UnsafeRawBufferPointer) {
        let i = Int(seq % Int64(capacity))
        if slotSeq[i] >= 0 {
            if slotSeq[i] > seq {
                statistics.overflow += 1
                return
            }
            statistics.overflow += 1  // an older packet is pushed out
        }
        slotSeq[i] = seq
        slotTs[i] = ts
        slotLength[i] = payload.count
        if let base = payload.baseAddress {
            (arena + i * slotBytes).copyMemory(from: base, byteCount: payload.count)
        }
    }

    /// The waiting packet with the smallest timestamp at or after `ts` (late ones are dropped).
    private func earliestPacket(from ts: Int64) -> Int? {
        var best: Int? = nil
        for i in 0..<capacity where slotSeq[i] >= 0 {
            if slotTs[i] < ts {
                slotSeq[i] = -1
                statistics.late += 1
                continue
            }
            if let b = best {
                if slotTs[i] < slotTs[b] { best = i }
            } else {
                best = i
            }
        }
        return best
    }

    // MARK: FIFO

    private var fifoAhead: Int { writeIndex - readIndex }

    /// Makes room for `count` more samples at the write end.
    private func reserve(_ count: Int) {
        if writeIndex + count <= fifoCapacity { return }
        let keepFrom = max(0, readIndex - historyKeep)
        let length = writeIndex - keepFrom
        (fifo).update(from: fifo + keepFrom, count: length)
        readIndex -= keepFrom
        writeIndex -= keepFrom
    }

    private func pushSegment(kind: UInt8, ts: Int64, seq: Int64) {
        if segCount == segmentCapacity {
            segHead = (segHead + 1) % segmentCapacity
            segCount -= 1
        }
        let j = (segHead + segCount) % segmentCapacity
        segStart[j] = appendedTotal
        segTs[j] = ts
        segKind[j] = kind
        segSeq[j] = seq
        segCount += 1
    }

    private func appended(_ count: Int) {
        writeIndex += count
        appendedTotal += Int64(count)
    }

    /// Index (in the ring) of the segment holding absolute sample `position`.
    private func segmentIndex(at position: Int64) -> Int {
        var k = segCount - 1
        while k > 0 {
            let j = (segHead + k) % segmentCapacity
            if segStart[j] <= position { return j }
            k -= 1
        }
        return segHead
    }

    /// Media timestamp of the next sample to read.
    private var readTs: Int64 {
        guard segCount > 0 else { return nextTs }
        let j = segmentIndex(at: consumedTotal)
        return segTs[j] + (consumedTotal - segStart[j])
    }

    private var headKind: UInt8 {
        guard segCount > 0, fifoAhead > 0 else { return JitterBuffer.kindSilence }
        return segKind[segmentIndex(at: consumedTotal)]
    }

    /// Consumes `count` input samples: reports the kinds met and the first packet start.
    private func consume(_ count: Int) -> (concealed: Bool, silent: Bool, start: Int64) {
        let end = consumedTotal + Int64(count)
        var concealedCount: Int64 = 0
        var silentCount: Int64 = 0
        var start: Int64 = -1
        var k = 0
        while k < segCount {
            let j = (segHead + k) % segmentCapacity
            let s = segStart[j]
            let e = k + 1 < segCount ? segStart[(segHead + k + 1) % segmentCapacity] : appendedTotal
            if e > consumedTotal && s < end {
                let overlap = min(e, end) - max(s, consumedTotal)
                if segKind[j] == JitterBuffer.kindConcealed { concealedCount += overlap }
                if segKind[j] == JitterBuffer.kindSilence { silentCount += overlap }
                if s >= consumedTotal && segSeq[j] >= 0 {
                    if start < 0 { start = segSeq[j] } else { pendingStart = segSeq[j] }
                }
            }
            k += 1
        }
        consumedTotal = end
        readIndex += count
        // Drop segments wholly consumed (keep the last one).
        while segCount > 1 && segStart[(segHead + 1) % segmentCapacity] <= consumedTotal {
            segHead = (segHead + 1) % segmentCapacity
            segCount -= 1
        }
        // A period is named by what most of it holds.
        return (2 * concealedCount > Int64(count), 2 * silentCount > Int64(count), start)
    }

    // MARK: filling

    /// Decodes the next packet if it is here and in sequence; returns whether it did.
    @discardableResult
    private func decodeNextIfPresent() -> Bool {
        guard let i = earliestPacket(from: nextTs - Int64(frameSamples / 2)) else { return false }
        if slotTs[i] > nextTs + Int64(frameSamples / 2) { return false }
        decodeSlot(i)
        return true
    }

    private func decodeSlot(_ i: Int) {
        let maxSamples = sampleRate * 120 / 1_000
        reserve(maxSamples)
        let out = UnsafeMutableBufferPointer(start: fifo + writeIndex, count: fifoCapacity - writeIndex)
        let payload = UnsafeRawBufferPointer(start: arena + i * slotBytes, count: slotLength[i])
        let seq = slotSeq[i]
        let ts = slotTs[i]
        slotSeq[i] = -1
        let n: Int
        do throws(CodecError) {
            n = try decoder.decode(payload, into: out)
        } catch {
            statistics.invalid += 1
            n = 0
        }
        lastDecodedSeq = seq
        if n <= 0 {
            nextTs = ts + Int64(frameSamples)
            return
        }
        statistics.decoded += 1
        heldSamples = 0
        pushSegment(kind: JitterBuffer.kindDecoded, ts: ts, seq: seq)
        appended(n)
        nextTs = ts + Int64(n)
    }

    private func appendConcealment(next: Int?) {
        reserve(frameSamples)
        let out = UnsafeMutableBufferPointer(start: fifo + writeIndex, count: frameSamples)
        let silent = decoder.consecutiveLosses * frameSamples >= sampleRate * 60 / 1_000
        let n: Int
        if let next, slotTs[next] == nextTs + Int64(frameSamples), configuration.codec.kind == .opus {
            n = decoder.recover(
                lostFrameFrom: UnsafeRawBufferPointer(start: arena + next * slotBytes, count: slotLength[next]),
                into: out)
            statistics.recoveredFEC += 1
        } else {
            n = decoder.conceal(into: out)
        }
        statistics.concealed += 1
        // An underrun with nothing waiting holds the media position for its first frame (a packet
        // that is only a little late still plays, and the delay grows by that frame); after that,
        // and for a packet known lost (later ones are here), the slot is passed.
        let hold = next == nil && heldSamples < frameSamples
        pushSegment(
            kind: silent ? JitterBuffer.kindSilence : JitterBuffer.kindConcealed,
            ts: hold ? nextTs - Int64(max(0, n)) : nextTs, seq: -1)
        appended(max(0, n))
        if hold {
            heldSamples += max(0, n)
        } else {
            nextTs += Int64(frameSamples)
        }
    }

    private func appendSilence(_ count: Int, ts: Int64) {
        reserve(count)
        (fifo + writeIndex).update(repeating: 0, count: count)
        pushSegment(kind: JitterBuffer.kindSilence, ts: ts, seq: -1)
        appended(count)
    }

    /// Fills the FIFO to at least one period for the period starting at `now` (samples).
    private func fill(now: Double) {
        let target = samples(milliseconds: targetDelayMilliseconds)
        let floor = samples(milliseconds: estimator.floorMilliseconds)
        var guardCount = 0
        while fifoAhead < periodSamples && guardCount < 64 {
            guardCount += 1
            if decodeNextIfPresent() { continue }
            let next = earliestPacket(from: nextTs)
            if let q = next, slotSeq[q] == lastDecodedSeq + 1 {
                // DTX gap before the next talkspurt: silence until the talkspurt is due.
                let outputTime = now + Double(fifoAhead)
                let due = Double(slotTs[q]) + floor + target
                if outputTime >= due {
                    nextTs = slotTs[q]
                    decodeSlot(q)
                } else {
                    let gap = Int((due - outputTime).rounded(.up))
                    let count = max(1, min(periodSamples - fifoAhead, gap))
                    appendSilence(count, ts: nextTs)
                    nextTs = min(nextTs + Int64(count), slotTs[q])
                }
            } else if next != nil && heldSamples > 0 {
                // A later packet is here: the frame concealed while holding was the lost one.
                nextTs += Int64(heldSamples)
                heldSamples = 0
            } else {
                appendConcealment(next: next)
            }
        }
    }

    /// Decodes packets that are here and in order until the FIFO holds `count` samples.
    private func decodeAhead(_ count: Int) {
        var guardCount = 0
        while fifoAhead < count && guardCount < 16 {
            guardCount += 1
            if !decodeNextIfPresent() { return }
        }
    }

    // MARK: pull

    /// Hands out one period (`periodSamples` samples into `pcm`) for the period starting at
    /// `nowNanoseconds`, and says what it holds.
    public func pull(nowNanoseconds: Int64, into pcm: UnsafeMutableBufferPointer<Int16>) -> JitterBufferFrame {
        statistics.periods += 1
        let n = min(periodSamples, pcm.count)
        guard let out = pcm.baseAddress, n == periodSamples else {
            pcm.update(repeating: 0)
            return JitterBufferFrame(kind: .silence, sequence: nil)
        }
        let now = samples(nanoseconds: nowNanoseconds)
        if !playing {
            // Start when the earliest packet is due at the target delay.
            guard let first = earliestPacket(from: Int64.min / 2), estimator.hasFloor else {
                pcm.update(repeating: 0)
                return JitterBufferFrame(kind: .silence, sequence: nil)
            }
            let floor = samples(milliseconds: estimator.floorMilliseconds)
            let due = Double(slotTs[first]) + floor + samples(milliseconds: targetDelayMilliseconds)
            if now < due {
                pcm.update(repeating: 0)
                return JitterBufferFrame(kind: .silence, sequence: nil)
            }
            playing = true
            nextTs = slotTs[first]
            lastDecodedSeq = slotSeq[first] - 1
            // Whatever the FIFO held from an old timeline is dropped.
            _ = consume(fifoAhead)
        }
        fill(now: now)
        let maxLag = stretcher.maximumLag
        decodeAhead(periodSamples + maxLag)
        let floor = samples(milliseconds: estimator.floorMilliseconds)
        let target = samples(milliseconds: targetDelayMilliseconds)
        let current = now - Double(readTs) - floor
        let tolerance = samples(milliseconds: 2.5)
        var kind = JitterBufferFrameKind.normal
        var consumed = periodSamples
        var insertedLag = 0
        let head = headKind
        if head == JitterBuffer.kindDecoded && current > target + tolerance && fifoAhead >= periodSamples + maxLag
            && allDecoded(periodSamples + maxLag)
        {
            if let lag = stretcher.findLag(fifo + readIndex, forward: true) {
                stretcher.crossFade(fifo + readIndex, offset: lag, into: out)
                consumed = periodSamples + lag
                kind = .accelerate
            }
        } else if head == JitterBuffer.kindDecoded && readIndex >= maxLag && allDecoded(periodSamples) {
            // Below target, or packets have stopped coming (a stall starts): stretch what is here,
            // at most one period inserted per two periods (at most 2x slower).
            let stalled = now - lastArrivalSamples > samples(milliseconds: configuration.stallMilliseconds)
                && current < target + samples(milliseconds: configuration.stallStretchMilliseconds)
            if current < target - tolerance || stalled,
                let lag = stretcher.findLag(fifo + readIndex, forward: false), lag + previousLag <= periodSamples
            {
                stretcher.crossFade(fifo + readIndex, offset: -lag, into: out)
                consumed = periodSamples - lag
                kind = .preemptive
                insertedLag = lag
            }
        }
        if kind == .normal {
            out.update(from: fifo + readIndex, count: periodSamples)
        }
        previousLag = insertedLag
        let (concealed, silent, start) = consume(consumed)
        if kind == .accelerate { statistics.accelerated += 1 }
        if kind == .preemptive { statistics.preemptive += 1 }
        if concealed { kind = .expand } else if silent && kind == .normal { kind = start >= 0 ? .normal : .silence }
        var reported = start
        if reported < 0 && pendingStart >= 0 {
            reported = pendingStart
            pendingStart = -1
        }
        return JitterBufferFrame(
            kind: kind, sequence: reported >= 0 ? UInt16(truncatingIfNeeded: reported) : nil)
    }

    /// Whether the next `count` FIFO samples are all decoded audio (no concealment or silence).
    private func allDecoded(_ count: Int) -> Bool {
        guard count <= fifoAhead else { return false }
        let end = consumedTotal + Int64(count)
        var k = 0
        while k < segCount {
            let j = (segHead + k) % segmentCapacity
            let s = segStart[j]
            let e = k + 1 < segCount ? segStart[(segHead + k + 1) % segmentCapacity] : appendedTotal
            if e > consumedTotal && s < end && segKind[j] != JitterBuffer.kindDecoded { return false }
            k += 1
        }
        return true
    }
}
