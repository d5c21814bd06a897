// RTCP of an RTPSession (RFC 3550 §6): reading compound packets from the far end, checking
// their source, round-trip time from report blocks, the randomized report timer, and sending
// SR/RR + SDES + XR VoIP metrics (RFC 3611 §4.7) or BYE.

import Net
import Reactor
import Voice

extension RTPSession {
    func rtcpReadable(_ ready: IOEvents) {
        if ready.contains(.error) { rtcp.drainErrors { _, _ in counters.sendErrors += 1 } }
        var budget = 16
        while budget > 0 && rtcp.fd >= 0 {
            budget -= 1
            guard let (length, source) = receiveDatagram(rtcp, into: rtcpBuffer) else { return }
            if length > rtcpBuffer.count {
                counters.malformed += 1
                continue
            }
            if RTPPacket.isSTUN(UnsafeRawBufferPointer(rebasing: rtcpBuffer[0..<length])) { continue }
            // Everything else on the RTCP port is RTCP (SRTCP when the call is SRTP).
            guard let length = unprotectDatagram(rtcpBuffer, length: length, isRTCP: true) else { continue }
            // Parsed in place: nothing sends RTCP from inside the parse, so the buffer stays ours.
            let bytes = UnsafeRawBufferPointer(rebasing: rtcpBuffer[0..<length])
            receiveReport(bytes, from: source)
        }
    }

    var wallClock: Int64 { reactor.now + wallClockOffset }

    /// Where RTCP goes: the far end's RTCP source once heard, else the port above a latched
    /// (NAT) RTP address, else the signalled RTCP address.
    var rtcpDestination: RTPEndpoint? {
        if let learntRTCP { return learntRTCP }
        guard let rtpLatch, let signalledRTCP else { return nil }
        if let learnt = rtpLatch.learnt, learnt != rtpLatch.signalled { return learnt.with(port: learnt.port &+ 1) }
        return signalledRTCP
    }

    /// Whether an RTCP packet comes from the far end: its RTP address (rtcp-mux), its signalled
    /// or current RTCP address, or, the first time, any port of the host RTP latched to (a NAT
    /// maps RTCP to a port of its own). Anything else is foreign.
    func acceptRTCP(from source: RTPEndpoint) -> Bool {
        guard let rtpLatch else { return true }
        if source == rtpLatch.destination || source == signalledRTCP { return true }
        if let destination = rtcpDestination, source == destination { return true }
        guard learntRTCP == nil, let host = rtpLatch.learnt, host.family == source.family,
            host.bytes.0 == source.bytes.0, host.bytes.1 == source.bytes.1
        else { return false }
        learntRTCP = source
        log("RTCP from " + source.description)
        return true
    }

    func receiveReport(_ bytes: UnsafeRawBufferPointer, from source: RTPEndpoint) {
        let packets: [RTCPPacket]
        do throws(RTCPError) {
            packets = try RTCPPacket.parseCompound(bytes)
        } catch {
            counters.malformed += 1
            return
        }
        if isRunning && !acceptRTCP(from: source) {
            counters.foreign += 1
            return
        }
        counters.rtcpReceived += 1
        interval.observePacket(size: bytes.count + RTCPTransmissionInterval.ipv4UDPHeaderBytes)
        let now = reactor.now
        let ourSSRC = sender?.ssrc
        for packet in packets {
            switch packet {
            case .senderReport(let ssrc, let info, let blocks):
                receiver.receivedSenderReport(ssrc: ssrc, ntpTimestamp: info.ntpTimestamp, arrivalNanoseconds: now)
                for block in blocks where block.ssrc == ourSSRC { roundTrip(block) }
            case .receiverReport(_, let blocks):
                for block in blocks where block.ssrc == ourSSRC { roundTrip(block) }
            case .sourceDescription(let chunks):
                for chunk in chunks where chunk.cname != nil { remoteCNAME = chunk.cname }
            case .goodbye(_, let reason):
                log("far end sent RTCP BYE" + (reason.map { ": " + $0 } ?? ""))
            case .extendedReport(_, let metrics):
                for block in metrics where block.ssrc == ourSSRC { remoteVoIPMetrics = block }
            case .other:
                break
            }
        }
    }

    func roundTrip(_ block: RTCPReportBlock) {
        let arrival = RTCPTime.ntp(unixNanoseconds: wallClock)
        guard
            let compact = RTCPTime.roundTrip(
                arrivalNTP: arrival, lastSR: block.lastSR, delaySinceLastSR: block.delaySinceLastSR)
        else { return }
        counters.roundTripMicroseconds = Int64(compact) * 1_000_000 / 65536
    }

    func scheduleReport() {
        if let rtcpTimer { reactor.cancel(rtcpTimer) }
        let seconds = interval.nextInterval(weSent: sentSinceReport, generator: &random)
        rtcpTimer = reactor.after(Int64(seconds * 1e9)) { [self] in
            rtcpTimer = nil
            guard isRunning else { return }
            sendReport(goodbye: false)
            scheduleReport()
        }
    }

    /// Sends one compound packet: SR or RR, SDES CNAME, then XR VoIP metrics or BYE.
    func sendReport(goodbye: Bool) {
        guard let sender, let destination = rtcpDestination, !destination.isUnspecified else { return }
        let now = reactor.now
        let wall = wallClock
        var writer = RTCPCompoundWriter(buffer: rtcpBuffer)
        let info: RTCPSenderInfo? =
            sentSinceReport ? sender.senderInfo(unixNanoseconds: wall, currentFrameUnixNanoseconds: wall) : nil
        var blocks: [RTCPReportBlock] = []
        if receiving, let block = receiver.makeReportBlock(nowNanoseconds: now) { blocks.append(block) }
        do throws(RTCPError) {
            try writer.appendReport(ssrc: sender.ssrc, senderInfo: info, blocks: blocks)
            try writer.appendSourceDescription(ssrc: sender.ssrc, cname: configuration.cname)
            if goodbye {
                try writer.appendGoodbye(ssrc: sender.ssrc, reason: "call ended")
            } else if let source = receiver.current, source.isValid {
                try writer.appendExtendedReport(ssrc: sender.ssrc, voipMetrics: voipMetrics(about: source.ssrc))
            }
        } catch {
            log("RTCP report not written: " + error.description)
            return
        }
        sentSinceReport = false
        if transmit(writer.count, to: destination, on: rtcp) {
            counters.rtcpSent += 1
            interval.observePacket(size: writer.count + RTCPTransmissionInterval.ipv4UDPHeaderBytes)
        }
    }

    /// The RFC 3611 §4.7 VoIP metrics about the far end's stream as this end hears it.
    public func voipMetrics(about ssrc: UInt32) -> RTCPVoIPMetrics {
        var metrics = RTCPVoIPMetrics(ssrc: ssrc)
        metrics.fillLoss(from: lossModel)
        if let jitterBuffer { metrics.fillJitterBuffer(from: jitterBuffer) }
        if let rtt = counters.roundTripMicroseconds { metrics.roundTripDelay = UInt16(min(65535, rtt / 1000)) }
        let endSystem = counters.receiveToPlayback.p50Nanoseconds + counters.captureToSend.p50Nanoseconds
        metrics.endSystemDelay = UInt16(min(65535, endSystem / 1_000_000))
        metrics.fillQuality(from: lossModel)
        return metrics
    }
}
