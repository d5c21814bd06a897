import ArgumentParser
import Foundation
import SIP

/// `deskphone-tool sip ...`: SIP message tools.
struct SIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "SIP message tools.",
        subcommands: [SIPParseCommand.self]
    )
}

/// `deskphone-tool sip parse FILE`: parses one SIP message (a whole datagram, RFC 3261 §7 and
/// §18.3) and prints its canonical serialization, or one line naming the defect and the
/// response a UA would send (exit status 1).
struct SIPParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a SIP message file and print its canonical form.",
        discussion: """
            The file holds one message as received in a datagram. A valid message is printed in
            canonical form (full header names, one value per line as received, Content-Length from
            the body) and the exit status is 0. An invalid one prints
            `error: <defect> (a UA would answer <status> <reason>)` and exits with status 1.
            Files larger than 1 MiB are refused.
            """
    )

    /// Bigger files are refused before reading (a SIP datagram is at most 64 KiB).
    static let sizeLimit = 1 << 20

    @Argument(help: "The message file.")
    var file: String

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try Self.read(file)
        } catch {
            Self.fail("error: \(error)")
        }
        do {
            let message = try SIPMessage.parse(bytes)
            FileHandle.standardOutput.write(Data(message.serialized()))
        } catch {
            var line = "error: " + error.message
            if let status = error.status {
                line += " (a UA would answer \(status) \(SIPMessage.reasonPhrase(status)))"
            } else {
                line += " (no response: the message is dropped)"
            }
            Self.fail(line)
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ToolError("\(path): no such file")
        }
        if let size = attributes[.size] as? NSNumber, size.intValue > sizeLimit {
            throw ToolError("\(path): larger than the \(sizeLimit)-byte limit")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ToolError("\(path): cannot read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: sizeLimit + 1)) ?? Data()
        guard data.count <= sizeLimit else { throw ToolError("\(path): larger than the \(sizeLimit)-byte limit") }
        return [UInt8](data)
    }

    static func fail(_ line: String) -> Never {
        // One line, printable: control characters from the input are shown escaped.
        var clean = ""
        for scalar in line.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                clean += "\\x" + String(scalar.value, radix: 16, uppercase: true)
            } else {
                clean.unicodeScalars.append(scalar)
            }
        }
        FileHandle.standardError.write((clean + "\n").data(using: .utf8)!)
        Foundation.exit(1)
    }
}
