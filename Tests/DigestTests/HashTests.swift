import Testing

@testable import Digest

/// One message and its digests under each algorithm.
struct HashVector: CustomStringConvertible {
    var name: String
    var message: [UInt8]
    var md5: String
    var sha256: String
    var sha512_256: String
    var description: String { name }
}

/// Bytes (7 i + 3) mod 256 for i in 0..<count: a message whose bytes all differ near a block edge.
func hashPatternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
}

/// Hashes `message` fed in pieces of the given sizes (cycled), to exercise the block buffer.
func hashStreamedDigest<H: HashFunction>(_: H.Type, _ message: [UInt8], pieces: [Int]) -> String {
    var function = H()
    var offset = 0
    var piece = 0
    while offset < message.count {
        let size = min(pieces[piece % pieces.count], message.count - offset)
        function.update(Array(message[offset..<offset + size]))
        offset += size
        piece += 1
    }
    return HashEncoding.lowercaseHex(function.finalize())
}

enum HashVectors {
    // Expected digests computed with python3 hashlib (md5, sha256, sha512_256).
    static let textVectors: [HashVector] = [
        HashVector(
            name: "empty",
            message: Array(("").utf8),
            md5: "d41d8cd98f00b204e9800998ecf8427e",
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sha512_256: "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"
        ),
        HashVector(
            name: "a",
            message: Array(("a").utf8),
            md5: "0cc175b9c0f1b6a831c399e269772661",
            sha256: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            sha512_256: "455e518824bc0601f9fb858ff5c37d417d67c2f8e0df2babe4808858aea830f8"
        ),
        HashVector(
            name: "abc",
            message: Array(("abc").utf8),
            md5: "900150983cd24fb0d6963f7d28e17f72",
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            sha512_256: "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        ),
        HashVector(
            name: "message digest",
            message: Array(("message digest").utf8),
            md5: "f96b697d7cb7938d525a2f31aaf161d0",
            sha256: "f7846f55cf23e14eebeab5b4e1550cad5b509e3348fbc4efa3a1413d393cb650",
            sha512_256: "0cf471fd17ed69d990daf3433c89b16d63dec1bb9cb42a6094604ee5d7b4e9fb"
        ),
        HashVector(
            name: "alphabet",
            message: Array(("abcdefghijklmnopqrstuvwxyz").utf8),
            md5: "c3fcd3d76192e4007dfb496cca67e13b",
            sha256: "71c480df93d6ae2f1efad1447c66c9525e316218cf51fc8d9ed832f2daf18b73",
            sha512_256: "fc3189443f9c268f626aea08a756abe7b726b05f701cb08222312ccfd6710a26"
        ),
        HashVector(
            name: "alphanumerics",
            message: Array(("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").utf8),
            md5: "d174ab98d277d9f5a5611c2c9f419d9f",
            sha256: "db4bfcbd4da0cd85a60c3c37d3fbd8805c77f15fc6b1fdfe614ee0a7c8fdb4c0",
            sha512_256: "cdf1cc0effe26ecc0c13758f7b4a48e000615df241284185c39eb05d355bb9c8"
        ),
        HashVector(
            name: "eight times 1234567890",
            message: Array((String(repeating: "1234567890", count: 8)).utf8),
            md5: "57edf4a22be3c955ac49da2e2107b67a",
            sha256: "f371bc4a311f2b009eef952dd83ca80e2b60026c8e935592d0f9c308453c813e",
            sha512_256: "2c9fdbc0c90bdd87612ee8455474f9044850241dc105b1e8b94b8ddf5fac9148"
        ),
        HashVector(
            name: "NIST 448-bit message",
            message: Array(("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").utf8),
            md5: "8215ef0796a20bcaaae116d3876c664a",
            sha256: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            sha512_256: "bde8e1f9f19bb9fd3406c90ec6bc47bd36d8ada9f11880dbc8a22a7078b6a461"
        ),
        HashVector(
            name: "NIST 896-bit message",
            message: Array(
                ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8),
            md5: "03dd8807a93175fb062dfb55dc7d359c",
            sha256: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
            sha512_256: "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a"
        ),
    ]

    /// Lengths around the padding boundaries: bytes (7 i + 3) mod 256 for i in 0..<length.
    static let boundaryVectors: [HashVector] = [
        HashVector(
            name: "55 bytes", message: hashPatternBytes(55),
            md5: "52c0e574e1198de5fe3f8f11440dcb1b",
            sha256: "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b",
            sha512_256: "8c12c6a555202a2f24eae9d29d5901bf14d8355b08fdd880b962813c30e2e50e"
        ),
        HashVector(
            name: "56 bytes", message: hashPatternBytes(56),
            md5: "46c9907fc908ee68b1e7b8e71286a518",
            sha256: "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27",
            sha512_256: "d8d15e81e95d2c68bde6c76da58ff17930bcc53926ab3fae45d28c420e4f06cd"
        ),
        HashVector(
            name: "57 bytes", message: hashPatternBytes(57),
            md5: "1c805dd236c35cab25fcb1bc73802c51",
            sha256: "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73",
            sha512_256: "81fdca7b4ed1f401486482f78b7217040ccd2dbc202dba8e96165bbcd71184ec"
        ),
        HashVector(
            name: "63 bytes", message: hashPatternBytes(63),
            md5: "a62f6d59e837867693f042f5b8f5a236",
            sha256: "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055",
            sha512_256: "12bbbb739014d2158f881b0d98fe55399980e2f520dcd46fddbb934d6c4b134c"
        ),
        HashVector(
            name: "64 bytes", message: hashPatternBytes(64),
            md5: "7160b8fb5e9e4023d549c3971fbaeead",
            sha256: "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241",
            sha512_256: "f6fd50d9eff545c7d1810c1a6d31428de85a3584d974a3830775fd65fe2cb929"
        ),
        HashVector(
            name: "65 bytes", message: hashPatternBytes(65),
            md5: "70bd662e7aefbda85a0f7244167b7897",
            sha256: "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e",
            sha512_256: "c2e05c6b3e0958dae20472c75f51ee9a85db8cb6793e40446dcda28f27090252"
        ),
        HashVector(
            name: "111 bytes", message: hashPatternBytes(111),
            md5: "13f00cb15f0c3fe588d1c17cde14b38f",
            sha256: "67d9492e628fd376e0b2efec8ca2b99b123e202cf620deb270728df979b2f73e",
            sha512_256: "32889a63b00e93a91df09b4292875c8e9ea2d30e482b2f5ab713396275e9378b"
        ),
        HashVector(
            name: "112 bytes", message: hashPatternBytes(112),
            md5: "5fe6a9f76b541ec645559589da9a088a",
            sha256: "96b928cff8528dbb99602c709a65b846cb6467acb8b722f0d758e4dc27bfc508",
            sha512_256: "468a00c6f938065156bfddf56b22592f569052587264673bc893e92cd1953953"
        ),
        HashVector(
            name: "113 bytes", message: hashPatternBytes(113),
            md5: "d4be13fd3019b6e959e11ff06e5671ae",
            sha256: "cded73eed7df41eecd1ead825a38ca8763a9e910d5181c8ad8f201cc8ff2cbe4",
            sha512_256: "0a4f8ecb061610ba8fa2bf8ad1e8928dd76c18d1bfde92d2a9ce469e4d5cc973"
        ),
        HashVector(
            name: "127 bytes", message: hashPatternBytes(127),
            md5: "acce2474d6cc8302120d09c818d17ef7",
            sha256: "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07",
            sha512_256: "b7c1bcb3d1d523364187e023ee03210674ee05a8fd54d40aad07ecf6bdfe4c8c"
        ),
        HashVector(
            name: "128 bytes", message: hashPatternBytes(128),
            md5: "10b2da1a82f16d99a81a7203fe9f02cb",
            sha256: "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6",
            sha512_256: "5e14bd0208397b56f5f1b3afb8e48bfcce3c7312684a46bbe9b210503680e547"
        ),
        HashVector(
            name: "129 bytes", message: hashPatternBytes(129),
            md5: "03fefbbcebe2959cf2270241aafe0250",
            sha256: "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4",
            sha512_256: "6c92b5cdba34ee8137d902ba15d4f6246bb2a07c0fef5a0fa536bc8d8db0390f"
        ),
    ]
}

@Suite("Hash functions (RFC 1321, FIPS 180-4)")
struct HashTests {
    @Test("RFC 1321 A.5 test suite and FIPS/NIST vectors", arguments: HashVectors.textVectors)
    func knownVectors(_ vector: HashVector) {
        #expect(MD5.hexDigest(vector.message) == vector.md5)
        #expect(SHA256.hexDigest(vector.message) == vector.sha256)
        #expect(SHA512_256.hexDigest(vector.message) == vector.sha512_256)
    }

    @Test("lengths around the 55/56/64 and 111/112/128 padding boundaries", arguments: HashVectors.boundaryVectors)
    func paddingBoundaries(_ vector: HashVector) {
        #expect(MD5.hexDigest(vector.message) == vector.md5)
        #expect(SHA256.hexDigest(vector.message) == vector.sha256)
        #expect(SHA512_256.hexDigest(vector.message) == vector.sha512_256)
    }

    @Test("streaming in uneven pieces gives the one-shot digest", arguments: HashVectors.boundaryVectors)
    func streaming(_ vector: HashVector) {
        for pieces in [[1], [3, 61], [63, 2, 64], [127, 1, 200]] {
            #expect(hashStreamedDigest(MD5.self, vector.message, pieces: pieces) == vector.md5)
            #expect(hashStreamedDigest(SHA256.self, vector.message, pieces: pieces) == vector.sha256)
            #expect(hashStreamedDigest(SHA512_256.self, vector.message, pieces: pieces) == vector.sha512_256)
        }
    }

    @Test("one million 'a' (FIPS 180-4 long message, RFC 1321 style)")
    func millionA() {
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        var md5 = MD5()
        var sha256 = SHA256()
        var sha512_256 = SHA512_256()
        for _ in 0..<1000 {
            md5.update(chunk)
            sha256.update(chunk)
            sha512_256.update(chunk)
        }
        #expect(HashEncoding.lowercaseHex(md5.finalize()) == "7707d6ae4e027c70eea2a935c2296f21")
        #expect(
            HashEncoding.lowercaseHex(sha256.finalize())
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(
            HashEncoding.lowercaseHex(sha512_256.finalize())
                == "9a59a052930187a97038cae692f30708aa6491923ef5194394dc68d56c74fb21")
    }

    @Test("SHA-512 itself: FIPS 180-4 'abc', empty and 896-bit vectors")
    func sha512() {
        #expect(
            SHA512.hexDigest("abc")
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(
            SHA512.hexDigest("")
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        #expect(
            SHA512.hexDigest(HashVectors.textVectors[8].message)
                == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
                + "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
    }

    @Test("finalize resets the hash so the value can be reused")
    func finalizeResets() {
        var md5 = MD5()
        md5.update("abc")
        #expect(HashEncoding.lowercaseHex(md5.finalize()) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(HashEncoding.lowercaseHex(md5.finalize()) == "d41d8cd98f00b204e9800998ecf8427e")
        var sha = SHA256()
        sha.update("a")
        _ = sha.finalize()
        sha.update("abc")
        #expect(
            HashEncoding.lowercaseHex(sha.finalize())
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("hex is lowercase, two digits per byte; digests have the declared size")
    func hexAndSizes() {
        #expect(HashEncoding.lowercaseHex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(HashEncoding.lowercaseHex([]) == "")
        #expect(MD5.hash("x").count == MD5.outputByteCount)
        #expect(SHA256.hash("x").count == SHA256.outputByteCount)
        #expect(SHA512_256.hash("x").count == SHA512_256.outputByteCount)
        #expect(SHA512.hash("x").count == SHA512.outputByteCount)
    }
}
