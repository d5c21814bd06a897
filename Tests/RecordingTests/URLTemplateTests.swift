import Testing

@testable import Recording

@Suite("URL record template expansion")
struct URLTemplateTests {
    let variables = RecordURLVariables(
        mac: "001565aabbcc", ip: "192.0.2.7", model: "T46", firmware: "0.1.0", local: "sip:1001@192.0.2.1",
        remote: "sip:2002@192.0.2.1", displayLocal: "Alice", displayRemote: "Bob Smith", callID: "a84b4c76e66710@pc33",
        activeUser: "1001", activeHost: "192.0.2.1")

    @Test("every variable, each value percent-encoded")
    func allVariables() {
        var template = "http://192.0.2.10/r?mac=$mac&ip=$ip&model=$model&fw=$firmware&l=$local&r=$remote"
        template += "&dl=$display_local&dr=$display_remote&id=$call_id&u=$active_user&h=$active_host"
        var expected = "http://192.0.2.10/r?mac=001565aabbcc&ip=192.0.2.7&model=T46&fw=0.1.0&l=sip%3A1001%40192.0.2.1"
        expected += "&r=sip%3A2002%40192.0.2.1&dl=Alice&dr=Bob%20Smith&id=a84b4c76e66710%40pc33&u=1001&h=192.0.2.1"
        #expect(RecordURLTemplate.expand(template, variables) == expected)
    }

    @Test("longest name first: $display_local is not $local after 'display_'; adjacent text stays")
    func longestMatch() {
        #expect(RecordURLTemplate.expand("$display_local/$local", variables) == "Alice/sip%3A1001%40192.0.2.1")
        #expect(RecordURLTemplate.expand("$display_remote$remote", variables) == "Bob%20Smithsip%3A2002%40192.0.2.1")
        #expect(RecordURLTemplate.expand("x$macy", variables) == "x001565aabbccy")
        #expect(RecordURLTemplate.expand("$active_user@$active_host", variables) == "1001@192.0.2.1")
    }

    @Test("unknown $words, a lone $ and $ at the end stay as they are")
    func unknownWords() {
        #expect(
            RecordURLTemplate.expand("http://h/$unknown?a=$&b=$Mac&c=$", variables)
                == "http://h/$unknown?a=$&b=$Mac&c=$")
        #expect(RecordURLTemplate.expand("$display_", variables) == "$display_")
        #expect(RecordURLTemplate.expand("", variables) == "")
    }

    @Test("hostile values cannot add a path segment, parameter, header or request")
    func hostileValues() {
        var hostile = variables
        hostile.displayRemote = "Bob\r\nX-Evil: 1/../?a=b&c#frag%00 +"
        hostile.remote = "sip:x@y HTTP/1.1\r\nHost: evil\r\n\r\nGET /"
        let url = RecordURLTemplate.expand("http://192.0.2.10/rec/$display_remote?r=$remote", hostile)
        var expected = "http://192.0.2.10/rec/Bob%0D%0AX-Evil%3A%201%2F..%2F%3Fa%3Db%26c%23frag%2500%20%2B"
        expected += "?r=sip%3Ax%40y%20HTTP%2F1.1%0D%0AHost%3A%20evil%0D%0A%0D%0AGET%20%2F"
        #expect(url == expected)
        // Only unreserved characters and %XX come from a value.
        let value = RecordURLTemplate.percentEncode("Bob\r\nX-Evil: 1/../?a=b&c")
        let allowed = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._~%".utf8)
        let onlyAllowed = value.utf8.allSatisfy { allowed.contains($0) }
        #expect(onlyAllowed)
    }

    @Test("non-ASCII values are encoded per UTF-8 byte; unreserved kept")
    func unicode() {
        #expect(RecordURLTemplate.percentEncode("Zoë ☎") == "Zo%C3%AB%20%E2%98%8E")
        #expect(RecordURLTemplate.percentEncode("A-z_0.9~") == "A-z_0.9~")
    }
}
