// CLinux additions for the Keys module (inotify, terminal raw mode, directories, FIFOs).
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

// MARK: inotify

enum {
    CL_IN_CREATE = 0x00000100,
    CL_IN_DELETE = 0x00000200,
    CL_IN_ATTRIB = 0x00000004,
    CL_IN_MOVED_FROM = 0x00000040,
    CL_IN_MOVED_TO = 0x00000080,
    CL_IN_DELETE_SELF = 0x00000400,
    CL_IN_IGNORED = 0x00008000,
    CL_IN_Q_OVERFLOW = 0x00004000,
};

/// inotify_init1(IN_NONBLOCK | IN_CLOEXEC). Returns the fd or -errno.
int cl_inotify_init(void);
/// inotify_add_watch. Returns the watch descriptor or -errno.
int cl_inotify_add_watch(int fd, const char *path, uint32_t mask);

// MARK: directories and FIFOs

/// Writes the names in directory `path` (without "." and "..") into `buf`, each followed by
/// a NUL byte; names that do not fit are left out. Returns the bytes written or -errno.
ssize_t cl_list_dir(const char *path, char *buf, size_t len);
/// mkfifo(path, mode). Returns 0 or -errno.
int cl_mkfifo(const char *path, int mode);
/// unlink(path). Returns 0 or -errno.
int cl_unlink(const char *path);
/// 1 when `path` names a FIFO, 0 when it names something else, -errno when stat fails.
int cl_is_fifo(const char *path);

// MARK: terminal

/// 1 when `fd` is a terminal, else 0.
int cl_isatty(int fd);
/// Puts terminal `fd` in raw mode for key input (no echo, no line buffering, byte at a time;
/// signals such as Ctrl-C and output processing stay on). The previous settings are saved and
/// restored by `cl_term_restore` or, failing that, at exit. Returns 0 or -errno (-ENOTTY when
/// `fd` is not a terminal).
int cl_term_raw(int fd);
/// Restores the settings saved by `cl_term_raw` (a no-op when none are saved). Returns 0 or
/// -errno.
int cl_term_restore(void);
