/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter: runs a command inside a running app exactly as the app runs
 * (docs/enter.md). Started by `nspawn-pod enter` with a pidfd of the app's
 * main process, which that command found and checked to belong to the pod;
 * this helper trusts its caller for that and copies whatever process the
 * pidfd names.
 *
 * This file is the part that stays on the host (enter.h: "E"): it reads the
 * target's state before anything is joined, forks the joiner, relays the
 * command's input and output, forwards signals, and exits as the command did.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "enter.h"
#include "fd-util.h"
#include "pod-enter.h"
#include "macro.h"
#include "strv.h"
#include "proc-state.h"

extern char **environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char usage_text[] =
        "Usage: enter [--tty=auto|yes|no] [--app=NAME] --pidfd=FD [--] COMMAND [ARG...]\n"
        "       enter [--tty=auto|yes|no] --pid=PID [--appname=NAME] [--] COMMAND [ARG...]\n"
        "\n"
        "Run COMMAND as a process of a pod runs: in its cgroups, namespaces, root and\n"
        "working directory, with its user, groups, capability sets, no_new_privs,\n"
        "resource limits, environment (TERM from the caller) and seccomp filters.\n"
        "The helper of 'nspawn-pod enter' and the stage1's enter entrypoint\n"
        "(docs/enter.md, docs/stage1.md).\n"
        "\n"
        "  --pidfd=FD        the process, as a pidfd (inherited descriptor): the main\n"
        "                    process of an app, which nspawn-pod enter has checked\n"
        "  --app=NAME        with --pidfd: the app's name, for messages\n"
        "  --pid=PID         the pod's init (PID 1 of the pod, as rkt's stage0 finds it)\n"
        "  --appname=NAME, --app=NAME\n"
        "                    with --pid: the app to enter (its main process is found\n"
        "                    from the init); without, COMMAND runs as the init runs\n"
        "  --tty=MODE        auto (a terminal if stdin and stdout are terminals),\n"
        "                    yes, no (pipes)\n"
        "\n"
        "Exit status: the command's (a signal that ended it ends enter too),\n"
        "126 the command cannot be executed, 127 it was not found, 254 enter\n"
        "failed before running it.\n";

static int parse_int(const char *s, int *ret) {
        unsigned long v;
        char *e;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno != 0 || *e != 0 || v > INT32_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* The pid a pidfd refers to, from its fdinfo ("Pid: -1" once it has died). */
static int pidfd_pid(int pidfd, pid_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t n = 0;

        (void) snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (getline(&line, &n, f) > 0)
                if (strncmp(line, "Pid:", 4) == 0) {
                        int pid;
                        char *p = line + 4;

                        while (*p == ' ' || *p == '\t')
                                p++;
                        p[strcspn(p, "\n")] = 0;
                        if (strcmp(p, "-1") == 0 || strcmp(p, "0") == 0)
                                return -ESRCH;
                        if (parse_int(p, &pid) < 0)
                                return -EBADMSG;
                        *ret = pid;
                        return 0;
                }
        return -ENOTTY; /* not a pidfd */
}

static const struct {
        const char *name;
        int flag;
} namespaces[] = {
        { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "mnt", CLONE_NEWNS }, { "net", CLONE_NEWNET },
        { "pid", CLONE_NEWPID },       { "time", CLONE_NEWTIME }, { "uts", CLONE_NEWUTS },
};

/* The namespaces the target does not share with us, its user namespace
 * included (a user-namespaced pod: docs/enter.md). */
static int namespace_flags(int proc_fd, int self_fd, int *ret) {
        dev_t d1, d2;
        ino_t i1, i2;
        int flags = 0, r;

        r = proc_ns_id(proc_fd, "user", &d1, &i1);
        if (r >= 0)
                r = proc_ns_id(self_fd, "user", &d2, &i2);
        if (r < 0)
                return r;
        if (d1 != d2 || i1 != i2)
                flags |= CLONE_NEWUSER;
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                r = proc_ns_id(proc_fd, namespaces[i].name, &d1, &i1);
                if (r == -ENOENT && namespaces[i].flag == CLONE_NEWTIME)
                        continue; /* kernel without time namespaces */
                if (r >= 0)
                        r = proc_ns_id(self_fd, namespaces[i].name, &d2, &i2);
                if (r < 0)
                        return r;
                if (d1 != d2 || i1 != i2)
                        flags |= namespaces[i].flag;
        }
        *ret = flags;
        return 0;
}

/* An LSM label (AppArmor, SELinux) we cannot give the command: refuse rather
 * than run it unconfined. No LSM at all reads as EINVAL. */
static int check_lsm(int proc_fd, int self_fd) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r1, r2;

        r1 = proc_read_file(proc_fd, "attr/current", 4096, &a, NULL);
        r2 = proc_read_file(self_fd, "attr/current", 4096, &b, NULL);
        if (r1 < 0 && r2 < 0 && IN_SET(r1, -EINVAL, -ENOENT, -EOPNOTSUPP) && r1 == r2)
                return 0;
        if (r1 >= 0 && r2 >= 0 && strcmp(a, b) == 0)
                return 0;
        return -EPERM;
}

static void target_done(Target *t) {
        closep(&t->proc_fd);
        closep(&t->root_fd);
        closep(&t->cwd_fd);
        proc_status_done(&t->status);
        proc_limits_done(&t->limits);
        t->env = strv_free(t->env);
        t->seccomp = seccomp_stack_free(t->seccomp);
}

/* The environment: the target's, byte for byte and in its order, with the
 * caller's TERM (if it has one) in place of the target's, or added at the
 * end: it describes the caller's terminal. */
static int build_env(char **env, char ***ret) {
        const char *term = getenv("TERM");
        _cleanup_strv_free_ char **l = NULL;
        bool replaced = false;

        STRV_FOREACH(e, env) {
                if (term && strncmp(*e, "TERM=", 5) == 0) {
                        if (replaced)
                                continue;
                        replaced = true;
                        if (strv_extendf(&l, "TERM=%s", term) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (strv_extend(&l, *e) < 0)
                        return -ENOMEM;
        }
        if (term && !replaced && strv_extendf(&l, "TERM=%s", term) < 0)
                return -ENOMEM;
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Reads everything the command gets, before anything is joined: afterwards
 * the joiner sees only what the target's namespaces show. Logs its failure. */
static int target_read(Target *t) {
        _cleanup_close_ int self_fd = -1;
        _cleanup_strv_free_ char **env = NULL;
        char path[64];
        int r;

        r = pidfd_pid(t->pidfd, &t->pid);
        if (r < 0) {
                log_error("%s", r == -ESRCH ? "the app's process has exited" : "--pidfd is not a pidfd");
                return r;
        }
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) t->pid);
        t->proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        self_fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->proc_fd < 0 || self_fd < 0) {
                log_error("cannot open %s: %m", t->proc_fd < 0 ? path : "/proc/self");
                return negative_errno();
        }
        /* From here on, proc_fd names the pidfd's process or nothing. */
        r = pidfd_alive(t->pidfd);
        if (r < 0) {
                log_error("the app's process has exited");
                return r;
        }
        r = proc_status_read(t->proc_fd, &t->status);
        if (r < 0) {
                log_error("cannot read the status of process %d: %s", (int) t->pid, strerror(-r));
                return r;
        }
        r = namespace_flags(t->proc_fd, self_fd, &t->ns_flags);
        if (r < 0) {
                log_error("cannot read the namespaces of process %d: %s", (int) t->pid, strerror(-r));
                return r;
        }
        /* Its ids as its own user namespace has them: what the command
         * takes once it is in there. */
        if ((t->ns_flags & CLONE_NEWUSER) && (r = proc_status_to_userns(t->proc_fd, &t->status)) < 0) {
                log_error("cannot map the ids of process %d into its user namespace: %s", (int) t->pid,
                          strerror(-r));
                return r;
        }
        r = check_lsm(t->proc_fd, self_fd);
        if (r < 0) {
                log_error("process %d runs under a security label (AppArmor, SELinux) enter cannot give the "
                          "command: refusing to run it unconfined",
                          (int) t->pid);
                return r;
        }
        r = proc_environ_read(t->proc_fd, &env);
        if (r >= 0)
                r = build_env(env, &t->env);
        if (r < 0) {
                log_error("cannot read the environment of process %d: %s", (int) t->pid, strerror(-r));
                return r;
        }
        r = proc_limits_read(t->pid, t->proc_fd, &t->limits);
        if (r < 0) {
                log_error("cannot read the resource limits of process %d: %s", (int) t->pid, strerror(-r));
                return r;
        }
        if (t->status.seccomp == 1) {
                log_error("process %d is in seccomp strict mode: a command cannot run like it", (int) t->pid);
                return -EOPNOTSUPP;
        }
        if (t->status.seccomp == 2) {
                r = seccomp_stack_read(t->pid, t->pidfd, SECCOMP_READ_TIMEOUT_MS, &t->seccomp);
                if (r < 0) {
                        log_error("cannot read the seccomp filters of process %d: %s%s", (int) t->pid, strerror(-r),
                                  r == -EPERM ? " (is it being traced, or are we under seccomp ourselves?)" : "");
                        return r;
                }
                if (t->seccomp->n == 0 ||
                    (t->status.seccomp_filters > 0 && t->seccomp->n != t->status.seccomp_filters)) {
                        log_error("process %d: read %zu seccomp filters, its status says %u", (int) t->pid,
                                  t->seccomp->n, t->status.seccomp_filters);
                        return -EBADMSG;
                }
                if (seccomp_stack_uses_user_notif(t->seccomp)) {
                        log_error("process %d has a seccomp filter that notifies a supervisor: cannot be copied",
                                  (int) t->pid);
                        return -EOPNOTSUPP;
                }
        }
        t->root_fd = openat(t->proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        t->cwd_fd = openat(t->proc_fd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->root_fd < 0 || t->cwd_fd < 0) {
                log_error("cannot open the %s of process %d: %m", t->root_fd < 0 ? "root" : "working directory",
                          (int) t->pid);
                return negative_errno();
        }
        /* Everything read by pid (limits, filters) was that process's. */
        r = pidfd_alive(t->pidfd);
        if (r < 0) {
                log_error("the app's process has exited");
                return r;
        }
        return 0;
}

static struct termios saved_termios;
static bool termios_saved;

static void terminal_restore(void) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
        termios_saved = false;
}

/* The caller's terminal passes every byte through to the command's terminal,
 * which does the line editing, echo and signal keys itself. */
static void terminal_raw(void) {
        struct termios t;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return;
        t = saved_termios;
        cfmakeraw(&t);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) >= 0)
                termios_saved = true;
}

/* The master side the joiner sent must be what it says: a pseudo-terminal
 * master (the ptmx device). */
static int check_master(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
                return -EBADMSG;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "pidfd", required_argument, NULL, 'F' },
                { "pid", required_argument, NULL, 'P' },
                { "app", required_argument, NULL, 'A' },
                { "appname", required_argument, NULL, 'A' },
                { "tty", required_argument, NULL, 'T' },
                {},
        };
        Target t = { .pidfd = -1, .proc_fd = -1, .root_fd = -1, .cwd_fd = -1 };
        ChildIo io = { .sock = -1, .in = -1, .out = -1, .err = -1 };
        _cleanup_close_ int sock = -1, in_w = -1, out_r = -1, err_r = -1, sig_fd = -1, child_fd = -1,
                            master = -1;
        TtyMode tty = TTY_AUTO;
        bool failed = false;
        int pid = -1, c, r, keep[4];
        sigset_t mask;
        siginfo_t si = {};
        pid_t child;

        log_set_program("nspawn-pod enter");
        /* Before anything else: a non-dumpable process cannot be ptrace'd or
         * have its /proc files opened by a process of the same user without
         * CAP_SYS_PTRACE (runc CVE-2016-9962). Inherited by the children. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                log_error("cannot make the process non-dumpable: %m");
                return EXIT_INTERNAL;
        }
        /* A caller that ignores SIGCHLD (inherited across exec) would have
         * the command reaped behind our back and its exit status lost. */
        (void) signal(SIGCHLD, SIG_DFL);
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                case 'F':
                        if (parse_int(optarg, &t.pidfd) < 0 || t.pidfd < 3) {
                                log_error("invalid --pidfd=%s", optarg);
                                return EXIT_INTERNAL;
                        }
                        break;
                case 'P':
                        if (parse_int(optarg, &pid) < 0 || pid < 1) {
                                log_error("invalid --pid=%s", optarg);
                                return EXIT_INTERNAL;
                        }
                        break;
                case 'A':
                        t.name = optarg;
                        break;
                case 'T':
                        if (strcmp(optarg, "auto") == 0)
                                tty = TTY_AUTO;
                        else if (strcmp(optarg, "yes") == 0)
                                tty = TTY_YES;
                        else if (strcmp(optarg, "no") == 0)
                                tty = TTY_NO;
                        else {
                                log_error("invalid --tty=%s (auto, yes, no)", optarg);
                                return EXIT_INTERNAL;
                        }
                        break;
                case '?':
                        return EXIT_INTERNAL;
                default:
                        abort();
                }
        if (optind >= argc || (t.pidfd < 0) == (pid < 0)) {
                fputs(usage_text, stderr);
                return EXIT_INTERNAL;
        }
        /* Executed by a stage0 from its own copy of the stage1 (rkt's tree
         * store), we run from a file on the host: re-executed from a sealed
         * copy first, so that nothing in the pod can reach that file through
         * /proc/<pid>/exe (runc CVE-2019-5736). nspawn-pod enter runs us
         * sealed already. */
        r = pod_exec_is_sealed();
        if (r <= 0) {
                _cleanup_close_ int self = r < 0 ? -1 : open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

                /* Not knowing is no reason to go on from the host's file. */
                r = r < 0 ? r : self < 0 ? negative_errno() : pod_exec_sealed(self, argv, environ);
                log_error("cannot re-execute from a sealed copy: %s", strerror(-r));
                return EXIT_INTERNAL;
        }

        /* Only stdio and the pidfd cross into what follows: every other
         * inherited descriptor is closed, not just marked close-on-exec,
         * since the joiner and the command's process live in the pod before
         * they execute anything (runc CVE-2016-9962, CVE-2024-21626). */
        keep[0] = STDIN_FILENO, keep[1] = STDOUT_FILENO, keep[2] = STDERR_FILENO, keep[3] = t.pidfd;
        r = fd_close_all_except(keep, 4);
        if (r < 0) {
                log_error("cannot close inherited file descriptors: %s", strerror(-r));
                return EXIT_INTERNAL;
        }
        /* 0, 1 and 2 are taken, so that no descriptor made below lands on
         * one of them (the joiner puts /dev/null there). */
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int null_fd = open("/dev/null", O_RDWR);

                        if (null_fd < 0 || (null_fd != fd && (dup2(null_fd, fd) < 0 || close(null_fd) < 0)))
                                return EXIT_INTERNAL;
                }
        if (pid > 0 && t.name) {
                /* rkt's stage0: the pod's init and the app to enter. */
                pid_t main_pid;

                r = pod_app_main_process(pid, t.name, &t.pidfd, &main_pid);
                if (r < 0) {
                        log_error("app %s of the pod whose init is %d is not running: %s", t.name, pid,
                                  r == -ESRCH ? "no main process found" : strerror(-r));
                        return EXIT_INTERNAL;
                }
        } else if (pid > 0) {
                t.pidfd = proc_pidfd_open(pid);
                if (t.pidfd < 0) {
                        log_error("no process %d: %m", pid);
                        return EXIT_INTERNAL;
                }
        } else if (fcntl(t.pidfd, F_SETFD, FD_CLOEXEC) < 0) {
                log_error("--pidfd=%d: %m", t.pidfd);
                return EXIT_INTERNAL;
        }

        if (target_read(&t) < 0) {
                target_done(&t);
                return EXIT_INTERNAL;
        }

        io.pty = tty == TTY_YES || (tty == TTY_AUTO && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
        if (io.pty) {
                int sp[2];

                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                        log_error("cannot create a socket pair: %m");
                        target_done(&t);
                        return EXIT_INTERNAL;
                }
                sock = sp[0];
                io.sock = sp[1];
                io.have_winsize = ioctl(STDOUT_FILENO, TIOCGWINSZ, &io.winsize) >= 0 ||
                                  ioctl(STDIN_FILENO, TIOCGWINSZ, &io.winsize) >= 0;
        } else {
                /* The command never holds one of the caller's descriptors, not
                 * even stdio: a host directory or file there would be a way out
                 * (fchdir, /proc/self/fd reopen). Pipes carry the data. */
                int a[2], b[2], e[2];

                if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
                        log_error("cannot create pipes: %m");
                        target_done(&t);
                        return EXIT_INTERNAL;
                }
                io.in = a[0], in_w = a[1];
                out_r = b[0], io.out = b[1];
                err_r = e[0], io.err = e[1];
        }

        /* Signals meant for the command are taken by a signalfd from here on,
         * and forwarded once the joiner runs; the joiner inherits the mask and
         * keeps them pending until the command exists. */
        sigemptyset(&mask);
        for (size_t i = 0; i < n_forwarded_signals; i++)
                sigaddset(&mask, forwarded_signals[i]);
        sigaddset(&mask, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
                log_error("cannot set up signal handling: %m");
                target_done(&t);
                return EXIT_INTERNAL;
        }
        (void) signal(SIGPIPE, SIG_IGN);

        child = fork();
        if (child < 0) {
                log_error("cannot fork: %m");
                target_done(&t);
                return EXIT_INTERNAL;
        }
        if (child == 0) {
                closep(&sock), closep(&in_w), closep(&out_r), closep(&err_r), closep(&sig_fd);
                joiner_run(&t, &io, argv + optind);
        }

        /* Nothing of the app's stays here: the joiner has its own copies. */
        closep(&io.sock), closep(&io.in), closep(&io.out), closep(&io.err);
        target_done(&t);
        closep(&t.pidfd);
        child_fd = proc_pidfd_open(child);
        if (child_fd < 0) {
                log_error("cannot open a pidfd of the joiner: %m");
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                return EXIT_INTERNAL;
        }
        if (io.pty) {
                r = fd_receive(sock, &master);
                if (r == -ECONNRESET)
                        goto wait; /* the joiner failed, and has said why */
                if (r >= 0 && (r = check_master(master)) < 0)
                        log_error("the joiner sent something that is not a terminal");
                else if (r >= 0 && fcntl(master, F_SETFL, O_NONBLOCK) < 0)
                        r = negative_errno(), log_error("cannot set up the terminal: %m");
                else if (r < 0)
                        log_error("cannot receive the terminal from the joiner: %s", strerror(-r));
                if (r < 0) {
                        /* The joiner passes SIGTERM on to the command, if
                         * there is one already, and ends as it does. */
                        failed = true;
                        (void) proc_pidfd_send_signal(child_fd, SIGTERM);
                        goto wait;
                }
                closep(&sock);
                terminal_raw();
        }
        r = proxy_run(master, &in_w, &out_r, &err_r, sig_fd, child_fd);
        if (r < 0)
                log_error("relaying the command's input and output failed: %s", strerror(-r));
        terminal_restore();
wait:
        closep(&in_w), closep(&out_r), closep(&err_r), closep(&master);
        while (syscall(SYS_waitid, P_PIDFD, child_fd, &si, WEXITED, NULL) < 0)
                if (errno != EINTR) {
                        log_error("cannot wait for the joiner: %m");
                        return EXIT_INTERNAL;
                }
        if (failed)
                return EXIT_INTERNAL;
        exit_like(si.si_code, si.si_status);
}
