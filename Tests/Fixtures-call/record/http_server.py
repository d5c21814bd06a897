#!/usr/bin/env python3
"""URL-record server for scripts/cli-tests-record.sh (stdlib only).
usage: http_server.py PORT LOG ANSWER... ; request N gets ANSWER N (the last one repeats):
`xml:TEXT` = 200 with a <YealinkIPPhoneText> body whose <Text> is TEXT, `404` = 404 Not Found,
`never` = read the request and never answer (the connection stays open for 30 s).
Each request's raw head (request line + headers, as received) is appended to LOG as one JSON line
{"n":N,"request_line":...,"headers":[[name,value],...],"answer":...}; nothing is reinterpreted."""
import json, socketserver, sys, time

port, log_path, answers = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
count = 0


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        global count
        head = []
        while True:
            line = self.rfile.readline(8192)
            if not line or line in (b"\r\n", b"\n"):
                break
            head.append(line.decode("latin-1").rstrip("\r\n"))
        if not head:
            return
        answer = answers[min(count, len(answers) - 1)]
        count += 1
        headers = [h.split(":", 1) for h in head[1:]]
        headers = [[h[0], h[1].strip() if len(h) > 1 else ""] for h in headers]
        with open(log_path, "a") as f:
            f.write(json.dumps({"n": count, "request_line": head[0], "headers": headers,
                                "answer": answer}) + "\n")
        if answer == "never":
            time.sleep(30)
            return
        if answer.startswith("xml:"):
            body = ("<YealinkIPPhoneText><Text>%s</Text></YealinkIPPhoneText>" % answer[4:]).encode()
            status = "200 OK"
        else:
            body = b"not here\n"
            status = answer + " Not Found"
        self.wfile.write(("HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
                          "Connection: close\r\n\r\n" % (status, len(body))).encode() + body)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", port), Handler).serve_forever()
