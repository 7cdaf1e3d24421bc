/*
 * listener.c - the socket pop3-record listens on (see listener.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pop3/error.h"
#include "pop3/parse.h"

int rec_split_hostport(const char *spec, char *host, size_t hostcap, unsigned *port, int allow_zero,
                       char *err, size_t errlen)
{
    const char *p;
    size_t hlen;
    if (spec[0] == '[') {
        const char *br = strchr(spec, ']');
        if (br == NULL || br[1] != ':') goto bad;
        hlen = (size_t)(br - spec - 1);
        spec++;
        p = br + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL) goto bad;
        hlen = (size_t)(colon - spec);
        p = colon + 1;
    }
    uint64_t v = 0;
    if (hlen == 0 || hlen >= hostcap || pop3_parse_number(p, strlen(p), &v) != POP3_OK ||
        v > 65535 || (v == 0 && !allow_zero))
        goto bad;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    *port = (unsigned)v;
    return 0;
bad:
    snprintf(err, errlen, "'%s': expected HOST:PORT or [HOST]:PORT (port %s65535)", spec,
             allow_zero ? "0.." : "1..");
    return -1;
}

int rec_listen(const char *spec, char *addr, size_t addrcap, char *err, size_t errlen)
{
    char host[256], port[8];
    unsigned pnum = 0;
    if (rec_split_hostport(spec, host, sizeof host, &pnum, 1, err, errlen) != 0) return -1;
    snprintf(port, sizeof port, "%u", pnum);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
            snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char h[256] = "?", s[32] = "0";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, h, sizeof h, s, sizeof s,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(addr, addrcap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, s);
    return fd;
}
