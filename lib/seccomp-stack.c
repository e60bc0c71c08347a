/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "seccomp-stack.h"
#include "proc-state.h"

/* Kernel limit: BPF_MAXINSNS per program. */
#define FILTER_MAX_INSNS 4096
/* MAX_INSNS_PER_PATH (32768) over all filters, each at least one instruction
 * plus a 4-instruction penalty: no process can have more. */
#define STACK_MAX_FILTERS 8192

SeccompStack *seccomp_stack_free(SeccompStack *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                free(s->filters[i].insns);
        free(s->filters);
        free(s);
        return NULL;
}

static int pidfd_alive(int pidfd) {
        if (proc_pidfd_send_signal(pidfd, 0) < 0)
                return negative_errno();
        return 0;
}

/* Waits for the ptrace-stop the interrupt (or a signal) causes. Returns the
 * signal to deliver again on detach (0: none), or -errno. */
static int wait_stop(pid_t pid, unsigned timeout_ms, int *ret_inject) {
        struct timespec pause = { 0, 1000 * 1000 };

        for (unsigned waited = 0;; waited++) {
                int status = 0;
                pid_t w = waitpid(pid, &status, __WALL | WNOHANG);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (w == 0) {
                        if (waited >= timeout_ms)
                                return -ETIME;
                        (void) nanosleep(&pause, NULL);
                        continue;
                }
                if (WIFEXITED(status) || WIFSIGNALED(status))
                        return -ESRCH;
                if (!WIFSTOPPED(status))
                        continue;
                /* PTRACE_EVENT_STOP: our interrupt, or a group-stop (stays
                 * stopped after detach, as it should). Anything else is a
                 * signal-delivery-stop: the signal was taken from the queue
                 * and must be handed back. */
                *ret_inject = (status >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
                return 0;
        }
}

static int read_filters(pid_t pid, SeccompStack *s) {
        long n;

        /* Index 0 is the most recently attached filter; count them first. */
        for (n = 0; n < STACK_MAX_FILTERS; n++)
                if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) n, NULL) < 0) {
                        if (errno == ENOENT)
                                break;
                        if (errno == EINVAL && n == 0)
                                return 0; /* not in filter mode */
                        return negative_errno();
                }
        if (n == STACK_MAX_FILTERS)
                return -E2BIG;
        s->filters = calloc((size_t) n ? (size_t) n : 1, sizeof(SeccompFilter));
        if (!s->filters)
                return -ENOMEM;
        for (long i = 0; i < n; i++) {
                SeccompFilter *f = &s->filters[n - 1 - i];
                struct __ptrace_seccomp_metadata md = { .filter_off = (uint64_t) i };
                long len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) i, NULL);

                if (len <= 0 || len > FILTER_MAX_INSNS)
                        return len < 0 ? negative_errno() : -EBADMSG;
                f->insns = calloc((size_t) len, sizeof(struct sock_filter));
                if (!f->insns)
                        return -ENOMEM;
                s->n++;
                if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) i, f->insns) != len)
                        return -EBADMSG;
                f->len = (unsigned short) len;
                /* Since 4.16; without it the flags are assumed 0 (none). */
                if (ptrace(PTRACE_SECCOMP_GET_METADATA, pid, (void *) sizeof(md), &md) >= 0)
                        f->flags = (unsigned long) md.flags;
                else if (errno != EIO && errno != EINVAL)
                        return negative_errno();
        }
        return 0;
}

int seccomp_stack_read(pid_t pid, int pidfd, unsigned timeout_ms, SeccompStack **ret) {
        _cleanup_(seccomp_stack_freep) SeccompStack *s = calloc(1, sizeof(SeccompStack));
        int inject = 0, r;

        if (!s)
                return -ENOMEM;
        if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
                return negative_errno();
        /* Seized: if the pid was reused since the pidfd was opened, the
         * pidfd's process is gone and this says so. */
        r = pidfd_alive(pidfd);
        if (r >= 0 && ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
                r = negative_errno();
        if (r >= 0)
                r = wait_stop(pid, timeout_ms, &inject);
        if (r >= 0)
                r = read_filters(pid, s);
        /* Detaching a tracee that is not stopped fails; leaving does it then
         * (the kernel detaches every tracee of an exiting tracer). */
        if (ptrace(PTRACE_DETACH, pid, NULL, (void *) (long) inject) < 0 && r >= 0 && errno != ESRCH)
                r = negative_errno();
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* The architecture the kernel puts in seccomp_data for our own calls. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_I386
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_RISCV64
#endif

/* Runs one classic BPF seccomp program on `d`, the way the kernel would
 * (the instruction set seccomp_check_filter() accepts). -EINVAL for anything
 * else, so that an unknown program is never taken as allowing a call. */
static int bpf_run(const SeccompFilter *f, const struct seccomp_data *d, uint32_t *ret) {
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};

        for (size_t pc = 0; pc < f->len; pc++) {
                const struct sock_filter *in = &f->insns[pc];
                uint32_t k = in->k, src;

                switch (BPF_CLASS(in->code)) {
                case BPF_LD:
                        if (in->code == (BPF_LD | BPF_W | BPF_ABS)) {
                                if (k % 4 != 0 || k > sizeof(*d) - 4)
                                        return -EINVAL;
                                memcpy(&a, (const char *) d + k, 4);
                        } else if (in->code == (BPF_LD | BPF_W | BPF_LEN))
                                a = sizeof(*d);
                        else if (in->code == (BPF_LD | BPF_IMM))
                                a = k;
                        else if (in->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS)
                                a = mem[k];
                        else
                                return -EINVAL;
                        break;
                case BPF_LDX:
                        if (in->code == (BPF_LDX | BPF_W | BPF_LEN))
                                x = sizeof(*d);
                        else if (in->code == (BPF_LDX | BPF_IMM))
                                x = k;
                        else if (in->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
                                x = mem[k];
                        else
                                return -EINVAL;
                        break;
                case BPF_ST:
                case BPF_STX:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        mem[k] = BPF_CLASS(in->code) == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        src = BPF_SRC(in->code) == BPF_X ? x : k;
                        switch (BPF_OP(in->code)) {
                        case BPF_ADD: a += src; break;
                        case BPF_SUB: a -= src; break;
                        case BPF_MUL: a *= src; break;
                        case BPF_DIV:
                                if (src == 0)
                                        return *ret = 0, 0; /* the kernel returns 0: kill */
                                a /= src;
                                break;
                        case BPF_MOD:
                                if (src == 0)
                                        return *ret = 0, 0;
                                a %= src;
                                break;
                        case BPF_AND: a &= src; break;
                        case BPF_OR: a |= src; break;
                        case BPF_XOR: a ^= src; break;
                        case BPF_LSH: a = src >= 32 ? 0 : a << src; break;
                        case BPF_RSH: a = src >= 32 ? 0 : a >> src; break;
                        case BPF_NEG: a = -a; break;
                        default: return -EINVAL;
                        }
                        break;
                case BPF_JMP:
                        src = BPF_SRC(in->code) == BPF_X ? x : k;
                        switch (BPF_OP(in->code)) {
                        case BPF_JA: pc += k; break;
                        case BPF_JEQ: pc += a == src ? in->jt : in->jf; break;
                        case BPF_JGT: pc += a > src ? in->jt : in->jf; break;
                        case BPF_JGE: pc += a >= src ? in->jt : in->jf; break;
                        case BPF_JSET: pc += (a & src) ? in->jt : in->jf; break;
                        default: return -EINVAL;
                        }
                        break;
                case BPF_RET:
                        if (BPF_RVAL(in->code) == BPF_K)
                                *ret = k;
                        else if (BPF_RVAL(in->code) == BPF_A)
                                *ret = a;
                        else
                                return -EINVAL;
                        return 0;
                case BPF_MISC:
                        if (BPF_MISCOP(in->code) == BPF_TAX)
                                x = a;
                        else if (BPF_MISCOP(in->code) == BPF_TXA)
                                a = x;
                        else
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return -EINVAL; /* fell off the end: the kernel refuses such programs */
}

/* Would the first `n` filters let this call through (every one of them
 * returning ALLOW or LOG)? 1 yes, 0 no, -errno when it cannot be told. */
static int stack_allows(const SeccompStack *s, size_t n, const struct seccomp_data *d) {
        for (size_t i = 0; i < n; i++) {
                uint32_t action;
                int r = bpf_run(&s->filters[i], d, &action);

                if (r < 0)
                        return r;
                action &= SECCOMP_RET_ACTION_FULL;
                if (action != SECCOMP_RET_ALLOW && action != SECCOMP_RET_LOG)
                        return 0;
        }
        return 1;
}

int seccomp_stack_install(const SeccompStack *s) {
        for (size_t i = 0; i < s->n; i++) {
                struct sock_fprog prog = { .len = s->filters[i].len, .filter = s->filters[i].insns };
                bool use_prctl = false;

#ifdef NATIVE_AUDIT_ARCH
                /* Each install runs under the filters installed before it, as
                 * it did for the original, which made it with seccomp() or
                 * prctl(PR_SET_SECCOMP) (libseccomp picks). Ask the filters
                 * which one they allow rather than try: a filter may kill
                 * for a call it does not allow. */
                if (i > 0) {
                        struct seccomp_data d = {
                                .nr = SYS_seccomp,
                                .arch = NATIVE_AUDIT_ARCH,
                                .args = { SECCOMP_SET_MODE_FILTER, s->filters[i].flags, (uintptr_t) &prog },
                        };
                        int r = stack_allows(s, i, &d);

                        if (r == 0 && s->filters[i].flags == 0) {
                                d = (struct seccomp_data){
                                        .nr = SYS_prctl,
                                        .arch = NATIVE_AUDIT_ARCH,
                                        .args = { PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (uintptr_t) &prog },
                                };
                                r = stack_allows(s, i, &d);
                                use_prctl = r > 0;
                        }
                        if (r == 0)
                                return -EACCES; /* the filters so far forbid installing the next */
                }
#endif
                if (use_prctl ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0
                              : syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->filters[i].flags, &prog) < 0)
                        return negative_errno();
        }
        return 0;
}

bool seccomp_stack_uses_user_notif(const SeccompStack *s) {
        for (size_t i = 0; i < s->n; i++)
                for (size_t j = 0; j < s->filters[i].len; j++) {
                        const struct sock_filter *in = &s->filters[i].insns[j];

                        if (in->code == (BPF_RET | BPF_K) &&
                            (in->k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
                                return true;
                        /* A return of the accumulator: its value is not known here. */
                        if (in->code == (BPF_RET | BPF_A))
                                return true;
                }
        return false;
}
