/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The seccomp filters a process runs under, copied: read from the process
 * with ptrace(PTRACE_SECCOMP_GET_FILTER), installed again in the same order
 * with seccomp(SECCOMP_SET_MODE_FILTER). The copy behaves exactly as the
 * original for every system call: the same classic BPF programs, stacked the
 * same way, with the same flags (PTRACE_SECCOMP_GET_METADATA), whoever put
 * them there (nspawn's filter on the whole pod, systemd's for the unit).
 */

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

typedef struct SeccompFilter {
        struct sock_filter *insns;
        unsigned short len;
        unsigned long flags; /* SECCOMP_FILTER_FLAG_LOG, …: as attached */
} SeccompFilter;

typedef struct SeccompStack {
        SeccompFilter *filters; /* filters[0] was attached first (the oldest) */
        size_t n;
} SeccompStack;

/* Reads every filter of `pid`. The process is seized and interrupted
 * (PTRACE_SEIZE + PTRACE_INTERRUPT: a ptrace-stop is the only state in which
 * the kernel hands filters out), read, and detached at once; a signal that
 * arrived meanwhile is delivered again on detach. Waits at most `timeout_ms`
 * for the stop (-ETIME). The caller must have no children of its own that
 * could be reaped by the wait, must not be under seccomp itself and needs
 * CAP_SYS_ADMIN (the kernel's conditions). `pidfd` names the same process: a
 * pid reused before the seize is detected (-ESRCH). */
int seccomp_stack_read(pid_t pid, int pidfd, unsigned timeout_ms, SeccompStack **ret);

/* Installs the filters, oldest first, as they were: each install is a
 * seccomp() call made under the filters installed before it, as it was for
 * the original. Needs no_new_privs or CAP_SYS_ADMIN. */
int seccomp_stack_install(const SeccompStack *s);

/* A filter can return SECCOMP_RET_USER_NOTIF: the copy would have no
 * listener (the kernel then fails those calls with ENOSYS), so it is not the
 * same. */
bool seccomp_stack_uses_user_notif(const SeccompStack *s);

SeccompStack *seccomp_stack_free(SeccompStack *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompStack *, seccomp_stack_free);
