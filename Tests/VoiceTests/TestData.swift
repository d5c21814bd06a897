import Foundation

/// Locates the test vectors kept in the repository (`Tests/Vectors`) and reads raw files.
enum TestData {
    /// The project root, from this file's location (Tests/VoiceTests/TestData.swift).
    static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Vectors` in the repository (see its README.md for where the files come from).
    static let vectors: URL = projectRoot.appendingPathComponent("Tests/Vectors")

    /// A file of ITU-T G.191 vectors: `itu-t-g191/<relative>`.
    static func g191(_ relative: String) throws -> Data {
        try Data(contentsOf: vectors.appendingPathComponent("itu-t-g191/" + relative))
    }

    /// Little-endian 16-bit words of a vector file.
    static func words(_ relative: String) throws -> [Int16] {
        let data = try g191(relative)
        var out = [Int16](repeating: 0, count: data.count / 2)
        data.withUnsafeBytes { raw in
            for i in 0..<out.count {
                out[i] = Int16(bitPattern: UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8)
            }
        }
        return out
    }
}
