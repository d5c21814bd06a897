#!/usr/bin/env python3
"""Writes the RFC 4475 and RFC 5118 torture messages as byte-exact .dat fixtures (see README.md)."""
import hashlib
CRLF = b"\r\n"
def msg(lines, body=b""):
    return CRLF.join(l if isinstance(l, bytes) else l.encode() for l in lines) + CRLF + CRLF + body
def lines(*ls):
    return CRLF.join(l if isinstance(l, bytes) else l.encode() for l in ls) + CRLF

SDP = lambda ip1, ip2: lines("v=0", f"o=mhandley 29739 7272939 IN IP4 {ip1}", "s=-", f"c=IN IP4 {ip2}", "t=0 0",
                              "m=audio 49217 RTP/AVP 0 12", "m=video 3227 RTP/AVP 31", "a=rtpmap:31 LPC")
V = {}
V["wsinv"] = msg([
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
    "TO :",
    " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
    'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
    "  ;",
    "  tag = 98asjd8",
    "MaX-fOrWaRdS: 0068",
    "Call-ID: wsinv.ndaksdj@192.0.2.1",
    "Content-Length   : 150",
    "cseq: 0009",
    "  INVITE",
    "Via  : SIP  /   2.0",
    " /UDP",
    "    192.0.2.2;branch=390skdjuw",
    "s :",
    "NewFangledHeader:   newfangled value",
    " continued newfangled value",
    "UnknownHeaderWithUnusualValue: ;;,,;;,;",
    "Content-Type: application/sdp",
    "Route:",
    " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
    "  branch  =   z9hG4bK9ikj8  ,",
    " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
    " z9hG4bK30239",
    'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
    "      newvalue ;",
    "  secondparam ; q = 0.33",
], SDP("192.0.2.3", "192.0.2.4"))

V["intmeth"] = msg([
    b"!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
    b"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
    b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
    b"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\xD1\x80\xD0\xB0\xD0\xB1\xD0\xBE\xD1\x82\xD0\xB0\xD1\x8E\xD1\x89\xD0\xB8\xD0\xB9\";tag=_token~1'+`*%!-.",
    b"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
    b"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
    b"Max-Forwards: 255",
    b"extensionHeader-!.%*+_`'~:\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB",
    b"Content-Length: 0",
])

V["esc01"] = msg([
    "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
    "To: sip:%75se%72@example.com",
    "From: <sip:I%20have%20spaces@example.net>;tag=938",
    "Max-Forwards: 87",
    "i: esc01.239409asdfakjkn23onasd0-3234",
    "CSeq: 234234 INVITE",
    "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw",
    "C: application/sdp",
    "Contact:",
    "  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
    "Content-Length: 150",
], SDP("192.0.2.1", "192.0.2.1"))

V["escnull"] = msg([
    "REGISTER sip:example.com SIP/2.0",
    "To: sip:null-%00-null@example.com",
    "From: sip:null-%00-null@example.com;tag=839923423",
    "Max-Forwards: 70",
    "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
    "CSeq: 14398234 REGISTER",
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw",
    "Contact: <sip:%00@host5.example.com>",
    "Contact: <sip:%00%00@host5.example.com>",
    "L:0",
])

V["esc02"] = msg([
    "RE%47IST%45R sip:registrar.example.com SIP/2.0",
    'To: "%Z%45" <sip:resource@example.com>',
    'From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23',
    "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
    "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234",
    "CSeq: 29344 RE%47IST%45R",
    "Max-Forwards: 70",
    "Contact: <sip:alias1@host1.example.com>",
    "C%6Fntact: <sip:alias2@host2.example.com>",
    "Contact: <sip:alias3@host3.example.com>",
    "l: 0",
])

V["lwsdisp"] = msg([
    "OPTIONS sip:user@example.com SIP/2.0",
    "To: sip:user@example.com",
    "From: caller<sip:caller@example.com>;tag=323",
    "Max-Forwards: 70",
    "Call-ID: lwsdisp.1234abcd@funky.example.com",
    "CSeq: 60 OPTIONS",
    "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw",
    "l: 0",
])

ext = "extreme" * 10
V["longreq"] = msg([
    'To: "I have a user name of ' + ext + ' proportion"<sip:user@example.com:6000;unknownparam1=very' + "long" * 20 + 'value;longparam' + "name" * 25 + '=shortvalue;very' + "long" * 25 + 'ParameterNameWithNoValue>',
    "F: sip:" + "amazinglylongcallername" * 5 + "@example.net;tag=12" + "982" * 50 + "424;unknownheaderparam" + "name" * 20 + "=unknowheaderparam" + "value" * 15 + ";unknownValueless" + "paramname" * 10,
    "Call-ID: longreq.one" + "really" * 20 + "longcallid",
    "CSeq: 3882340 INVITE",
    "Unknown-" + "Long" * 20 + "-Name: unknown-" + "long" * 20 + "-value; unknown-" + "long" * 20 + "-parameter-name = unknown-" + "long" * 20 + "-parameter-value",
    "Via: SIP/2.0/TCP sip33.example.com",
    "v: SIP/2.0/TCP sip32.example.com",
    "V: SIP/2.0/TCP sip31.example.com",
    "Via: SIP/2.0/TCP sip30.example.com",
    "ViA: SIP/2.0/TCP sip29.example.com",
    "VIa: SIP/2.0/TCP sip28.example.com",
    "VIA: SIP/2.0/TCP sip27.example.com",
    "via: SIP/2.0/TCP sip26.example.com",
    "viA: SIP/2.0/TCP sip25.example.com",
    "vIa: SIP/2.0/TCP sip24.example.com",
    "vIA: SIP/2.0/TCP sip23.example.com",
    "V :  SIP/2.0/TCP sip22.example.com",
    "v :  SIP/2.0/TCP sip21.example.com",
    "V  : SIP/2.0/TCP sip20.example.com",
    "v  : SIP/2.0/TCP sip19.example.com",
    "Via : SIP/2.0/TCP sip18.example.com",
    "Via  : SIP/2.0/TCP sip17.example.com",
] + [f"Via: SIP/2.0/TCP sip{n}.example.com" for n in range(16, 0, -1)] + [
    "Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very" + "long" * 50 + "branchvalue",
    "Max-Forwards: 70",
    "Contact: <sip:" + "amazinglylongcallername" * 5 + "@host5.example.net>",
    "Content-Type: application/sdp",
    "l: 150",
], SDP("192.0.2.1", "192.0.2.1"))
V["longreq"] = b"INVITE sip:user@example.com SIP/2.0\r\n" + V["longreq"]

V["dblreq"] = msg([
    "REGISTER sip:example.com SIP/2.0",
    "To: sip:j.user@example.com",
    "From: sip:j.user@example.com;tag=43251j3j324",
    "Max-Forwards: 8",
    "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412",
    "Contact: sip:j.user@host.example.com",
    "CSeq: 8 REGISTER",
    "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492",
    "Content-Length: 0",
]) + CRLF + msg([
    "INVITE sip:joe@example.com SIP/2.0",
    "t: sip:joe@example.com",
    "From: sip:caller@example.net;tag=141334",
    "Max-Forwards: 8",
    "Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15",
    "CSeq: 8 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234",
    "Content-Type: application/sdp",
    "Content-Length: 150",
], lines("v=0", "o=mhandley 29739 7272939 IN IP4 192.0.2.15", "s=-", "c=IN IP4 192.0.2.15", "t=0 0",
         "m=audio 49217 RTP/AVP 0 12", "m =video 3227 RTP/AVP 31", "a=rtpmap:31 LPC") + CRLF)

V["semiuri"] = msg([
    "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
    "To: sip:j_user@example.com",
    "From: sip:caller@example.org;tag=33242",
    "Max-Forwards: 3",
    "Call-ID: semiuri.0ha0isndaksdj",
    "CSeq: 8 OPTIONS",
    "Accept: application/sdp, application/pkcs7-mime,",
    "        multipart/mixed, multipart/signed,",
    "        message/sip, message/sipfrag",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw",
    "l: 0",
])

V["transports"] = msg([
    "OPTIONS sip:user@example.com SIP/2.0",
    "To: sip:user@example.com",
    "From: <sip:caller@example.com>;tag=323",
    "Max-Forwards: 70",
    "Call-ID:  transports.kijh4akdnaqjkwendsasfdj",
    "Accept: application/sdp",
    "CSeq: 60 OPTIONS",
    "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
    "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
    "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
    "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
    "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
    "l: 0",
])

der = bytes.fromhex(
    "3082015206092A86"
    "4886F70D010702A08201433082013F02" "0101310930070605 2B0E03021A300B06"
    "092A864886F70D0107013182012030 82" "011C020101307C3070310B3009060355"
    "040613025553311330110603550408 13" "0A43616C69666F726E69613111300F06"
    "03550407130853616E204A6F7365310E" "300C060355040A13057369706974 3129"
    "3027060355040B132053697069742054" "65737420436572746966696361746520"
    "417574686F72697479020801950071 02" "330113300706052B0E03021A300D0609"
    "2A864886F70D0101010500048180 8EF4" "66F948F0522DD2E5978E9D95AAE9F2FE"
    "15A06659716292E8DA2AA8D8350A68CE" "FFAE3CBD2BFF1675DDD5648E593DD647"
    "28F26220F7E941749E330D9A15EDABDB" "93D10C42102E7B7289D29CC0C9AE2EFB"
    "C7C0CFF9172F3B027E4FC027E1546DE4" "B6AA3ABB3E66CCCB5DD6C64B8383149C"
    "B8E6FF182D944FE57B65BC99D005".replace(" ", ""))
V["mpart01"] = msg([
    "MESSAGE sip:kumiko@example.org SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport",
    "Max-Forwards: 70",
    "Route: <sip:127.0.0.1:5080>",
    "Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=",
    "Contact: <sip:fluffy@127.0.0.1:5070>",
    "To: <sip:kumiko@example.org>",
    "From: <sip:fluffy@example.com>;tag=2fb0dcc9",
    "Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
    "CSeq: 1 MESSAGE",
    "Content-Transfer-Encoding: binary",
    "Content-Type: multipart/mixed;boundary=7a9cbec02ceef655",
    "Date: Sat, 15 Oct 2005 04:44:56 GMT",
    "User-Agent: SIPimp.org/0.2.5 (curses)",
    "Content-Length: 553",
], lines("--7a9cbec02ceef655", "Content-Type: text/plain", "Content-Transfer-Encoding: binary", "", "Hello",
         "--7a9cbec02ceef655", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: binary", "")
   + der + b"\r\n--7a9cbec02ceef655--\r\n")

reason = bytes.fromhex("D0BDD0BE20D181D182D0BE20D0B4D0B5D0B2D18FD0BDD0BED181D182D0BE20D0B4D0B5D0B2D18FD182D18C202D20D0BFD180D0BED181D182D0BED0B5")
V["unreason"] = msg([
    b"SIP/2.0 200 = 2**3 * 5**2 " + reason,
    "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
    "Call-ID: unreason.1234ksdfak3j2erwedfsASdf",
    "CSeq: 35 INVITE",
    "From: sip:user@example.com;tag=11141343",
    "To: sip:user@example.edu;tag=2229",
    "Content-Length: 154",
    "Content-Type: application/sdp",
    "Contact: <sip:user@host198.example.com>",
], SDP("192.0.2.198", "192.0.2.198"))

V["noreason"] = msg([
    "SIP/2.0 100 ",
    "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
    "Call-ID: noreason.asndj203insdf99223ndf",
    "CSeq: 35 INVITE",
    "From: <sip:user@example.com>;tag=39ansfi3",
    "To: <sip:user@example.edu>;tag=902jndnke3",
    "Content-Length: 0",
    "Contact: <sip:user@host105.example.com>",
])

HASH = {
 "wsinv": "d6f6cdee99cd0a1f8e3d9a0fdd67c877700e19ab86d8186dada06f61260e3e61",
 "intmeth": "b957a8292c1c0a9851fe94705b90f94320738f43aacde64998e401f742ef688d",
 "esc01": "be3a316d4ce5f69cad474646191e390dd4b50fc8371e44b5197fe1237781973e",
 "escnull": "263fe2ecd12a5ccbb6c67b3174e9211d11da9b600e7d69666a86d2ee42873e90",
 "esc02": "9a9c59449f00327b02071feafc8e5c2a261c98c818044167894cc17809a12199",
 "lwsdisp": "d1b36b6316c12824f6f04bf6b1fd1f021cade9b74871693b9c3474cd9fa7f4e6",
 "longreq": "185739292bc676760e5b1cca77c87705aa570240171c506ad76f8c35af0ecdaa",
 "dblreq": "a6be48426565c2a705389c4ce2ea17e57b891cb13f80490a2cb9392c797b46ef",
 "semiuri": "87bbaed6b4b354dbd3c5c7a20e66686303c63e43a0aa19b89de1ac75231611a2",
 "transports": "33b4553a3b9418121b099ff07882535151edd6a1e81898c63a916aad2cbf90bc",
 "mpart01": "92147c8e24997bac59629e1b163767697d0d6d499af87f89e325d69968bec3ba",
 "unreason": "4f939d6ebf4817eea70f011d3209e83732872ffc20ffd304b244084dc392f4d7",
 "noreason": "07e11e470a69fffa3674de805e5165d1351a9439a91045ee70c9570ea24ab4fe",
}

# RFC 4475 §3.1.2: invalid messages (reconstructed from the RFC text; no published hashes).
I = {}
I["badinv01"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    "To: sip:j.user@example.com",
    "From: sip:caller@example.net;tag=134161461246",
    "Max-Forwards: 7",
    "Call-ID: badinv01.0ha0isndaksdjasdf3234nas",
    "CSeq: 8 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.15;;,;,,",
    'Contact: "Joe" <sip:joe@example.org>;;;;',
    "Content-Length: 152",
    "Content-Type: application/sdp",
], SDP("192.0.2.15", "192.0.2.15"))
I["clerr"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    "Max-Forwards: 80",
    "To: sip:j.user@example.com",
    "From: sip:caller@example.net;tag=93942939o2",
    "Contact: <sip:caller@hungry.example.net>",
    "Call-ID: clerr.0ha0isndaksdjweiafasdk3",
    "CSeq: 8 INVITE",
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523",
    "Content-Type: application/sdp",
    "Content-Length: 9999",
], SDP("192.0.2.155", "192.0.2.155"))
I["ncl"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    "Max-Forwards: 254",
    "To: sip:j.user@example.com",
    "From: sip:caller@example.net;tag=32394234",
    "Call-ID: ncl.0ha0isndaksdj2193423r542w35",
    "CSeq: 0 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw",
    "Contact: <sip:caller@example53.example.net>",
    "Content-Type: application/sdp",
    "Content-Length: -999",
], SDP("192.0.2.53", "192.0.2.53"))
I["scalar02"] = msg([
    "REGISTER sip:example.com SIP/2.0",
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3",
    "To: <sip:user@example.com>",
    "From: <sip:user@example.com>;tag=239232jh3",
    "CSeq: 36893488147419103232 REGISTER",
    "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
    "Max-Forwards: 300",
    "Expires: 1" + "0" * 100,
    "Contact: <sip:user@host129.example.com>",
    "  ;expires=280297596632815",
    "Content-Length: 0",
])
I["scalarlg"] = msg([
    "SIP/2.0 503 Service Unavailable",
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129",
    "To: <sip:user@example.com>",
    "From: <sip:other@example.net>;tag=2easdjfejw",
    "CSeq: 9292394834772304023312 OPTIONS",
    "Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r",
    "Retry-After: 949302838503028349304023988",
    'Warning: 1812 overture "In Progress"',
    "Content-Length: 0",
])
I["quotbal"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    'To: "Mr. J. User <sip:j.user@example.com>',
    "From: sip:caller@example.net;tag=93334",
    "Max-Forwards: 10",
    "Call-ID: quotbal.aksdj",
    "Contact: <sip:caller@host59.example.net>",
    "CSeq: 8 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234",
    "Content-Type: application/sdp",
    "Content-Length: 152",
], SDP("192.0.2.15", "192.0.2.15"))
SDP159 = lambda ip: lines("v=0", f"o=mhandley 29739 7272939 IN IP4 {ip}", "s=-", f"c=IN IP4 {ip}", "t=3149328700 0",
                          "m=audio 49217 RTP/AVP 0 12", "m=video 3227 RTP/AVP 31", "a=rtpmap:31 LPC")
I["ltgtruri"] = msg([
    "INVITE <sip:user@example.com> SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:caller@example.net;tag=39291",
    "Max-Forwards: 23",
    "Call-ID: ltgtruri.1@192.0.2.5",
    "CSeq: 1 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.5",
    "Contact: <sip:caller@host5.example.net>",
    "Content-Type: application/sdp",
    "Content-Length: 159",
], SDP159("192.0.2.5"))
I["lwsruri"] = msg([
    "INVITE sip:user@example.com; lr SIP/2.0",
    "To: sip:user@example.com;tag=3xfe-9921883-z9f",
    "From: sip:caller@example.net;tag=231413434",
    "Max-Forwards: 5",
    "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423",
    "CSeq: 2130706432 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395",
    "Contact: <sip:caller@host1.example.net>",
    "Content-Type: application/sdp",
    "Content-Length: 159",
], SDP159("192.0.2.1"))
I["lwsstart"] = msg([
    "INVITE  sip:user@example.com  SIP/2.0",
    "Max-Forwards: 8",
    "To: sip:user@example.com",
    "From: sip:caller@example.net;tag=8814",
    "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com",
    "CSeq: 1893884 INVITE",
    "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923",
    "Contact: <sip:caller@host1.example.net>",
    "Content-Type: application/sdp",
    "Content-Length: 150",
], SDP("192.0.2.1", "192.0.2.1"))
I["trws"] = msg([
    "OPTIONS sip:remote-target@example.com SIP/2.0  ",
    "Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093",
    "To: <sip:remote-target@example.com>",
    "From: <sip:local-resource@example.com>;tag=329429089",
    "Call-ID: trws.oicu34958239neffasdhr2345r",
    "Accept: application/sdp",
    "CSeq: 238923 OPTIONS",
    "Max-Forwards: 70",
    "Content-Length: 0",
])
I["escruri"] = msg([
    "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:caller@example.net;tag=341518",
    "Max-Forwards: 7",
    "Contact: <sip:caller@host39923.example.net>",
    "Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
    "CSeq: 149209342 INVITE",
    "Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw",
    "Content-Type: application/sdp",
    "Content-Length: 150",
], SDP("192.0.2.1", "192.0.2.1"))
I["baddate"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:caller@example.net;tag=2234923",
    "Max-Forwards: 70",
    "Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234",
    "CSeq: 1392934 INVITE",
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw",
    "Date: Fri, 01 Jan 2010 16:00:00 EST",
    "Contact: <sip:caller@host5.example.net>",
    "Content-Type: application/sdp",
    "Content-Length: 150",
], SDP("192.0.2.5", "192.0.2.5"))
I["regbadct"] = msg([
    "REGISTER sip:example.com SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:user@example.com;tag=998332",
    "Max-Forwards: 70",
    "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1",
    "CSeq: 1 REGISTER",
    "Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw",
    "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E",
    "l: 0",
])
I["badaspec"] = msg([
    "OPTIONS sip:user@example.org SIP/2.0",
    "Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234",
    "Max-Forwards: 70",
    'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423',
    'To: "Watson, Thomas" < sip:t.watson@example.org >',
    "Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3",
    "Accept: application/sdp",
    "CSeq: 3923239 OPTIONS",
    "l: 0",
])
I["baddn"] = msg([
    "OPTIONS sip:t.watson@example.org SIP/2.0",
    "Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw",
    "Max-Forwards:      70",
    "From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
    "To:      Watson, Thomas <sip:t.watson@example.org>",
    "Call-ID: baddn.31415@c.example.com",
    "Accept: application/sdp",
    "CSeq:    3923239 OPTIONS",
    "l: 0",
])
I["badvers"] = msg([
    "OPTIONS sip:t.watson@example.org SIP/7.0",
    "Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw",
    "Max-Forwards:     70",
    "From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe",
    "To:      T. Watson <sip:t.watson@example.org>",
    "Call-ID: badvers.31417@c.example.com",
    "CSeq:    1 OPTIONS",
    "l: 0",
])
I["mismatch01"] = msg([
    "OPTIONS sip:user@example.com SIP/2.0",
    "To: sip:j.user@example.com",
    "From: sip:caller@example.net;tag=34525",
    "Max-Forwards: 6",
    "Call-ID: mismatch01.dj0234sxdfl3",
    "CSeq: 8 INVITE",
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw",
    "l: 0",
])
I["mismatch02"] = msg([
    "NEWMETHOD sip:user@example.com SIP/2.0",
    "To: sip:j.user@example.com",
    "From: sip:caller@example.net;tag=34525",
    "Max-Forwards: 6",
    "Call-ID: mismatch02.dj0234sxdfl3",
    "CSeq: 8 INVITE",
    "Contact: <sip:caller@host.example.net>",
    "Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw",
    "Content-Type: application/sdp",
    "l: 138",
], lines("v=0", "o=mhandley 29739 7272939 IN IP4 192.0.2.1", "c=IN IP4 192.0.2.1",
         "m=audio 49217 RTP/AVP 0 12", "m=video 3227 RTP/AVP 31", "a=rtpmap:31 LPC"))
I["bigcode"] = msg([
    "SIP/2.0 4294967301 better not break the receiver",
    "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
    "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i",
    "CSeq: 353494 INVITE",
    "From: <sip:user@example.com>;tag=39ansfi3",
    "To: <sip:user@example.edu>;tag=902jndnke3",
    "Content-Length: 0",
    "Contact: <sip:user@host105.example.com>",
])

# RFC 5118 §4 (IPv6 torture tests), reconstructed from the RFC text.
S = {}
def reg(uri, extra_order_contact_first=False):
    h = [f"REGISTER {uri} SIP/2.0", "To: sip:user@example.com", "From: sip:user@example.com;tag=81x2",
         "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111", "Call-ID: SSG9559905523997077@hlau_4100"]
    if extra_order_contact_first:
        h += ['Contact: "Caller" <sip:caller@[2001:db8::1]>', "Max-Forwards: 70"]
    else:
        h += ["Max-Forwards: 70", 'Contact: "Caller" <sip:caller@[2001:db8::1]>']
    return msg(h + ["CSeq: 98176 REGISTER", "Content-Length: 0"])
S["ipv6-good"] = reg("sip:[2001:db8::10]")
S["ipv6-bad"] = reg("sip:2001:db8::10")
S["port-ambiguous"] = reg("sip:[2001:db8::10:5070]", True)
S["port-unambiguous"] = reg("sip:[2001:db8::10]:5070", True)
S["via-received-param-with-delim"] = msg([
    "BYE sip:[2001:db8::10] SIP/2.0",
    "To: sip:user@example.com;tag=bd76ya",
    "From: sip:user@example.com;tag=81x2",
    "Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111",
    "Call-ID: SSG9559905523997077@hlau_4100",
    "Max-Forwards: 70",
    "CSeq: 321 BYE",
    "Content-Length: 0",
])
S["via-received-param-no-delim"] = msg([
    "OPTIONS sip:[2001:db8::10] SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:user@example.com;tag=81x2",
    "Via: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3",
    "Call-ID: SSG95523997077@hlau_4100",
    "Max-Forwards: 70",
    'Contact: "Caller" <sip:caller@[2001:db8::9:1]>',
    "CSeq: 921 OPTIONS",
    "Content-Length: 0",
])
S["ipv6-in-sdp"] = msg([
    "INVITE sip:user@[2001:db8::10] SIP/2.0",
    "To: sip:user@[2001:db8::10]",
    "From: sip:user@example.com;tag=81x2",
    "Via: SIP/2.0/UDP [2001:db8::20];branch=z9hG4bKas3-111",
    "Call-ID: SSG9559905523997077@hlau_4100",
    'Contact: "Caller" <sip:caller@[2001:db8::20]>',
    "CSeq: 8612 INVITE",
    "Max-Forwards: 70",
    "Content-Type: application/sdp",
    "Content-Length: 268",
], lines("v=0", "o=assistant 971731711378798081 0 IN IP6 2001:db8::20", "s=Live video feed for today's meeting",
         "c=IN IP6 2001:db8::20", "t=3338481189 3370017201", "m=audio 6000 RTP/AVP 2", "a=rtpmap:2 G726-32/8000",
         "m=video 6024 RTP/AVP 107", "a=rtpmap:107 H263-1998/90000"))
S["mult-ip-in-header"] = msg([
    "BYE sip:user@host.example.net SIP/2.0",
    "Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144",
    "Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200",
    "Call-ID: 997077@lau_4100",
    "Max-Forwards: 70",
    "CSeq: 89187 BYE",
    "To: sip:user@example.net;tag=9817--94",
    "From: sip:user@example.com;tag=81x2",
    "Content-Length: 0",
])
S["mult-ip-in-sdp"] = msg([
    "INVITE sip:user@[2001:db8::10] SIP/2.0",
    "To: sip:user@[2001:db8::10]",
    "From: sip:user@example.com;tag=81x2",
    "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111",
    "Call-ID: SSG9559905523997077@hlau_4100",
    'Contact: "Caller" <sip:caller@[2001:db8::9:1]>',
    "Max-Forwards: 70",
    "CSeq: 8912 INVITE",
    "Content-Type: application/sdp",
    "Content-Length: 181",
], lines("v=0", "o=bob 280744730 28977631 IN IP4 host.example.com", "s=", "t=0 0", "m=audio 22334 RTP/AVP 0",
         "c=IN IP4 192.0.2.1", "m=video 6024 RTP/AVP 107", "c=IN IP6 2001:db8::1", "a=rtpmap:107 H263-1998/90000"))
S["ipv4-mapped-ipv6"] = msg([
    "INVITE sip:user@example.com SIP/2.0",
    "To: sip:user@example.com",
    "From: sip:user@east.example.com;tag=81x2",
    "Via: SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19",
    "Via: SIP/2.0/UDP [::ffff:192.0.2.2];branch=z9hG4bKas3-111",
    "Call-ID: SSG9559905523997077@hlau_4100",
    'Contact: "T. desk phone" <sip:ted@[::ffff:192.0.2.2]>',
    "CSeq: 612 INVITE",
    "Max-Forwards: 70",
    "Content-Type: application/sdp",
    "Content-Length: 236",
], lines("v=0", "o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2", "s=Call me soon, please!",
         "c=IN IP6 ::ffff:192.0.2.2", "t=3338481189 3370017201", "m=audio 6000 RTP/AVP 2", "a=rtpmap:2 G726-32/8000",
         "m=video 6024 RTP/AVP 107", "a=rtpmap:107 H263-1998/90000"))
def abnf(addr):
    return msg([
        f"OPTIONS sip:user@[{addr}] SIP/2.0",
        f"To: sip:user@[{addr}]",
        "From: sip:user@example.com;tag=810x2",
        "Via: SIP/2.0/UDP lab1.east.example.com;branch=z9hG4bKas3-111",
        "Call-ID: G9559905523997077@hlau_4100",
        "CSeq: 689 OPTIONS",
        "Max-Forwards: 70",
        "Content-Length: 0",
    ])
S["ipv6-bug-abnf-3-colons"] = abnf("2001:db8:::192.0.2.1")
S["ipv6-correct-abnf-2-colons"] = abnf("2001:db8::192.0.2.1")

if __name__ == "__main__":
    import hashlib, os, sys
    here = os.path.dirname(os.path.abspath(__file__))
    for d, table in (("rfc4475", V), ("rfc4475", I), ("rfc5118", S)):
        os.makedirs(os.path.join(here, d), exist_ok=True)
        for name, data in table.items():
            if table is V and hashlib.sha256(data).hexdigest() != HASH[name]:
                sys.exit(f"{name}: bytes differ from the RFC 4475 archive")
            with open(os.path.join(here, d, name + ".dat"), "wb") as f:
                f.write(data)
    for name, data in list(I.items()) + list(S.items()):
        head, _, body = data.partition(b"\r\n\r\n")
        import re
        m = re.search(rb"\r\n(?:Content-Length|l)\s*:\s*(-?\d+)", head, re.I)
        if m and int(m.group(1)) != len(body):
            print(f"note: {name}: Content-Length {int(m.group(1))}, body {len(body)}")
