// CLinux: the small slice of libc and Linux that the firmware uses.
//
// Embedded Swift cannot import Glibc, so every firmware module reaches the kernel through
// this header. Functions named `cl_*` wrap calls whose C form Swift cannot import (variadic
// calls, macros such as errno, packed structs such as epoll_event on x86_64) and report
// failure as a negative errno value instead of -1 plus errno, so no caller ever reads a
// stale errno.
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <linux/input.h>

// MARK: errno

/// The calling thread's errno (a macro in C, so not importable directly).
int cl_errno(void);
/// The message text of an errno value (strerror), never NULL.
const char *cl_strerror(int err);
/// The symbolic name of an errno value ("EBADF"), or NULL if unknown.
const char *cl_errno_name(int err);

// MARK: time and randomness

/// CLOCK_MONOTONIC in nanoseconds.
int64_t cl_monotonic_ns(void);
/// CLOCK_REALTIME in nanoseconds since the epoch.
int64_t cl_realtime_ns(void);
/// Fills `buf` from getrandom(2). Returns bytes written or -errno.
ssize_t cl_getrandom(void *buf, size_t len);

// MARK: file descriptors

ssize_t cl_read(int fd, void *buf, size_t len);
ssize_t cl_write(int fd, const void *buf, size_t len);
int cl_close(int fd);
/// pipe2(O_NONBLOCK | O_CLOEXEC). Returns 0 or -errno.
int cl_pipe(int fds[2]);
/// Sets or clears O_NONBLOCK. Returns 0 or -errno.
int cl_set_nonblocking(int fd, int on);
/// open(2) with flags (O_CLOEXEC added). Returns the fd or -errno.
int cl_open(const char *path, int flags, int mode);
/// dup(2). Returns the new fd or -errno.
int cl_dup(int fd);
/// fsync(2). Returns 0 or -errno.
int cl_fsync(int fd);
/// rename(2): replaces `to` atomically. Returns 0 or -errno.
int cl_rename(const char *from, const char *to);
/// mkdir(2); an existing directory is not an error. Returns 0 or -errno.
int cl_mkdir(const char *path, int mode);

// MARK: epoll

/// One ready descriptor as reported by epoll_wait, in a layout that is the same on every
/// architecture (the kernel's struct is packed on x86_64 only).
typedef struct cl_ready_event {
    uint32_t events;
    uint32_t reserved;
    uint64_t data;
} cl_ready_event;

enum {
    CL_EPOLLIN = 0x001,
    CL_EPOLLPRI = 0x002,
    CL_EPOLLOUT = 0x004,
    CL_EPOLLERR = 0x008,
    CL_EPOLLHUP = 0x010,
    CL_EPOLLRDHUP = 0x2000,
};

enum { CL_EPOLL_CTL_ADD = 1, CL_EPOLL_CTL_DEL = 2, CL_EPOLL_CTL_MOD = 3 };

/// epoll_create1(EPOLL_CLOEXEC). Returns the fd or -errno.
int cl_epoll_create(void);
/// epoll_ctl with a 64-bit user datum. Returns 0 or -errno.
int cl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// epoll_wait into `out` (at most `max` entries, capped at 256). Returns the count or
/// -errno (-EINTR when a signal interrupted the wait).
int cl_epoll_wait(int epfd, cl_ready_event *out, int max, int timeout_ms);

// MARK: eventfd

/// eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC). Returns the fd or -errno.
int cl_eventfd(unsigned int initval);
/// Adds `value` to the eventfd counter. Returns 0 or -errno.
int cl_eventfd_write(int fd, uint64_t value);
/// Reads and resets the counter into *value. Returns 0 or -errno (-EAGAIN when zero).
int cl_eventfd_read(int fd, uint64_t *value);

// MARK: signals

/// Blocks `signo` in the calling thread and sets the signal mask of signalfd `fd` to
/// the `count` signals in `signos` (fd == -1 creates a new non-blocking signalfd).
/// Returns the signalfd or -errno.
int cl_signalfd_set(int fd, const int *signos, int count);
/// Reads one pending signal from a signalfd. Returns the signal number or -errno.
int cl_signalfd_read(int fd);
/// Unblocks `signo` in the calling thread. Returns 0 or -errno.
int cl_signal_unblock(int signo);
/// raise(3): sends `signo` to the calling thread. Returns 0 or -errno.
int cl_raise(int signo);

// MARK: input events

/// sizeof(struct input_event) for this build: 24 on 64-bit Linux, 16 on 32-bit ARM.
size_t cl_input_event_size(void);

// MARK: process arguments

/// The process's argument count (Embedded Swift has no CommandLine; glibc hands argc/argv
/// to .init_array functions, which is where the shim records them).
int cl_argc(void);
/// Argument `i` (0 = program name), or NULL when out of range.
const char *cl_argv(int i);

#include "CLinuxKeys.h"
#include "CLinuxIndicators.h"
#include "CLinuxSockets.h"
