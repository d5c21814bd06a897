// Implementation of CLinuxSockets.h.
#define _GNU_SOURCE
#include "CLinux.h"

#include <linux/errqueue.h>
#include <linux/netlink.h>
#include <sys/uio.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Fills a sockaddr_storage from plain values. Returns the length or -EAFNOSUPPORT.
static int make_address(struct sockaddr_storage *ss, int family, const uint8_t *addr, uint16_t port) {
    memset(ss, 0, sizeof(*ss));
    if (family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, addr, 4);
        return (int)sizeof(*sin);
    }
    if (family == 6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, addr, 16);
        return (int)sizeof(*sin6);
    }
    return -EAFNOSUPPORT;
}

// Reads plain values out of a sockaddr; v4-mapped IPv6 becomes IPv4. Unknown families give 0.
static void split_address(const struct sockaddr_storage *ss, int *family, uint8_t *addr, uint16_t *port) {
    memset(addr, 0, 16);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        *family = 4;
        memcpy(addr, &sin->sin_addr, 4);
        *port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        const uint8_t *bytes = (const uint8_t *)&sin6->sin6_addr;
        if (memcmp(bytes, v4_mapped_prefix, 12) == 0) {
            *family = 4;
            memcpy(addr, bytes + 12, 4);
        } else {
            *family = 6;
            memcpy(addr, bytes, 16);
        }
        *port = ntohs(sin6->sin6_port);
    } else {
        *family = 0;
        *port = 0;
    }
}

int cl_socket_open(int family, int kind) {
    int domain = family == 6 ? AF_INET6 : family == 4 ? AF_INET : -1;
    if (domain < 0) return -EAFNOSUPPORT;
    int type = (kind == CL_SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    int fd = socket(domain, type, 0);
    if (fd < 0) return -errno;
    if (kind != CL_SOCK_STREAM) {
        int on = 1;
        if (family == 4) {
            setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
        } else {
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
        }
    }
    return fd;
}

int cl_socket_bind(int fd, int family, const uint8_t *addr, uint16_t port, int v6only) {
    /* SO_REUSEADDR only on TCP: it lets a restarted listener bind while old connections sit in
       TIME_WAIT. On UDP it would let a second socket bind a port that is in use (two calls'
       RTP on one port, or a second phone stealing SIP datagrams), so UDP binds stay exclusive. */
    int type = 0;
    socklen_t type_len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0) return -errno;
    if (type == SOCK_STREAM) {
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) return -errno;
    }
    if (family == 6) {
        int flag = v6only ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof(flag)) < 0) return -errno;
    }
    struct sockaddr_storage ss;
    int len = make_address(&ss, family, addr, port);
    if (len < 0) return len;
    return bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 ? -errno : 0;
}

int cl_socket_listen(int fd, int backlog) {
    return listen(fd, backlog) < 0 ? -errno : 0;
}

int cl_socket_accept(int fd, int *family, uint8_t *addr, uint16_t *port) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int client;
    do {
        client = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (client < 0 && errno == EINTR);
    if (client < 0) return -errno;
    split_address(&ss, family, addr, port);
    return client;
}

int cl_socket_connect(int fd, int family, const uint8_t *addr, uint16_t port) {
    struct sockaddr_storage ss;
    int len = make_address(&ss, family, addr, port);
    if (len < 0) return len;
    if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0) {
        // EINTR on a non-blocking connect: the attempt continues in the background.
        return errno == EINTR ? -EINPROGRESS : -errno;
    }
    return 0;
}

int cl_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    return -err;
}

int cl_socket_local_address(int fd, int *family, uint8_t *addr, uint16_t *port) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    split_address(&ss, family, addr, port);
    return 0;
}

int cl_socket_remote_address(int fd, int *family, uint8_t *addr, uint16_t *port) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    split_address(&ss, family, addr, port);
    return 0;
}

ssize_t cl_socket_send_to(int fd, const void *buf, size_t len, int family, const uint8_t *addr, uint16_t port) {
    struct sockaddr_storage ss;
    int alen = make_address(&ss, family, addr, port);
    if (alen < 0) return alen;
    ssize_t n;
    do {
        n = sendto(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&ss, (socklen_t)alen);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && family == 4 && (errno == EAFNOSUPPORT || errno == EINVAL)) {
        // An IPv4 destination on an IPv6 socket goes out as a v4-mapped address (tried only
        // after the plain send failed, so the usual path costs one system call).
        uint8_t mapped[16];
        memcpy(mapped, v4_mapped_prefix, 12);
        memcpy(mapped + 12, addr, 4);
        alen = make_address(&ss, 6, mapped, port);
        do {
            n = sendto(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&ss, (socklen_t)alen);
        } while (n < 0 && errno == EINTR);
    }
    return n < 0 ? -errno : n;
}

ssize_t cl_socket_receive_from(int fd, void *buf, size_t len, int *family, uint8_t *addr, uint16_t *port) {
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    ssize_t n;
    do {
        n = recvfrom(fd, buf, len, MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&ss, &slen);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    split_address(&ss, family, addr, port);
    return n;
}

int cl_socket_receive_many(
    int fd, void *buf, size_t stride, unsigned count, size_t *lengths, int *families, uint8_t *addrs, uint16_t *ports) {
    enum { most = 16 };
    struct mmsghdr msgs[most];
    struct iovec iovs[most];
    struct sockaddr_storage sources[most];
    if (count > most) count = most;
    if (count == 0) return 0;
    memset(msgs, 0, sizeof(msgs[0]) * count);
    for (unsigned i = 0; i < count; i++) {
        iovs[i].iov_base = (uint8_t *)buf + i * stride;
        iovs[i].iov_len = stride;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &sources[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sources[i]);
    }
    int n;
    do {
        n = recvmmsg(fd, msgs, count, MSG_TRUNC | MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        lengths[i] = msgs[i].msg_len;
        split_address(&sources[i], &families[i], addrs + 16 * i, &ports[i]);
    }
    return n;
}

ssize_t cl_socket_send(int fd, const void *buf, size_t len) {
    ssize_t n;
    do {
        n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t cl_socket_receive(int fd, void *buf, size_t len) {
    ssize_t n;
    do {
        n = recv(fd, buf, len, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

int cl_socket_receive_error(int fd, int *error, int *family, uint8_t *addr, uint16_t *port) {
    struct sockaddr_storage ss;
    uint8_t data[64];
    uint8_t control[512];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    memset(&ss, 0, sizeof(ss));
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof(ss);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do {
        n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    *error = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)
            || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            *error = (int)ee.ee_errno;
        }
    }
    split_address(&ss, family, addr, port);
    return 1;
}

int cl_socket_set_nodelay(int fd, int on) {
    int flag = on ? 1 : 0;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &flag, sizeof(flag)) < 0 ? -errno : 0;
}

int cl_socket_shutdown(int fd) {
    return shutdown(fd, SHUT_RDWR) < 0 ? -errno : 0;
}

int cl_ipv6_loopback_available(void) {
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
    close(fd);
    return ok ? 1 : 0;
}

int cl_netlink_open(uint32_t groups) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl local;
    memset(&local, 0, sizeof(local));
    local.nl_family = AF_NETLINK;
    local.nl_groups = groups;
    if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

ssize_t cl_netlink_send(int fd, const void *buf, size_t len) {
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;
    ssize_t n;
    do {
        n = sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&kernel, sizeof(kernel));
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}
