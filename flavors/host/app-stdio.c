/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * app-stdio: what an app's unit runs first (docs/logs.md, "stdout and
 * stderr"): `app-stdio APP PROGRAM [ARG...]`. systemd gives a unit one
 * journal stream for stdout and stderr together; app-stdio gives stderr one
 * of its own: connected to journald's stdout socket, identifier APP, unit
 * APP.service, priority 3 (err), copied to the console. stdout keeps
 * systemd's stream (priority 6, info), which systemd made as root: journald
 * then names the unit of every line on it even when the writer has exited
 * before journald read the line. Then it becomes PROGRAM (same process, so
 * journald attributes every line to the app: its pid, its cgroup). If the
 * stream cannot be made, stderr stays on systemd's stream. If PROGRAM cannot
 * be executed, it says so on stderr and exits 203, systemd's own status for
 * that.
 *
 * `app-stdio [-a] [-n] [+CONTROLLER...] APP PROGRAM [ARG...]`: "-n" leaves
 * stdout and stderr as systemd made them; each "+memory", "+cpu" first
 * writes the process into the app's cgroup of that v1 controller, whose
 * cgroup.procs prepare-app bound at /dev/.nspawn-pod-cgroup/CONTROLLER
 * (lib/cgroup-limits.h): on hosts whose memory and cpu controllers are v1,
 * the app's limits are there. One it cannot join is fatal (exit 219,
 * systemd's status for a cgroup that could not be set up): an app never runs
 * outside its limits.
 *
 * "-a" (apps apart, docs/security.md "Apps of one pod"): when the process
 * has no_new_privs, it puts itself into a Landlock domain of its own (Linux
 * 5.13) whose one rule allows everything below its root, so the app keeps
 * all of its own tree, and the kernel refuses it ptrace-mode access (such
 * as /proc/<pid>/root) to any process outside its domain: the other apps
 * of the pod, also when they run as the same user with the same
 * capabilities. Without Landlock or no_new_privs it changes nothing.
 *
 * It runs inside the app's root, where no C library can be assumed: a
 * static program without one (raw system calls), bound there read-only by
 * prepare-app. The app's seccomp filter applies to it: render uses it only
 * when that filter allows socket, connect, dup3, write and close.
 */

#ifdef APP_STDIO_LIBC
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <asm/unistd.h>
#endif
#ifdef APP_STDIO_LIBC
#include <fcntl.h>
#endif

#define JOURNAL_STDOUT "/run/systemd/journal/stdout"
#define EXIT_EXEC 203
#define EXIT_CGROUP 219
#define CGROUP_DIR "/dev/.nspawn-pod-cgroup/"
#define O_WRONLY_ 01
#define O_CLOEXEC_ 02000000
#define AT_FDCWD_ (-100)
#define EXIT_USAGE 2

#define AF_UNIX_ 1
#define SOCK_STREAM_ 1
#define SOCK_CLOEXEC_ 02000000

typedef unsigned long size_t_;

struct sockaddr_un_ {
        unsigned short sun_family;
        char sun_path[108];
};

#define PR_GET_NO_NEW_PRIVS_ 39
#define O_PATH_ 010000000
#define NR_LANDLOCK_CREATE_RULESET 444 /* the same number on x86-64 and arm64 */
#define NR_LANDLOCK_ADD_RULE 445
#define NR_LANDLOCK_RESTRICT_SELF 446
#define LANDLOCK_CREATE_RULESET_VERSION_ 1
#define LANDLOCK_RULE_PATH_BENEATH_ 1

struct landlock_ruleset_attr_ {
        unsigned long long handled_access_fs;
};

struct landlock_path_beneath_attr_ {
        unsigned long long allowed_access;
        int parent_fd;
} __attribute__((packed));

#ifdef APP_STDIO_LIBC
static long sys3(long n, long a, long b, long c) {
        long r = syscall(n, a, b, c);

        return r < 0 ? -errno : r;
}
static long sys5(long n, long a, long b, long c, long d, long e) {
        long r = syscall(n, a, b, c, d, e);

        return r < 0 ? -errno : r;
}
static long sys4(long n, long a, long b, long c, long d) {
        long r = syscall(n, a, b, c, d);

        return r < 0 ? -errno : r;
}
#elif defined(__x86_64__)
static long sys3(long n, long a, long b, long c) {
        long r;

        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        return r;
}
static long sys4(long n, long a, long b, long c, long d) {
        register long r10 __asm__("r10") = d;
        long r;

        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
        return r;
}
static long sys5(long n, long a, long b, long c, long d, long e) {
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        long r;

        __asm__ volatile("syscall"
                         : "=a"(r)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                         : "rcx", "r11", "memory");
        return r;
}
#elif defined(__aarch64__)
static long sys3(long n, long a, long b, long c) {
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;

        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
        return x0;
}
static long sys4(long n, long a, long b, long c, long d) {
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;

        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
        return x0;
}
static long sys5(long n, long a, long b, long c, long d, long e) {
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;

        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
        return x0;
}
#else
#error "app-stdio: no system call glue for this architecture; build with -DAPP_STDIO_LIBC"
#endif

#ifndef APP_STDIO_LIBC
/* The compiler may emit calls to these even without a C library (and, from
 * loops like these, to themselves: -fno-tree-loop-distribute-patterns). */
void *memset(void *s, int c, size_t_ n);
void *memset(void *s, int c, size_t_ n) {
        unsigned char *p = s;

        while (n-- > 0)
                *p++ = (unsigned char) c;
        return s;
}
void *memcpy(void *d, const void *s, size_t_ n);
void *memcpy(void *d, const void *s, size_t_ n) {
        unsigned char *p = d;
        const unsigned char *q = s;

        while (n-- > 0)
                *p++ = *q++;
        return d;
}
#endif

static size_t_ str_len(const char *s) {
        size_t_ n = 0;

        while (s[n])
                n++;
        return n;
}

static void write_all(int fd, const char *s, size_t_ n) {
        while (n > 0) {
                long w = sys3(__NR_write, fd, (long) s, (long) n);

                if (w == -4) /* EINTR */
                        continue;
                if (w <= 0)
                        return;
                s += w;
                n -= (size_t_) w;
        }
}

static void put(char *buf, size_t_ *len, size_t_ max, const char *s) {
        while (*s && *len < max)
                buf[(*len)++] = *s++;
}

/* A stream to journald: "identifier\nunit\npriority\nlevel prefix\nsyslog\n
 * kmsg\nconsole\n", the header systemd itself sends (journald's stdout
 * protocol; journald takes the unit from a root peer only), then the app's
 * lines. -1 if it cannot be made. */
static int journal_stream(const char *ident, const char *priority) {
        struct sockaddr_un_ sa = { .sun_family = AF_UNIX_ };
        char header[512];
        size_t_ len = 0;
        long fd;

        if (str_len(ident) > 200)
                return -1;
        memcpy(sa.sun_path, JOURNAL_STDOUT, sizeof(JOURNAL_STDOUT));
        fd = sys3(__NR_socket, AF_UNIX_, SOCK_STREAM_ | SOCK_CLOEXEC_, 0);
        if (fd < 0)
                return -1;
        if (sys3(__NR_connect, fd, (long) &sa, (long) (2 + sizeof(JOURNAL_STDOUT))) < 0) {
                (void) sys3(__NR_close, fd, 0, 0);
                return -1;
        }
        put(header, &len, sizeof(header), ident);
        put(header, &len, sizeof(header), "\n");
        put(header, &len, sizeof(header), ident);
        put(header, &len, sizeof(header), ".service\n");
        put(header, &len, sizeof(header), priority);
        put(header, &len, sizeof(header), "\n1\n0\n0\n1\n");
        write_all((int) fd, header, len);
        return (int) fd;
}

static const char *errno_text(long e) {
        switch (e) {
        case 1: return "Operation not permitted";
        case 2: return "No such file or directory";
        case 7: return "Argument list too long";
        case 8: return "Exec format error";
        case 12: return "Cannot allocate memory";
        case 13: return "Permission denied";
        case 16: return "Device or resource busy";
        case 20: return "Not a directory";
        case 21: return "Is a directory";
        case 22: return "Invalid argument";
        case 26: return "Text file busy";
        case 28: return "No space left on device";
        case 30: return "Read-only file system";
        case 40: return "Too many levels of symbolic links";
        default: return "error";
        }
}

static void say(const char *app, const char *what, const char *name, long e) {
        char msg[600];
        size_t_ len = 0;

        put(msg, &len, sizeof(msg) - 1, app);
        put(msg, &len, sizeof(msg) - 1, what);
        put(msg, &len, sizeof(msg) - 1, name);
        put(msg, &len, sizeof(msg) - 1, ": ");
        put(msg, &len, sizeof(msg) - 1, errno_text(e));
        msg[len++] = '\n';
        write_all(2, msg, len);
}

/* Writes "0" (this process) into the cgroup.procs bound for `controller`. */
static long join(const char *controller) {
        char path[64];
        size_t_ len = 0;
        long fd, w;

        put(path, &len, sizeof(path) - 1, CGROUP_DIR);
        put(path, &len, sizeof(path) - 1, controller);
        path[len] = 0;
        fd = sys4(__NR_openat, AT_FDCWD_, (long) path, O_WRONLY_ | O_CLOEXEC_, 0);
        if (fd < 0)
                return fd;
        do
                w = sys3(__NR_write, fd, (long) "0\n", 2);
        while (w == -4); /* EINTR */
        (void) sys3(__NR_close, fd, 0, 0);
        return w < 0 ? w : 0;
}

/* "-a": a Landlock domain of the process's own (see the top). Every access
 * right this kernel's Landlock knows is handled, and granted below "/": in
 * the app's own tree nothing changes. */
static void apart(void) {
        struct landlock_ruleset_attr_ attr;
        struct landlock_path_beneath_attr_ rule;
        long abi, ruleset, root;

        if (sys5(__NR_prctl, PR_GET_NO_NEW_PRIVS_, 0, 0, 0, 0) != 1)
                return; /* Landlock takes no_new_privs (or CAP_SYS_ADMIN, which apps apart lack) */
        abi = sys3(NR_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION_);
        if (abi < 1)
                return; /* no Landlock here */
        /* ABI 1: 13 file rights; 2: REFER; 3: TRUNCATE; 5: IOCTL_DEV. */
        attr.handled_access_fs = abi >= 5 ? 0xFFFF : abi >= 3 ? 0x7FFF : abi >= 2 ? 0x3FFF : 0x1FFF;
        ruleset = sys3(NR_LANDLOCK_CREATE_RULESET, (long) &attr, sizeof(attr), 0);
        if (ruleset < 0)
                return;
        root = sys4(__NR_openat, AT_FDCWD_, (long) "/", O_PATH_ | O_CLOEXEC_, 0);
        rule.allowed_access = attr.handled_access_fs;
        rule.parent_fd = (int) root;
        if (root >= 0 && sys4(NR_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH_, (long) &rule, 0) == 0)
                (void) sys3(NR_LANDLOCK_RESTRICT_SELF, ruleset, 0, 0);
        if (root >= 0)
                (void) sys3(__NR_close, root, 0, 0);
        (void) sys3(__NR_close, ruleset, 0, 0);
}

static int app_stdio(int argc, char **argv, char **envp) {
        int err, first = 1, stream = 1;
        long r;

        if (first < argc && argv[first][0] == '-' && argv[first][1] == 'a' && !argv[first][2]) {
                apart();
                first++;
        }
        if (first < argc && argv[first][0] == '-' && argv[first][1] == 'n' && !argv[first][2]) {
                stream = 0;
                first++;
        }
        for (; first < argc && argv[first][0] == '+'; first++)
                ;
        if (argc - first < 2) {
                static const char usage[] = "Usage: app-stdio [-a] [-n] [+CONTROLLER...] APP PROGRAM [ARG...]\n";

                write_all(2, usage, sizeof(usage) - 1);
                return EXIT_USAGE;
        }
        for (int i = 1; i < first; i++)
                if (argv[i][0] == '+' && (r = join(argv[i] + 1)) < 0) {
                        say(argv[first], ": cannot join its cgroup ", argv[i] + 1, -r);
                        return EXIT_CGROUP;
                }
        if (stream) {
                err = journal_stream(argv[first], "3");
                if (err >= 0) {
                        (void) sys3(__NR_dup3, err, 2, 0);
                        (void) sys3(__NR_close, err, 0, 0);
                }
        }

        r = sys3(__NR_execve, (long) argv[first + 1], (long) (argv + first + 1), (long) envp);
        say(argv[first], ": cannot execute ", argv[first + 1], -r);
        return EXIT_EXEC;
}

#ifdef APP_STDIO_LIBC
int main(int argc, char **argv, char **envp) {
        return app_stdio(argc, argv, envp);
}
#else
_Noreturn void app_stdio_start(long *sp);
_Noreturn void app_stdio_start(long *sp) {
        int argc = (int) sp[0];
        char **argv = (char **) (sp + 1);

        (void) sys3(__NR_exit_group, app_stdio(argc, argv, argv + argc + 1), 0, 0);
        for (;;)
                ;
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "        xor %rbp, %rbp\n"
        "        mov %rsp, %rdi\n"
        "        and $-16, %rsp\n"
        "        call app_stdio_start\n"
        "        hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "        mov x29, #0\n"
        "        mov x30, #0\n"
        "        mov x0, sp\n"
        "        bl app_stdio_start\n");
#endif
#endif
