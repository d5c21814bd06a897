// CLinux additions for the SIP transports: non-blocking UDP and TCP sockets over IPv4 and IPv6.
//
// Addresses cross this boundary as plain values, never as sockaddr structures: a family
// (4 or 6), a pointer to the network-order address bytes (4 or 16 of them; out-parameters
// always have room for 16) and a host-order port. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) seen on a dual-stack socket is reported as family 4 with its 4 bytes.
// Every function returns a value >= 0 on success and -errno on failure.
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

enum { CL_SOCK_DGRAM = 0, CL_SOCK_STREAM = 1 };

/// socket(2) for family 4 or 6, `kind` CL_SOCK_DGRAM (UDP) or CL_SOCK_STREAM (TCP), opened
/// non-blocking and close-on-exec. UDP sockets get IP_RECVERR / IPV6_RECVERR, so ICMP
/// errors (port unreachable) reach the error queue even when the socket is not connected.
/// Returns the fd or -errno.
int cl_socket_open(int family, int kind);

/// Sets SO_REUSEADDR on TCP sockets only (UDP binds stay exclusive: a port in use gives
/// -EADDRINUSE), for IPv6 sockets IPV6_V6ONLY to `v6only`, then bind(2) to the address
/// (`addr` may be all zeros: any address; port 0: any port). Returns 0 or -errno.
int cl_socket_bind(int fd, int family, const uint8_t *addr, uint16_t port, int v6only);

/// listen(2). Returns 0 or -errno.
int cl_socket_listen(int fd, int backlog);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; the peer's address goes to the
/// out-parameters. Returns the new fd or -errno (-EAGAIN when nothing is pending).
int cl_socket_accept(int fd, int *family, uint8_t *addr, uint16_t *port);

/// Starts a connect(2) on a non-blocking stream socket. Returns 0 when connected at once,
/// -EINPROGRESS when the connection completes later (wait for writability, then call
/// cl_socket_error), or another -errno.
int cl_socket_connect(int fd, int family, const uint8_t *addr, uint16_t port);

/// getsockopt(SO_ERROR): 0 when no error is pending, else the pending error as -errno
/// (reading it clears it).
int cl_socket_error(int fd);

/// getsockname(2): the bound local address (to learn the port after binding port 0).
/// Returns 0 or -errno.
int cl_socket_local_address(int fd, int *family, uint8_t *addr, uint16_t *port);

/// getpeername(2). Returns 0 or -errno.
int cl_socket_remote_address(int fd, int *family, uint8_t *addr, uint16_t *port);

/// sendto(2) with MSG_NOSIGNAL | MSG_DONTWAIT. Returns the bytes sent or -errno.
ssize_t cl_socket_send_to(int fd, const void *buf, size_t len, int family, const uint8_t *addr, uint16_t port);

/// recvfrom(2) with MSG_TRUNC | MSG_DONTWAIT: returns the full length of the datagram, which
/// is larger than `len` when it was truncated, or -errno (-EAGAIN when none is queued).
ssize_t cl_socket_receive_from(int fd, void *buf, size_t len, int *family, uint8_t *addr, uint16_t *port);

/// recvmmsg(2) with MSG_TRUNC | MSG_DONTWAIT: up to `count` (at most 16) queued datagrams in
/// one system call, datagram i into `buf + i * stride` (`stride` bytes), its full length in
/// `lengths[i]` (larger than `stride` when truncated), its source in `families[i]`,
/// `addrs + 16 * i` and `ports[i]`. Returns how many were read (fewer than `count` means the
/// queue is now empty), or -errno (-EAGAIN when none is queued).
int cl_socket_receive_many(
    int fd, void *buf, size_t stride, unsigned count, size_t *lengths, int *families, uint8_t *addrs, uint16_t *ports);

/// send(2) with MSG_NOSIGNAL | MSG_DONTWAIT on a connected socket. Returns the bytes sent or
/// -errno (-EAGAIN when the send buffer is full; -EPIPE/-ECONNRESET for a dead peer).
ssize_t cl_socket_send(int fd, const void *buf, size_t len);

/// recv(2) with MSG_DONTWAIT. Returns the bytes read (0 at end of stream) or -errno.
ssize_t cl_socket_receive(int fd, void *buf, size_t len);

/// Reads one entry of a UDP socket's error queue (MSG_ERRQUEUE): `*error` gets the errno the
/// ICMP message stands for (ECONNREFUSED for port unreachable, EHOSTUNREACH, ...) and the
/// address out-parameters the destination of the datagram that failed. Returns 1 when an
/// entry was read, 0 when the queue is empty, or -errno.
int cl_socket_receive_error(int fd, int *error, int *family, uint8_t *addr, uint16_t *port);

/// TCP_NODELAY on or off. Returns 0 or -errno.
int cl_socket_set_nodelay(int fd, int on);

/// shutdown(2) with SHUT_RDWR (the fd stays open until cl_close). Returns 0 or -errno.
int cl_socket_shutdown(int fd);

/// 1 when this host can bind an IPv6 socket to ::1, 0 when it cannot (IPv6 disabled).
int cl_ipv6_loopback_available(void);

/// A NETLINK_ROUTE socket (non-blocking, close-on-exec) bound to the multicast `groups`
/// (RTMGRP_* bits). Returns the fd or -errno.
int cl_netlink_open(uint32_t groups);

/// Sends one netlink request to the kernel (sendto pid 0). Returns the bytes sent or -errno.
ssize_t cl_netlink_send(int fd, const void *buf, size_t len);
