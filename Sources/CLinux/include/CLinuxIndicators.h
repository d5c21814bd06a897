// CLinux additions for the Indicators module (evdev LED events, framebuffer geometry, pwrite).
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// Writes one EV_LED event (`code`, `value` 0/1) followed by SYN_REPORT to an evdev fd (or
/// any fd: tests decode the records from a file), as `struct input_event` records of this
/// build's layout, in one write. Returns bytes written or -errno.
ssize_t cl_write_led_event(int fd, uint16_t code, int32_t value);

/// pwrite(2) of all `len` bytes at `offset` (short writes continued; EINTR retried).
/// Returns `len` or -errno.
ssize_t cl_pwrite_all(int fd, const void *buf, size_t len, int64_t offset);

/// write(2) of all `len` bytes (short writes continued; EINTR retried). Returns `len` or -errno
/// (-EAGAIN when a non-blocking fd is full).
ssize_t cl_write_all(int fd, const void *buf, size_t len);

/// Framebuffer geometry from FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO: visible width and
/// height in pixels, bits per pixel and line length in bytes. Returns 0 or -errno (-ENOTTY
/// for a plain file).
int cl_fb_geometry(int fd, int *width, int *height, int *bpp, int *stride);

/// ftruncate(2). Returns 0 or -errno.
int cl_ftruncate(int fd, int64_t length);
