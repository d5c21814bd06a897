// Implementation of CLinuxIndicators.h.
#define _GNU_SOURCE
#include "CLinux.h"

#include <linux/fb.h>
#include <sys/ioctl.h>

ssize_t cl_write_led_event(int fd, uint16_t code, int32_t value) {
    struct input_event ev[2];
    memset(ev, 0, sizeof ev);
    ev[0].type = EV_LED;
    ev[0].code = code;
    ev[0].value = value;
    ev[1].type = EV_SYN;
    ev[1].code = SYN_REPORT;
    ev[1].value = 0;
    return cl_write_all(fd, ev, sizeof ev);
}

ssize_t cl_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) return -EIO;
        done += (size_t)n;
    }
    return (ssize_t)len;
}

ssize_t cl_pwrite_all(int fd, const void *buf, size_t len, int64_t offset) {
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, p + done, len - done, (off_t)(offset + (int64_t)done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) return -ENOSPC;
        done += (size_t)n;
    }
    return (ssize_t)len;
}

int cl_fb_geometry(int fd, int *width, int *height, int *bpp, int *stride) {
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    memset(&var, 0, sizeof var);
    memset(&fix, 0, sizeof fix);
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0) return -errno;
    if (ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) return -errno;
    *width = (int)var.xres;
    *height = (int)var.yres;
    *bpp = (int)var.bits_per_pixel;
    *stride = (int)fix.line_length;
    return 0;
}

int cl_ftruncate(int fd, int64_t length) { return ftruncate(fd, (off_t)length) < 0 ? -errno : 0; }
