import Foundation

@testable import SIP

/// Reads a torture fixture (Tests/SIPTests/Fixtures/<set>/<name>.dat) byte for byte.
func fixture(_ set: String, _ name: String) -> [UInt8] {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let url = here.appendingPathComponent("Fixtures").appendingPathComponent(set)
        .appendingPathComponent(name + ".dat")
    guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
    return [UInt8](data)
}

/// Every fixture name of a set.
func fixtureNames(_ set: String) -> [String] {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let dir = here.appendingPathComponent("Fixtures").appendingPathComponent(set)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".dat") }.map { String($0.dropLast(4)) }.sorted()
}

/// The result of parsing a fixture, for expectations on the error.
func parseResult(_ bytes: [UInt8]) -> Result<SIPMessage, SIPError> {
    do throws(SIPError) {
        return .success(try SIPMessage.parse(bytes))
    } catch {
        return .failure(error)
    }
}

extension Result where Failure == SIPError {
    var error: SIPError? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
