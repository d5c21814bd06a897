import TLS

/// The `tls` target: arbitrary bytes as the server's records to a client engine that has sent
/// its ClientHello (peer verification off, so the fuzzer reaches past the certificate). The
/// first byte picks a split point, so records cut between two reads are explored too. Bad input
/// must end in `.failed` or a wait for more bytes, never a trap; and it can never complete the
/// handshake (that takes a Finished under keys only the real peer holds).
enum TLSFuzz {
    nonisolated(unsafe) static var configuration: TLSConfiguration?

    static func client(_ bytes: UnsafeRawBufferPointer) {
        if configuration == nil {
            configuration = try? TLSConfiguration(trustFile: nil, verifyPeer: false)
        }
        guard let configuration, let client = try? TLSConnection(configuration: configuration, serverName: "pbx.test")
        else { fatalError("TLS fuzz: no client engine") }
        client.advance()
        var out = [UInt8](repeating: 0, count: 4096)
        while out.withUnsafeMutableBytes({ client.takeCiphertext(into: $0) }) > 0 {}
        let split = bytes.isEmpty ? 0 : Swift.min(Int(bytes[0]), bytes.count - 1)
        let records = bytes.isEmpty ? bytes : UnsafeRawBufferPointer(rebasing: bytes[1...])
        for part in [records[0..<split], records[split...]] {
            client.receiveCiphertext(UnsafeRawBufferPointer(rebasing: part))
            if client.advance() == .established { fatalError("TLS fuzz: handshake completed from fuzz input") }
            while out.withUnsafeMutableBytes({ client.readPlaintext(into: $0) }) > 0 {}
            while out.withUnsafeMutableBytes({ client.takeCiphertext(into: $0) }) > 0 {}
        }
        if case .failed(let error) = client.progress, error.reason.isEmpty {
            fatalError("TLS fuzz: failure without reason")
        }
    }
}
