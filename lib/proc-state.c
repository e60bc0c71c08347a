/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fd-util.h"
#include "proc-state.h"
#include "strv.h"

/* linux/ioprio.h: not in every userspace header set. */
#define IOPRIO_WHO_PROCESS 1

/* Status lines are short; environ is bounded by ARG_MAX-like limits, the
 * kernel's own cap on the argument area, well below this. */
#define STATUS_MAX (64 * 1024)
#define ENVIRON_MAX (16 * 1024 * 1024)

int proc_read_file(int proc_fd, const char *name, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(proc_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

        if (fd < 0)
                return negative_errno();
        return fd_read_all(fd, max, ret, ret_size);
}

/* Checked unsigned number in `base`; `*end` past it. No sign, no blanks. */
static int parse_u64(const char *s, int base, uint64_t max, uint64_t *ret, const char **end) {
        unsigned long long v;
        char *e;

        if (!((*s >= '0' && *s <= '9') || (base == 16 && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))))
                return -EBADMSG;
        errno = 0;
        v = strtoull(s, &e, base);
        if (errno != 0 || e == s || v > max)
                return -EBADMSG;
        *ret = v;
        *end = e;
        return 0;
}

/* A list of decimal numbers separated by blanks (tabs or spaces), up to the
 * end of the line; `max_n` 0 means any count (allocated into *ret_list). */
static int parse_list(const char *v, const char *eol, uint64_t max, uint64_t **ret_list, size_t *ret_n) {
        _cleanup_free_ uint64_t *list = NULL;
        size_t n = 0;

        for (;;) {
                uint64_t x, *nl;
                const char *e;
                int r;

                while (v < eol && (*v == ' ' || *v == '\t'))
                        v++;
                if (v >= eol)
                        break;
                r = parse_u64(v, 10, max, &x, &e);
                if (r < 0 || e > eol || (e < eol && *e != ' ' && *e != '\t'))
                        return -EBADMSG;
                nl = reallocarray(list, n + 1, sizeof(uint64_t));
                if (!nl)
                        return -ENOMEM;
                list = nl;
                list[n++] = x;
                v = e;
        }
        *ret_list = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int parse_hex64(const char *v, const char *eol, uint64_t *ret) {
        const char *e;
        int r;

        while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
        r = parse_u64(v, 16, UINT64_MAX, ret, &e);
        return r < 0 || e != eol ? -EBADMSG : 0;
}

static int parse_one(const char *v, const char *eol, int base, uint64_t max, uint64_t *ret) {
        const char *e;
        int r;

        while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
        r = parse_u64(v, base, max, ret, &e);
        return r < 0 || e != eol ? -EBADMSG : 0;
}

enum {
        F_UID = 1 << 0,
        F_GID = 1 << 1,
        F_GROUPS = 1 << 2,
        F_CAPINH = 1 << 3,
        F_CAPPRM = 1 << 4,
        F_CAPEFF = 1 << 5,
        F_CAPBND = 1 << 6,
        F_CAPAMB = 1 << 7,
        F_NNP = 1 << 8,
        F_SECCOMP = 1 << 9,
        F_SIGBLK = 1 << 10,
        F_SIGIGN = 1 << 11,
        F_PPID = 1 << 12,
        F_TRACER = 1 << 13,
        F_SIGCGT = 1 << 14,
        F_REQUIRED = (1 << 15) - 1,
};

int proc_status_parse(const char *text, size_t size, ProcStatus *ret) {
        ProcStatus s = { .umask = (mode_t) -1 };
        const char *p = text, *end = text + size;
        unsigned seen = 0;
        int r = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end, *colon = memchr(p, ':', (size_t) (eol - p)), *v;
                size_t klen;
                uint64_t x;

                if (!colon)
                        goto next;
                klen = (size_t) (colon - p);
                v = colon + 1;
#define KEY(k) (klen == strlen(k) && memcmp(p, k, klen) == 0)
                if (KEY("Uid") || KEY("Gid")) {
                        _cleanup_free_ uint64_t *l = NULL;
                        size_t n;
                        bool is_uid = p[0] == 'U';

                        r = parse_list(v, eol, UINT32_MAX - 1, &l, &n);
                        if (r < 0 || n != 4)
                                goto fail;
                        for (size_t i = 0; i < 4; i++) {
                                if (is_uid)
                                        s.uid[i] = (uid_t) l[i];
                                else
                                        s.gid[i] = (gid_t) l[i];
                        }
                        seen |= is_uid ? F_UID : F_GID;
                } else if (KEY("Groups")) {
                        _cleanup_free_ uint64_t *l = NULL;
                        size_t n;

                        r = parse_list(v, eol, UINT32_MAX - 1, &l, &n);
                        if (r < 0)
                                goto fail;
                        free(s.groups);
                        s.groups = calloc(n ? n : 1, sizeof(gid_t));
                        if (!s.groups) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        for (size_t i = 0; i < n; i++)
                                s.groups[i] = (gid_t) l[i];
                        s.n_groups = n;
                        seen |= F_GROUPS;
                } else if (KEY("CapInh") || KEY("CapPrm") || KEY("CapEff") || KEY("CapBnd") || KEY("CapAmb")) {
                        r = parse_hex64(v, eol, &x);
                        if (r < 0)
                                goto fail;
                        switch (p[3]) {
                        case 'I':
                                s.cap_inh = x, seen |= F_CAPINH;
                                break;
                        case 'P':
                                s.cap_prm = x, seen |= F_CAPPRM;
                                break;
                        case 'E':
                                s.cap_eff = x, seen |= F_CAPEFF;
                                break;
                        case 'B':
                                s.cap_bnd = x, seen |= F_CAPBND;
                                break;
                        case 'A':
                                s.cap_amb = x, seen |= F_CAPAMB;
                                break;
                        default:
                                goto fail;
                        }
                } else if (KEY("NoNewPrivs")) {
                        r = parse_one(v, eol, 10, 1, &x);
                        if (r < 0)
                                goto fail;
                        s.no_new_privs = x == 1;
                        seen |= F_NNP;
                } else if (KEY("Seccomp")) {
                        r = parse_one(v, eol, 10, 2, &x);
                        if (r < 0)
                                goto fail;
                        s.seccomp = (int) x;
                        seen |= F_SECCOMP;
                } else if (KEY("Seccomp_filters")) {
                        r = parse_one(v, eol, 10, UINT32_MAX, &x);
                        if (r < 0)
                                goto fail;
                        s.seccomp_filters = (unsigned) x;
                } else if (KEY("Umask")) {
                        r = parse_one(v, eol, 8, 0777, &x);
                        if (r < 0)
                                goto fail;
                        s.umask = (mode_t) x;
                } else if (KEY("SigBlk") || KEY("SigIgn") || KEY("SigCgt")) {
                        r = parse_hex64(v, eol, &x);
                        if (r < 0)
                                goto fail;
                        if (p[3] == 'B')
                                s.sig_blk = x, seen |= F_SIGBLK;
                        else if (p[3] == 'I')
                                s.sig_ign = x, seen |= F_SIGIGN;
                        else
                                s.sig_cgt = x, seen |= F_SIGCGT;
                } else if (KEY("PPid") || KEY("TracerPid")) {
                        r = parse_one(v, eol, 10, INT32_MAX, &x);
                        if (r < 0)
                                goto fail;
                        if (p[0] == 'P')
                                s.ppid = (pid_t) x, seen |= F_PPID;
                        else
                                s.tracer_pid = (int) x, seen |= F_TRACER;
                } else if (KEY("NSpid")) {
                        _cleanup_free_ uint64_t *l = NULL;
                        size_t n;

                        r = parse_list(v, eol, INT32_MAX, &l, &n);
                        if (r < 0 || n == 0)
                                goto fail;
                        s.ns_pid = (pid_t) l[n - 1];
                        s.ns_depth = (unsigned) n;
                }
#undef KEY
        next:
                p = nl ? nl + 1 : end;
        }
        if ((seen & F_REQUIRED) != F_REQUIRED) {
                r = -EBADMSG;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        free(s.groups);
        return r < 0 ? r : -EBADMSG;
}

int proc_status_read(int proc_fd, ProcStatus *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = proc_read_file(proc_fd, "status", STATUS_MAX, &text, &size);
        if (r < 0)
                return r;
        return proc_status_parse(text, size, ret);
}

void proc_status_done(ProcStatus *s) {
        if (!s)
                return;
        free(s->groups);
        s->groups = NULL;
        s->n_groups = 0;
}

int proc_environ_read(int proc_fd, char ***ret) {
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t size, n = 0;
        int r;

        r = proc_read_file(proc_fd, "environ", ENVIRON_MAX, &data, &size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < size; i++)
                if (data[i] == 0)
                        n++;
        if (size > 0 && data[size - 1] != 0)
                n++; /* a last entry without its NUL (the process rewrote its env area) */
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < size;) {
                size_t len = strnlen(data + i, size - i);

                l[n] = strndup(data + i, len);
                if (!l[n])
                        return -ENOMEM;
                n++;
                i += len + 1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int proc_start_time(int proc_fd, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        const char *p, *e;
        uint64_t v;
        size_t size;
        int r;

        r = proc_read_file(proc_fd, "stat", 4096, &text, &size);
        if (r < 0)
                return r;
        /* comm (field 2) may hold anything but is in parentheses: skip to the last ')'. */
        p = strrchr(text, ')');
        if (!p)
                return -EBADMSG;
        p++;
        /* Field 3 (state) is the first after ") "; start time is field 22. */
        for (int field = 2; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        r = parse_u64(p, 10, UINT64_MAX, &v, &e);
        if (r < 0 || (*e != ' ' && *e != '\n' && *e != 0))
                return -EBADMSG;
        *ret = v;
        return 0;
}

int proc_ns_id(int proc_fd, const char *name, dev_t *ret_dev, ino_t *ret_ino) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (asprintf(&path, "ns/%s", name) < 0)
                return -ENOMEM;
        if (fstatat(proc_fd, path, &st, 0) < 0)
                return negative_errno();
        if (ret_dev)
                *ret_dev = st.st_dev;
        if (ret_ino)
                *ret_ino = st.st_ino;
        return 0;
}

/* One limit value of the limits file: "unlimited" or a decimal number. */
static int parse_limit(const char *line, size_t len, size_t col, rlim_t *ret) {
        char word[32];
        size_t n = 0;
        uint64_t v;
        const char *e;

        if (col >= len)
                return -EBADMSG;
        while (col + n < len && line[col + n] != ' ' && n < sizeof(word) - 1) {
                word[n] = line[col + n];
                n++;
        }
        word[n] = 0;
        if (strcmp(word, "unlimited") == 0) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        if (parse_u64(word, 10, UINT64_MAX, &v, &e) < 0 || *e != 0)
                return -EBADMSG;
        *ret = (rlim_t) v;
        return 0;
}

/* /proc/<pid>/limits, readable by anyone (prlimit() on another user's process
 * needs CAP_SYS_RESOURCE). The kernel writes one line per resource in
 * resource order after a header, "%-25s %-20s %-20s %-10s": the soft limit
 * starts at column 26, the hard one at column 47. */
static int limits_read(int proc_fd, struct rlimit ret[static RLIM_NLIMITS]) {
        _cleanup_free_ char *text = NULL;
        const char *p;
        size_t size;
        int i = -1, r;

        r = proc_read_file(proc_fd, "limits", 16 * 1024, &text, &size);
        if (r < 0)
                return r;
        for (p = text; p < text + size && i < RLIM_NLIMITS; i++) {
                const char *nl = memchr(p, '\n', (size_t) (text + size - p));
                size_t len = (size_t) ((nl ? nl : text + size) - p);

                if (i >= 0 && (parse_limit(p, len, 26, &ret[i].rlim_cur) < 0 ||
                               parse_limit(p, len, 47, &ret[i].rlim_max) < 0))
                        return -EBADMSG;
                p = nl ? nl + 1 : text + size;
        }
        return i == RLIM_NLIMITS ? 0 : -EBADMSG;
}

int proc_limits_read(pid_t pid, int proc_fd, ProcLimits *ret) {
        ProcLimits l = {};
        _cleanup_free_ char *oom = NULL;
        struct sched_param sp;
        uint64_t v;
        const char *e;
        size_t size;
        int r;

        r = limits_read(proc_fd, l.rlimits);
        if (r < 0)
                return r;
        errno = 0;
        l.nice = getpriority(PRIO_PROCESS, (id_t) pid);
        if (l.nice == -1 && errno != 0)
                return negative_errno();
        l.sched_policy = sched_getscheduler(pid);
        if (l.sched_policy < 0 || sched_getparam(pid, &sp) < 0)
                return negative_errno();
        l.sched_priority = sp.sched_priority;
        l.ioprio = (int) syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, (int) pid);
        if (l.ioprio < 0)
                return negative_errno();
        r = proc_read_file(proc_fd, "oom_score_adj", 64, &oom, &size);
        if (r < 0)
                return r;
        {
                const char *s = oom;
                bool neg = *s == '-';

                if (neg)
                        s++;
                r = parse_u64(s, 10, 1000, &v, &e);
                if (r < 0 || (*e != '\n' && *e != 0))
                        return -EBADMSG;
                l.oom_score_adj = neg ? -(int) v : (int) v;
        }
        /* The kernel refuses a mask smaller than its own cpumask size. */
        for (size_t n = sizeof(cpu_set_t);; n *= 2) {
                void *set = calloc(1, n);

                if (!set)
                        return -ENOMEM;
                if (sched_getaffinity(pid, n, set) >= 0) {
                        l.cpu_set = set;
                        l.cpu_set_size = n;
                        break;
                }
                free(set);
                if (errno != EINVAL || n >= 1024 * 1024)
                        return negative_errno();
        }
        *ret = l;
        return 0;
}

int proc_limits_apply(const ProcLimits *l, int proc_self_fd) {
        struct sched_param sp = { .sched_priority = l->sched_priority };
        _cleanup_close_ int fd = -1;
        char buf[32];
        int n, r;

        for (int i = 0; i < RLIM_NLIMITS; i++)
                if (setrlimit((__rlimit_resource_t) i, &l->rlimits[i]) < 0)
                        return negative_errno();
        if (setpriority(PRIO_PROCESS, 0, l->nice) < 0)
                return negative_errno();
        if (sched_setscheduler(0, l->sched_policy, &sp) < 0)
                return negative_errno();
        if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, l->ioprio) < 0)
                return negative_errno();
        if (l->cpu_set && sched_setaffinity(0, l->cpu_set_size, l->cpu_set) < 0)
                return negative_errno();
        fd = openat(proc_self_fd, "oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        n = snprintf(buf, sizeof(buf), "%d\n", l->oom_score_adj);
        r = fd_write_all(fd, buf, (size_t) n);
        return r < 0 ? r : 0;
}

void proc_limits_done(ProcLimits *l) {
        if (!l)
                return;
        free(l->cpu_set);
        l->cpu_set = NULL;
}

int proc_pidfd_open(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

int proc_pidfd_send_signal(int pidfd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* One line of a uid_map or gid_map: "INSIDE OUTSIDE COUNT", blanks around. */
static int parse_map_line(const char *l, uint64_t *in, uint64_t *out, uint64_t *n, const char **end) {
        const char *e;

        while (*l == ' ' || *l == '\t')
                l++;
        if (parse_u64(l, 10, UINT32_MAX, in, &e) < 0)
                return -EBADMSG;
        for (l = e; *l == ' ' || *l == '\t'; l++)
                ;
        if (parse_u64(l, 10, UINT32_MAX, out, &e) < 0)
                return -EBADMSG;
        for (l = e; *l == ' ' || *l == '\t'; l++)
                ;
        if (parse_u64(l, 10, UINT64_C(1) << 32, n, &e) < 0)
                return -EBADMSG;
        *end = e;
        return 0;
}

/* Through a uid_map or gid_map text ("INSIDE OUTSIDE COUNT" lines): the
 * inside id of the outside `id`, or (!to_inside) the outside one of the
 * inside `id`; -ERANGE when it has none. */
static int map_id(const char *map, uint64_t id, bool to_inside, uint32_t *ret) {
        for (const char *l = map; l && *l;) {
                uint64_t in, out, n;
                const char *e;

                if (parse_map_line(l, &in, &out, &n, &e) < 0)
                        return -EBADMSG;
                if (!to_inside) {
                        uint64_t t = in;

                        in = out;
                        out = t;
                }
                if (id >= out && id - out < n) {
                        *ret = (uint32_t) (in + (id - out));
                        return 0;
                }
                l = strchr(e, '\n');
                if (l)
                        l++;
        }
        return -ERANGE;
}

int proc_status_to_userns(int proc_fd, ProcStatus *s) {
        _cleanup_free_ char *um = NULL, *gm = NULL;
        uid_t uid[ELEMENTSOF(s->uid)];
        gid_t gid[ELEMENTSOF(s->gid)];
        uint32_t v;
        int r;

        r = proc_read_file(proc_fd, "uid_map", 65536, &um, NULL);
        if (r >= 0)
                r = proc_read_file(proc_fd, "gid_map", 65536, &gm, NULL);
        if (r < 0)
                return r;
        /* All or nothing: everything is checked before anything changes. */
        for (size_t i = 0; i < ELEMENTSOF(uid); i++) {
                if ((r = map_id(um, s->uid[i], true, &v)) < 0)
                        return r;
                uid[i] = v;
                if ((r = map_id(gm, s->gid[i], true, &v)) < 0)
                        return r;
                gid[i] = v;
        }
        for (size_t i = 0; i < s->n_groups; i++)
                if ((r = map_id(gm, s->groups[i], true, &v)) < 0)
                        return r;
        for (size_t i = 0; i < s->n_groups; i++)
                if (map_id(gm, s->groups[i], true, &v) >= 0)
                        s->groups[i] = v;
        memcpy(s->uid, uid, sizeof(uid));
        memcpy(s->gid, gid, sizeof(gid));
        return 0;
}

int proc_uid_to_outside(int proc_fd, uint32_t uid, uint32_t *ret) {
        _cleanup_free_ char *um = NULL;
        int r;

        r = proc_read_file(proc_fd, "uid_map", 65536, &um, NULL);
        if (r < 0)
                return r;
        return map_id(um, uid, false, ret);
}

int proc_userns_range(int proc_fd, uint32_t *ret_shift, uint32_t *ret_range) {
        _cleanup_free_ char *um = NULL;
        uint64_t in, out, n;
        const char *e;
        int r;

        r = proc_read_file(proc_fd, "uid_map", 65536, &um, NULL);
        if (r < 0)
                return r;
        /* The first line: "0 SHIFT RANGE" for a pod's user namespace. */
        if (parse_map_line(um, &in, &out, &n, &e) < 0)
                return -EBADMSG;
        if (in != 0 || out == 0)
                return -ENOENT;
        *ret_shift = (uint32_t) out;
        *ret_range = (uint32_t) (n > UINT32_MAX ? UINT32_MAX : n);
        return 0;
}
