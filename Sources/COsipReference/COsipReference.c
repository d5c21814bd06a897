#include "COsipReference.h"

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
#include <stdlib.h>
#include <time.h>

static int initialized;

int64_t osip_reference_parse_serialize(const uint8_t *message, size_t length, int iterations,
                                       size_t *serialized_length) {
    if (!initialized) {
        parser_init();
        initialized = 1;
    }
    *serialized_length = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < iterations; i++) {
        osip_message_t *sip = NULL;
        if (osip_message_init(&sip) != 0) return -1;
        if (osip_message_parse(sip, (const char *)message, length) != 0) {
            osip_message_free(sip);
            return -1;
        }
        char *text = NULL;
        size_t text_length = 0;
        if (osip_message_to_str(sip, &text, &text_length) != 0) {
            osip_message_free(sip);
            return -1;
        }
        *serialized_length = text_length;
        osip_free(text);
        osip_message_free(sip);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    return (int64_t)(end.tv_sec - start.tv_sec) * 1000000000 + (end.tv_nsec - start.tv_nsec);
}

const char *osip_reference_version(void) { return "libosip2 5.3 (Debian libosip2-dev)"; }
