// Interposes glibc's allocator entry points in the test executable and counts calls per
// thread (a __thread counter, so parallel tests do not disturb each other), forwarding to
// glibc's __libc_* implementations.
#define _GNU_SOURCE
#include "CMallocCounter.h"
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread uint64_t allocations;
static __thread int64_t live;

uint64_t mc_thread_allocations(void) { return allocations; }

int64_t mc_thread_live_blocks(void) { return live; }

void *malloc(size_t size) {
    allocations++;
    void *p = __libc_malloc(size);
    if (p) live++;
    return p;
}

void *calloc(size_t n, size_t size) {
    allocations++;
    void *p = __libc_calloc(n, size);
    if (p) live++;
    return p;
}

void *realloc(void *p, size_t size) {
    allocations++;
    void *q = __libc_realloc(p, size);
    if (!p && q) live++;
    if (p && !q && size == 0) live--;
    return q;
}

void free(void *p) {
    if (p) live--;
    __libc_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    allocations++;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    live++;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    allocations++;
    void *p = __libc_memalign(alignment, size);
    if (p) live++;
    return p;
}

void *memalign(size_t alignment, size_t size) {
    allocations++;
    void *p = __libc_memalign(alignment, size);
    if (p) live++;
    return p;
}
