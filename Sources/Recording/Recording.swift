// Recording: the record key of a desk phone (the "Record" and "URL Record" line keys of vendor
// admin guides; docs/CONFIG.md): it asks the server to start or stop recording a call, by a SIP
// INFO with `Record: on|off` in the call's dialog or by an HTTP GET to a configured URL, and
// shows on the LED and LCD what the server made of it. The phone stores no audio.

import HTTP

/// The module's version string for the User-Agent of URL record requests.
public enum Recording {
    public static let userAgentProduct = "deskphone"
}

extension HTTPClient {
    /// The User-Agent of URL record requests: `deskphone/<firmware> <model> <MAC>`.
    public static func userAgent(firmware: String, model: String, mac: String) -> String {
        Recording.userAgentProduct + "/" + firmware + " " + model + " " + mac
    }
}
