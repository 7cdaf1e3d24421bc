/*
 * test_mock_script_load.c - reading a dialogue script from a file (script_parse.c,
 * pop3mock_script_load): the 16 MiB size limit, at it and one octet past it.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3mock/script.h"

#define SCRIPT_LIMIT (16u << 20) /* script_parse.c SCRIPT_MAX_OCTETS */

/* A script of exactly `size` octets: one greeting, then comment lines. */
static char *write_script(size_t size)
{
    char *path = strdup("/tmp/pop3mock-load-XXXXXX");
    cr_assert(path != NULL);
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    cr_assert(f != NULL);
    const char head[] = "S: +OK ready\n";
    fputs(head, f);
    size_t left = size - (sizeof head - 1);
    char line[1024];
    memset(line, 'x', sizeof line);
    line[0] = '#';
    while (left > 0) {
        size_t n = left < sizeof line ? left : sizeof line;
        line[n - 1] = '\n';
        cr_assert(fwrite(line, 1, n, f) == n);
        line[n - 1] = 'x';
        left -= n;
    }
    cr_assert(fclose(f) == 0);
    return path;
}

Test(mock_script_load, at_the_size_limit_and_past_it, .timeout = 60)
{
    char err[256] = "";
    char *path = write_script(SCRIPT_LIMIT);
    pop3mock_script *sc = pop3mock_script_load(path, err, sizeof err);
    cr_expect(sc != NULL, "a script of exactly 16 MiB loads: %s", err);
    pop3mock_script_free(sc);
    unlink(path);
    free(path);

    path = write_script(SCRIPT_LIMIT + 1u);
    sc = pop3mock_script_load(path, err, sizeof err);
    cr_expect(sc == NULL, "one octet more is refused");
    cr_expect(strstr(err, "larger than 16777216 octets") != NULL, "%s", err);
    pop3mock_script_free(sc);
    unlink(path);
    free(path);
}
