// Implementation of the CLinux shim: thin wrappers that return -errno on failure.
#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <stdio.h>

_Static_assert(sizeof(struct input_event) == sizeof(long) * 2 + 8, "unexpected input_event layout");

int cl_errno(void) { return errno; }

const char *cl_strerror(int err) {
    const char *s = strerror(err);
    return s ? s : "unknown error";
}

const char *cl_errno_name(int err) {
    switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case EPIPE: return "EPIPE";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case ENOTSOCK: return "ENOTSOCK";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNABORTED: return "ECONNABORTED";
    case ECONNRESET: return "ECONNRESET";
    case ENOTCONN: return "ENOTCONN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EINPROGRESS: return "EINPROGRESS";
    case ENOTTY: return "ENOTTY";
    default: return NULL;
    }
}

static int64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

int64_t cl_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t cl_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

ssize_t cl_getrandom(void *buf, size_t len) {
    ssize_t n;
    do { n = getrandom(buf, len, 0); } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t cl_read(int fd, void *buf, size_t len) {
    ssize_t n = read(fd, buf, len);
    return n < 0 ? -errno : n;
}

ssize_t cl_write(int fd, const void *buf, size_t len) {
    ssize_t n = write(fd, buf, len);
    return n < 0 ? -errno : n;
}

int cl_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int cl_pipe(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0 ? -errno : 0; }

int cl_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -errno;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

int cl_open(const char *path, int flags, int mode) {
    int fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    return fd < 0 ? -errno : fd;
}

int cl_fsync(int fd) { return fsync(fd) < 0 ? -errno : 0; }

int cl_rename(const char *from, const char *to) { return rename(from, to) < 0 ? -errno : 0; }

int cl_mkdir(const char *path, int mode) {
    if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST) return -errno;
    return 0;
}

int cl_dup(int fd) {
    int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return r < 0 ? -errno : r;
}

int cl_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int cl_epoll_wait(int epfd, cl_ready_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    if (max < 1) return -EINVAL;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].reserved = 0;
        out[i].data = evs[i].data.u64;
    }
    return n;
}

int cl_eventfd(unsigned int initval) {
    int fd = eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cl_eventfd_write(int fd, uint64_t value) {
    ssize_t n = write(fd, &value, sizeof value);
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof value ? 0 : -EIO;
}

int cl_eventfd_read(int fd, uint64_t *value) {
    ssize_t n = read(fd, value, sizeof *value);
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof *value ? 0 : -EIO;
}

int cl_signalfd_set(int fd, const int *signos, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) {
        if (sigaddset(&mask, signos[i]) < 0) return -errno;
    }
    int r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (r != 0) return -r;
    int sfd = signalfd(fd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    return sfd < 0 ? -errno : sfd;
}

int cl_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n < 0) return -errno;
    if (n != (ssize_t)sizeof info) return -EIO;
    return (int)info.ssi_signo;
}

int cl_signal_unblock(int signo) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, signo);
    int r = pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
    return r != 0 ? -r : 0;
}

int cl_raise(int signo) { return raise(signo) != 0 ? -errno : 0; }

size_t cl_input_event_size(void) { return sizeof(struct input_event); }

static int saved_argc;
static char **saved_argv;

// glibc calls .init_array entries with (argc, argv, envp), also for the main executable.
static void record_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}
__attribute__((section(".init_array"), used)) static void (*record_arguments_entry)(int, char **, char **) =
    record_arguments;

int cl_argc(void) { return saved_argc; }

const char *cl_argv(int i) {
    if (i < 0 || i >= saved_argc || !saved_argv) return NULL;
    return saved_argv[i];
}
