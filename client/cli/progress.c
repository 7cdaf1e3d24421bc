/*
 * progress.c - the progress line of `pop3 fetch` (see progress.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(progress *p, FILE *out, bool force, uint64_t total_msgs, uint64_t total_octets)
{
    memset(p, 0, sizeof *p);
    if (out && (force || isatty(fileno(out)))) p->out = out;
    p->total_msgs = total_msgs;
    p->total_octets = total_octets;
    p->start = now();
}

static void human(double v, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (v >= 1000.0 && u < 4)
        v /= 1000.0, u++;
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void progress_format(const progress *p, double t, char *buf, size_t cap)
{
    char done[32], total[32], rate[32];
    double secs = t - p->start;
    human((double)p->octets, done, sizeof done);
    human((double)p->total_octets, total, sizeof total);
    human(secs > 0 ? (double)p->octets / secs : 0.0, rate, sizeof rate);
    int pct = p->total_octets ? (int)(100.0 * (double)p->octets / (double)p->total_octets) : 100;
    if (pct > 100) pct = 100;
    char bar[21];
    int fill = pct / 5;
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    snprintf(buf, cap, "[%s] %llu/%llu messages  %s/%s  %s/s", bar, (unsigned long long)p->msgs,
             (unsigned long long)p->total_msgs, done, total, rate);
}

static void draw(progress *p, double t)
{
    char line[160];
    progress_format(p, t, line, sizeof line);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->last_draw = t;
}

void progress_add(progress *p, uint64_t octets, uint64_t msgs)
{
    p->octets += octets;
    p->msgs += msgs;
    if (!p->out) return;
    double t = now();
    if (t - p->last_draw >= 0.1) draw(p, t);
}

void progress_finish(progress *p)
{
    if (!p->out) return;
    draw(p, now());
    fputc('\n', p->out);
    p->out = NULL;
}
