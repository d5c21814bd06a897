// Audio offer/answer (RFC 3264) over the codec registry of the Voice module.
//
// Policy (the phone has one audio path):
// - The offer lists the configured codecs in preference order: static payload types for PCMU 0,
//   PCMA 8, G722 9 (rtpmap G722/8000, RFC 3551 §4.5.2), dynamic ones from 96 for Opus
//   (opus/48000/2 with fmtp, RFC 7587) and L16; then one telephone-event per RTP clock rate in
//   use (RFC 4733 §7.1.1; /8000 gets the customary 101), with fmtp 0-16; ptime and an explicit
//   direction attribute.
// - The answer accepts exactly one stream: the first m= line that is audio, port ≠ 0, RTP/AVP,
//   has an IN IP4/IP6 connection and a codec in common. Every other m= line is kept in place
//   and rejected with port 0 (RFC 3264 §6). Common codecs follow the OFFERER's order by default
//   (RFC 3264 §6.1 recommends it; `answerCodecOrder = .local` uses ours), and the answer lists
//   `answerCodecLimit` of them (1 by default: both sides then send the same codec). Payload type
//   numbers are the offer's. telephone-event is answered when offered at the chosen codec's
//   clock rate (its fmtp echoed); at another rate it is left out. ptime is what the chosen codec
//   can send given the offer's ptime/maxptime. The direction is the offer's reversed, limited by
//   ours (sendonly → recvonly, recvonly → sendonly, inactive → inactive, sendrecv → ours); an
//   offer whose connection address is 0.0.0.0 (RFC 2543 hold) is treated as not receiving.
// - Negotiation: the send codec is the first codec of the answer the phone supports, sent with
//   the payload type the REMOTE description uses for it (RFC 3264 §5.1: a side receives on the
//   numbers it wrote).
// - SRTP (RFC 3711, SDES keys RFC 4568; see SDPCrypto.swift) by `srtp` policy: off writes no
//   keys, ignores keys in an RTP/AVP offer and refuses RTP/SAVP; optional offers RTP/AVP with
//   `a=crypto` lines and answers either; mandatory offers RTP/SAVP and accepts only an offer with
//   a usable key. The answer takes the offer's first usable `a=crypto` line whose suite the phone
//   has a key for, repeating its tag with the phone's own fresh key.

import Voice

/// The phone's audio configuration for building offers and answers (RFC 3264 §5, §6).
public struct SDPAudioConfiguration: Equatable {
    /// Codecs in preference order (telephone-event entries are ignored: see `telephoneEvent`).
    /// Keep it non-empty: an offer without codecs has an m= line without formats.
    public var codecs: [CodecDescriptor]
    /// Preferred packet duration in ms (`a=ptime`), nil to write none.
    public var ptime: Int?
    /// `a=maxptime` to write in offers, nil for none.
    public var maxptime: Int?
    /// Local RTP address: an IPv4 or IPv6 literal (written as IP6 when it contains ':').
    public var address: String
    public var rtpPort: Int
    /// What the phone wants to do: sendrecv normally, sendonly or inactive to hold.
    public var direction: SDPDirection
    /// Offer and accept RFC 4733 telephone-event.
    public var telephoneEvent: Bool
    /// The events offered (`a=fmtp:<pt> 0-16`).
    public var telephoneEventRange: String
    /// fmtp written for Opus.
    public var opusFormatParameters: String
    /// o= fields: keep the id for the whole call, increase the version with each new description.
    public var username: String
    public var sessionID: String
    public var sessionVersion: UInt64
    public var sessionName: String
    /// Whose order common codecs are answered in.
    public var answerCodecOrder: SDPCodecOrder
    /// How many common codecs an answer lists (at least 1).
    public var answerCodecLimit: Int
    /// The account's SRTP policy.
    public var srtp: SRTPPolicy
    /// The phone's keys for this description (one per suite, in preference order), fresh for
    /// every offer and answer; empty when `srtp` is off.
    public var cryptos: [SDESCrypto]

    public init(
        address: String, rtpPort: Int, sessionID: String, sessionVersion: UInt64 = 1,
        codecs: [CodecDescriptor] = [CodecRegistry.g722, CodecRegistry.pcmu, CodecRegistry.pcma],
        ptime: Int? = 20, direction: SDPDirection = .sendrecv, telephoneEvent: Bool = true
    ) {
        self.codecs = codecs
        self.ptime = ptime
        self.maxptime = nil
        self.address = address
        self.rtpPort = rtpPort
        self.direction = direction
        self.telephoneEvent = telephoneEvent
        self.telephoneEventRange = "0-16"
        self.opusFormatParameters = "useinbandfec=1"
        self.username = "-"
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.sessionName = "deskphone"
        self.answerCodecOrder = .offerer
        self.answerCodecLimit = 1
        self.srtp = .off
        self.cryptos = []
    }

    /// The profile offers use: RTP/SAVP when SRTP is mandatory (RFC 3711 §12).
    var offerProfile: String { srtp == .mandatory && !cryptos.isEmpty ? "RTP/SAVP" : "RTP/AVP" }

    /// The local connection, IP6 when the address contains ':'.
    public var connection: SDPConnection { SDPConnection(address: address) }

    var origin: SDPOrigin {
        SDPOrigin(
            username: username, sessionID: sessionID, sessionVersion: sessionVersion,
            addressType: connection.addressType, address: address)
    }

    var audioCodecs: [CodecDescriptor] { codecs.filter { $0.kind != .telephoneEvent } }
}

/// Whose preference decides the order of common codecs in an answer (RFC 3264 §6.1).
public enum SDPCodecOrder: Equatable {
    /// The offer's order (RFC 3264 §6.1 recommends it).
    case offerer
    /// The phone's configured order.
    case local
}

/// An RTP payload type number bound to a codec of the registry (RFC 3551 §6, RFC 8866 §6.6).
public struct SDPPayloadType: Equatable, CustomStringConvertible {
    public var number: Int
    public var codec: CodecDescriptor

    public init(number: Int, codec: CodecDescriptor) {
        self.number = number
        self.codec = codec
    }

    public var description: String { String(number) + " " + codec.rtpmap }
}

/// The audio stream an offer/answer exchange settled on, seen from the phone (RFC 3264 §5.1, §6.1).
public struct SDPNegotiatedAudio: Equatable, CustomStringConvertible {
    /// Index of the m= line (same in offer and answer).
    public var mediaIndex: Int
    /// Where to send RTP.
    public var remoteConnection: SDPConnection
    public var remotePort: Int
    /// Where to send RTCP: `a=rtcp` (RFC 3605) or the RTP port + 1.
    public var remoteRTCPConnection: SDPConnection
    public var remoteRTCPPort: Int
    /// The codec to send and the payload type to send it with.
    public var sendCodec: CodecDescriptor
    public var sendPayloadType: Int
    /// Packet duration to send in, ms.
    public var ptime: Int
    /// telephone-event payload type to send DTMF with, nil when not negotiated.
    public var sendTelephoneEventPayloadType: Int?
    /// The payload types the phone may receive (from its own description), telephone-event included.
    public var receivePayloadTypes: [SDPPayloadType]
    /// The direction in the phone's description and in the peer's.
    public var localDirection: SDPDirection
    public var remoteDirection: SDPDirection
    /// The SRTP keys of the stream; nil for plain RTP.
    public var srtp: SDPNegotiatedSRTP? = nil

    /// True when the phone sends RTP: it said it sends, the peer said it receives.
    public var sends: Bool { localDirection.sends && remoteDirection.receives }
    /// True when the phone expects RTP from the peer.
    public var receives: Bool { localDirection.receives && remoteDirection.sends }

    public var description: String {
        var text = "m#" + String(mediaIndex) + " send " + String(sendPayloadType) + " " + sendCodec.rtpmap
        text += " ptime " + String(ptime) + " to " + remoteConnection.host + " port " + String(remotePort)
        text += " rtcp " + String(remoteRTCPPort)
        if let te = sendTelephoneEventPayloadType { text += " dtmf " + String(te) }
        text += " local " + localDirection.description + " remote " + remoteDirection.description
        if let srtp { text += " srtp " + srtp.suite.name }
        return text
    }
}

/// RFC 3264 offer/answer for the phone's single audio stream; see the policy at the top of the file.
public enum SDPOfferAnswer {
    /// An initial offer (RFC 3264 §5) from the configuration.
    public static func offer(_ config: SDPAudioConfiguration) -> SDPSession {
        var used: [Int] = []
        var payloadTypes: [SDPPayloadType] = []
        for codec in config.audioCodecs where !payloadTypes.contains(where: { $0.codec == codec }) {
            if let pt = codec.staticPayloadType, !used.contains(pt) {
                used.append(pt)
                payloadTypes.append(SDPPayloadType(number: pt, codec: codec))
            }
        }
        // Dynamic numbers after the static ones are known, so none collides.
        var withDynamic: [SDPPayloadType] = []
        for codec in config.audioCodecs where !withDynamic.contains(where: { $0.codec == codec }) {
            if let known = payloadTypes.first(where: { $0.codec == codec }) {
                withDynamic.append(known)
            } else if let pt = freeDynamicPayloadType(&used, preferred: nil) {
                withDynamic.append(SDPPayloadType(number: pt, codec: codec))
            }
        }
        var events: [SDPPayloadType] = []
        if config.telephoneEvent {
            for entry in withDynamic {
                guard let event = CodecRegistry.telephoneEvent(for: entry.codec),
                    !events.contains(where: { $0.codec == event }),
                    let pt = freeDynamicPayloadType(&used, preferred: event.rtpClockRate == 8000 ? 101 : nil)
                else { continue }
                events.append(SDPPayloadType(number: pt, codec: event))
            }
        }
        var section = SDPMedia(media: "audio", port: config.rtpPort, proto: config.offerProfile, formats: [])
        for entry in withDynamic + events {
            section.formats.append(String(entry.number))
            section.attributes.append(SDPAttribute("rtpmap", String(entry.number) + " " + entry.codec.rtpmap))
            if entry.codec.kind == .opus, !config.opusFormatParameters.isEmpty {
                section.attributes.append(
                    SDPAttribute("fmtp", String(entry.number) + " " + config.opusFormatParameters))
            } else if entry.codec.kind == .telephoneEvent, !config.telephoneEventRange.isEmpty {
                section.attributes.append(SDPAttribute("fmtp", String(entry.number) + " " + config.telephoneEventRange))
            }
        }
        if let ptime = config.ptime { section.attributes.append(SDPAttribute("ptime", String(ptime))) }
        if let maxptime = config.maxptime { section.attributes.append(SDPAttribute("maxptime", String(maxptime))) }
        section.setDirection(config.direction)
        if config.srtp != .off {
            for crypto in config.cryptos { section.attributes.append(SDPAttribute("crypto", crypto.value)) }
        }
        return SDPSession(
            origin: config.origin, sessionName: config.sessionName, connection: config.connection, media: [section])
    }

    /// A new offer for the same session (RFC 3264 §8): version + 1 and `direction` on every
    /// stream in use; sendonly (or inactive) puts the peer on hold (§8.4), sendrecv resumes.
    /// `cryptos`, when given, replace the `a=crypto` lines of every stream that had some: a new
    /// offer carries new keys (RFC 4568 §7.1.4).
    public static func reoffer(_ previous: SDPSession, direction: SDPDirection, cryptos: [SDESCrypto]? = nil)
        -> SDPSession
    {
        var next = previous
        next.origin.sessionVersion &+= 1
        next.attributes.removeAll { $0.value == nil && SDPDirection(attributeName: $0.name) != nil }
        for index in next.media.indices where next.media[index].port != 0 {
            next.media[index].setDirection(direction)
            if let cryptos, next.media[index].hasCrypto {
                next.media[index].attributes.removeAll { $0.name == "crypto" }
                for crypto in cryptos { next.media[index].attributes.append(SDPAttribute("crypto", crypto.value)) }
            }
        }
        return next
    }

    /// The answer to `offer` (RFC 3264 §6): one audio stream accepted, every other m= line
    /// rejected with port 0. When nothing can be accepted every port is 0; `negotiate` then
    /// throws and a UA answers 488 instead of sending it.
    public static func answer(to offer: SDPSession, _ config: SDPAudioConfiguration) -> SDPSession {
        var answer = SDPSession(origin: config.origin, sessionName: config.sessionName, connection: config.connection)
        var accepted = false
        for index in offer.media.indices {
            if !accepted, let section = answerAudio(offer, index, config) {
                answer.media.append(section)
                accepted = true
            } else {
                let offered = offer.media[index]
                answer.media.append(
                    SDPMedia(media: offered.media, port: 0, proto: offered.proto, formats: offered.formats))
            }
        }
        return answer
    }

    /// True when the phone can serve m= line `index` of `description` at all: audio, port ≠ 0,
    /// RTP/AVP (or RTP/SAVP), with an IN IP4 or IN IP6 connection.
    public static func isServableAudio(_ description: SDPSession, _ index: Int) -> Bool {
        guard index >= 0, index < description.media.count else { return false }
        let section = description.media[index]
        guard section.media == "audio", section.port != 0, section.proto == "RTP/AVP" || section.proto == "RTP/SAVP",
            let connection = description.connection(ofMedia: index), connection.networkType == "IN",
            connection.addressType == "IP4" || connection.addressType == "IP6"
        else { return false }
        return true
    }

    /// The registry codecs of m= line `section`, in its order, first payload type per codec;
    /// telephone-event included.
    public static func codecs(of section: SDPMedia) -> [SDPPayloadType] {
        // One pass over the attributes (first rtpmap per number wins), then one per format.
        var maps: [Int: SDPRTPMap] = [:]
        for map in section.rtpMaps where maps[map.payloadType] == nil { maps[map.payloadType] = map }
        var found: [SDPPayloadType] = []
        for pt in section.payloadTypes {
            guard let map = maps[pt] ?? (pt < 96 ? SDPRTPMap.staticPayloadType(pt) : nil),
                let codec = CodecRegistry.find(
                    encodingName: map.encodingName, clockRate: map.clockRate, channels: map.channels ?? 1),
                !found.contains(where: { $0.codec == codec })
            else { continue }
            found.append(SDPPayloadType(number: pt, codec: codec))
        }
        return found
    }

    static func answerAudio(_ offer: SDPSession, _ index: Int, _ config: SDPAudioConfiguration) -> SDPMedia? {
        guard isServableAudio(offer, index), let offerConnection = offer.connection(ofMedia: index) else {
            return nil
        }
        let offered = offer.media[index]
        guard let crypto = answerCrypto(offered, config) else { return nil }
        let offeredCodecs = codecs(of: offered)
        let local = config.audioCodecs
        var common: [SDPPayloadType] = []
        switch config.answerCodecOrder {
        case .offerer:
            for entry in offeredCodecs where entry.codec.kind != .telephoneEvent && local.contains(entry.codec) {
                common.append(entry)
            }
        case .local:
            for codec in local {
                if let entry = offeredCodecs.first(where: { $0.codec == codec }),
                    !common.contains(where: { $0.codec == codec })
                {
                    common.append(entry)
                }
            }
        }
        guard let first = common.first else { return nil }
        let chosen = Array(common.prefix(max(1, config.answerCodecLimit)))
        var event: SDPPayloadType? = nil
        if config.telephoneEvent {
            event = offeredCodecs.first {
                $0.codec.kind == .telephoneEvent && $0.codec.rtpClockRate == first.codec.rtpClockRate
            }
        }
        var section = SDPMedia(media: "audio", port: config.rtpPort, proto: offered.proto, formats: [])
        for entry in chosen {
            section.formats.append(String(entry.number))
            section.attributes.append(SDPAttribute("rtpmap", String(entry.number) + " " + entry.codec.rtpmap))
            if entry.codec.kind == .opus, !config.opusFormatParameters.isEmpty {
                section.attributes.append(
                    SDPAttribute("fmtp", String(entry.number) + " " + config.opusFormatParameters))
            }
        }
        if let event {
            section.formats.append(String(event.number))
            section.attributes.append(SDPAttribute("rtpmap", String(event.number) + " " + event.codec.rtpmap))
            if let range = offered.formatParameters(for: event.number), !range.isEmpty {
                section.attributes.append(SDPAttribute("fmtp", String(event.number) + " " + range))
            }
        }
        let ptime = first.codec.choosePtime(offered: offered.ptime ?? config.ptime, maxptime: offered.maxptime)
        section.attributes.append(SDPAttribute("ptime", String(ptime)))
        var offerDirection = offer.direction(ofMedia: index)
        if offerConnection.isUnspecified {
            offerDirection = SDPDirection(sends: offerDirection.sends, receives: false)
        }
        section.setDirection(
            SDPDirection(
                sends: offerDirection.receives && config.direction.sends,
                receives: offerDirection.sends && config.direction.receives))
        if let line = crypto.line { section.attributes.append(SDPAttribute("crypto", line.value)) }
        return section
    }

    /// The `a=crypto` line to answer offered m= line `offered` with (`line` nil: plain RTP), or
    /// nil when the policy refuses the line: RTP/SAVP while SRTP is off, or no usable key
    /// (RTP/SAVP, or SRTP mandatory).
    static func answerCrypto(_ offered: SDPMedia, _ config: SDPAudioConfiguration) -> AnsweredCrypto? {
        if config.srtp == .off { return offered.isSecureProfile ? nil : AnsweredCrypto(line: nil) }
        for theirs in offered.cryptoAttributes.usable {
            if var ours = config.cryptos.first(where: { $0.suite == theirs.suite }) {
                ours.tag = theirs.tag
                return AnsweredCrypto(line: ours)
            }
        }
        if offered.isSecureProfile || config.srtp == .mandatory { return nil }
        return AnsweredCrypto(line: nil)
    }

    /// The `a=crypto` line of an accepted m= line; `line` nil for plain RTP.
    struct AnsweredCrypto {
        var line: SDESCrypto?
    }

    /// Why the policy refuses offered m= line `offered`, nil when it does not.
    static func srtpRefusal(_ offered: SDPMedia, _ policy: SRTPPolicy) -> String? {
        if policy == .off { return offered.isSecureProfile ? "RTP/SAVP offered while SRTP is off" : nil }
        guard offered.isSecureProfile || policy == .mandatory else { return nil }
        let cryptos = offered.cryptoAttributes
        guard cryptos.usable.isEmpty else { return nil }
        var why = "SRTP " + (offered.isSecureProfile ? "RTP/SAVP" : "mandatory") + ": the offer has no usable a=crypto key"
        if let refusal = cryptos.refused.first { why += " (" + refusal.reason + ")" }
        return why
    }

    /// The keys of m= line `index` once offer and answer are known; nil for plain RTP. Throws
    /// when the policy or the profile wants SRTP and the two sides did not agree on a key.
    static func negotiateSRTP(offer: SDPSession, answer: SDPSession, index: Int, localIsOfferer: Bool, policy: SRTPPolicy)
        throws(SDPError) -> SDPNegotiatedSRTP?
    {
        let secure = offer.media[index].isSecureProfile || answer.media[index].isSecureProfile
        if policy == .off {
            if secure { throw SDPError("RTP/SAVP while SRTP is off (account srtp_encryption = 0)") }
            return nil
        }
        let answered = answer.media[index].cryptoAttributes
        if let chosen = answered.usable.first,
            let offered = offer.media[index].cryptoAttributes.usable.first(where: { $0.tag == chosen.tag }),
            offered.suite == chosen.suite
        {
            return SDPNegotiatedSRTP(
                suite: chosen.suite, tag: chosen.tag, sendKey: localIsOfferer ? offered.keySalt : chosen.keySalt,
                receiveKey: localIsOfferer ? chosen.keySalt : offered.keySalt)
        }
        if secure || policy == .mandatory {
            var why = "no a=crypto key both sides accept"
            if let refusal = answered.refused.first ?? offer.media[index].cryptoAttributes.refused.first {
                why += " (" + refusal.reason + ")"
            }
            throw SDPError("SRTP " + (secure ? "RTP/SAVP" : "mandatory") + ": " + why)
        }
        return nil
    }

    /// The audio stream an offer and its answer settled on, from the phone's side: `localIsOfferer`
    /// says which of the two the phone wrote. Throws when the m= lines do not pair up or no audio
    /// stream is usable (a UA then answers 488 or ends the call).
    public static func negotiate(
        offer: SDPSession, answer: SDPSession, localIsOfferer: Bool, srtp policy: SRTPPolicy = .off
    ) throws(SDPError) -> SDPNegotiatedAudio {
        guard offer.media.count == answer.media.count else {
            throw SDPError(
                "the answer has " + String(answer.media.count) + " m= lines, the offer "
                    + String(offer.media.count) + " (RFC 3264 §6 wants one answer line per offer line)")
        }
        let local = localIsOfferer ? offer : answer
        let remote = localIsOfferer ? answer : offer
        var reason = "no m= line is audio"
        for index in offer.media.indices where offer.media[index].media == "audio" {
            guard isServableAudio(offer, index), isServableAudio(answer, index),
                let remoteConnection = remote.connection(ofMedia: index)
            else {
                reason = "no audio stream was accepted (RTP/AVP or RTP/SAVP, port ≠ 0, IN IP4/IP6 connection)"
                if !localIsOfferer, isServableAudio(offer, index),
                    let why = srtpRefusal(offer.media[index], policy)
                {
                    reason = why
                }
                continue
            }
            let answerCodecs = codecs(of: answer.media[index])
            let offerCodecs = codecs(of: offer.media[index])
            let remoteCodecs = codecs(of: remote.media[index])
            let localCodecs = codecs(of: local.media[index])
            var send: SDPPayloadType? = nil
            for entry in answerCodecs where entry.codec.kind != .telephoneEvent {
                guard offerCodecs.contains(where: { $0.codec == entry.codec }),
                    let remoteEntry = remoteCodecs.first(where: { $0.codec == entry.codec })
                else { continue }
                send = remoteEntry
                break
            }
            guard let send else {
                reason =
                    "the answer's audio stream " + String(index + 1) + " has no codec of the offer the phone supports"
                continue
            }
            var receive: [SDPPayloadType] = []
            for entry in localCodecs where answerCodecs.contains(where: { $0.codec == entry.codec }) {
                receive.append(entry)
            }
            var sendEvent: Int? = nil
            if let event = CodecRegistry.telephoneEvent(for: send.codec),
                answerCodecs.contains(where: { $0.codec == event }),
                offerCodecs.contains(where: { $0.codec == event })
            {
                sendEvent = remoteCodecs.first(where: { $0.codec == event })?.number
            }
            let remoteSection = remote.media[index]
            let ptime = send.codec.choosePtime(offered: remoteSection.ptime, maxptime: remoteSection.maxptime)
            var rtcpPort = remoteSection.port < 65535 ? remoteSection.port + 1 : remoteSection.port
            var rtcpConnection = remoteConnection
            if let rtcp = remoteSection.rtcp {
                rtcpPort = rtcp.port
                if let connection = rtcp.connection { rtcpConnection = connection }
            }
            var remoteDirection = remote.direction(ofMedia: index)
            if remoteConnection.isUnspecified {
                remoteDirection = SDPDirection(sends: remoteDirection.sends, receives: false)
            }
            let keys: SDPNegotiatedSRTP?
            do throws(SDPError) {
                keys = try negotiateSRTP(
                    offer: offer, answer: answer, index: index, localIsOfferer: localIsOfferer, policy: policy)
            } catch {
                reason = error.message
                continue
            }
            return SDPNegotiatedAudio(
                mediaIndex: index, remoteConnection: remoteConnection, remotePort: remoteSection.port,
                remoteRTCPConnection: rtcpConnection, remoteRTCPPort: rtcpPort, sendCodec: send.codec,
                sendPayloadType: send.number, ptime: ptime, sendTelephoneEventPayloadType: sendEvent,
                receivePayloadTypes: receive, localDirection: local.direction(ofMedia: index),
                remoteDirection: remoteDirection, srtp: keys)
        }
        throw SDPError("no usable audio stream: " + reason)
    }

    /// The lowest free dynamic payload type (96...127), `preferred` when it is free; nil when all are used.
    static func freeDynamicPayloadType(_ used: inout [Int], preferred: Int?) -> Int? {
        if let preferred, !used.contains(preferred) {
            used.append(preferred)
            return preferred
        }
        for pt in 96...127 where !used.contains(pt) {
            used.append(pt)
            return pt
        }
        return nil
    }
}
