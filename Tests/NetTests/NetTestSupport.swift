// The shared test support (Tests/Support/TestSupport: runUntil, TestServerError and the record
// server with its DNS stub, RecordHTTPServer), for every file of this target.
@_exported import TestSupport
