// CMallocCounter: counts heap allocations made by the calling thread, for tests that
// assert a hot path allocates nothing. Test support only; never linked into firmware.
#pragma once
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by
/// the calling thread since it started.
uint64_t mc_thread_allocations(void);

/// Blocks allocated minus blocks freed by the calling thread since it started (a block freed
/// by another thread is not seen): what a soak watches for growth.
int64_t mc_thread_live_blocks(void);
