import Testing

@testable import Net

/// Option 66 from the lease files of dhclient and of a udhcpc hook (`DHCPLease`).
@Suite("DHCP lease files: option 66")
struct DHCPLeaseTests {
    static func value(_ text: String) -> String? { DHCPLease.tftpServerName(in: Array(text.utf8)) }

    @Test("dhclient: the last lease block's option tftp-server-name")
    func dhclient() {
        let text = """
            lease {
              interface "eth0";
              fixed-address 192.168.1.50;
              option tftp-server-name "192.168.1.10";
            }
            lease {
              interface "eth0";
              option tftp-server-name "http://prov.example.com/phones/";
              renew 1 2026/12/07 18:00:00;
            }
            lease {
              interface "eth0";
              fixed-address 192.168.1.51;
            }

            """
        #expect(Self.value(text) == "http://prov.example.com/phones/")
        #expect(Self.value("lease {\n option tftp-server-name \"a\\\"b\";\n}\n") == "a\"b")
        // Outside a lease block, and an unfinished block, count for nothing.
        #expect(Self.value("option tftp-server-name \"x\";\n") == nil)
        #expect(Self.value("lease {\n option tftp-server-name \"x\";\n") == nil)
        #expect(Self.value("lease {\n option tftp-server-names \"x\";\n}\n") == nil)
    }

    @Test("key=value lines (udhcpc hook): opt66, tftp, tftp_server_name; quoted; the last wins")
    func keyValue() {
        #expect(Self.value("ip=192.0.2.50\nopt66=192.0.2.5\nboot_file=x.cfg\n") == "192.0.2.5")
        #expect(Self.value("export tftp='10.0.0.5:6969'\n") == "10.0.0.5:6969")
        #expect(Self.value("TFTP_SERVER_NAME=\"http://10.0.0.1/prov\"\r\n") == "http://10.0.0.1/prov")
        #expect(Self.value("opt66=a\nopt66=b\n") == "b")
        #expect(Self.value("opt66=\n") == nil)
        #expect(Self.value("opt66=two words\n") == nil)
        #expect(Self.value("opt66=" + String(repeating: "a", count: 256) + "\n") == nil)
        #expect(Self.value("") == nil)
    }

    @Test("the URL: as it is with a scheme, tftp://HOST/ for a bare host")
    func url() {
        #expect(DHCPLease.provisioningURL(optionValue: "192.0.2.5") == "tftp://192.0.2.5/")
        #expect(DHCPLease.provisioningURL(optionValue: "pbx.test:6969/phones/") == "tftp://pbx.test:6969/phones/")
        #expect(DHCPLease.provisioningURL(optionValue: "http://192.0.2.5/p/") == "http://192.0.2.5/p/")
        #expect(DHCPLease.provisioningURL(optionValue: "tftp://h") == "tftp://h")
    }

    @Test("the fuzz entry holds its invariants on the seeds")
    func fuzzEntry() {
        for text in ["opt66='\"x\"'\n", "lease {\noption tftp-server-name \"'\";\n}\n", "tftp=a://b\n"] {
            Array(text.utf8).withUnsafeBytes { dhcpLeaseFuzzEntry($0) }
        }
        #expect(Self.value("opt66='\"x\"'\n") == "\"x\"")
    }
}
