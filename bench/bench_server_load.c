/*
 * bench_server_load.c - a POP3 load generator on libpop3, to compare servers with the
 * same client: N worker processes, each running sessions back to back.
 *
 *   bench_server_load HOST PORT USER sessions WORKERS SECONDS
 *       connect, USER/PASS, STAT, QUIT (RFC 1939 sections 4-6) as often as possible;
 *       prints sessions per second
 *   bench_server_load HOST PORT USER retr WORKERS ROUNDS
 *       each worker logs in and RETRs every message, ROUNDS times; prints MB/s served
 *
 * The password comes from POP3_PASSWORD. Output: one line "RESULT <value> <unit>".
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pop3/client.h"
#include "pop3/error.h"
#include "pop3/parse.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_octets(void *ud, const char *data, size_t len)
{
    (void)data;
    *(uint64_t *)ud += len;
    return POP3_OK;
}

/* One session; returns octets retrieved (retr) or 0, and -1 on failure. */
static long long session(const char *host, unsigned port, const char *user, const char *pw,
                         int retr)
{
    pop3_client *c;
    if (pop3_client_new(&c, NULL) != POP3_OK) return -1;
    uint64_t count = 0, size = 0, got = 0;
    int rc = pop3_connect(c, host, port, 30.0);
    if (rc == POP3_OK) rc = pop3_user(c, user);
    if (rc == POP3_OK) rc = pop3_pass(c, pw);
    if (rc == POP3_OK) rc = pop3_stat(c, &count, &size);
    for (uint64_t m = 1; retr && rc == POP3_OK && m <= count; m++)
        rc = pop3_retr(c, m, count_octets, &got);
    if (rc == POP3_OK) rc = pop3_quit(c);
    if (rc != POP3_OK) fprintf(stderr, "bench_server_load: %s\n", pop3_errmsg(c));
    pop3_client_free(c);
    return rc == POP3_OK ? (long long)got : -1;
}

int main(int argc, char **argv)
{
    if (argc != 7 || !getenv("POP3_PASSWORD")) {
        fprintf(stderr, "usage: POP3_PASSWORD=... bench_server_load HOST PORT USER "
                        "sessions|retr WORKERS SECONDS|ROUNDS\n");
        return 2;
    }
    const char *host = argv[1], *user = argv[3], *pw = getenv("POP3_PASSWORD");
    /* Whole numbers by the codec's one decimal parser; SECONDS may be a fraction. */
    uint64_t port_n = 0, workers_n = 0;
    char *amount_end;
    double amount = strtod(argv[6], &amount_end);
    if (pop3_parse_number(argv[2], strlen(argv[2]), &port_n) != POP3_OK || port_n == 0 ||
        port_n > 65535 || pop3_parse_number(argv[5], strlen(argv[5]), &workers_n) != POP3_OK ||
        workers_n == 0 || workers_n > 4096 || amount_end == argv[6] || *amount_end != '\0' ||
        !(amount > 0 && amount <= 1e6)) {
        fprintf(stderr, "bench_server_load: PORT 1-65535, WORKERS 1-4096, SECONDS|ROUNDS > 0\n");
        return 2;
    }
    unsigned port = (unsigned)port_n;
    int retr = strcmp(argv[4], "retr") == 0;
    int workers = (int)workers_n;
    /* Per-worker results in shared memory: sessions done, octets, failures. */
    long long *shared = mmap(NULL, (size_t)workers * 3 * sizeof(long long), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return 1;
    memset(shared, 0, (size_t)workers * 3 * sizeof(long long));
    double t0 = now();
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            long long *mine = shared + 3 * w;
            if (retr) {
                for (int r = 0; r < (int)amount; r++) {
                    long long got = session(host, port, user, pw, 1);
                    if (got < 0)
                        mine[2]++;
                    else
                        mine[0]++, mine[1] += got;
                }
            } else {
                double end = t0 + amount;
                while (now() < end) {
                    if (session(host, port, user, pw, 0) < 0)
                        mine[2]++;
                    else
                        mine[0]++;
                }
            }
            _exit(0);
        }
    }
    for (int w = 0; w < workers; w++)
        wait(NULL);
    double secs = now() - t0;
    long long sessions = 0, octets = 0, failed = 0;
    for (int w = 0; w < workers; w++) {
        sessions += shared[3 * w];
        octets += shared[3 * w + 1];
        failed += shared[3 * w + 2];
    }
    if (failed) fprintf(stderr, "bench_server_load: %lld sessions failed\n", failed);
    if (retr)
        printf("RESULT %.1f MB/s (%lld octets in %.3f s)\n", (double)octets / secs / 1e6, octets,
               secs);
    else
        printf("RESULT %.1f sessions/s (%lld in %.3f s)\n", (double)sessions / secs, sessions,
               secs);
    return failed ? 1 : 0;
}
