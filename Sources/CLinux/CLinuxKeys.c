// Implementation of CLinuxKeys.h.
#define _GNU_SOURCE
#include "CLinux.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>

int cl_inotify_init(void) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cl_inotify_add_watch(int fd, const char *path, uint32_t mask) {
    int wd = inotify_add_watch(fd, path, mask);
    return wd < 0 ? -errno : wd;
}

ssize_t cl_list_dir(const char *path, char *buf, size_t len) {
    DIR *dir = opendir(path);
    if (!dir) return -errno;
    size_t used = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        size_t n = strlen(name) + 1;
        if (used + n > len) continue;
        memcpy(buf + used, name, n);
        used += n;
    }
    closedir(dir);
    return (ssize_t)used;
}

int cl_mkfifo(const char *path, int mode) { return mkfifo(path, (mode_t)mode) < 0 ? -errno : 0; }

int cl_unlink(const char *path) { return unlink(path) < 0 ? -errno : 0; }

int cl_is_fifo(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) return -errno;
    return S_ISFIFO(st.st_mode) ? 1 : 0;
}

int cl_isatty(int fd) { return isatty(fd) ? 1 : 0; }

static struct termios cl_saved_termios;
static int cl_saved_fd = -1;
static int cl_atexit_registered = 0;

static void cl_term_restore_at_exit(void) { (void)cl_term_restore(); }

int cl_term_raw(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) < 0) return -errno;
    if (cl_saved_fd < 0) {
        cl_saved_termios = t;
        cl_saved_fd = fd;
    }
    if (!cl_atexit_registered) {
        atexit(cl_term_restore_at_exit);
        cl_atexit_registered = 1;
    }
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    t.c_lflag |= ISIG;
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) < 0) return -errno;
    return 0;
}

int cl_term_restore(void) {
    if (cl_saved_fd < 0) return 0;
    int fd = cl_saved_fd;
    cl_saved_fd = -1;
    return tcsetattr(fd, TCSANOW, &cl_saved_termios) < 0 ? -errno : 0;
}
