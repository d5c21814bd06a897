// The libFuzzer entry for STUN datagrams (Tools/deskphone-fuzz, scripts/fuzz.sh). It traps
// (`fatalError`) only on a broken invariant, never on bad input.

import Net

/// The input as a STUN datagram: what parses has a 12-byte transaction id, and a binding success
/// response built from it (its id, its mapped address) parses back to the same id and address.
public func stunFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    guard let message = try? STUNMessage.parse(Array(bytes)) else { return }
    if message.transactionID.count != 12 {
        fatalError("STUN: a transaction id of " + String(message.transactionID.count))
    }
    guard let mapped = message.mapped else { return }
    let again = try? STUNMessage.parse(STUNMessage.bindingSuccess(transactionID: message.transactionID, mapped: mapped))
    if again?.mapped != mapped || again?.transactionID != message.transactionID {
        fatalError("STUN: the mapped address " + mapped.description + " does not round-trip")
    }
}
