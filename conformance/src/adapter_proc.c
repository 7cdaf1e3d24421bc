/*
 * adapter_proc.c - an adapter command as a process: started with /bin/sh -c in a process
 * group of its own (so that a kill reaches the client programs it runs too), its three
 * pipes, and one poll loop that writes its input and reads its output against a deadline.
 * Both the one-shot and the persistent runs use it.
 */
/* pipe2: descriptors that are close-on-exec from birth. With pipe() and a later fcntl(),
 * an adapter forked by another thread in between would inherit our pipe and keep it open,
 * and a run would wait for that other adapter to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"

void adapter_result_free(adapter_result *r)
{
    cbuf_free(&r->out);
    cbuf_free(&r->err);
    cbuf_free(&r->problem);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

int adapter_proc_start(adapter_proc *p, const char *command, char *const envp[], pop3_buf *why)
{
    *p = (adapter_proc){.pid = 0, .in = -1, .out = -1, .err = -1};
    int in[2] = {-1, -1}, so[2] = {-1, -1}, se[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(so, O_CLOEXEC) != 0 || pipe2(se, O_CLOEXEC) != 0) {
        cbuf_printf(why, "pipe: %s\n", strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        cbuf_printf(why, "fork: %s\n", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec: the runner has threads. */
        setpgid(0, 0);
        dup2(in[0], 0);
        dup2(so[1], 1);
        dup2(se[1], 2);
        char *argv[] = {"sh", "-c", (char *)command, NULL};
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    setpgid(pid, pid);
    close(in[0]);
    close(so[1]);
    close(se[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    *p = (adapter_proc){.pid = pid, .in = in[1], .out = so[0], .err = se[0]};
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&so[i]);
        close_fd(&se[i]);
    }
    return -1;
}

void adapter_proc_kill(adapter_proc *p, int *wstatus)
{
    if (p->pid > 0) kill(-p->pid, SIGKILL);
    adapter_proc_reap(p, 0, wstatus);
}

bool adapter_proc_reap(adapter_proc *p, int grace_ms, int *wstatus)
{
    close_fd(&p->in);
    close_fd(&p->out);
    close_fd(&p->err);
    *wstatus = 0;
    if (p->pid <= 0) return true;
    /* Do not wait forever on a child that closed its pipes and went on running. */
    bool ended = true;
    int64_t until = mono_ms() + grace_ms;
    while (waitpid(p->pid, wstatus, WNOHANG) == 0) {
        if (mono_ms() >= until) {
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, wstatus, 0);
            ended = false;
            break;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    p->pid = 0;
    return ended;
}

adapter_pump_end adapter_proc_pump(adapter_proc *p, const char *input, size_t len, bool close_in,
                                   bool wait_err, int64_t deadline, const adapter_sink *sink)
{
    size_t written = 0;
    p->unwritten = len;
    bool in_open = p->in >= 0 && (len > 0 || close_in);
    if (p->in >= 0 && len == 0 && close_in) close_fd(&p->in);
    for (;;) {
        bool out_open = p->out >= 0, err_open = p->err >= 0;
        if (!out_open && (!wait_err || !err_open)) return PUMP_EOF;
        struct pollfd pfd[3];
        int np = 0, iout = -1, ierr = -1, iin = -1;
        if (out_open) {
            pfd[np] = (struct pollfd){.fd = p->out, .events = POLLIN};
            iout = np++;
        }
        if (err_open) {
            pfd[np] = (struct pollfd){.fd = p->err, .events = POLLIN};
            ierr = np++;
        }
        if (in_open) {
            pfd[np] = (struct pollfd){.fd = p->in, .events = POLLOUT};
            iin = np++;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) return PUMP_TIMEOUT;
        if (poll(pfd, (nfds_t)np, (int)(left > 60000 ? 60000 : left)) < 0 && errno != EINTR)
            return PUMP_FAILED;
        char buf[65536];
        if (iin >= 0 && (pfd[iin].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(p->in, input + written, len - written);
            if (w > 0) written += (size_t)w;
            /* A reader that went away (EPIPE) takes no more: what it wrote still counts. */
            if (w < 0 && errno != EAGAIN && errno != EINTR) written = len;
            p->unwritten = len - written;
            if (written >= len) {
                in_open = false;
                if (close_in) close_fd(&p->in);
            }
        }
        if (iout >= 0 && (pfd[iout].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(p->out, buf, sizeof buf);
            if (r > 0) {
                if (!sink->out(sink->ud, buf, (size_t)r)) return PUMP_STOPPED;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close_fd(&p->out);
            }
        }
        if (ierr >= 0 && (pfd[ierr].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(p->err, buf, sizeof buf);
            if (r > 0)
                sink->err(sink->ud, buf, (size_t)r);
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                close_fd(&p->err);
        }
    }
}
