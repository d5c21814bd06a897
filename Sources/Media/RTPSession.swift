// One call's RTP/RTCP session on the reactor (RFC 3550, RFC 3551, RFC 4733, RFC 3611, RFC 4961).
//
// Sockets: RTP on an even port, RTCP on the port above (RFC 3550 §11). The session does not
// offer rtcp-mux, but a datagram on the RTP port that looks like RTCP (RFC 5761 §4) is read as
// RTCP, so a peer that multiplexes anyway is understood. Send path, per ptime frame: PCM ->
// `VoiceEncoder` -> `RTPSender` header -> sendto, into buffers allocated at set-up (or a
// telephone-event packet in the frame's place while a digit sounds). Receive path: recvfrom ->
// `RTPPacket.parse` (malformed: counted, dropped) -> payload type check -> symmetric-RTP latch
// (packets from anywhere but the far end are counted as foreign and dropped) -> `RTPReceiver`
// (SSRC and sequence validation) -> `JitterBuffer` (or the `TelephoneEventDecoder`). Playout
// pulls device periods from the jitter buffer, which decodes and conceals. RTCP: SR (when we sent
// since the last report) or RR, SDES CNAME and an XR VoIP metrics block, at the RFC 3550 §6.3
// interval; BYE on stop; the far end's report blocks give the round-trip time (LSR/DLSR).
//
// All times are the reactor's clock (virtual in tests); NTP times are that clock plus the
// wall-clock offset taken when the session was made, so LSR/DLSR arithmetic stays consistent.
//
// SRTP (RFC 3711): when the negotiation carries keys, an `SRTPContext` protects each RTP and
// RTCP packet in place in its send buffer just before sendto (the buffers have room for the
// tag) and verifies each datagram in place right after recvfrom; a packet failing
// authentication or replayed is counted (`srtpAuthFailures`, `srtpReplays`) and dropped before
// any parsing. New keys (a re-INVITE) make a new context.

import CLinux
import Net
import Reactor
import SIP
import Voice

/// A random number generator over getrandom(2) (SSRC, initial sequence and timestamp, RTCP
/// interval randomization: RFC 3550 §8.1, §6.3.1).
public struct MediaRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { cl_getrandom($0.baseAddress, 8) }
        return value
    }
}

/// The RTP/RTCP session of one call (RFC 3550): a UDP socket pair on the reactor, the send and
/// receive halves of the negotiated codec, RFC 4733 DTMF, RTCP reports and statistics. See the
/// file comment for the data path. `close()` it when the call is over (it breaks the cycles
/// between itself and the reactor).
public final class RTPSession {
    public let configuration: RTPSessionConfiguration
    /// The bound RTP address (its port goes in the SDP m= line); RTCP is on the port above.
    public let localAddress: RTPEndpoint
    /// The bound RTCP address.
    public var localRTCPAddress: RTPEndpoint { localAddress.with(port: localAddress.port &+ 1) }
    /// The stream in force (from `start`/`update`), nil before `start` and after `stop`.
    public private(set) var negotiated: SDPNegotiatedAudio? = nil
    /// Whether `start` ran and `stop` did not.
    public private(set) var isRunning = false
    /// The PCM rate the send side runs at (the audio device's rate), 8000 before `start`.
    public private(set) var audioSampleRate = 8000
    /// Called with a DTMF digit the far end sent (RFC 4733), once per digit.
    public var onDigit: ((TelephoneEventDigit) -> Void)? = nil
    /// Called when `audioSampleRate` changes (codec change): reopen the device at the new rate.
    public var onFormatChange: ((Int) -> Void)? = nil
    /// Log lines (latch moves, RTCP BYE, codec switches, socket errors). Not per packet.
    public var onLog: ((String) -> Void)? = nil
    /// Audio device xruns, kept current by the device owner (`CallAudio`) for the statistics.
    public var deviceXruns = 0
    /// The far end's last XR VoIP metrics block about us, if it sends them.
    public internal(set) var remoteVoIPMetrics: RTCPVoIPMetrics? = nil
    /// The far end's SDES CNAME, once heard.
    public internal(set) var remoteCNAME: String? = nil

    let reactor: Reactor
    private let rtp: UDPSocket
    let rtcp: UDPSocket
    var rtcpTimer: TimerID? = nil
    var random = MediaRandom()
    let wallClockOffset: Int64

    private static let datagramCapacity = 2048
    private let sendBuffer: UnsafeMutableRawBufferPointer
    /// RTP datagrams are read in batches (one recvmmsg per wake-up, no read that finds the
    /// queue empty): 4 slots cover a burst after a stall without holding much memory.
    private let receiveBatch = UDPReceiveBatch(capacity: 4, stride: RTPSession.datagramCapacity)
    let rtcpBuffer: UnsafeMutableRawBufferPointer

    // Send side.
    private var sendCodec: CodecDescriptor? = nil
    private var sendPtime = 0
    private var encoder: VoiceEncoder? = nil
    var sender: RTPSender? = nil
    private var events: TelephoneEventEncoder? = nil
    private var eventPayloadType: UInt8 = 0
    private static let frameCapacity = 48_000 * 120 / 1000
    private let frame: UnsafeMutablePointer<Int16>
    private var frameSamples = 160
    private var frameFill = 0
    private var frameCaptureEnd: Int64 = 0
    var sentSinceReport = false
    private var sending = false

    // Receive side.
    var receiving = false
    var receiver = RTPReceiver(clockRate: 8000)
    var jitterBuffer: JitterBuffer? = nil
    private var receiveCodec: CodecDescriptor? = nil
    /// Payload type -> 0 unknown, 1 audio, 2 telephone-event.
    private var payloadKinds: [UInt8] = [UInt8](repeating: 0, count: 128)
    private var payloadCodecs: [CodecDescriptor?] = [CodecDescriptor?](repeating: nil, count: 128)
    private var eventDecoder: TelephoneEventDecoder? = nil
    var rtpLatch: RTPRemoteAddressLatch<RTPEndpoint>? = nil
    /// The far end's RTCP address from the SDP (a=rtcp, else the port above RTP).
    var signalledRTCP: RTPEndpoint? = nil
    /// The far end's RTCP source, taken from its first RTCP packet from the latched RTP host.
    var learntRTCP: RTPEndpoint? = nil
    var lossModel = RTCPBurstGapModel(packetMilliseconds: 20)
    private var highestSequence: UInt16? = nil
    private var lateBefore = 0
    private var retiredLate = 0
    private var retiredConcealed = 0
    private static let ringSize = 64
    private let arrivalTimes: UnsafeMutablePointer<Int64>
    private let arrivalSequences: UnsafeMutablePointer<Int32>
    var interval = RTCPTransmissionInterval(sessionBandwidth: 10_000)
    var counters = RTPSessionStatistics()
    /// The SRTP/SRTCP context of the keys in force; nil for plain RTP.
    var srtp: SRTPContext? = nil

    /// Opens and binds the RTP/RTCP socket pair (an even port from the configured range, or any
    /// even port) and watches both on `reactor`. Nothing is sent before `start`.
    public init(reactor: Reactor, configuration: RTPSessionConfiguration = RTPSessionConfiguration())
        throws(MediaError)
    {
        self.reactor = reactor
        self.configuration = configuration
        guard let bind = RTPEndpoint(literal: configuration.bindAddress, port: 0) else {
            throw MediaError("RTP bind address '" + configuration.bindAddress + "' is not an IP literal")
        }
        let pair = try RTPPortPair.open(reactor, bind, configuration)
        rtp = pair.rtp
        rtcp = pair.rtcp
        localAddress = bind.with(port: pair.port)
        wallClockOffset = cl_realtime_ns() - reactor.now
        sendBuffer = .allocate(byteCount: RTPSession.datagramCapacity, alignment: 8)
        rtcpBuffer = .allocate(byteCount: RTPSession.datagramCapacity, alignment: 8)
        frame = .allocate(capacity: RTPSession.frameCapacity)
        frame.initialize(repeating: 0, count: RTPSession.frameCapacity)
        arrivalTimes = .allocate(capacity: RTPSession.ringSize)
        arrivalTimes.initialize(repeating: 0, count: RTPSession.ringSize)
        arrivalSequences = .allocate(capacity: RTPSession.ringSize)
        arrivalSequences.initialize(repeating: -1, count: RTPSession.ringSize)
        payloadKinds.reserveCapacity(128)
        do throws(ReactorError) {
            try rtp.watch { [self] ready in rtpReadable(ready) }
            try rtcp.watch { [self] ready in rtcpReadable(ready) }
        } catch {
            close()
            throw MediaError("watch RTP sockets", errno: error.errno)
        }
    }

    deinit {
        closeSockets()
        sendBuffer.deallocate()
        rtcpBuffer.deallocate()
        frame.deallocate()
        arrivalTimes.deallocate()
        arrivalSequences.deallocate()
    }

    // MARK: sockets

    private func closeSockets() {
        rtp.close()
        rtcp.close()
    }

    // MARK: lifecycle

    /// Starts the stream an offer/answer settled on: codec, payload types, ptime, DTMF, remote
    /// addresses and direction. Throws (and changes nothing) when the stream cannot be run.
    public func start(_ negotiated: SDPNegotiatedAudio) throws(MediaError) {
        try apply(negotiated)
        if !isRunning {
            isRunning = true
            scheduleReport()
        }
    }

    /// Applies a new offer/answer of the same call (re-INVITE: hold, resume, codec or address
    /// change) on the same sockets, SSRC and sequence space.
    public func update(_ negotiated: SDPNegotiatedAudio) throws(MediaError) {
        guard isRunning else { return try start(negotiated) }
        try apply(negotiated)
    }

    /// Ends the stream: sends an RTCP BYE, stops sending and playing. The sockets stay open (a
    /// late `start` reuses them); `close()` releases them.
    public func stop() {
        guard isRunning else { return }
        sendReport(goodbye: true)
        if let rtcpTimer { reactor.cancel(rtcpTimer) }
        rtcpTimer = nil
        isRunning = false
        sending = false
        receiving = false
        negotiated = nil
        frameFill = 0
    }

    /// Stops and releases the sockets, watches and timers, and drops the callbacks.
    public func close() {
        stop()
        closeSockets()
        onDigit = nil
        onFormatChange = nil
        onLog = nil
    }

    func log(_ text: String) { onLog?(MediaLayer.name + ": " + text) }

    private func codecConfiguration(_ codec: CodecDescriptor, ptime: Int) -> CodecConfiguration {
        CodecConfiguration(
            kind: codec.kind, sampleRate: configuration.audioSampleRate(for: codec), frameMilliseconds: ptime)
    }

    private func apply(_ n: SDPNegotiatedAudio) throws(MediaError) {
        guard n.remotePort > 0, n.remotePort < 65536,
            let remote = RTPEndpoint(literal: n.remoteConnection.host, port: UInt16(n.remotePort))
        else {
            throw MediaError("remote RTP address '" + n.remoteConnection.host + "' is not an IP literal")
        }
        let remoteRTCP =
            RTPEndpoint(literal: n.remoteRTCPConnection.host, port: UInt16(truncatingIfNeeded: n.remoteRTCPPort))
            ?? remote.with(port: remote.port &+ 1)
        let codec = n.sendCodec
        let rate = configuration.audioSampleRate(for: codec)
        var newEncoder = encoder
        if encoder == nil || sendCodec != codec || sendPtime != n.ptime {
            do throws(CodecError) {
                newEncoder = try VoiceEncoder(codecConfiguration(codec, ptime: n.ptime))
            } catch {
                throw MediaError("cannot send " + codec.rtpmap + " ptime " + String(n.ptime) + ": " + error.message)
            }
        }
        // Receive side: payload type table and the decoder of the codec the far end sends.
        var kinds = [UInt8](repeating: 0, count: 128)
        var codecs = [CodecDescriptor?](repeating: nil, count: 128)
        var eventClock: Int? = nil
        var firstAudio: CodecDescriptor? = nil
        for entry in n.receivePayloadTypes where entry.number >= 0 && entry.number < 128 {
            if entry.codec.kind == .telephoneEvent {
                kinds[entry.number] = 2
                eventClock = entry.codec.rtpClockRate
            } else {
                kinds[entry.number] = 1
                if firstAudio == nil { firstAudio = entry.codec }
            }
            codecs[entry.number] = entry.codec
        }
        if firstAudio == nil { kinds[n.sendPayloadType & 127] = 1 }
        codecs[n.sendPayloadType & 127] = codecs[n.sendPayloadType & 127] ?? codec
        let playCodec = n.receivePayloadTypes.contains(where: { $0.codec == codec }) ? codec : (firstAudio ?? codec)

        var newSRTP = srtp
        if n.srtp != srtp?.keys {
            newSRTP = nil
            if let keys = n.srtp { newSRTP = try SRTPContext(keys, continuing: srtp) }
        }

        // Nothing can fail from here on.
        if newSRTP !== srtp {
            srtp = newSRTP
            log(newSRTP.map { "SRTP " + $0.suite.name + " with new keys" } ?? "plain RTP (no SRTP)")
        }
        let rateChanged = rate != audioSampleRate || sendCodec == nil
        if let newEncoder, newEncoder !== encoder {
            encoder = newEncoder
            frameFill = 0
        }
        frameSamples = rate * n.ptime / 1000
        let ticks = UInt32(codec.rtpTimestampIncrement(ptime: n.ptime))
        if var s = sender {
            if s.clockRate == codec.rtpClockRate {
                s.payloadType = UInt8(n.sendPayloadType & 127)
                s.ticksPerFrame = ticks
                s.beginTalkspurt()
            } else {
                s = RTPSender(
                    ssrc: s.ssrc, payloadType: UInt8(n.sendPayloadType & 127), clockRate: codec.rtpClockRate,
                    ticksPerFrame: ticks, initialSequence: s.sequence,
                    initialTimestamp: UInt32(truncatingIfNeeded: random.next()))
            }
            sender = s
        } else {
            sender = RTPSender(
                codec: codec, payloadType: UInt8(n.sendPayloadType & 127), ptime: n.ptime, random: &random)
        }
        if let te = n.sendTelephoneEventPayloadType {
            eventPayloadType = UInt8(te & 127)
            if events?.clockRate != codec.rtpClockRate {
                events = TelephoneEventEncoder(
                    clockRate: codec.rtpClockRate, toneMilliseconds: configuration.dtmfToneMilliseconds,
                    pauseMilliseconds: configuration.dtmfPauseMilliseconds)
            }
        } else {
            events = nil
        }
        if sendCodec != nil && sendCodec != codec { log("send codec " + codec.rtpmap + " ptime " + String(n.ptime)) }
        sendCodec = codec
        sendPtime = n.ptime
        payloadKinds = kinds
        payloadCodecs = codecs
        if let eventClock {
            if eventDecoder?.clockRate != eventClock { eventDecoder = TelephoneEventDecoder(clockRate: eventClock) }
        } else {
            eventDecoder = nil
        }
        // A new playout timeline also when reception resumes after hold: what was buffered
        // (and the gap in sequence and timestamps) belongs to before.
        let resumes = n.receives && !receiving && negotiated != nil
        if receiveCodec != playCodec || jitterBuffer == nil
            || jitterBuffer!.configuration.codec.frameMilliseconds != n.ptime || rateChanged || resumes
        {
            switchReceiveCodec(playCodec, ptime: n.ptime)
        }
        // Symmetric RTP: a new remote address in the SDP is the only thing that makes a new latch.
        let learningUntil = reactor.now + Int64(configuration.latchWindowMilliseconds) * 1_000_000
        if rtpLatch?.signalled != remote {
            rtpLatch = RTPRemoteAddressLatch(signalled: remote, learningUntil: learningUntil)
            learntRTCP = nil
        } else {
            rtpLatch!.reopenLearning(until: learningUntil)
        }
        if signalledRTCP != remoteRTCP {
            signalledRTCP = remoteRTCP
            learntRTCP = nil
        }
        let wasSending = sending
        sending = n.sends && !remote.isUnspecified
        receiving = n.receives
        if sending && !wasSending { sender?.beginTalkspurt() }
        // Session bandwidth for the RTCP interval: payload plus RTP/UDP/IPv4 headers.
        let packetsPerSecond = 1000.0 / Double(max(1, n.ptime))
        let payload = Double(codec.kind == .opus ? 80 : (codecConfiguration(codec, ptime: n.ptime).maxPayloadBytes))
        interval.sessionBandwidth = (payload + 40) * packetsPerSecond
        interval.minimumSeconds = configuration.rtcpMinimumSeconds
        lossModel.packetMilliseconds = n.ptime
        negotiated = n
        if rateChanged {
            audioSampleRate = rate
            onFormatChange?(rate)
        }
    }

    /// Builds the jitter buffer (and its decoder) for `codec`; the old one's counts are kept.
    private func switchReceiveCodec(_ codec: CodecDescriptor, ptime: Int) {
        if let old = jitterBuffer {
            retiredLate += old.statistics.late + old.statistics.duplicates + old.statistics.overflow
            retiredConcealed += old.statistics.concealed
        }
        lateBefore = 0
        highestSequence = nil
        var settings = JitterBufferConfiguration(
            codec: codecConfiguration(codec, ptime: ptime), periodMilliseconds: configuration.periodMilliseconds)
        if codec.kind == .opus { settings.codec.sampleRate = audioRateFor(codec) }
        do throws(CodecError) {
            jitterBuffer = try JitterBuffer(settings)
            receiveCodec = codec
            if receiver.clockRate != codec.rtpClockRate { receiver = RTPReceiver(clockRate: codec.rtpClockRate) }
        } catch {
            jitterBuffer = nil
            receiveCodec = nil
            log("cannot receive " + codec.rtpmap + ": " + error.message)
        }
    }

    private func audioRateFor(_ codec: CodecDescriptor) -> Int { configuration.audioSampleRate(for: codec) }

    // MARK: send path

    /// Takes captured PCM at `audioSampleRate` (any number of samples, normally one device
    /// period), `capturedAt` the end of that period on the reactor clock. Each complete ptime
    /// frame is encoded and sent at once (or replaced by a DTMF event packet); while the stream
    /// does not send (hold), frames only advance the media clock.
    public func sendAudio(_ pcm: UnsafeBufferPointer<Int16>, capturedAt: Int64? = nil) {
        guard isRunning, encoder != nil, let base = pcm.baseAddress else { return }
        let now = capturedAt ?? reactor.now
        var offset = 0
        while offset < pcm.count {
            if frameFill == 0 { frameCaptureEnd = now }
            let take = min(pcm.count - offset, frameSamples - frameFill)
            (frame + frameFill).update(from: base + offset, count: take)
            frameFill += take
            offset += take
            if frameFill == frameSamples {
                frameFill = 0
                sendFrame()
            }
        }
        pollDigits(now)
    }

    /// Queues a DTMF digit ("0"-"9", "*", "#", "A"-"D" as ASCII) to send as RFC 4733 events in
    /// place of audio frames. False when the character is no digit or the call has no
    /// telephone-event payload type.
    @discardableResult
    public func sendDigit(_ character: UInt8) -> Bool {
        guard events != nil else { return false }
        guard events!.enqueue(character: character) else { return false }
        counters.digitsSent += 1
        return true
    }

    private func sendFrame() {
        guard sender != nil, let encoder else { return }
        guard sending, let destination = rtpLatch?.destination else {
            sender!.skipFrame()
            return
        }
        let payloadArea = UnsafeMutableRawBufferPointer(rebasing: sendBuffer[RTPHeader.size...])
        if events != nil,
            let event = events!.next(frameTicks: Int(sender!.ticksPerFrame), mediaTimestamp: sender!.timestamp)
        {
            var length = 0
            do throws(RTPError) {
                length = try event.payload.write(into: payloadArea)
                let header = sender!.nextHeader(
                    payloadType: eventPayloadType, timestamp: event.timestamp, marker: event.marker,
                    payloadBytes: length)
                _ = try header.write(into: sendBuffer)
            } catch {
                return
            }
            sender!.skipFrame()
            if transmit(RTPHeader.size + length, to: destination, on: rtp) {
                counters.packetsSent += 1
                counters.eventPacketsSent += 1
                counters.bytesSent += UInt64(length)
                sentSinceReport = true
            }
            return
        }
        var length = 0
        do throws(CodecError) {
            length = try encoder.encode(UnsafeBufferPointer(start: frame, count: frameSamples), into: payloadArea)
        } catch {
            sender!.skipFrame()
            return
        }
        let header = sender!.nextAudioHeader(payloadBytes: length)
        do throws(RTPError) { _ = try header.write(into: sendBuffer) } catch { return }
        if transmit(RTPHeader.size + length, to: destination, on: rtp) {
            counters.packetsSent += 1
            counters.bytesSent += UInt64(length)
            sentSinceReport = true
            counters.captureToSend.record(nanoseconds: reactor.now - frameCaptureEnd)
        }
    }

    func transmit(_ length: Int, to destination: RTPEndpoint, on socket: UDPSocket) -> Bool {
        guard socket.fd >= 0 else { return false }
        let isRTCP = socket === rtcp
        let buffer = isRTCP ? rtcpBuffer : sendBuffer
        var length = length
        if let srtp, let base = buffer.baseAddress {
            let outcome =
                isRTCP
                ? srtp.protectRTCP(base, length: length, capacity: buffer.count)
                : srtp.protect(base, length: length, capacity: buffer.count)
            guard case .ok(let protected) = outcome else {
                counters.sendErrors += 1
                return false
            }
            length = protected
        }
        // An ICMP error of an earlier datagram (far end not listening yet) surfaces here once.
        let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: length)
        let n = socket.send(bytes, to: destination) { _, _ in counters.sendErrors += 1 }
        if n >= 0 { return true }
        counters.sendErrors += 1
        return false
    }

    // MARK: receive path

    /// One datagram and its source; ICMP errors that surface instead count as send errors.
    func receiveDatagram(_ socket: UDPSocket, into buffer: UnsafeMutableRawBufferPointer)
        -> (Int, RTPEndpoint)?
    {
        socket.receive(into: buffer, attempts: 4) { _, _ in counters.sendErrors += 1 }
    }

    /// Verifies and decrypts a received datagram in place when the call is SRTP: its new
    /// length, or nil when it is dropped (counted: authentication failure, replay, malformed).
    /// RTCP is told from RTP by its header, which SRTP leaves in clear (RFC 5761 §4), so the
    /// caller tells it once, before and after.
    func unprotectDatagram(_ buffer: UnsafeMutableRawBufferPointer, length: Int, isRTCP: Bool) -> Int? {
        guard let srtp else { return length }
        guard let base = buffer.baseAddress else { return nil }
        let outcome = isRTCP ? srtp.unprotectRTCP(base, length: length) : srtp.unprotect(base, length: length)
        switch outcome {
        case .ok(let plain): return plain
        case .authenticationFailure: counters.srtpAuthFailures += 1
        case .replay: counters.srtpReplays += 1
        case .failed: counters.malformed += 1
        }
        return nil
    }

    /// Whether the stream in force is SRTP.
    public var isEncrypted: Bool { srtp != nil }

    private func rtpReadable(_ ready: IOEvents) {
        if ready.contains(.error) { rtp.drainErrors { _, _ in counters.sendErrors += 1 } }
        var budget = 64
        while budget > 0 && rtp.fd >= 0 {
            let count = rtp.receive(into: receiveBatch, attempts: 4) { _, _ in counters.sendErrors += 1 }
            for i in 0..<count {
                receiveOnRTPPort(receiveBatch.buffer(i), length: receiveBatch.length(i), from: receiveBatch.source(i))
            }
            // A short batch emptied the queue: the next datagram wakes the loop again.
            if count < receiveBatch.capacity { return }
            budget -= count
        }
    }

    /// One datagram from the RTP port, in `buffer`: STUN is dropped, RTCP (rtcp-mux) goes to the
    /// report reader, RTP to the receiver; SRTP is verified and decrypted in place first.
    private func receiveOnRTPPort(_ buffer: UnsafeMutableRawBufferPointer, length: Int, from source: RTPEndpoint) {
        if length > buffer.count {
            counters.malformed += 1
            return
        }
        let datagram = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        if RTPPacket.isSTUN(datagram) { return }
        let isRTCP = RTPPacket.isRTCP(datagram)
        guard let length = unprotectDatagram(buffer, length: length, isRTCP: isRTCP) else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        if isRTCP {
            receiveReport(bytes, from: source)
            return
        }
        do throws(RTPError) {
            let packet = try RTPPacket.parse(bytes)
            receivePacket(packet, bytes, from: source)
        } catch {
            counters.malformed += 1
            receiver.countMalformed()
        }
    }

    private func receivePacket(_ packet: RTPPacket, _ bytes: UnsafeRawBufferPointer, from source: RTPEndpoint) {
        counters.packetsReceived += 1
        counters.bytesReceived += UInt64(packet.payloadCount)
        guard isRunning else { return }
        guard receiving else {
            counters.ignoredNotReceiving += 1
            return
        }
        let kind = payloadKinds[Int(packet.payloadType)]
        guard kind != 0 else {
            counters.wrongPayloadType += 1
            return
        }
        let now = reactor.now
        guard rtpLatch != nil else { return }
        switch rtpLatch!.observe(source, at: now) {
        case .peer: break
        case .latched(let moved):
            if moved { log("symmetric RTP: sending to " + source.description) }
        case .foreign:
            counters.foreign += 1
            return
        }
        let verdict = receiver.receive(packet, arrivalNanoseconds: now)
        guard verdict.shouldPlay else {
            counters.droppedBySourceCheck += 1
            return
        }
        accountSequence(packet.sequence)
        let payload = packet.payload(in: bytes)
        if kind == 2 {
            if eventDecoder != nil,
                let digit = eventDecoder!.receive(
                    payload: payload, timestamp: packet.timestamp, arrivalNanoseconds: now)
            {
                deliver(digit)
            }
            return
        }
        if let codec = payloadCodecs[Int(packet.payloadType)], codec != receiveCodec {
            log("far end switched to " + codec.rtpmap)
            switchReceiveCodec(codec, ptime: sendPtime)
        }
        guard let jitterBuffer else { return }
        jitterBuffer.insert(
            sequence: packet.sequence, timestamp: packet.timestamp, ssrc: packet.ssrc, marker: packet.marker,
            payload: payload, arrivalNanoseconds: now)
        let slot = Int(packet.sequence) & (RTPSession.ringSize - 1)
        arrivalTimes[slot] = now
        arrivalSequences[slot] = Int32(packet.sequence)
        let late = jitterBuffer.statistics.late + jitterBuffer.statistics.duplicates + jitterBuffer.statistics.overflow
        if late > lateBefore {
            lossModel.record(.discarded, count: late - lateBefore)
            lateBefore = late
        }
    }

    /// Feeds the XR burst/gap model: packets skipped in the sequence are lost, this one received.
    private func accountSequence(_ sequence: UInt16) {
        guard let highest = highestSequence else {
            highestSequence = sequence
            lossModel.record(.received)
            return
        }
        let step = Int16(bitPattern: sequence &- highest)
        if step > 0 {
            if step > 1 && step < 1000 { lossModel.record(.lost, count: Int(step) - 1) }
            highestSequence = sequence
            lossModel.record(.received)
        }
    }

    private func deliver(_ digit: TelephoneEventDigit) {
        counters.digitsReceived += 1
        onDigit?(digit)
    }

    private func pollDigits(_ now: Int64) {
        guard eventDecoder != nil, let digit = eventDecoder!.poll(nowNanoseconds: now) else { return }
        deliver(digit)
    }

    /// Fills one playout period (`configuration.periodMilliseconds` at `audioSampleRate`) from
    /// the jitter buffer; silence when the stream is not receiving. `outputDelayNanoseconds` is
    /// what the device still holds before this period is heard (for the latency statistics).
    public func pullPlayout(into pcm: UnsafeMutableBufferPointer<Int16>, outputDelayNanoseconds: Int64 = 0) {
        let now = reactor.now
        pollDigits(now)
        guard isRunning, receiving, let jitterBuffer else {
            pcm.update(repeating: 0)
            return
        }
        let played = jitterBuffer.pull(nowNanoseconds: now, into: pcm)
        if let sequence = played.sequence {
            let slot = Int(sequence) & (RTPSession.ringSize - 1)
            if arrivalSequences[slot] == Int32(sequence) {
                counters.receiveToPlayback.record(nanoseconds: now - arrivalTimes[slot] + outputDelayNanoseconds)
                arrivalSequences[slot] = -1
            }
        }
    }

    // MARK: statistics

    /// The counters so far, with loss and jitter from the receiver and the jitter buffer's
    /// discards and concealment.
    public var statistics: RTPSessionStatistics {
        var s = counters
        if let source = receiver.current {
            s.lost = Int64(source.cumulativeLost)
            s.jitterMicroseconds = Int64(source.jitter) * 1_000_000 / Int64(max(1, source.clockRate))
        }
        s.lateOrDiscarded = UInt64(retiredLate)
        s.concealed = UInt64(retiredConcealed)
        if let jitterBuffer {
            let j = jitterBuffer.statistics
            s.lateOrDiscarded += UInt64(j.late + j.duplicates + j.overflow)
            s.concealed += UInt64(j.concealed)
        }
        s.malformed = counters.malformed
        s.xruns = deviceXruns
        return s
    }

    /// The SSRC this end sends with (nil before `start`).
    public var ssrc: UInt32? { sender?.ssrc }

    /// The RTP sender's state (sequence, timestamp, counts), nil before `start`.
    public var senderState: RTPSender? { sender }

    /// Where RTP goes now: the signalled address, or the one learnt from the far end's packets.
    public var remoteAddress: RTPEndpoint? { rtpLatch?.destination }

    /// The receive codec now decoded, nil before `start`.
    public var playoutCodec: CodecDescriptor? { receiveCodec }
}
