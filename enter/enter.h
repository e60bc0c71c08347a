/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The enter helper: three processes (docs/enter.md, "How it runs").
 *
 *   enter (E)   on the host, never joins anything: reads the target's state,
 *               forks J, relays the command's input and output (pipes or a
 *               terminal), forwards signals, exits as the command did.
 *   joiner (J)  opens the target's cgroups, joins its namespaces, root and
 *               working directory, takes its credentials, forks X and waits
 *               for it. Not in the pod's PID namespace nor in the app's
 *               cgroups: nothing in the pod can see it.
 *   exec (X)    in the pod's PID namespace from its first instruction, already
 *               with the app's credentials: moves itself into the app's
 *               cgroups, sets up stdio, the signal dispositions, umask and
 *               environment, installs the app's seccomp filters last, and
 *               executes the command.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "proc-state.h"
#include "seccomp-stack.h"

/* Exit codes (docs/enter.md, lib/exit-status.h): the command's own status;
 * EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND; EXIT_INTERNAL when enter itself
 * failed and nothing was executed. */
#include "exit-status.h"
#include "log.h"

/* How long the app's main process may stay stopped while its seccomp filters
 * are read (it normally takes microseconds). */
#define SECCOMP_READ_TIMEOUT_MS 5000

typedef enum TtyMode {
        TTY_AUTO, /* a terminal when stdin and stdout are terminals */
        TTY_YES,
        TTY_NO,
} TtyMode;

/* What the command gets: the target process's state, read before anything is
 * joined. */
typedef struct Target {
        const char *name; /* the app, for messages; may be NULL */
        pid_t pid;        /* in our PID namespace */
        int pidfd;
        int proc_fd;      /* /proc/<pid>, O_PATH */
        int root_fd;      /* its root directory, O_PATH */
        int cwd_fd;       /* its working directory, O_PATH */
        int ns_flags;     /* CLONE_NEW* of every namespace it does not share with us */
        ProcStatus status;
        ProcLimits limits;
        char **env;       /* its environment (TERM replaced by the caller's) */
        SeccompStack *seccomp; /* NULL: not in filter mode */
} Target;

/* The planned credentials, computed from the target (join.c). */
typedef struct CredPlan {
        uint64_t eff, prm, inh, amb, bnd;
} CredPlan;

/* Descriptors the joiner and the command get from enter. */
typedef struct ChildIo {
        bool pty;
        int sock;         /* pty: the joiner sends the terminal's master side on it */
        int in, out, err; /* pipes: the command's stdin, stdout, stderr */
        struct winsize winsize;
        bool have_winsize;
        int *cgroup_fds;  /* the target's cgroup.procs files, opened on the host */
        size_t n_cgroup_fds;
} ChildIo;

/* Signals enter forwards to the command (through the joiner). */
extern const int forwarded_signals[];
extern const size_t n_forwarded_signals;

/* join.c: the joiner. Never returns. */
_Noreturn void joiner_run(Target *t, ChildIo *io, char **argv);

/* exec.c: the command's process. Never returns. */
/* Stdin, stdout and stderr are the command's already (pipes or terminal). */
_Noreturn void exec_command(const Target *t, const ChildIo *io, char **argv);

/* proxy.c: relays stdin/stdout/stderr to the command's pipes or terminal
 * until the joiner (`child_pidfd`) has exited, forwarding the signals that
 * arrive on `sig_fd` (a signalfd) to it. The pipe ends are closed here when
 * done with (and set to -1). */
int proxy_run(int master_fd, int *in_w, int *out_r, int *err_r, int sig_fd, int child_pidfd);

/* util.c */
int fd_send(int sock, int fd);
int fd_receive(int sock, int *ret_fd);
/* Exits as a child ended (waitid's si_code/si_status): its exit status, or
 * its signal raised on ourselves (128 + N if that does not end us). */
_Noreturn void exit_like(int code, int status);
int pidfd_alive(int pidfd);
