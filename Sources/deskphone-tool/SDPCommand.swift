import ArgumentParser
import Foundation
import SIP
import Voice

/// `deskphone-tool sdp parse|answer`: the firmware's SDP parser (RFC 8866) and RFC 3264
/// answerer on a file, for checking what a phone or server sends.
struct SDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp",
        abstract: "Parse a session description, or answer one as the phone would.",
        subcommands: [Parse.self, Answer.self]
    )

    /// Reads and parses `path`; on failure prints one line to stderr and exits 1.
    static func load(_ path: String) throws -> SDPSession {
        let data: Data
        do {
            data = try readFile(path)
        } catch {
            fail(String(describing: error))
        }
        do {
            return try SDPSession.parse([UInt8](data))
        } catch {
            fail(path + ": " + error.description)
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("deskphone-tool: " + message + "\n").utf8))
        Foundation.exit(1)
    }

    /// One stderr line per m= line: what it is and, for audio, its codecs.
    static func summary(_ session: SDPSession) -> String {
        var text = ""
        for (index, media) in session.media.enumerated() {
            let host = session.connection(ofMedia: index)?.address ?? "(no c=)"
            text +=
                "m#" + String(index) + " " + media.media + " " + host + " port " + String(media.port) + " "
                + media.proto + " " + session.direction(ofMedia: index).description
            let codecs = SDPOfferAnswer.codecs(of: media)
            if !codecs.isEmpty { text += " codecs " + codecs.map(\.description).joined(separator: ", ") }
            if let ptime = media.ptime { text += " ptime " + String(ptime) }
            text += "\n"
        }
        return text
    }
}

extension SDPCommand {
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the canonical form (CRLF, RFC 8866 line order) of a session description.",
            discussion: """
                Exits 0 after printing the canonical SDP on stdout, or 1 after one line naming the error \
                (line number and what is wrong) on stderr.
                """
        )
        @Argument(help: "SDP file (a SIP body).") var file: String
        @Flag(help: "Also print one line per m= line (codecs the phone knows, direction) on stderr.")
        var summary = false

        func run() throws {
            let session = try SDPCommand.load(file)
            FileHandle.standardOutput.write(Data(session.serialized()))
            if summary { FileHandle.standardError.write(Data(SDPCommand.summary(session).utf8)) }
        }
    }

    struct Answer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the phone's RFC 3264 answer to an offer, and the negotiated stream on stderr.",
            discussion: "Exits 1 when the offer does not parse or no audio stream can be negotiated (a UA sends 488)."
        )
        @Argument(help: "SDP offer file.") var file: String
        @Option(help: "Codecs in preference order: opus, g722, pcmu, pcma, l16-8000, l16-16000, l16-48000.")
        var codecs = "g722,pcmu,pcma"
        @Option(help: "Local RTP address (IPv4 or IPv6).") var address = "192.0.2.10"
        @Option(help: "Local RTP port.") var port = 40000
        @Option(help: "Local direction: sendrecv, sendonly, recvonly, inactive.") var direction = "sendrecv"
        @Flag(name: .customLong("local-order"), help: "Answer common codecs in our order, not the offerer's.")
        var localOrder = false

        func run() throws {
            let offer = try SDPCommand.load(file)
            var list: [CodecDescriptor] = []
            for name in codecs.split(separator: ",") {
                switch name.lowercased() {
                case "opus": list.append(CodecRegistry.opus)
                case "g722": list.append(CodecRegistry.g722)
                case "pcmu": list.append(CodecRegistry.pcmu)
                case "pcma": list.append(CodecRegistry.pcma)
                case "l16-8000": list.append(CodecRegistry.l16At8000)
                case "l16-16000": list.append(CodecRegistry.l16At16000)
                case "l16-48000": list.append(CodecRegistry.l16At48000)
                default: throw ValidationError("unknown codec '\(name)'")
                }
            }
            guard let localDirection = SDPDirection(attributeName: direction) else {
                throw ValidationError("unknown direction '\(direction)'")
            }
            guard !address.isEmpty, !address.contains(where: { $0 == " " || $0 == "/" || $0.isNewline }) else {
                throw ValidationError("--address must be an IPv4 or IPv6 literal")
            }
            guard (1...65535).contains(port) else { throw ValidationError("--port must be 1...65535") }
            var config = SDPAudioConfiguration(address: address, rtpPort: port, sessionID: "1", codecs: list)
            config.direction = localDirection
            config.answerCodecOrder = localOrder ? .local : .offerer
            let answer = SDPOfferAnswer.answer(to: offer, config)
            FileHandle.standardOutput.write(Data(answer.serialized()))
            do {
                let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
                FileHandle.standardError.write(Data((result.description + "\n").utf8))
            } catch {
                SDPCommand.fail(file + ": " + error.description)
            }
        }
    }
}
