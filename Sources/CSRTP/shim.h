// CSRTP: libsrtp2 (pkg-config `libsrtp2`) as a system-library module: SRTP and SRTCP
// (RFC 3711) for the voice path, keyed by SDES (RFC 4568).
#pragma once
#include <srtp2/srtp.h>
