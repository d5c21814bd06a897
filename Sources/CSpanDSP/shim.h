// CSpanDSP: spandsp's G.711, G.722 and PLC (host-only: the codec benchmark's reference;
// never linked into firmware).
#pragma once
#include <stdint.h>
#include <inttypes.h>
#include <stdbool.h>
#include <spandsp/telephony.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/plc.h>
