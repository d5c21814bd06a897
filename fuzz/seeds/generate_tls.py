#!/usr/bin/env python3
"""Writes the seeds of the `tls` fuzz target into fuzz/seeds/tls/: real TLS 1.2 server flights
(ServerHello .. ServerHelloDone) from Python's ssl module in memory, with a throw-away EC and RSA
certificate made by the openssl CLI, each prefixed by the split byte the target reads first
(Tools/deskphone-fuzz/FuzzTLS.swift). The files are committed; rerun only to change them."""
import os
import ssl
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tls")


def flight(cert, key, cipher):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.maximum_version = ssl.TLSVersion.TLSv1_2
    server.set_ciphers(cipher)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname="pbx.test")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    try:
        c.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s_in.write(c_out.read())
    try:
        s.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return s_out.read()


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, args, cipher in [
            ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "ECDHE-ECDSA-AES128-GCM-SHA256"),
            ("rsa", ["-newkey", "rsa:2048"], "ECDHE-RSA-CHACHA20-POLY1305"),
        ]:
            cert, key = os.path.join(tmp, kind + ".pem"), os.path.join(tmp, kind + ".key")
            subprocess.run(["openssl", "req", "-x509", "-nodes", *args, "-keyout", key, "-out", cert,
                            "-subj", "/CN=pbx.test", "-days", "30"], check=True, capture_output=True)
            data = flight(cert, key, cipher)
            for split in (0, 5, 60):
                with open(os.path.join(OUT, f"server-flight-{kind}-split{split}"), "wb") as f:
                    f.write(bytes([split]) + data)
    # A fatal handshake_failure alert, and a record with a bad length.
    with open(os.path.join(OUT, "alert-handshake-failure"), "wb") as f:
        f.write(bytes([0, 21, 3, 3, 0, 2, 2, 40]))
    with open(os.path.join(OUT, "bad-length"), "wb") as f:
        f.write(bytes([3, 22, 3, 3, 0xff, 0xff, 2, 0, 0]))


if __name__ == "__main__":
    main()
