// Recording: the record key of a desk phone (the admin guide's "Record" and "URL Record" line
// keys, ../shared/reference): it asks the server to start or stop recording a call, by a SIP
// INFO with `Record: on|off` in the call's dialog or by an HTTP GET to a configured URL, and
// shows on the LED and LCD what the server made of it. The phone stores no audio.

/// The module's version string for the User-Agent of URL record requests.
public enum Recording {
    public static let userAgentProduct = "deskphone"
}
