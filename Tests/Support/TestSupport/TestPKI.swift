import Foundation

/// A throw-away PKI made with the `openssl` CLI at test time, in a temporary directory: a root
/// CA, an intermediate CA under it, and leaf certificates issued on demand (EC P-256 keys) with
/// the names, validity dates and issuer a test asks for. `cleanUp` removes the directory.
public final class TestPKI {
    /// One issued certificate: PEM paths.
    public struct Certificate: Sendable {
        /// The certificate alone.
        public let certificate: String
        /// Its private key (PKCS#8 PEM).
        public let key: String
        /// The certificate followed by the intermediate CA when that issued it (what a server sends).
        public let chain: String
    }

    /// Which CA signs a leaf.
    public enum Issuer: Sendable { case root, intermediate }

    public let directory: String
    /// The root CA certificate (the trust file of a test).
    public var rootCertificate: String { directory + "/root.pem" }
    /// The intermediate CA certificate (signed by the root).
    public var intermediateCertificate: String { directory + "/intermediate.pem" }
    private var serial = 0

    /// Whether the openssl CLI is installed.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    public init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "testpki-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + UUID().uuidString
            ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/issued", withIntermediateDirectories: true)
        try "".write(toFile: directory + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: directory + "/serial", atomically: true, encoding: .utf8)
        try caConfig.write(toFile: directory + "/ca.cnf", atomically: true, encoding: .utf8)
        try openssl([
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", directory + "/root.key", "-out", rootCertificate, "-subj", "/CN=deskphone test root",
            "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try newKeyAndRequest(name: "intermediate", subject: "/CN=deskphone test intermediate")
        try sign(
            name: "intermediate", by: .root, notBefore: nil, notAfter: nil,
            extensions: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n")
    }

    /// Issues a leaf for a server (and client) with the given subjectAltNames (`DNS:`, `IP:`,
    /// `URI:` entries written as `dns`, `ips`, `uris`) and CN. Dates are openssl's
    /// `YYYYMMDDHHMMSSZ`; nil means now and now + 30 days.
    public func issue(
        _ name: String, commonName: String, dns: [String] = [], ips: [String] = [], uris: [String] = [],
        by issuer: Issuer = .intermediate, notBefore: String? = nil, notAfter: String? = nil
    ) throws -> Certificate {
        try newKeyAndRequest(name: name, subject: "/CN=" + commonName)
        let sans = dns.map { "DNS:" + $0 } + ips.map { "IP:" + $0 } + uris.map { "URI:" + $0 }
        var extensions = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        extensions += "extendedKeyUsage=serverAuth,clientAuth\n"
        if !sans.isEmpty { extensions += "subjectAltName=" + sans.joined(separator: ",") + "\n" }
        try sign(name: name, by: issuer, notBefore: notBefore, notAfter: notAfter, extensions: extensions)
        let leaf = directory + "/" + name + ".pem"
        var chain = leaf
        if issuer == .intermediate {
            chain = directory + "/" + name + "-chain.pem"
            let text =
                try String(contentsOfFile: leaf, encoding: .utf8)
                + String(contentsOfFile: intermediateCertificate, encoding: .utf8)
            try text.write(toFile: chain, atomically: true, encoding: .utf8)
        }
        return Certificate(certificate: leaf, key: directory + "/" + name + ".key", chain: chain)
    }

    /// A self-signed certificate (its own issuer, in no trust store) naming `dns`.
    public func selfSigned(_ name: String, dns: String) throws -> Certificate {
        let cert = directory + "/" + name + ".pem"
        let key = directory + "/" + name + ".key"
        try openssl([
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-subj", "/CN=" + dns, "-days", "30",
            "-addext", "subjectAltName=DNS:" + dns, "-addext", "extendedKeyUsage=serverAuth",
        ])
        return Certificate(certificate: cert, key: key, chain: cert)
    }

    /// Removes the directory and everything in it.
    public func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    private func newKeyAndRequest(name: String, subject: String) throws {
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", directory + "/" + name + ".key", "-out", directory + "/" + name + ".csr", "-subj", subject,
        ])
    }

    private func sign(name: String, by issuer: Issuer, notBefore: String?, notAfter: String?, extensions: String)
        throws
    {
        let ca = issuer == .root ? "root" : "intermediate"
        let extFile = directory + "/" + name + ".ext"
        try ("[ext]\n" + extensions).write(toFile: extFile, atomically: true, encoding: .utf8)
        var args = [
            "ca", "-config", directory + "/ca.cnf", "-batch", "-notext", "-in", directory + "/" + name + ".csr",
            "-out", directory + "/" + name + ".pem", "-cert", directory + "/" + ca + ".pem",
            "-keyfile", directory + "/" + ca + ".key", "-extfile", extFile, "-extensions", "ext",
        ]
        if let notBefore { args += ["-startdate", notBefore] }
        args += notAfter.map { ["-enddate", $0] } ?? ["-days", "30"]
        try openssl(args)
    }

    private var caConfig: String {
        """
        [ca]
        default_ca = test_ca
        [test_ca]
        database = \(directory)/index.txt
        new_certs_dir = \(directory)/issued
        serial = \(directory)/serial
        default_md = sha256
        policy = any_name
        unique_subject = no
        copy_extensions = none
        [any_name]
        commonName = supplied

        """
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw TestServerError(
                message: "openssl " + arguments[0] + " failed: " + String(decoding: text, as: UTF8.self))
        }
    }
}
