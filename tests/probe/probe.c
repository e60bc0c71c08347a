/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe: the test app that runs inside pods and reports what it sees.
 *
 * It is linked statically and uses nothing but libc, so it runs in an app
 * root that holds only this one file (no loader, no NSS, no /etc).  Every
 * string value is hex-encoded so that any byte an argv or env string can
 * hold (newline, control characters, invalid UTF-8) survives the trip out of
 * the pod; tests compare the hex directly.  Format: tests/probe/README.md.
 *
 *   probe [--exit=N] [ARG...]   write the report, then exit N (default 0)
 *   probe [--exit=N] --sleep=S [ARG...]   the same, staying alive S seconds first
 *   probe --decode FILE|-       print a report with its hex values decoded
 *
 * There is no --help: any other argv is data to report, so a test can pass
 * whatever words it likes and see them arrive.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

/* Exit codes that cannot be confused with a --exit=N a test asks for
 * unless that test picks them on purpose (s6 style: 100 usage, 111 system). */
#define EXIT_USAGE 100
#define EXIT_SYSTEM 111

static const char usage[] =
        "usage: probe [--exit=N] [--sleep=N] [ARG...]\n"
        "       probe --decode FILE|-\n"
        "Writes a report of argv, env, ids, cwd, caps, no_new_privs, seccomp,\n"
        "hostname, cgroup (and the paths listed in $PROBE_PATHS_FILE and\n"
        "$PROBE_STAT_FILE) to\n"
        "$PROBE_OUT (or stdout), then exits N.\n";

/* A growable byte buffer; the report is assembled in memory and written in
 * one go so a reader never sees a half-written file that still has "end". */
struct buf {
        char *data;
        size_t len, cap;
        bool oom;
};

static void buf_add(struct buf *b, const void *p, size_t n) {
        if (b->oom)
                return;
        if (n > SIZE_MAX / 2 - b->len) {
                b->oom = true;
                return;
        }
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n)
                        cap *= 2;
                char *d = realloc(b->data, cap);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

static void buf_str(struct buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_fmt(struct buf *b, const char *fmt, ...) {
        char tmp[128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        /* Only used for numbers; anything longer is a bug, not data. */
        if (n < 0 || (size_t) n >= sizeof tmp) {
                b->oom = true;
                return;
        }
        buf_add(b, tmp, (size_t) n);
}

static void buf_hex(struct buf *b, const void *p, size_t n) {
        static const char digits[] = "0123456789abcdef";
        const unsigned char *s = p;
        char pair[2];

        for (size_t i = 0; i < n; i++) {
                pair[0] = digits[s[i] >> 4];
                pair[1] = digits[s[i] & 15];
                buf_add(b, pair, 2);
        }
}

/* A value we could not obtain is written as "!<errno>"; '!' is not a hex
 * digit, so it cannot be mistaken for data. */
static void buf_err(struct buf *b, int err) {
        buf_fmt(b, "!%d", err);
}

/* Reads a whole fd (procfs files report size 0, so no fstat sizing). */
static int read_fd(int fd, struct buf *ret) {
        char chunk[4096];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                buf_add(ret, chunk, (size_t) n);
        }
        return ret->oom ? -ENOMEM : 0;
}

static int read_all(const char *path, struct buf *ret) {
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_fd(fd, ret);
        close(fd);
        return r;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t) w;
        }
        return 0;
}

/* Finds "Key:\t<value>\n" in a /proc/self/status image and appends the value
 * verbatim (CapBnd and friends are already 16 hex digits there). */
static void add_status_field(struct buf *b, const struct buf *status, int status_err, const char *record,
                             const char *key) {
        size_t klen = strlen(key);
        const char *p = status->data, *end = status->data + status->len;

        buf_str(b, record);
        buf_str(b, " ");
        if (status_err < 0) {
                buf_err(b, -status_err);
                buf_str(b, "\n");
                return;
        }
        while (p && p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;
                if ((size_t) (eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ':') {
                        const char *v = p + klen + 1;
                        while (v < eol && (*v == ' ' || *v == '\t'))
                                v++;
                        buf_add(b, v, (size_t) (eol - v));
                        buf_str(b, "\n");
                        return;
                }
                p = nl ? nl + 1 : NULL;
        }
        /* Older kernels lack some fields (e.g. Seccomp before 3.8). */
        buf_err(b, ENOENT);
        buf_str(b, "\n");
}

/* Uses the raw syscall rather than glibc's getcwd(): the kernel returns
 * "(unreachable)/..." for a cwd outside our root (runc CVE-2024-21626) and
 * glibc hides that behind ENOENT; the tests want to see it. */
static void add_cwd(struct buf *b) {
        size_t size = 256;

        buf_str(b, "cwd ");
        for (;;) {
                char *p = malloc(size);
                if (!p) {
                        buf_err(b, ENOMEM);
                        break;
                }
                long n = syscall(SYS_getcwd, p, size);
                if (n > 0) {
                        /* The kernel counts the terminating NUL. */
                        buf_hex(b, p, (size_t) n - 1);
                        free(p);
                        break;
                }
                int err = n < 0 ? errno : EINVAL;
                free(p);
                if (err != ERANGE || size >= (1u << 20)) {
                        buf_err(b, err);
                        break;
                }
                size *= 2;
        }
        buf_str(b, "\n");
}

static void add_groups(struct buf *b) {
        int n = getgroups(0, NULL);

        buf_str(b, "groups");
        if (n < 0) {
                buf_str(b, " ");
                buf_err(b, errno);
        } else if (n > 0) {
                gid_t *g = calloc((size_t) n, sizeof *g);
                int m = g ? getgroups(n, g) : -1;
                if (m < 0) {
                        buf_str(b, " ");
                        buf_err(b, g ? errno : ENOMEM);
                }
                for (int i = 0; i < m; i++)
                        buf_fmt(b, " %u", (unsigned) g[i]);
                free(g);
        }
        buf_str(b, "\n");
}

/* With $PROBE_PATHS_FILE set: one "path" record per line of that file (empty
 * lines skipped), telling how the app sees the path: its st_mode in octal
 * (lstat, the last component not followed) and access(W_OK), which fails
 * with EROFS on a read-only mount even for root; each is "!<errno>" when it
 * fails. The path comes last, in hex, so that --decode can decode it. */
static void add_paths(struct buf *b) {
        const char *file = getenv("PROBE_PATHS_FILE");
        struct buf list = {0};
        const char *p, *end;
        int r;

        if (!file || !*file)
                return;
        r = read_all(file, &list);
        if (r < 0) {
                buf_str(b, "paths_file ");
                buf_err(b, -r);
                buf_str(b, "\n");
                free(list.data);
                return;
        }
        p = list.data;
        end = list.data + list.len;
        while (p && p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);
                char *path = n > 0 ? strndup(p, n) : NULL;
                struct stat st;

                p = nl ? nl + 1 : NULL;
                if (n == 0)
                        continue;
                if (!path) {
                        b->oom = true;
                        break;
                }
                buf_str(b, "path ");
                if (lstat(path, &st) < 0)
                        buf_err(b, errno);
                else
                        buf_fmt(b, "%o", (unsigned) st.st_mode);
                buf_str(b, " ");
                if (access(path, W_OK) < 0)
                        buf_err(b, errno);
                else
                        buf_str(b, "0");
                buf_str(b, " ");
                buf_hex(b, path, n);
                buf_str(b, "\n");
                free(path);
        }
        free(list.data);
}

/* With $PROBE_STAT_FILE set: one "stat" record per line of that file (empty
 * lines skipped): "stat <mode> <major>:<minor> <fstype> <ro|rw> <hex path>",
 * st_mode in octal and st_rdev from lstat (the last component not followed),
 * then the file system magic in hex (statfs f_type: 9fa0 proc, 62656572
 * sysfs, 1021994 tmpfs, 1cd1 devpts, …) and whether it is mounted read-only
 * (statvfs ST_RDONLY), both following symlinks. A field that cannot be read
 * is "!<errno>". Added after the "path" records; older readers ignore it. */
static void add_stats(struct buf *b) {
        const char *file = getenv("PROBE_STAT_FILE");
        struct buf list = {0};
        const char *p, *end;
        int r;

        if (!file || !*file)
                return;
        r = read_all(file, &list);
        if (r < 0) {
                buf_str(b, "stat_file ");
                buf_err(b, -r);
                buf_str(b, "\n");
                free(list.data);
                return;
        }
        p = list.data;
        end = list.data + list.len;
        while (p && p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);
                char *path = n > 0 ? strndup(p, n) : NULL;
                struct stat st;
                struct statfs sf;
                struct statvfs sv;

                p = nl ? nl + 1 : NULL;
                if (n == 0)
                        continue;
                if (!path) {
                        b->oom = true;
                        break;
                }
                buf_str(b, "stat ");
                if (lstat(path, &st) < 0) {
                        int e = errno;
                        buf_err(b, e);
                        buf_str(b, " ");
                        buf_err(b, e);
                } else
                        buf_fmt(b, "%o %u:%u", (unsigned) st.st_mode, major(st.st_rdev), minor(st.st_rdev));
                buf_str(b, " ");
                if (statfs(path, &sf) < 0)
                        buf_err(b, errno);
                else
                        buf_fmt(b, "%lx", (unsigned long) sf.f_type);
                buf_str(b, " ");
                if (statvfs(path, &sv) < 0)
                        buf_err(b, errno);
                else
                        buf_str(b, (sv.f_flag & ST_RDONLY) ? "ro" : "rw");
                buf_str(b, " ");
                buf_hex(b, path, n);
                buf_str(b, "\n");
                free(path);
        }
        free(list.data);
}

/* The inode of each namespace: "ns <name> <inode>" (the number in
 * "mnt:[4026531840]"). Two processes share a namespace when these match. */
static void add_namespaces(struct buf *b) {
        static const char *const names[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char path[64], link[128];
                ssize_t n;
                const char *lb, *rb;

                snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
                buf_fmt(b, "ns %s ", names[i]);
                n = readlink(path, link, sizeof link - 1);
                if (n < 0) {
                        buf_err(b, errno);
                        buf_str(b, "\n");
                        continue;
                }
                link[n] = 0;
                lb = strchr(link, '[');
                rb = lb ? strchr(lb, ']') : NULL;
                if (!lb || !rb)
                        buf_err(b, EINVAL);
                else
                        buf_add(b, lb + 1, (size_t) (rb - lb - 1));
                buf_str(b, "\n");
        }
}

/* The open file descriptors ("fds 0 1 2"), then "fd <n> <hex of the link
 * target>" for each: what the process was given, besides what it opens. */
static void add_fds(struct buf *b) {
        int fds[1024];
        size_t n = 0;
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        buf_str(b, "fds");
        if (!d) {
                buf_str(b, " ");
                buf_err(b, errno);
                buf_str(b, "\n");
                return;
        }
        while ((de = readdir(d)) && n < sizeof fds / sizeof fds[0]) {
                char *e;
                long v;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                v = strtol(de->d_name, &e, 10);
                if (*e || v == dirfd(d))
                        continue;
                fds[n++] = (int) v;
        }
        closedir(d);
        /* readdir order is the kernel's (ascending); sort anyway. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        for (size_t i = 0; i < n; i++)
                buf_fmt(b, " %d", fds[i]);
        buf_str(b, "\n");
        for (size_t i = 0; i < n; i++) {
                char path[64], link[4096];
                ssize_t k;

                snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
                buf_fmt(b, "fd %d ", fds[i]);
                k = readlink(path, link, sizeof link);
                if (k < 0)
                        buf_err(b, errno);
                else
                        buf_hex(b, link, (size_t) k);
                buf_str(b, "\n");
        }
}

/* Resource limits: "rlimit <resource> <soft> <hard>", "inf" for none. */
static void add_rlimits(struct buf *b) {
        for (int i = 0; i < RLIM_NLIMITS; i++) {
                struct rlimit rl;

                buf_fmt(b, "rlimit %d ", i);
                if (getrlimit((__rlimit_resource_t) i, &rl) < 0) {
                        buf_err(b, errno);
                        buf_str(b, "\n");
                        continue;
                }
                if (rl.rlim_cur == RLIM_INFINITY)
                        buf_str(b, "inf ");
                else
                        buf_fmt(b, "%llu ", (unsigned long long) rl.rlim_cur);
                if (rl.rlim_max == RLIM_INFINITY)
                        buf_str(b, "inf\n");
                else
                        buf_fmt(b, "%llu\n", (unsigned long long) rl.rlim_max);
        }
}

/* With $PROBE_SYSCALL=N: "syscall N <result>", the raw system call N made
 * with all arguments 0, its return value or !<errno>. For comparing what a
 * seccomp filter does to a call (pick one that is harmless with zeros). */
static void add_syscall(struct buf *b) {
        const char *s = getenv("PROBE_SYSCALL");
        char *e;
        long nr, r;

        if (!s || !*s)
                return;
        errno = 0;
        nr = strtol(s, &e, 10);
        if (errno || *e || nr < 0) {
                buf_str(b, "syscall ");
                buf_err(b, EINVAL);
                buf_str(b, "\n");
                return;
        }
        errno = 0;
        r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);
        buf_fmt(b, "syscall %ld ", nr);
        if (r < 0)
                buf_err(b, errno);
        else
                buf_fmt(b, "%ld", r);
        buf_str(b, "\n");
}

/* Records added after "stat" (older readers ignore them): the remaining
 * capability sets, umask, signal dispositions, CPUs, scheduling, limits,
 * namespaces, open descriptors, and the $PROBE_SYSCALL result. */
static void add_more(struct buf *b) {
        struct buf status = {0}, oom = {0};
        int status_r, r, policy;
        struct sched_param sp;

        status_r = read_all("/proc/self/status", &status);
        add_status_field(b, &status, status_r, "cap_inh", "CapInh");
        add_status_field(b, &status, status_r, "cap_amb", "CapAmb");
        add_status_field(b, &status, status_r, "umask", "Umask");
        add_status_field(b, &status, status_r, "sig_blk", "SigBlk");
        add_status_field(b, &status, status_r, "sig_ign", "SigIgn");
        add_status_field(b, &status, status_r, "cpus", "Cpus_allowed_list");
        free(status.data);

        buf_str(b, "oom_score_adj ");
        r = read_all("/proc/self/oom_score_adj", &oom);
        if (r < 0)
                buf_err(b, -r);
        else
                buf_add(b, oom.data, oom.len && oom.data[oom.len - 1] == '\n' ? oom.len - 1 : oom.len);
        buf_str(b, "\n");
        free(oom.data);

        errno = 0;
        r = getpriority(PRIO_PROCESS, 0);
        buf_str(b, "nice ");
        if (r == -1 && errno)
                buf_err(b, errno);
        else
                buf_fmt(b, "%d", r);
        buf_str(b, "\n");
        policy = sched_getscheduler(0);
        buf_str(b, "sched ");
        if (policy < 0 || sched_getparam(0, &sp) < 0)
                buf_err(b, errno);
        else
                buf_fmt(b, "%d %d", policy, sp.sched_priority);
        buf_str(b, "\n");

        add_rlimits(b);
        add_namespaces(b);
        add_fds(b);
        add_syscall(b);
}

static void build_report(struct buf *b, int argc, char **argv) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        struct buf status = {0}, cgroup = {0};
        struct utsname un;
        int status_r, r;

        for (int i = 0; i < argc; i++) {
                buf_fmt(b, "argv %d ", i);
                buf_hex(b, argv[i], strlen(argv[i]));
                buf_str(b, "\n");
        }
        for (char **e = environ; e && *e; e++) {
                buf_str(b, "env ");
                buf_hex(b, *e, strlen(*e));
                buf_str(b, "\n");
        }

        if (getresuid(&ru, &eu, &su) < 0) {
                buf_str(b, "uid ");
                buf_err(b, errno);
                buf_str(b, "\n");
        } else
                buf_fmt(b, "uid %u %u %u\n", (unsigned) ru, (unsigned) eu, (unsigned) su);
        if (getresgid(&rg, &eg, &sg) < 0) {
                buf_str(b, "gid ");
                buf_err(b, errno);
                buf_str(b, "\n");
        } else
                buf_fmt(b, "gid %u %u %u\n", (unsigned) rg, (unsigned) eg, (unsigned) sg);
        add_groups(b);
        add_cwd(b);

        status_r = read_all("/proc/self/status", &status);
        add_status_field(b, &status, status_r, "cap_bnd", "CapBnd");
        add_status_field(b, &status, status_r, "cap_eff", "CapEff");
        add_status_field(b, &status, status_r, "cap_prm", "CapPrm");

        r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        buf_str(b, "no_new_privs ");
        if (r < 0)
                buf_err(b, errno);
        else
                buf_fmt(b, "%d", r);
        buf_str(b, "\n");

        add_status_field(b, &status, status_r, "seccomp", "Seccomp");
        free(status.data);

        buf_str(b, "hostname ");
        if (uname(&un) < 0)
                buf_err(b, errno);
        else
                buf_hex(b, un.nodename, strlen(un.nodename));
        buf_str(b, "\n");

        buf_str(b, "cgroup ");
        r = read_all("/proc/self/cgroup", &cgroup);
        if (r < 0)
                buf_err(b, -r);
        else
                buf_hex(b, cgroup.data, cgroup.len);
        buf_str(b, "\n");
        free(cgroup.data);

        add_paths(b);
        add_stats(b);
        add_more(b);
        buf_str(b, "end\n");
}

static int hexval(int c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Appends the decoding of hex text [p, end); values starting with '!' are
 * error markers and are copied as they are. */
static int decode_hex(struct buf *out, const char *p, const char *end) {
        if (p < end && *p == '!') {
                buf_add(out, p, (size_t) (end - p));
                return 0;
        }
        if ((end - p) % 2 != 0)
                return -EINVAL;
        for (; p < end; p += 2) {
                int hi = hexval((unsigned char) p[0]), lo = hexval((unsigned char) p[1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                char c = (char) (hi << 4 | lo);
                buf_add(out, &c, 1);
        }
        return 0;
}

/* How many space-separated words precede the hex value of a record, or -1
 * if the record carries no hex value. */
static int hex_field_index(const char *line, size_t len) {
        static const struct {
                const char *name;
                int index;
        } table[] = {
                {"argv", 2}, {"env", 1}, {"cwd", 1}, {"hostname", 1}, {"cgroup", 1}, {"path", 3},
                {"stat", 5}, {"fd", 2},
        };

        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
                size_t n = strlen(table[i].name);
                if (len > n && memcmp(line, table[i].name, n) == 0 && line[n] == ' ')
                        return table[i].index;
        }
        return -1;
}

static int decode_report(const char *path) {
        struct buf in = {0}, out = {0};
        const char *p, *end;
        unsigned lineno = 0;
        int r;

        /* fd 0 itself, not /dev/stdin: that needs /proc. */
        r = strcmp(path, "-") == 0 ? read_fd(STDIN_FILENO, &in) : read_all(path, &in);
        if (r < 0) {
                fprintf(stderr, "probe: failed to read '%s': %s\n", path, strerror(-r));
                free(in.data);
                return EXIT_SYSTEM;
        }
        p = in.data;
        end = in.data + in.len;
        while (p && p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end, *v = p;
                int idx = hex_field_index(p, (size_t) (eol - p));

                lineno++;
                for (int w = 0; idx >= 0 && w < idx && v < eol; w++) {
                        const char *sp = memchr(v, ' ', (size_t) (eol - v));
                        v = sp ? sp + 1 : eol;
                }
                if (idx < 0) {
                        buf_add(&out, p, (size_t) (eol - p));
                } else {
                        buf_add(&out, p, (size_t) (v - p));
                        if (decode_hex(&out, v, eol) < 0) {
                                fprintf(stderr, "probe: %s:%u: bad hex value\n", path, lineno);
                                free(in.data);
                                free(out.data);
                                return EXIT_USAGE;
                        }
                }
                buf_str(&out, "\n");
                p = nl ? nl + 1 : NULL;
        }
        free(in.data);
        if (out.oom) {
                fprintf(stderr, "probe: out of memory\n");
                free(out.data);
                return EXIT_SYSTEM;
        }
        r = write_all(STDOUT_FILENO, out.data ? out.data : "", out.len);
        free(out.data);
        if (r < 0) {
                fprintf(stderr, "probe: failed to write: %s\n", strerror(-r));
                return EXIT_SYSTEM;
        }
        return 0;
}

/* Checked parse of the N in --exit=N: 0..255, decimal, nothing trailing. */
static int parse_exit(const char *s, int *ret) {
        char *e;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno != 0 || *e != '\0' || v > 255)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* --notify-when=PATH: once PATH exists (polled), READY=1 to $NOTIFY_SOCKET
 * (sd_notify's protocol, a datagram), then stay until killed: an app whose
 * readiness the test decides. */
static int notify_when(const char *path) {
        const char *sock = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (!sock || strlen(sock) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "probe: no usable NOTIFY_SOCKET\n");
                return EXIT_SYSTEM;
        }
        while (access(path, F_OK) < 0)
                usleep(20 * 1000);
        strcpy(sa.sun_path, sock);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, "READY=1", 7, 0, (struct sockaddr *) &sa, sizeof(sa)) != 7) {
                fprintf(stderr, "probe: cannot notify %s: %m\n", sock);
                return EXIT_SYSTEM;
        }
        printf("notified\n");
        fflush(stdout);
        for (;;)
                pause();
}

/* --echo-activated: the socket systemd passed (LISTEN_FDS=1, fd 3) served
 * as an echo server, one connection after another, until killed. */
static int echo_activated(void) {
        const char *n = getenv("LISTEN_FDS");

        if (!n || strcmp(n, "1") != 0) {
                fprintf(stderr, "probe: LISTEN_FDS is %s, not 1\n", n ? n : "unset");
                return EXIT_SYSTEM;
        }
        for (;;) {
                char buf[4096];
                ssize_t k;
                int c = accept4(3, NULL, NULL, SOCK_CLOEXEC);

                if (c < 0) {
                        fprintf(stderr, "probe: accept: %m\n");
                        return EXIT_SYSTEM;
                }
                while ((k = read(c, buf, sizeof(buf))) > 0)
                        if (write(c, buf, (size_t) k) != k)
                                break;
                close(c);
        }
}

int main(int argc, char **argv) {
        struct buf report = {0};
        const char *out;
        int code = 0, fd, r;
        unsigned sleep_s = 0;

        if (argc == 2 && strncmp(argv[1], "--notify-when=", 14) == 0)
                return notify_when(argv[1] + 14);
        if (argc == 2 && strcmp(argv[1], "--echo-activated") == 0)
                return echo_activated();
        if (argc >= 2 && strcmp(argv[1], "--decode") == 0) {
                if (argc != 3) {
                        fputs(usage, stderr);
                        return EXIT_USAGE;
                }
                return decode_report(argv[2]);
        }
        /* Bad --exit still produces a report: the test then sees both what
         * arrived and the usage exit code. */
        if (argc >= 2 && strncmp(argv[1], "--exit=", 7) == 0 && parse_exit(argv[1] + 7, &code) < 0) {
                fprintf(stderr, "probe: invalid exit code '%s'\n", argv[1] + 7);
                code = EXIT_USAGE;
        }
        /* --sleep=N, first or after --exit=N: stay alive N seconds after the
         * report (an app that keeps running, for `enter`). */
        for (int i = 1; i < argc && i <= 2; i++) {
                if (strncmp(argv[i], "--sleep=", 8) == 0) {
                        char *e;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(argv[i] + 8, &e, 10);
                        if (argv[i][8] < '0' || argv[i][8] > '9' || errno || *e || v > 86400 * 365) {
                                fprintf(stderr, "probe: invalid sleep '%s'\n", argv[i] + 8);
                                code = EXIT_USAGE;
                        } else
                                sleep_s = (unsigned) v;
                        break;
                }
                if (strncmp(argv[i], "--exit=", 7) != 0)
                        break;
        }

        build_report(&report, argc, argv);
        if (report.oom) {
                fprintf(stderr, "probe: out of memory\n");
                return EXIT_SYSTEM;
        }

        out = getenv("PROBE_OUT");
        if (out && *out) {
                fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd < 0) {
                        fprintf(stderr, "probe: failed to open '%s': %m\n", out);
                        return EXIT_SYSTEM;
                }
        } else
                fd = STDOUT_FILENO;

        r = write_all(fd, report.data, report.len);
        free(report.data);
        if (r < 0) {
                fprintf(stderr, "probe: failed to write report: %s\n", strerror(-r));
                return EXIT_SYSTEM;
        }
        if (fd != STDOUT_FILENO) {
                /* The file is read from the host after the pod is gone; a
                 * close() error is the last chance to notice a lost write. */
                if (fsync(fd) < 0 || close(fd) < 0) {
                        fprintf(stderr, "probe: failed to flush '%s': %m\n", out);
                        return EXIT_SYSTEM;
                }
        }
        if (sleep_s > 0) {
                struct timespec t = { .tv_sec = sleep_s };

                while (nanosleep(&t, &t) < 0 && errno == EINTR)
                        ;
        }
        return code;
}
