// Linked into the firmware only (toolchain/build-firmware.py), never into host builds: strong
// definitions that replace the Embedded Swift runtime's weak ones for the toolchain's bugs.
//
// swift_bridgeObjectRetain / swift_bridgeObjectRetain_n (64-bit): this toolchain's Embedded
// runtime returns the object with its tag bits masked off (`object & 0x8FFF_FFFF_FFFF_FFF8`)
// instead of the object itself. The compiler may use the returned value in place of its
// argument (the runtime promises to return what it was given), so a small String's second
// word (its bytes 8-15, discriminator 0xE?) comes back with bits 1, 2, 61 and 62 cleared:
// the String is then read as a large native string at a wild address. On aarch64 this
// crashed the firmware in its first call (PhoneLogic stores a call's party string with the
// retain's result; `LCDState ==` then read it). Fixed upstream in swiftlang/swift#91151
// ("[Embedded] Don't corrupt the pointer returned from swift_bridgeObjectRetain_n");
// remove this file when the toolchain has that fix. 32-bit targets mask nothing off.

#include <stdint.h>

#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu

void *swift_retain_n(void *object, uint32_t n);

// The runtime's own constants (64-bit): bit 63 marks an immortal or non-pointer (small
// String) value; the rest of the mask drops the tag bits to reach the heap object.
#define IMMORTAL_OR_UNTAGGED_BIT ((uintptr_t)0x8000000000000000u)
#define BRIDGE_OBJECT_TO_PLAIN_MASK ((uintptr_t)0x8FFFFFFFFFFFFFF8u)

void *swift_bridgeObjectRetain_n(void *object, uint32_t n) {
    uintptr_t bits = (uintptr_t)object;
    if (bits & IMMORTAL_OR_UNTAGGED_BIT) return object;
    uintptr_t plain = bits & BRIDGE_OBJECT_TO_PLAIN_MASK;
    if (plain != 0) swift_retain_n((void *)plain, n);
    return object;  // the tagged value, as given
}

void *swift_bridgeObjectRetain(void *object) { return swift_bridgeObjectRetain_n(object, 1); }

#endif
