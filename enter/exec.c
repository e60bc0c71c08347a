/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command's process (enter.h: "X"). Born in the pod's PID namespace with
 * the app's namespaces, root, working directory and credentials (join.c).
 * What is left is what is not inherited, or must come last:
 *
 *   - the app's cgroups, through the cgroup.procs files the joiner opened;
 *   - a session of its own, with the terminal (if any) as its controlling
 *     terminal; nothing open but stdin/stdout/stderr;
 *   - the app's ignored signals, no signal blocked, its umask, its
 *     environment;
 *   - the app's seccomp filters, installed last so that nothing of ours runs
 *     under them but execve() (which the app's filters allow: systemd
 *     executed the app under them);
 *   - execve(), with a PATH search in the app's root and the app's PATH.
 */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-attach.h"
#include "enter.h"
#include "macro.h"
#include "strv.h"

/* systemd's default PATH for services (what the app gets without one). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char *const *env, const char *name) {
        size_t n = strlen(name);

        STRV_FOREACH(e, env)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

/* The paths execve() is tried on, in order, as execvp() would (an empty PATH
 * element is the working directory). Built before the seccomp filters are in
 * place: after them, nothing but execve(). */
static int exec_candidates(const char *cmd, char *const *env, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *copy = NULL;
        const char *path;
        char *p, *next;

        if (strchr(cmd, '/')) {
                if (strv_extend(&l, cmd) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }
        path = env_get(env, "PATH");
        copy = strdup(path ? path : DEFAULT_PATH);
        if (!copy)
                return -ENOMEM;
        for (p = copy; p; p = next) {
                next = strchr(p, ':');
                if (next)
                        *next++ = 0;
                if (strv_extendf(&l, "%s%s%s", *p ? p : ".", "/", cmd) < 0)
                        return -ENOMEM;
        }
        if (!l)
                return -ENOENT;
        *ret = TAKE_PTR(l);
        return 0;
}

static void reset_signals(uint64_t ignored) {
        struct sigaction dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };

        /* Dispositions are inherited across execve() only as "ignored": so
         * the app's ignored ones (SIGPIPE: systemd's IgnoreSIGPIPE=yes),
         * everything else default. Signals glibc reserves refuse; fine. */
        for (int sig = 1; sig < _NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                (void) sigaction(sig, (ignored & (UINT64_C(1) << (sig - 1))) ? &ign : &dfl, NULL);
        }
}

_Noreturn void exec_command(const Target *t, const ChildIo *io, char **argv) {
        _cleanup_strv_free_ char **candidates = NULL;
        bool denied = false, other = false;
        int r, last_errno = ENOENT;
        sigset_t none;

        /* Into the app's cgroups, before anything else runs here. */
        r = cgroup_attach_fds(io->cgroup_fds, io->n_cgroup_fds);
        if (r < 0) {
                log_error("cannot join the cgroups of the app: %s", strerror(-r));
                _exit(EXIT_INTERNAL);
        }
        /* A new session: with a terminal, this makes it the command's
         * controlling terminal; without, the command has none, and cannot
         * reach the caller's (TIOCSTI needs it to be its own). */
        if (setsid() < 0) {
                log_error("cannot start a session: %m");
                _exit(EXIT_INTERNAL);
        }
        if (io->pty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0) {
                log_error("cannot set up the terminal: %m");
                _exit(EXIT_INTERNAL);
        }
        /* Nothing but stdio crosses execve(). */
        if (syscall(SYS_close_range, 3U, ~0U, 0) < 0) {
                log_error("cannot close file descriptors: %m");
                _exit(EXIT_INTERNAL);
        }
        reset_signals(t->status.sig_ign);
        if (t->status.umask != (mode_t) -1)
                (void) umask(t->status.umask);
        r = exec_candidates(argv[0], t->env, &candidates);
        if (r < 0) {
                log_error("cannot look up %s: %s", argv[0], strerror(-r));
                _exit(r == -ENOENT ? EXIT_NOT_FOUND : EXIT_INTERNAL);
        }
        /* Nothing blocked, as systemd starts a service; the command's
         * forwarded signals were blocked until now. */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (t->seccomp) {
                r = seccomp_stack_install(t->seccomp);
                if (r < 0) {
                        log_error("cannot install the app's seccomp filters: %s", strerror(-r));
                        _exit(EXIT_INTERNAL);
                }
        }
        STRV_FOREACH(c, candidates) {
                execve(*c, argv, t->env);
                /* execvp()'s rules: keep looking past what is not there or
                 * not a directory; remember a permission problem. */
                if (errno == EACCES)
                        denied = true;
                else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG && errno != ELOOP)
                        other = true, last_errno = errno;
                if (other)
                        break;
        }
        if (other || denied) {
                errno = other ? last_errno : EACCES;
                log_error("cannot execute %s: %m", argv[0]);
                _exit(EXIT_CANNOT_EXECUTE);
        }
        log_error("%s: command not found", argv[0]);
        _exit(EXIT_NOT_FOUND);
}
