// Host-only reference for the SIP parser benchmark: libosip2 (Debian libosip2-dev) parsing
// and re-serializing the same message as deskphone's parser, timed in C.
#ifndef COSIP_REFERENCE_H
#define COSIP_REFERENCE_H
#include <stddef.h>
#include <stdint.h>

/// Parses `message` (`length` bytes) and serializes it again, `iterations` times, with
/// libosip2's osip_message_parse / osip_message_to_str. Returns the elapsed monotonic
/// nanoseconds, or -1 when libosip2 cannot parse the message. `serialized_length` receives
/// the length of the last serialization (0 on failure).
int64_t osip_reference_parse_serialize(const uint8_t *message, size_t length, int iterations,
                                       size_t *serialized_length);

/// The libosip2 version string this was built against.
const char *osip_reference_version(void);

#endif
