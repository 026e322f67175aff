/*
 * udp.c - the endpoint's UDP socket.
 *
 * The socket may be bound to a wildcard address ("0.0.0.0", "::"), so every
 * datagram's destination address is read with IP_PKTINFO / IPV6_RECVPKTINFO
 * and every reply is sent from that same address.  Otherwise a multi-homed
 * appliance could answer from another address and QUIC would see a path
 * change (or the client would drop the reply).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int cq_udp_open(cq_endpoint *s, const char *host, uint16_t port, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (!host || !*host) host = "0.0.0.0";
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        sslen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        sslen = sizeof(*a6);
    } else {
        snprintf(err, errlen, "listen host '%s' is not an IPv4 or IPv6 literal", host);
        return -1;
    }
    s->family = ss.ss_family;
    int fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int on = 1, off = 0, buf = 4 << 20;
    int rc;
    if (s->family == AF_INET6) {
        /* "::" serves IPv4 too (as v4-mapped addresses). */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
    } else {
        rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
    }
    if (rc != 0) {
        snprintf(err, errlen, "setsockopt(PKTINFO): %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* QUIC packets must not be fragmented (RFC 9000 §14); ngtcp2's path MTU
     * probes rely on oversized ones being dropped.  Best effort. */
    int pmtu = IP_PMTUDISC_DO, pmtu6 = IPV6_PMTUDISC_DO;
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
    if (s->family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof(pmtu6));
    /* Bigger buffers absorb bursts of 1 MiB uploads; *FORCE passes the
     * rmem_max/wmem_max caps when we run as root.  Best effort. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
        snprintf(err, errlen, "bind %s port %u: %s", host, (unsigned)port, strerror(errno));
        close(fd);
        return -1;
    }
    sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    s->port = ntohs(s->family == AF_INET6 ? a6->sin6_port : a4->sin_port);
    s->fd = fd;
    return 0;
}

/* One datagram; -1 when the socket is drained (or on a transient error). */
ssize_t cq_udp_recv(cq_endpoint *s, uint8_t *buf, size_t buflen,
                    struct sockaddr_storage *remote, socklen_t *remotelen,
                    struct sockaddr_storage *local, socklen_t *locallen) {
    union {
        uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctrl;
    struct iovec iov = {.iov_base = buf, .iov_len = buflen};
    for (;;) {
        struct msghdr msg = {
            .msg_name = remote, .msg_namelen = sizeof(*remote),
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b),
        };
        ssize_t n = recvmsg(s->fd, &msg, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        *remotelen = msg.msg_namelen;
        memset(local, 0, sizeof(*local));
        *locallen = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
                struct sockaddr_in *l = (struct sockaddr_in *)local;
                l->sin_family = AF_INET;
                l->sin_addr = pi.ipi_addr;
                l->sin_port = htons(s->port);
                *locallen = sizeof(*l);
            } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
                struct sockaddr_in6 *l = (struct sockaddr_in6 *)local;
                l->sin6_family = AF_INET6;
                l->sin6_addr = pi.ipi6_addr;
                l->sin6_port = htons(s->port);
                l->sin6_scope_id = pi.ipi6_ifindex; /* needed to answer link-local peers */
                *locallen = sizeof(*l);
            }
        }
        if (*locallen == 0 || (msg.msg_flags & MSG_TRUNC)) continue; /* unusable */
        return n;
    }
}

void cq_udp_send(cq_endpoint *s, const ngtcp2_addr *local, const ngtcp2_addr *remote,
                 const uint8_t *data, size_t len) {
    union {
        uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } ctrl;
    memset(&ctrl, 0, sizeof(ctrl));
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {
        .msg_name = remote->addr, .msg_namelen = remote->addrlen,
        .msg_iov = &iov, .msg_iovlen = 1,
    };
    if (local && local->addr && local->addr->sa_family == s->family) {
        msg.msg_control = ctrl.b;
        struct cmsghdr *cm = (struct cmsghdr *)ctrl.b;
        if (s->family == AF_INET) {
            struct in_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            pi.ipi_spec_dst = ((const struct sockaddr_in *)local->addr)->sin_addr;
            cm->cmsg_level = IPPROTO_IP;
            cm->cmsg_type = IP_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        } else {
            const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)local->addr;
            struct in6_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            pi.ipi6_addr = l->sin6_addr;
            pi.ipi6_ifindex = l->sin6_scope_id;
            cm->cmsg_level = IPPROTO_IPV6;
            cm->cmsg_type = IPV6_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        }
    }
    while (sendmsg(s->fd, &msg, 0) < 0) {
        if (errno == EINTR) continue;
        /* EAGAIN/ENOBUFS/unreachable: drop it; QUIC loss recovery resends. */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
            cq_log(s, 3, "sendmsg: %s", strerror(errno));
        return;
    }
}

void cq_addr_text(const struct sockaddr *sa, char *out, size_t outlen) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(out, outlen, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof(ip));
            snprintf(out, outlen, "%s:%u", ip, (unsigned)ntohs(a->sin6_port));
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
            snprintf(out, outlen, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
        }
    } else {
        snprintf(out, outlen, "?");
    }
}
