// Fuzz targets of the media path: RTP packets, RTCP compound packets and RFC 4733 telephone
// events (the Voice module's parsers, all public). Each traps only on a broken invariant.
import Voice

enum VoiceFuzz {
    /// RTP (RFC 3550 §5.1): a packet that parses accounts for every byte (header, CSRCs,
    /// extension, payload, padding); its header written by `RTPHeader.write` with the same payload
    /// parses back to the same header and payload.
    static func rtp(_ bytes: UnsafeRawBufferPointer) {
        _ = RTPPacket.isRTCP(bytes)
        let packet: RTPPacket
        do throws(RTPError) {
            packet = try RTPPacket.parse(bytes)
        } catch {
            _ = error.description
            return
        }
        _ = packet.description
        let minimumOffset = RTPHeader.size + 4 * packet.csrcCount + (packet.extensionProfile == nil ? 0 : 4)
        guard packet.payloadOffset >= minimumOffset, packet.payloadCount >= 0, packet.paddingCount >= 0,
            packet.payloadOffset + packet.payloadCount + packet.paddingCount == bytes.count
        else { fatalError("RTP packet does not add up: \(packet.description) in \(bytes.count) bytes") }
        for i in 0..<packet.csrcCount { _ = packet.csrc(i, in: bytes) }
        let payload = packet.payload(in: bytes)
        var out = [UInt8](repeating: 0, count: RTPHeader.size + payload.count)
        out.withUnsafeMutableBytes { raw in
            do throws(RTPError) {
                let offset = try packet.header.write(into: raw)
                raw.baseAddress!.advanced(by: offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
            } catch {
                fatalError("RTP header does not fit its own buffer: \(error.description)")
            }
        }
        out.withUnsafeBytes { raw in
            do throws(RTPError) {
                let again = try RTPPacket.parse(raw)
                guard again.header == packet.header, again.payloadOffset == RTPHeader.size,
                    again.payloadCount == payload.count, again.csrcCount == 0, again.extensionProfile == nil,
                    again.paddingCount == 0, again.payload(in: raw).elementsEqual(payload)
                else { fatalError("RTP round trip changed the packet: \(packet.description) -> \(again.description)") }
            } catch {
                fatalError("RTP header written for a parsed packet does not parse: \(error.description)")
            }
        }
        // The payload as a telephone-event (the receiver tries it when the payload type says so).
        if let event = TelephoneEventPayload.parse(payload) {
            var four = [UInt8](repeating: 0, count: 4)
            let written = four.withUnsafeMutableBytes { raw in (try? event.write(into: raw)) ?? 0 }
            let again = four.withUnsafeBytes { TelephoneEventPayload.parse($0) }
            if written != 4 || again != event { fatalError("telephone-event round trip: \(event.description)") }
        }
    }

    /// RTCP (RFC 3550 §6, RFC 3611): a compound packet that parses has no packet of an unknown
    /// shape; every packet the writer can express (SR, RR, SDES with one CNAME chunk, BYE of one
    /// source, XR with one VoIP metrics block) is written again and parses back to the same value.
    static func rtcp(_ bytes: UnsafeRawBufferPointer) {
        let packets: [RTCPPacket]
        do throws(RTCPError) {
            packets = try RTCPPacket.parseCompound(bytes)
        } catch {
            _ = error.description
            return
        }
        if packets.isEmpty { fatalError("RTCP compound of \(bytes.count) bytes parsed to no packet") }
        var buffer = [UInt8](repeating: 0, count: 2048)
        for packet in packets {
            _ = packet.description
            let written: Int? = buffer.withUnsafeMutableBytes { raw in
                var writer = RTCPCompoundWriter(buffer: raw)
                do throws(RTCPError) {
                    switch packet {
                    case .senderReport(let ssrc, let info, let blocks):
                        for block in blocks { roundTripTimes(block) }
                        try writer.appendSenderReport(ssrc: ssrc, info: info, blocks: blocks)
                    case .receiverReport(let ssrc, let blocks):
                        for block in blocks { roundTripTimes(block) }
                        try writer.appendReceiverReport(ssrc: ssrc, blocks: blocks)
                    case .sourceDescription(let chunks):
                        guard chunks.count == 1, let cname = chunks[0].cname, cname.utf8.count <= 255 else {
                            return nil
                        }
                        try writer.appendSourceDescription(ssrc: chunks[0].ssrc, cname: cname)
                    case .goodbye(let ssrcs, let reason):
                        guard ssrcs.count == 1, (reason?.utf8.count ?? 0) <= 255 else { return nil }
                        try writer.appendGoodbye(ssrc: ssrcs[0], reason: reason)
                    case .extendedReport(let ssrc, let metrics):
                        guard metrics.count == 1 else { return nil }
                        _ = metrics[0].description
                        try writer.appendExtendedReport(ssrc: ssrc, voipMetrics: metrics[0])
                    case .other:
                        return nil
                    }
                } catch {
                    fatalError("RTCP writer refused a parsed packet: \(error.description)")
                }
                return writer.count
            }
            guard let written else { continue }
            buffer.withUnsafeBytes { raw in
                do throws(RTCPError) {
                    let again = try RTCPPacket.parseCompound(UnsafeRawBufferPointer(rebasing: raw[0..<written]))
                    if again != [packet] {
                        fatalError("RTCP round trip changed \(packet.description) to \(again.map(\.description))")
                    }
                } catch {
                    fatalError("RTCP packet written from a parsed one does not parse: \(error.description)")
                }
            }
        }
    }

    /// The round-trip time of a report block is never negative and never above the time since
    /// the SR it refers to (RFC 3550 §6.4.1), for arrival times around the block's LSR.
    static func roundTripTimes(_ block: RTCPReportBlock) {
        for delta: UInt32 in [0, 1, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000] {
            let arrival = UInt64(block.lastSR &+ delta) << 16
            if let rtt = RTCPTime.roundTrip(
                arrivalNTP: arrival, lastSR: block.lastSR, delaySinceLastSR: block.delaySinceLastSR)
            {
                if rtt > delta { fatalError("RTCP round-trip time \(rtt) above the time since the SR \(delta)") }
                _ = RTCPTime.milliseconds(compact: rtt)
            }
        }
    }

    /// RFC 4733 receiver: the input is a stream of 7-byte records `[control, timestamp delta (16
    /// bits, signed), payload (4 bytes)]`; the control byte's top bit makes the record a poll,
    /// bit 6 cuts the payload to `control & 3` bytes, the low bits advance the arrival clock.
    /// Invariants: digits come out in the order their events started, never twice, and an end
    /// packet of an event newer than everything seen before is always reported.
    static func dtmf(_ bytes: UnsafeRawBufferPointer) {
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        var now: Int64 = 1_000_000_000
        var timestamp: UInt32 = 0x1000
        var newest: UInt32? = nil
        var owed: [UInt32] = []
        var reported: [TelephoneEventDigit] = []
        func take(_ digit: TelephoneEventDigit?) {
            guard let digit else { return }
            if let last = reported.last, Int32(bitPattern: digit.timestamp &- last.timestamp) <= 0 {
                fatalError(
                    "DTMF digit \(digit.description) at \(digit.timestamp) reported after one at \(last.timestamp)")
            }
            reported.append(digit)
        }
        var i = 0
        while i + 7 <= bytes.count {
            let control = bytes[i]
            now += Int64(control & 0x1F) * 5_000_000
            if control & 0x80 != 0 {
                take(decoder.poll(nowNanoseconds: now))
            } else {
                let delta = Int16(bitPattern: UInt16(bytes[i + 1]) << 8 | UInt16(bytes[i + 2]))
                timestamp = timestamp &+ UInt32(bitPattern: Int32(delta))
                let length = control & 0x40 != 0 ? Int(control & 3) : 4
                let payload = UnsafeRawBufferPointer(rebasing: bytes[(i + 3)..<(i + 3 + length)])
                if let event = TelephoneEventPayload.parse(payload), event.event <= 15 {
                    let isNewest = newest.map { Int32(bitPattern: timestamp &- $0) > 0 } ?? true
                    if isNewest {
                        newest = timestamp
                        if event.isEnd { owed.append(timestamp) }
                    }
                }
                take(decoder.receive(payload: payload, timestamp: timestamp, arrivalNanoseconds: now))
            }
            i += 7
        }
        // Let every event time out, then drain.
        for _ in 0..<4 {
            now += 10_000_000_000
            take(decoder.poll(nowNanoseconds: now))
        }
        if decoder.current != nil { fatalError("DTMF event still sounding after the timeout") }
        for t in owed where !reported.contains(where: { $0.timestamp == t }) {
            fatalError("DTMF end packet of the newest event (timestamp \(t)) was never reported")
        }
    }
}
