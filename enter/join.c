/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The joiner (enter.h: "J"): takes on everything of the target that a child
 * inherits, in an order where each step still has the privilege it needs and
 * nothing of the host is left when the pod can first see us:
 *
 *   1. close every descriptor but the target's and the command's stdio;
 *   2. open the cgroup.procs files of the target's cgroups (host paths:
 *      before the mount namespace changes); the command's process writes
 *      itself into them, so that this one never is in the app's cgroups,
 *      where the pod's systemd would find a process it cannot see;
 *   3. its resource limits, nice value, scheduling, I/O priority, CPU
 *      affinity, oom_score_adj (raising any of them needs privileges);
 *   4. its namespaces, all in one setns() on the pidfd;
 *   5. its root (chroot to the directory its /proc/<pid>/root is) and
 *      working directory, checked to be inside that root;
 *   6. its credentials: inheritable set, bounding set, groups, gids, uids,
 *      then the permitted/effective/ambient sets and no_new_privs, checked
 *      afterwards;
 *   7. a terminal inside the app (when asked for), opened as the app's user,
 *      and the command's stdio (pipes or that terminal) on 0, 1, 2;
 *   8. fork: the command's process is born in the pod's PID namespace with
 *      all of the above; this process stays outside it, invisible to the pod,
 *      forwards signals to the command and exits as it did.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capability.h"
#include "cgroup-attach.h"
#include "enter.h"
#include "fd-util.h"
#include "macro.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))
#define CAP_SYS_ADMIN_BIT CAP_BIT(21)

static volatile pid_t command_pid;

static void forward(int sig) {
        if (command_pid > 0)
                (void) kill(command_pid, sig);
}

/* The working directory must be inside the root we just took: the kernel
 * says "(unreachable)" for one that is not (runc CVE-2024-21626). The raw
 * system call, since glibc hides that answer. */
static int check_cwd(void) {
        char buf[4096];
        long n = syscall(SYS_getcwd, buf, sizeof(buf));

        if (n < 0)
                return errno == ERANGE ? 0 : negative_errno(); /* long, but answered: inside */
        if (n == 0 || buf[0] != '/')
                return -EXDEV;
        return 0;
}

/*
 * The credentials right before the command is executed. The target's sets are
 * its state after its own execve(); executing a command from that same state
 * gives that state again (no_new_privs or not, root or not), except when the
 * command file has capabilities or set-id bits of its own, where the kernel's
 * execve() rules apply as they would to the app. One addition: without
 * no_new_privs, installing seccomp filters needs CAP_SYS_ADMIN in the
 * effective set (systemd keeps it for the same reason until the app's
 * execve()); the kernel recomputes the permitted and effective sets at
 * execve() without looking at what they were then, so it does not survive it.
 */
static void plan_credentials(const Target *t, CredPlan *p) {
        bool need_admin = t->seccomp && t->seccomp->n > 0 && !t->status.no_new_privs &&
                          !(t->status.cap_eff & CAP_SYS_ADMIN_BIT);
        uint64_t extra = need_admin ? CAP_SYS_ADMIN_BIT : 0;

        *p = (CredPlan){
                .eff = t->status.cap_eff | extra,
                .prm = t->status.cap_prm | extra,
                .inh = t->status.cap_inh,
                .amb = t->status.cap_amb,
                .bnd = t->status.cap_bnd & capability_all(),
        };
}

static int apply_credentials(const Target *t, const CredPlan *p) {
        const ProcStatus *s = &t->status;
        uint64_t prm;
        int r;

        r = capability_get(NULL, &prm, NULL);
        if (r < 0)
                return r;
        /* The inheritable set first: once the bounding set is smaller, only
         * capabilities still in it could be added to the inheritable set. */
        r = capability_set(prm, prm, p->inh);
        if (r < 0)
                return r;
        r = capability_bounding_set_limit(p->bnd);
        if (r < 0)
                return r;
        /* Keep the permitted set across the change of uid; set it below. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return negative_errno();
        /* Always, even with none: the caller's groups must not stay (rkt's
         * enterexec skipped this for a single gid). Numbers only: no NSS. */
        if (setgroups(s->n_groups, s->groups) < 0)
                return negative_errno();
        if (setresgid(s->gid[0], s->gid[1], s->gid[2]) < 0 || setresuid(s->uid[0], s->uid[1], s->uid[2]) < 0)
                return negative_errno();
        /* The file system ids follow the effective ones; set them when they
         * differ, with the capabilities that takes. */
        r = capability_set(prm, prm, p->inh);
        if (r < 0)
                return r;
        if (s->gid[3] != s->gid[1])
                (void) setfsgid(s->gid[3]);
        if (s->uid[3] != s->uid[1])
                (void) setfsuid(s->uid[3]);
        r = capability_set(p->eff, p->prm, p->inh);
        if (r < 0)
                return r;
        r = capability_ambient_set(p->amb);
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return negative_errno();
        if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}

static int gid_cmp(const void *a, const void *b) {
        gid_t x = *(const gid_t *) a, y = *(const gid_t *) b;

        return (x > y) - (x < y);
}

/* Reads back what the kernel now says we are: a step that did less than
 * asked must not go unnoticed. */
static int verify_credentials(const Target *t, const CredPlan *p, const char **ret_what) {
        const ProcStatus *s = &t->status;
        uid_t u[3];
        gid_t g[3], *have = NULL, *want = NULL;
        uint64_t eff, prm, inh, bnd, amb;
        int n, r;

        if (getresuid(&u[0], &u[1], &u[2]) < 0 || getresgid(&g[0], &g[1], &g[2]) < 0)
                return negative_errno();
        if (u[0] != s->uid[0] || u[1] != s->uid[1] || u[2] != s->uid[2] || (uid_t) setfsuid((uid_t) -1) != s->uid[3])
                return *ret_what = "user ids", -EPERM;
        if (g[0] != s->gid[0] || g[1] != s->gid[1] || g[2] != s->gid[2] || (gid_t) setfsgid((gid_t) -1) != s->gid[3])
                return *ret_what = "group ids", -EPERM;
        n = getgroups(0, NULL);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != s->n_groups)
                return *ret_what = "supplementary groups", -EPERM;
        if (n > 0) {
                have = calloc((size_t) n, sizeof(gid_t));
                want = calloc((size_t) n, sizeof(gid_t));
                r = have && want ? 0 : -ENOMEM;
                if (r >= 0 && getgroups(n, have) != n)
                        r = -EIO;
                if (r >= 0) {
                        memcpy(want, s->groups, (size_t) n * sizeof(gid_t));
                        qsort(have, (size_t) n, sizeof(gid_t), gid_cmp);
                        qsort(want, (size_t) n, sizeof(gid_t), gid_cmp);
                        if (memcmp(have, want, (size_t) n * sizeof(gid_t)) != 0)
                                r = -EPERM, *ret_what = "supplementary groups";
                }
                free(have);
                free(want);
                if (r < 0)
                        return r;
        }
        if ((r = capability_get(&eff, &prm, &inh)) < 0 || (r = capability_bounding_set_get(&bnd)) < 0 ||
            (r = capability_ambient_get(&amb)) < 0)
                return r;
        if (eff != p->eff || prm != p->prm || inh != p->inh)
                return *ret_what = "capability sets", -EPERM;
        if (bnd != p->bnd)
                return *ret_what = "capability bounding set", -EPERM;
        if (amb != p->amb)
                return *ret_what = "ambient capabilities", -EPERM;
        r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (r < 0)
                return negative_errno();
        if ((r == 1) != s->no_new_privs)
                return *ret_what = "no_new_privs", -EPERM;
        return 0;
}

/* A terminal for the command, from the app's own devpts instance, opened as
 * the app's user (the terminal is then the user's, as a login's is). The
 * master is checked to be a real one: the app root is the app's to change. */
static int open_terminal(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -1, slave = -1;
        struct statfs sf;
        struct stat st;
        int unlock = 0;

        master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (master < 0)
                return negative_errno();
        if (fstat(master, &st) < 0 || fstatfs(master, &sf) < 0)
                return negative_errno();
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2 ||
            sf.f_type != DEVPTS_SUPER_MAGIC)
                return -EBADMSG;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return negative_errno();
        /* The peer by descriptor, not by a path in the app's /dev/pts. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return negative_errno();
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

static int join(Target *t, ChildIo *io, char **argv) {
        _cleanup_close_ int self_fd = -1, null_fd = -1, master = -1, slave = -1;
        struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
        const char *what = NULL;
        pid_t enter_pid = getppid();
        CredPlan plan;
        sigset_t mask;
        siginfo_t si = {};
        int keep[12], n_keep = 0, r;

        /* A process group of our own: signals from the caller's terminal go
         * to enter, which forwards them once (not a second time through us). */
        (void) setpgid(0, 0);
        /* Not the terminal's foreground group any more: our messages on the
         * caller's terminal must not stop us (TOSTOP). */
        (void) signal(SIGTTOU, SIG_IGN);

        /* 1. Only what is needed: the target's descriptors, stderr for our
         * messages, and the command's stdio; 0 and 1 become /dev/null. */
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0) {
                log_error("cannot open /dev/null: %m");
                return negative_errno();
        }
        closep(&null_fd);
        keep[n_keep++] = STDIN_FILENO, keep[n_keep++] = STDOUT_FILENO, keep[n_keep++] = STDERR_FILENO;
        keep[n_keep++] = t->pidfd, keep[n_keep++] = t->proc_fd, keep[n_keep++] = t->root_fd;
        keep[n_keep++] = t->cwd_fd;
        if (io->pty)
                keep[n_keep++] = io->sock;
        else
                keep[n_keep++] = io->in, keep[n_keep++] = io->out, keep[n_keep++] = io->err;
        r = fd_close_all_except(keep, (size_t) n_keep);
        if (r < 0) {
                log_error("cannot close file descriptors: %s", strerror(-r));
                return r;
        }
        self_fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (self_fd < 0) {
                log_error("cannot open /proc/self: %m");
                return negative_errno();
        }

        /* 2. Cgroups first: their paths are the host's. */
        r = cgroup_attach_open(t->proc_fd, self_fd, &io->cgroup_fds, &io->n_cgroup_fds);
        if (r < 0) {
                log_error("cannot join the cgroups of the app's process: %s", strerror(-r));
                return r;
        }
        /* 3. */
        r = proc_limits_apply(&t->limits, self_fd);
        if (r < 0) {
                log_error("cannot apply the app's resource limits and scheduling: %s%s", strerror(-r),
                          r == -EPERM ? " (a limit above enter's own needs CAP_SYS_RESOURCE)" : "");
                return r;
        }
        closep(&self_fd);

        /* 4. setns() on the pidfd joins the namespaces of that very process
         * (kernel >= 5.8): no /proc/<pid>/ns path to race. Its user
         * namespace last: joined together, the others would be checked
         * against our credentials in it, where a network namespace the host
         * made (a CNI network's, owned by the host's user namespace) is out
         * of reach. */
        if ((t->ns_flags & ~CLONE_NEWUSER) != 0 && setns(t->pidfd, t->ns_flags & ~CLONE_NEWUSER) < 0) {
                log_error("cannot join the namespaces of the app's process: %m");
                return negative_errno();
        }
        if ((t->ns_flags & CLONE_NEWUSER) && setns(t->pidfd, CLONE_NEWUSER) < 0) {
                log_error("cannot join the user namespace of the app's process: %m");
                return negative_errno();
        }
        /* 5. The root the app's process has (systemd's RootDirectory=, in
         * the app's own mount namespace), then its working directory. */
        if (fchdir(t->root_fd) < 0 || chroot(".") < 0) {
                log_error("cannot take the app's root directory: %m");
                return negative_errno();
        }
        if (fchdir(t->cwd_fd) < 0) {
                log_error("cannot enter the app's working directory: %m");
                return negative_errno();
        }
        r = check_cwd();
        if (r < 0) {
                log_error("the app's working directory is not inside its root: refusing");
                return r;
        }
        closep(&t->proc_fd), closep(&t->root_fd), closep(&t->cwd_fd), closep(&t->pidfd);

        /* 6. */
        plan_credentials(t, &plan);
        r = apply_credentials(t, &plan);
        if (r >= 0)
                r = verify_credentials(t, &plan, &what);
        if (r < 0) {
                if (what)
                        log_error("could not give the command the app's %s", what);
                else
                        log_error("cannot take the app's credentials: %s", strerror(-r));
                return r;
        }
        /* Changing credentials makes a process non-dumpable already; say it
         * anyway. And if enter dies, the command hears it as a hangup (set
         * after the uid change, which clears it). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0) < 0)
                return negative_errno();
        if (getppid() != enter_pid)
                return -ESRCH; /* enter is gone already */

        /* 7. */
        if (io->pty) {
                r = open_terminal(&master, &slave);
                if (r < 0) {
                        log_error("cannot open a terminal in the app (/dev/pts/ptmx): %s; try --no-tty",
                                  strerror(-r));
                        return r;
                }
                if (io->have_winsize)
                        (void) ioctl(master, TIOCSWINSZ, &io->winsize);
                r = fd_send(io->sock, master);
                if (r < 0) {
                        log_error("cannot pass the terminal to enter: %s", strerror(-r));
                        return r;
                }
                closep(&master), closep(&io->sock);
        }

        /* The command's stdio on 0, 1, 2 before the fork: the command's
         * process, visible in the pod, never holds one of the caller's
         * descriptors, not even for an instant. Our own messages from here
         * on go where the command's stderr goes (enter relays it). */
        {
                int in = io->pty ? slave : io->in, out = io->pty ? slave : io->out,
                    err = io->pty ? slave : io->err;

                if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
                        log_error("cannot set up the command's stdin/stdout/stderr: %m");
                        return negative_errno();
                }
                closep(&slave), closep(&io->in), closep(&io->out), closep(&io->err);
        }

        /* 8. The forwarded signals are still blocked (enter's mask): pending
         * ones reach the command once the handlers are in place. */
        command_pid = fork();
        if (command_pid < 0) {
                log_error("cannot fork: %m");
                return negative_errno();
        }
        if (command_pid == 0)
                exec_command(t, io, argv);
        for (size_t i = 0; i < io->n_cgroup_fds; i++)
                closep(&io->cgroup_fds[i]);
        sigemptyset(&mask);
        for (size_t i = 0; i < n_forwarded_signals; i++) {
                (void) sigaction(forwarded_signals[i], &sa, NULL);
                sigaddset(&mask, forwarded_signals[i]);
        }
        (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        while (waitid(P_PID, (id_t) command_pid, &si, WEXITED) < 0)
                if (errno != EINTR) {
                        log_error("cannot wait for the command: %m");
                        return negative_errno();
                }
        command_pid = 0;
        exit_like(si.si_code, si.si_status);
}

_Noreturn void joiner_run(Target *t, ChildIo *io, char **argv) {
        (void) join(t, io, argv);
        _exit(EXIT_INTERNAL);
}
