/*
 * replay_main.c - runs fuzz inputs through a target without libFuzzer.
 *
 * Linked in place of libFuzzer when the tree is built without POP3_FUZZ (gcc or clang),
 * so that every build replays corpus/<target>/ under ctest: the seeds and every crash
 * ever found stay fixed. Usage: fuzz_<target> PATH... where a PATH is a file or a
 * directory (read recursively, in name order, dot files skipped).
 *
 * Each input is copied into a heap block of exactly its size, as libFuzzer does, so
 * that a read past its end is a heap overflow for AddressSanitizer. Each input runs
 * under alarm(): a hang fails with the input's path (FUZZ_REPLAY_TIMEOUT seconds,
 * 1 to 86400, default 10; any other value is a usage error, exit 2). The path of every input is
 * printed before it runs, so that a crash report is preceded by the name of the file that caused it
 * (ctest shows the output of failed tests only).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "pop3/error.h"
#include "pop3/parse.h"

static const char *current_path = "";
static size_t inputs_run;

static void write_str(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Only async-signal-safe calls here: write() and _exit(). */
static void on_alarm(int sig)
{
    (void)sig;
    write_str("replay: TIMEOUT (hang) on input ");
    write_str(current_path);
    write_str("\n");
    _exit(70);
}

/* Set once in main() from FUZZ_REPLAY_TIMEOUT. */
static unsigned timeout_s = 10;

/* FUZZ_REPLAY_TIMEOUT: seconds per input, 1 to 86400 (a day), default 10. Anything
 * else is refused, so that a typo does not silently replay with another timeout. */
static int read_timeout(void)
{
    const char *s = getenv("FUZZ_REPLAY_TIMEOUT");
    if (s == NULL || *s == '\0') return 0;
    uint64_t v = 0;
    if (pop3_parse_number(s, strlen(s), &v) != POP3_OK || v == 0 || v > 86400) {
        fprintf(stderr,
                "replay: FUZZ_REPLAY_TIMEOUT=%s is not a number of seconds from 1 to 86400\n", s);
        return -1;
    }
    timeout_s = (unsigned)v;
    return 0;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    fuzz_buf content = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fuzz_put(&content, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        fuzz_buf_free(&content);
        return -1;
    }

    size_t size = content.len;
    uint8_t *exact = (uint8_t *)fuzz_dup(content.p, size);
    fuzz_buf_free(&content);
    current_path = path;
    fprintf(stderr, "replay: %s (%zu octets)\n", path, size);
    fflush(stderr);
    alarm(timeout_s);
    LLVMFuzzerTestOneInput(exact, size);
    alarm(0);
    free(exact);
    inputs_run++;
    return 0;
}

static int skip_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path);

    struct dirent **names = NULL;
    int count = scandir(path, &names, skip_entry, alphasort);
    if (count < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *child = fuzz_xmalloc(len);
        snprintf(child, len, "%s/%s", path, names[i]->d_name);
        if (run_path(child) != 0) rc = -1;
        free(child);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    if (read_timeout() != 0) return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]) != 0) rc = 1;
    /* An empty corpus is a mistake in the build (a wrong path), not a pass. */
    if (inputs_run == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 2;
    }
    fprintf(stderr, "replay: %zu inputs, no invariant broken\n", inputs_run);
    return rc;
}
