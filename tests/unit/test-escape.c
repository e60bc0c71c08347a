/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/escape.c: table-driven vectors per context, then the same escaping
 * checked against the real systemd tools where that is cheap:
 *   - systemd-escape --path, for unit names;
 *   - systemd-analyze verify --root=…, which must print nothing for units
 *     built from hostile strings (negative controls prove it would complain);
 *   - systemd --test --system, run unprivileged, whose dump shows the argv,
 *     Environment=, ReadWritePaths= and Description= systemd actually parsed,
 *     so the escaping is checked byte for byte without booting anything;
 *   - the environment.d generator, which parses files with the same code as
 *     EnvironmentFile= and prints what it read.
 * Each of these skips loudly when its tool is missing.
 */
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "escape.h"
#include "strv.h"
#include "tap.h"

#define NOBODY 65534

/* Printable rendering of a test input for TAP names; rotating buffers so a
 * few can appear in one message. */
static const char *show(const char *s) {
        static char bufs[4][96];
        static unsigned k;
        char *b = bufs[k++ % ELEMENTSOF(bufs)];
        size_t n = 0;

        if (!s)
                return "(null)";
        for (const unsigned char *p = (const unsigned char *) s; *p && n < sizeof(bufs[0]) - 8; p++) {
                if (*p == '\\')
                        n += (size_t) snprintf(b + n, 8, "\\\\");
                else if (*p < 0x20 || *p >= 0x7f)
                        n += (size_t) snprintf(b + n, 8, "\\x%02x", *p);
                else
                        b[n++] = (char) *p;
        }
        if (*s && strlen(s) > 60)
                n += (size_t) snprintf(b + n, 8, "...");
        b[n] = 0;
        return b;
}

typedef struct Vec {
        const char *in;
        const char *want; /* NULL: refused */
} Vec;

typedef struct Vec2 {
        const char *name;
        const char *value;
        const char *want;
} Vec2;

#define PRE "pre:"

/* Every call appends to a buffer that already holds PRE: success must only
 * append, refusal must leave it untouched and give a reason. */
static void check_result(const char *fn, const char *in, int r, StrBuf *b, const char *reason,
                         const char *want) {
        if (want) {
                const char *got = b->data && b->len >= strlen(PRE) ? b->data + strlen(PRE) : NULL;

                if (!OK(r == 0 && got && strcmp(got, want) == 0, "%s(\"%s\") = \"%s\"", fn, show(in),
                        show(want)))
                        printf("#   r=%d got: \"%s\"\n", r, show(got));
        } else
                OK(r == -EINVAL && b->len == strlen(PRE) && strcmp(b->data, PRE) == 0 && reason && *reason,
                   "%s(\"%s\") refused (%s)", fn, show(in), reason ? reason : "no reason");
}

typedef int (*Escape1)(StrBuf *, const char *, const char **);

static void run_table1(const char *fn, Escape1 f, const Vec *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                const char *reason = NULL;
                int r;

                strbuf_append(&b, PRE);
                r = f(&b, v[i].in, &reason);
                check_result(fn, v[i].in, r, &b, reason, v[i].want);
        }
}

static int exec_word_argv0(StrBuf *b, const char *s, const char **reason) {
        return escape_exec_word(b, s, true, reason);
}

static int exec_word_arg(StrBuf *b, const char *s, const char **reason) {
        return escape_exec_word(b, s, false, reason);
}

/* Invalid or, for systemd, unclean UTF-8: refused by every context. */
static const char *const bad_utf8[] = {
        "\xff",             /* never valid */
        "a\xc3",            /* truncated */
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate */
        "\xe2\xc0\x80",     /* bad continuation */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "\xef\xbf\xbe", /* U+FFFE: systemd says "not UTF-8 clean" */
        "\xef\xb7\x90", /* U+FDD0 */
        "\xf0\x9f\xbf\xbf", /* U+1FFFF */
};

static void test_unit_value(void) {
        static const Vec v[] = {
                { "", "" },
                { "hello", "hello" },
                { "50% off", "50%% off" },
                { "%n%%", "%%n%%%%" },
                { "a$b $$ ${c}", "a$b $$ ${c}" },
                { "it's \"q\"", "it's \"q\"" },
                { "back\\slash", "back\\slash" },
                { "mid dle", "mid dle" },
                { "#hash", "#hash" },
                { ";semi", ";semi" },
                { "`tick`", "`tick`" },
                { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
                  "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80" },
                { "trail\\", NULL },
                { "two\\\\", NULL },
                { "\\", NULL },
                { "line\nbreak", NULL },
                { "cr\rx", NULL },
                { "\n", NULL },
                { "tab\there", NULL },
                { "\x01", NULL },
                { "a\x1f", NULL },
                { "del\x7f", NULL },
                { " lead", NULL },
                { "trail ", NULL },
                { " ", NULL },
        };
        run_table1("escape_unit_value", escape_unit_value, v, ELEMENTSOF(v));
        for (size_t i = 0; i < ELEMENTSOF(bad_utf8); i++)
                run_table1("escape_unit_value", escape_unit_value, &(Vec){ bad_utf8[i], NULL }, 1);
}

static void test_exec_word(void) {
        static const Vec args[] = {
                { "", "\"\"" },
                { "a b", "\"a b\"" },
                { "%", "\"%%\"" },
                { "%n", "\"%%n\"" },
                { "$HOME", "\"$$HOME\"" },
                { "${X}", "\"$${X}\"" },
                { "$$", "\"$$$$\"" },
                { "'", "\"'\"" },
                { "\"", "\"\\\"\"" },
                { "\\", "\"\\\\\"" },
                { "trail\\", "\"trail\\\\\"" },
                { ";", "\";\"" },
                { "\\;", "\"\\\\;\"" },
                { "a\nb", "\"a\\nb\"" },
                { "\t", "\"\\t\"" },
                { "\r", "\"\\x0d\"" },
                { "\x01\x7f\x1b", "\"\\x01\\x7f\\x1b\"" },
                { " lead trail ", "\" lead trail \"" },
                { "#c", "\"#c\"" },
                { "-x", "\"-x\"" },
                { "`id`", "\"`id`\"" },
                { "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
        };
        static const Vec argv0[] = {
                { "/opt/p%q", "\"/opt/p%%q\"" },
                { "/opt/d$x", "\"/opt/d$x\"" },
                { "/opt/a b;#`caf\xc3\xa9", "\"/opt/a b;#`caf\xc3\xa9\"" },
                { "/", NULL },
                /* not absolute: an exec prefix could follow */
                { "", NULL },
                { "rel", NULL },
                { "+/bin/sh", NULL },
                { "-/bin/sh", NULL },
                { "@/bin/sh", NULL },
                { "!/bin/sh", NULL },
                { ":/bin/sh", NULL },
                /* systemd: "Executable name contains special characters" */
                { "/opt/q'", NULL },
                { "/opt/q\"", NULL },
                { "/opt/b\\b", NULL },
                { "/opt/a\nb", NULL },
                { "/opt/a\tb", NULL },
                { "/opt/a\x01", NULL },
                { "/opt/a\x7f", NULL },
                /* systemd: "Executable path specifies a directory" */
                { "/opt/dir/", NULL },
        };
        run_table1("escape_exec_word", exec_word_arg, args, ELEMENTSOF(args));
        run_table1("escape_exec_word(argv0)", exec_word_argv0, argv0, ELEMENTSOF(argv0));
        for (size_t i = 0; i < ELEMENTSOF(bad_utf8); i++) {
                _cleanup_free_ char *abs = NULL;

                if (asprintf(&abs, "/opt/%s", bad_utf8[i]) < 0)
                        abort();
                run_table1("escape_exec_word", exec_word_arg, &(Vec){ bad_utf8[i], NULL }, 1);
                run_table1("escape_exec_word(argv0)", exec_word_argv0, &(Vec){ abs, NULL }, 1);
        }
}

typedef struct LineVec {
        const char *argv[6];
        const char *want;
} LineVec;

static void test_exec_line(void) {
        static const LineVec v[] = {
                { { "/bin/echo", "a b", "$x", "%", NULL }, "\"/bin/echo\" \"a b\" \"$$x\" \"%%\"" },
                { { "/opt/a$b%c", "$", NULL }, "\"/opt/a$b%%c\" \"$$\"" },
                { { "/bin/sh", NULL }, "\"/bin/sh\"" },
                { { "/bin/sh", "", ";", "\\;", NULL }, "\"/bin/sh\" \"\" \";\" \"\\\\;\"" },
                { { "relative", NULL }, NULL },
                { { "bin/sh", NULL }, NULL },
                { { "+/bin/sh", NULL }, NULL },
                { { "-/bin/sh", NULL }, NULL },
                { { "@/bin/sh", "sh", NULL }, NULL },
                { { "!/bin/sh", NULL }, NULL },
                { { "!!/bin/sh", NULL }, NULL },
                { { ":/bin/sh", NULL }, NULL },
                { { "", NULL }, NULL },
                { { " /bin/sh", NULL }, NULL },
                { { "/bin/", NULL }, NULL },
                { { NULL }, NULL },
                { { "/bin/sh", "ok", "\xff", NULL }, NULL },
                { { "/bin/sh\xff", NULL }, NULL },
                { { "/bin/s'h", NULL }, NULL },
                { { "/bin/sh\\", NULL }, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                const char *reason = NULL;
                int r;

                strbuf_append(&b, PRE);
                r = escape_exec_line(&b, (char *const *) v[i].argv, &reason);
                check_result("escape_exec_line", v[i].argv[0] ? v[i].argv[0] : "(empty argv)", r, &b,
                             reason, v[i].want);
        }
        {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                const char *reason = NULL;

                OK_INTEQ(escape_exec_line(&b, NULL, &reason), -EINVAL, "escape_exec_line(NULL) refused");
                /* ret_reason is optional */
                OK_INTEQ(escape_exec_line(&b, (char *const[]){ (char *) "x", NULL }, NULL), -EINVAL,
                         "escape_exec_line without ret_reason");
                OK_INTEQ(b.len, 0, "nothing appended");
        }
}

static void test_path_word(void) {
        static const Vec v[] = {
                { "/a b", "\"/a b\"" },
                { "/p%q", "\"/p%%q\"" },
                { "/d$x", "\"/d$x\"" },
                { "/q\"\\", "\"/q\\\"\\\\\"" },
                { "/s'q;#`", "\"/s'q;#`\"" },
                { "char-pts", "\"char-pts\"" },
                { "/caf\xc3\xa9", "\"/caf\xc3\xa9\"" },
                { "/x\ny", NULL },
                { "/t\tx", NULL },
                { "/c\x01", NULL },
                { "/d\x7f", NULL },
                { "", NULL },
                { "-/x", NULL },
                { "+/x", NULL },
                { "/\xff", NULL },
        };
        run_table1("escape_path_word", escape_path_word, v, ELEMENTSOF(v));
}

static void run_table2(const char *fn, int (*f)(StrBuf *, const char *, const char *, const char **),
                       const Vec2 *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                _cleanup_free_ char *label = NULL;
                const char *reason = NULL;
                int r;

                if (asprintf(&label, "%s=%s", v[i].name ? v[i].name : "(null)", show(v[i].value)) < 0)
                        label = NULL;
                strbuf_append(&b, PRE);
                r = f(&b, v[i].name, v[i].value, &reason);
                check_result(fn, label, r, &b, reason, v[i].want);
        }
}

static const char *const bad_env_names[] = {
        "", "A.B", "A-B", "1A", "A=B", "A B", "\xc3\xa9", "A\n", "-", ".",
};

static void test_environment(void) {
        static const Vec2 v[] = {
                { "A", "1 2", "\"A=1 2\"" },
                { "B", "%x", "\"B=%%x\"" },
                { "C", "$x ${y}", "\"C=$x ${y}\"" },
                { "D", "a\nb\tc\x01\x7f\r", "\"D=a\\nb\\tc\\x01\\x7f\\x0d\"" },
                { "E", "\"'\\", "\"E=\\\"'\\\\\"" },
                { "F", "", "\"F=\"" },
                { "G", "trail\\", "\"G=trail\\\\\"" },
                { "H", " lead trail ", "\"H= lead trail \"" },
                { "_x1", "caf\xc3\xa9", "\"_x1=caf\xc3\xa9\"" },
                { "I", "#;`", "\"I=#;`\"" },
                { "J", "x\nLD_PRELOAD=/evil.so", "\"J=x\\nLD_PRELOAD=/evil.so\"" },
                { "A", "\xff", NULL },
                { "A", "\xef\xbf\xbf", NULL },
                { "A", NULL, NULL },
                { NULL, "x", NULL },
        };
        run_table2("escape_environment_assignment", escape_environment_assignment, v, ELEMENTSOF(v));
        for (size_t i = 0; i < ELEMENTSOF(bad_env_names); i++)
                run_table2("escape_environment_assignment", escape_environment_assignment,
                           &(Vec2){ bad_env_names[i], "x", NULL }, 1);
}

static void test_env_file(void) {
        static const Vec2 v[] = {
                { "A", "plain", "A=\"plain\"\n" },
                { "B", "a\nb", "B=\"a\nb\"\n" },
                { "C", "\"\\`$", "C=\"\\\"\\\\\\`\\$\"\n" },
                { "D", " lead trail ", "D=\" lead trail \"\n" },
                { "E", "#x;y'%", "E=\"#x;y'%\"\n" },
                { "F", "", "F=\"\"\n" },
                { "G", "trail\\", "G=\"trail\\\\\"\n" },
                { "H", "x\nLD_PRELOAD=/evil.so", "H=\"x\nLD_PRELOAD=/evil.so\"\n" },
                { "I", "\r\x01\t\x7f", "I=\"\r\x01\t\x7f\"\n" },
                { "J", "\\\n", "J=\"\\\\\n\"\n" },
                { "K", "${HOME}", "K=\"\\${HOME}\"\n" },
                { "_u", "\xe6\x97\xa5", "_u=\"\xe6\x97\xa5\"\n" },
                { "A", "\xff", NULL },
                { "A", "a\xed\xa0\x80", NULL },
                { "A", NULL, NULL },
                { NULL, "x", NULL },
        };
        run_table2("escape_env_file_line", escape_env_file_line, v, ELEMENTSOF(v));
        for (size_t i = 0; i < ELEMENTSOF(bad_env_names); i++)
                run_table2("escape_env_file_line", escape_env_file_line,
                           &(Vec2){ bad_env_names[i], "x", NULL }, 1);
}

static void test_nspawn_bind(void) {
        static const Vec v[] = {
                { "/plain", "/plain" },
                { "/a:b", "/a\\:b" },
                { "/a\\b", "/a\\\\b" },
                { "/a:\\:", "/a\\:\\\\\\:" },
                { "/x y%$'\"", "/x y%$'\"" },
                { "/caf\xc3\xa9", "/caf\xc3\xa9" },
                { "", NULL },
                { "rel", NULL },
                { "+/x", NULL },
                { ":/x", NULL },
                { "/\xff", NULL },
        };
        run_table1("escape_nspawn_bind_path", escape_nspawn_bind_path, v, ELEMENTSOF(v));
}

static const Vec unit_name_vectors[] = {
        { "/", "-" },
        { "//", "-" },
        { "/.", "-" },
        { "/opt/stage2/my-app/rootfs", "opt-stage2-my\\x2dapp-rootfs" },
        { "/.hidden", "\\x2ehidden" },
        { "/a/.b", "a-.b" },
        { "/...", "\\x2e.." },
        { "/caf\xc3\xa9", "caf\\xc3\\xa9" },
        { "/\xe6\x97\xa5", "\\xe6\\x97\\xa5" },
        { "//a//b//", "a-b" },
        { "/a/./b/.", "a-b" },
        { "/a b", "a\\x20b" },
        { "/x:y_z.w", "x:y_z.w" },
        { "/a%b", "a\\x25b" },
        { "/a\\b", "a\\x5cb" },
        { "/-", "\\x2d" },
        { "/a-", "a\\x2d" },
        { "/a\tb", "a\\x09b" },
        { "/var/lib/nspawn-pod/pods/6f3e", "var-lib-nspawn\\x2dpod-pods-6f3e" },
        { "/A/Z/0/9", "A-Z-0-9" },
        { "/$x", "\\x24x" },
        { "/a'\"", "a\\x27\\x22" },
        { "/a\nb", "a\\x0ab" },
        { "", NULL },
        { "rel", NULL },
        { "./a", NULL },
        { "/a/../b", NULL },
        { "/..", NULL },
        { "/a/b/..", NULL },
        { "/\xff", NULL },
};

static void test_unit_name_path(void) {
        _cleanup_free_ char *long_comp = NULL, *want = NULL;

        run_table1("escape_unit_name_path", escape_unit_name_path, unit_name_vectors,
                   ELEMENTSOF(unit_name_vectors));

        /* NAME_MAX per component, and the result must still fit a unit name. */
        long_comp = malloc(258);
        want = malloc(256);
        if (!long_comp || !want)
                abort();
        long_comp[0] = '/';
        memset(long_comp + 1, 'a', 256);
        long_comp[257] = 0;
        run_table1("escape_unit_name_path", escape_unit_name_path, &(Vec){ long_comp, NULL }, 1);
        long_comp[256] = 0;
        memset(want, 'a', 255);
        want[255] = 0;
        run_table1("escape_unit_name_path", escape_unit_name_path, &(Vec){ long_comp, want }, 1);
        /* 100 bytes escape to 400: fits a path, not a unit name */
        memset(long_comp + 1, ' ', 100);
        long_comp[101] = 0;
        run_table1("escape_unit_name_path", escape_unit_name_path, &(Vec){ long_comp, NULL }, 1);
}

static void test_env_names(void) {
        static const char *const good[] = { "A", "_", "a", "PATH", "_x9", "Z_0", "lower_case" };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                OK(env_name_is_systemd_safe(good[i]), "env name \"%s\" is safe", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad_env_names); i++)
                OK(!env_name_is_systemd_safe(bad_env_names[i]), "env name \"%s\" is not",
                   show(bad_env_names[i]));
        OK(!env_name_is_systemd_safe(NULL), "env name NULL is not");
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        if (!s)
                abort();
        memset(s, c, n);
        s[n] = 0;
        return s;
}

static void test_limits(void) {
        _cleanup_free_ char *w_max = repeat('w', EXEC_WORD_MAX), *w_over = repeat('w', EXEC_WORD_MAX + 1);
        _cleanup_free_ char *v_max = repeat('v', UNIT_LINE_MAX), *v_over = repeat('v', UNIT_LINE_MAX + 1);
        _cleanup_free_ char *pct = repeat('%', UNIT_LINE_MAX / 2 + 1);
        _cleanup_free_ char *big = repeat('b', 120 * 1024);
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        const char *reason = NULL;
        char *argv[12];

        OK_INTEQ(escape_exec_word(&b, w_max, false, &reason), 0, "exec word of EXEC_WORD_MAX bytes");
        strbuf_truncate(&b, 0);
        OK_INTEQ(escape_exec_word(&b, w_over, false, &reason), -EINVAL, "exec word over EXEC_WORD_MAX refused");
        OK_INTEQ(b.len, 0, "nothing appended");
        OK_INTEQ(escape_unit_value(&b, v_max, &reason), 0, "unit value of UNIT_LINE_MAX bytes");
        strbuf_truncate(&b, 0);
        OK_INTEQ(escape_unit_value(&b, v_over, &reason), -EINVAL, "unit value over UNIT_LINE_MAX refused");
        OK_INTEQ(escape_unit_value(&b, pct, &reason), -EINVAL, "unit value whose escaping exceeds the cap refused");
        OK_INTEQ(b.len, 0, "nothing appended");

        /* Each word fits the kernel limit, the line does not fit systemd's. */
        argv[0] = (char *) "/bin/true";
        for (size_t i = 1; i < 10; i++)
                argv[i] = big;
        argv[10] = NULL;
        OK_INTEQ(escape_exec_line(&b, argv, &reason), -EINVAL, "exec line over UNIT_LINE_MAX refused (%s)",
                 strempty(reason));
        OK_INTEQ(b.len, 0, "nothing appended");
        argv[8] = NULL;
        OK_INTEQ(escape_exec_line(&b, argv, &reason), 0, "exec line of 7 x 120 KiB accepted");
        strbuf_truncate(&b, 0);

        OK_INTEQ(escape_environment_assignment(&b, "A", w_max, &reason), -EINVAL,
                 "Environment= over MAX_ARG_STRLEN refused");
        OK_INTEQ(escape_env_file_line(&b, "A", w_max, &reason), -EINVAL,
                 "EnvironmentFile line over MAX_ARG_STRLEN refused");
        w_max[EXEC_WORD_MAX - 2] = 0;
        OK_INTEQ(escape_env_file_line(&b, "A", w_max, &reason), 0, "EnvironmentFile line at MAX_ARG_STRLEN");
}

/* ---- real systemd ---- */

typedef struct RunResult {
        int status; /* exit status, or 128+signal, or -1 when it could not run */
        char *out;
        char *err;
} RunResult;

static void run_result_done(RunResult *r) {
        free(r->out);
        free(r->err);
}

/* Reads both pipes until both are closed, so neither can fill up and
 * block the child. */
static void read_both(int out_fd, int err_fd, char **ret_out, char **ret_err) {
        _cleanup_strbuf_ StrBuf o = STRBUF_INIT, e = STRBUF_INIT;
        struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
        StrBuf *bufs[2] = { &o, &e };
        int open_fds = 2;

        while (open_fds > 0) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < 2; i++) {
                        char buf[4096];
                        ssize_t n;

                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(p[i].fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                p[i].fd = -1;
                                open_fds--;
                                continue;
                        }
                        strbuf_append_n(bufs[i], buf, (size_t) n);
                }
        }
        *ret_out = strbuf_steal(&o, NULL);
        *ret_err = strbuf_steal(&e, NULL);
}

/* Runs argv without a shell, capturing stdout and stderr separately. `env`
 * entries are added to the environment; `as_nobody` drops to uid/gid 65534
 * when running as root. */
static RunResult run(char *const *argv, char *const *env, bool as_nobody) {
        RunResult res = { .status = -1 };
        int out[2], err[2];
        pid_t pid;
        int st;

        if (pipe2(out, O_CLOEXEC) < 0)
                return res;
        if (pipe2(err, O_CLOEXEC) < 0) {
                close(out[0]);
                close(out[1]);
                return res;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return res;
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY);

                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                STRV_FOREACH(e, env)
                        putenv(*e);
                if (as_nobody && geteuid() == 0) {
                        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                            setresuid(NOBODY, NOBODY, NOBODY) < 0)
                                _exit(126);
                        setenv("HOME", "/", 1);
                }
                /* A hung tool must not hang the test suite. */
                alarm(60);
                execv(argv[0], argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        read_both(out[0], err[0], &res.out, &res.err);
        close(out[0]);
        close(err[0]);
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return res;
        res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return res;
}

static void test_systemd_escape(void) {
        const char *tool = "/usr/bin/systemd-escape";
        size_t n = 0;

        if (access(tool, X_OK) < 0) {
                OK(true, "escape_unit_name_path matches systemd-escape --path # SKIP systemd-escape missing");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(unit_name_vectors); i++) {
                _cleanup_(run_result_done) RunResult res = {};
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                _cleanup_free_ char *want = NULL;
                const char *in = unit_name_vectors[i].in;
                int r;

                res = run((char *const[]){ (char *) tool, (char *) "--path", (char *) "--", (char *) in, NULL },
                          NULL, false);
                r = escape_unit_name_path(&b, in, NULL);
                if (r == 0) {
                        if (asprintf(&want, "%s\n", b.data) < 0)
                                abort();
                        if (!OK(res.status == 0 && res.out && strcmp(res.out, want) == 0 && res.err && !*res.err,
                                "systemd-escape --path \"%s\" = \"%s\"", show(in), show(b.data)))
                                printf("#   status %d, out \"%s\", err \"%s\"\n", res.status, show(res.out),
                                       show(res.err));
                } else if (strcmp(in, "/\xff") == 0)
                        /* Deliberately stricter: systemd-escape turns invalid
                         * UTF-8 into \xNN, but such a path cannot appear in any
                         * unit setting (Where=, RequiresMountsFor=), so a unit
                         * named after it could never match. */
                        OK(res.status == 0 && res.out && strcmp(res.out, "\\xff\n") == 0,
                           "systemd-escape --path accepts invalid UTF-8, we refuse it");
                else
                        /* We refuse what systemd-escape refuses or warns about. */
                        OK(res.status != 0 || (res.err && *res.err), "systemd-escape --path \"%s\" also objects",
                           show(in));
                n++;
        }
        OK(n >= 30, "compared %zu paths with systemd-escape", n);
}

static int write_text(const char *path, const char *text, mode_t mode) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (write(fd, text, len) != (ssize_t) len)
                return -EIO;
        if (fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The hostile inputs both real-systemd checks use. */
static const char *const hostile_argv[][24] = {
        { "/opt/app", "a b", "", ";", "\\;", "\\", "trail\\", "\"", "'", "`id`", "#c", "-x", "%n", "%%", "$HOME",
          "${HOME}", "$$", "caf\xc3\xa9 \xe6\x97\xa5", "\x01\x7f\x1b", "\r\n\t", " lead", "trail ", NULL },
        { "/opt/p%q", "x", NULL },
        { "/opt/d$x", "$", "$x", NULL },
        { "/opt/sp ace/p%q$x;#`caf\xc3\xa9", "--flag=%h", NULL },
        { "/opt/app", "x\nLD_PRELOAD=/evil.so", "\nUser=root", NULL },
};
static const char *const hostile_env[][2] = {
        { "A", "1 2" },      { "B", "%x" },         { "C", "$x ${y}" }, { "D", "\ta\nb\x01" },
        { "E", "\"'\\" },    { "F", "" },           { "G", "trail\\" }, { "H", " lead trail " },
        { "I", "caf\xc3\xa9" }, { "J", "#;`" }, { "K", "x\nUser=root" },
};
static const char *const hostile_paths[] = {
        "/a b", "/p%q", "/d$x", "/q\"x", "/b\\s", "/caf\xc3\xa9", "/s'q;#",
};
static const char *const hostile_value = "50% \"q\" 'x' $y `z` # ; back\\slash caf\xc3\xa9";

/* A service unit built from the hostile inputs. */
static char *hostile_unit(void) {
        _cleanup_strbuf_ StrBuf u = STRBUF_INIT;
        const char *reason = NULL;
        bool ok = true;

        strbuf_append(&u, "[Unit]\nDefaultDependencies=no\nDescription=");
        ok = ok && escape_unit_value(&u, hostile_value, &reason) == 0;
        strbuf_append(&u, "\n[Service]\nType=oneshot\n");
        for (size_t i = 0; i < ELEMENTSOF(hostile_argv); i++) {
                strbuf_append(&u, "ExecStart=");
                ok = ok && escape_exec_line(&u, (char *const *) hostile_argv[i], &reason) == 0;
                strbuf_putc(&u, '\n');
        }
        for (size_t i = 0; i < ELEMENTSOF(hostile_env); i++) {
                strbuf_append(&u, "Environment=");
                ok = ok && escape_environment_assignment(&u, hostile_env[i][0], hostile_env[i][1], &reason) == 0;
                strbuf_putc(&u, '\n');
        }
        strbuf_append(&u, "ReadWritePaths=");
        for (size_t i = 0; i < ELEMENTSOF(hostile_paths); i++) {
                if (i > 0)
                        strbuf_putc(&u, ' ');
                ok = ok && escape_path_word(&u, hostile_paths[i], &reason) == 0;
        }
        strbuf_append(&u, "\nSyslogIdentifier=");
        ok = ok && escape_unit_value(&u, hostile_value, &reason) == 0;
        strbuf_append(&u, "\nUser=65534\n");
        if (!ok)
                printf("# building the unit failed: %s\n", strempty(reason));
        return ok ? strbuf_steal(&u, NULL) : NULL;
}

/* systemd-analyze verify --root prints warnings but still exits 0, so any
 * output at all counts as a failure. */
static RunResult analyze_verify(const char *root, const char *unit_text) {
        _cleanup_free_ char *path = NULL, *arg = NULL;
        RunResult res = { .status = -1 };

        if (asprintf(&path, "%s/etc/systemd/system/x.service", root) < 0 ||
            asprintf(&arg, "--root=%s", root) < 0)
                abort();
        if (write_text(path, unit_text, 0644) < 0)
                return res;
        return run((char *const[]){ (char *) "/usr/bin/systemd-analyze", (char *) "verify", arg,
                                    (char *) "x.service", NULL },
                   (char *const[]){ (char *) "SYSTEMD_LOG_COLOR=0", NULL }, false);
}

static int make_dirs(const char *base, const char *rel) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", base, rel) < 0)
                abort();
        for (char *s = p + strlen(base) + 1;; s++) {
                if (*s == '/' || !*s) {
                        char c = *s;

                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = c;
                        if (!c)
                                return 0;
                }
        }
}

static void test_systemd_analyze(const char *tmp) {
        _cleanup_free_ char *root = NULL, *unit = NULL, *bad = NULL;
        _cleanup_(run_result_done) RunResult res = {}, neg1 = {}, neg2 = {};

        if (access("/usr/bin/systemd-analyze", X_OK) < 0) {
                OK(true, "systemd-analyze verify accepts hostile unit # SKIP systemd-analyze missing");
                OK(true, "systemd-analyze verify negative controls # SKIP systemd-analyze missing");
                return;
        }
        if (asprintf(&root, "%s/root", tmp) < 0)
                abort();
        if (make_dirs(tmp, "root/etc/systemd/system") < 0 || make_dirs(tmp, "root/opt/sp ace") < 0)
                abort();
        /* verify checks that every command exists under the root */
        for (size_t i = 0; i < ELEMENTSOF(hostile_argv); i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s%s", root, hostile_argv[i][0]) < 0 || write_text(p, "#!/bin/sh\n", 0755) < 0)
                        abort();
        }

        unit = hostile_unit();
        OK(unit, "hostile unit built");
        if (!unit)
                return;
        res = analyze_verify(root, unit);
        if (!OK(res.status == 0 && res.out && !*res.out && res.err && !*res.err,
                "systemd-analyze verify prints nothing for the hostile unit"))
                printf("#   status %d\n#   out: %s\n#   err: %s\n", res.status, strempty(res.out),
                       strempty(res.err));

        /* Negative controls: the same check does see unescaped specifiers and
         * unclean UTF-8, so silence above means something. */
        if (asprintf(&bad, "%sExecStartPre=\"/opt/app\" \"%%z\"\n", unit) < 0)
                abort();
        neg1 = analyze_verify(root, bad);
        OK(neg1.err && *neg1.err, "negative control: unescaped %%z makes systemd-analyze complain");
        free(bad);
        if (asprintf(&bad, "%sWorkingDirectory=/\xff\n", unit) < 0)
                abort();
        neg2 = analyze_verify(root, bad);
        OK(neg2.err && *neg2.err, "negative control: a raw 0xff byte makes systemd-analyze complain");
}

/* Undoes systemd's quote_command_line() as printed in its dump: words are
 * bare or double-quoted with C escapes (\n, \\, \", \$, octal \NNN, …). */
static char **parse_dump_command_line(const char *s) {
        _cleanup_strv_free_ char **l = NULL;

        while (*s) {
                _cleanup_strbuf_ StrBuf w = STRBUF_INIT;

                if (*s == ' ') {
                        s++;
                        continue;
                }
                if (*s != '"') {
                        size_t n = strcspn(s, " ");

                        strbuf_append_n(&w, s, n);
                        s += n;
                } else {
                        for (s++; *s && *s != '"'; s++) {
                                if (*s != '\\') {
                                        strbuf_putc(&w, *s);
                                        continue;
                                }
                                s++;
                                switch (*s) {
                                case 'a': strbuf_putc(&w, '\a'); break;
                                case 'b': strbuf_putc(&w, '\b'); break;
                                case 'f': strbuf_putc(&w, '\f'); break;
                                case 'n': strbuf_putc(&w, '\n'); break;
                                case 'r': strbuf_putc(&w, '\r'); break;
                                case 't': strbuf_putc(&w, '\t'); break;
                                case 'v': strbuf_putc(&w, '\v'); break;
                                case '0': case '1': case '2': case '3':
                                        if (s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
                                                strbuf_putc(&w, (char) (((s[0] - '0') << 6) | ((s[1] - '0') << 3) |
                                                                        (s[2] - '0')));
                                                s += 2;
                                        } else
                                                strbuf_putc(&w, *s);
                                        break;
                                case 0:
                                        return NULL;
                                default:
                                        strbuf_putc(&w, *s);
                                }
                        }
                        if (*s != '"')
                                return NULL;
                        s++;
                }
                if (strv_consume(&l, strbuf_steal(&w, NULL)) < 0)
                        return NULL;
        }
        if (!l)
                l = calloc(1, sizeof(char *));
        return TAKE_PTR(l);
}

/* What the dump should show for a word: systemd resolves specifiers at
 * load time but $-expansion only at exec time, so `$$` is still doubled
 * there in words after argv0. */
static char *dump_expectation(const char *word, bool is_argv0) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

        for (const char *p = word; *p; p++) {
                strbuf_putc(&b, *p);
                if (*p == '$' && !is_argv0)
                        strbuf_putc(&b, '$');
        }
        return strbuf_steal(&b, NULL);
}

static void test_systemd_test_dump(const char *tmp) {
        const char *systemd = "/usr/lib/systemd/systemd";
        _cleanup_free_ char *units = NULL, *path = NULL, *unit = NULL, *env_path = NULL, *block = NULL;
        _cleanup_(run_result_done) RunResult res = {};
        size_t n_cmd = 0;
        const char *b, *e;
        char *line;

        if (access(systemd, X_OK) < 0) {
                OK(true, "systemd --test dump round trip # SKIP %s missing", systemd);
                return;
        }
        if (asprintf(&units, "%s/units", tmp) < 0 || asprintf(&path, "%s/y.service", units) < 0 ||
            asprintf(&env_path, "SYSTEMD_UNIT_PATH=%s", units) < 0)
                abort();
        if (mkdir(units, 0755) < 0 || chmod(tmp, 0755) < 0)
                abort();
        unit = hostile_unit();
        if (!unit || write_text(path, unit, 0644) < 0)
                abort();

        /* systemd refuses --test as root (exits 1 silently), so run it as nobody. */
        res = run((char *const[]){ (char *) systemd, (char *) "--test", (char *) "--system",
                                   (char *) "--unit=y.service", NULL },
                  (char *const[]){ env_path, (char *) "SYSTEMD_LOG_TARGET=console", (char *) "SYSTEMD_LOG_COLOR=0",
                                   NULL },
                  true);
        b = res.out ? strstr(res.out, "-> Unit y.service:\n") : NULL;
        if (!OK(res.status == 0 && b, "systemd --test dumped y.service")) {
                printf("#   status %d\n#   err: %s\n", res.status, strempty(res.err));
                return;
        }
        e = strstr(b + 1, "\n\t-> Unit ");
        block = e ? strndup(b, (size_t) (e - b + 1)) : strdup(b);
        if (!block)
                abort();

        /* No parse warnings for our unit. */
        OK(res.err && !strstr(res.err, "y.service"), "systemd --test logged nothing about y.service");

        for (line = block; (line = strstr(line, "\t\t\tCommand Line: ")); line++) {
                _cleanup_free_ char *text = NULL, *diag = NULL;
                _cleanup_strv_free_ char **got = NULL;
                const char *const *want = n_cmd < ELEMENTSOF(hostile_argv) ? hostile_argv[n_cmd] : NULL;
                bool same;
                size_t i;

                line += strlen("\t\t\tCommand Line: ");
                text = strndup(line, strcspn(line, "\n"));
                got = text ? parse_dump_command_line(text) : NULL;
                same = got && want;
                for (i = 0; same && want[i]; i++) {
                        _cleanup_free_ char *w = dump_expectation(want[i], i == 0);

                        same = got[i] && w && strcmp(got[i], w) == 0;
                        if (!same && asprintf(&diag, "word %zu: got \"%s\" want \"%s\"", i, show(got[i]),
                                              show(w)) < 0)
                                diag = NULL;
                }
                same = same && !got[i];
                if (!OK(same, "ExecStart #%zu round-trips through systemd's parser (argv0 \"%s\")", n_cmd,
                        want ? show(want[0]) : "?"))
                        printf("#   %s\n#   dump: %s\n", strempty(diag), show(text));
                n_cmd++;
        }
        OK_INTEQ(n_cmd, ELEMENTSOF(hostile_argv), "systemd parsed every ExecStart=");

        for (size_t i = 0; i < ELEMENTSOF(hostile_env); i++) {
                _cleanup_free_ char *want = NULL;

                if (asprintf(&want, "\n\t\tEnvironment: %s=%s\n", hostile_env[i][0], hostile_env[i][1]) < 0)
                        abort();
                OK(strstr(block, want), "Environment=%s=\"%s\" round-trips", hostile_env[i][0],
                   show(hostile_env[i][1]));
        }
        {
                _cleanup_free_ char *want = NULL;

                if (asprintf(&want, "\n\t\tDescription: %s\n", hostile_value) < 0)
                        abort();
                OK(strstr(block, want), "Description= round-trips");
        }
        {
                _cleanup_strbuf_ StrBuf want = STRBUF_INIT;

                strbuf_append(&want, "\n\t\tReadWritePaths:");
                for (size_t i = 0; i < ELEMENTSOF(hostile_paths); i++) {
                        strbuf_putc(&want, ' ');
                        strbuf_append(&want, hostile_paths[i]);
                }
                strbuf_putc(&want, '\n');
                if (!OK(strstr(block, want.data), "ReadWritePaths= words round-trip"))
                        printf("#   want: %s", show(want.data));
        }
}

/* systemd's environment.d generator reads files with the same parser as
 * EnvironmentFile= (parse_env_file_internal) and prints the result, so it
 * checks escape_env_file_line() byte for byte. Two differences keep some
 * values out: it $-expands values afterwards, and it rejects an empty
 * quoted value ("invalid syntax") where EnvironmentFile= yields "K=". */
static void test_env_file_parser(const char *tmp) {
        static const char *const values[] = {
                " lead trail ", "x\nLD_PRELOAD=/evil.so", "\"'\\`", "trail\\", "\\\n", "#;%", "a\tb\rc\x01" "d\x7f" "e",
                "caf\xc3\xa9", "\\x41", "\\n", "=", "\n", "a\n\nb\n",
        };
        const char *gen = "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator";
        _cleanup_free_ char *dir = NULL, *file = NULL, *xdg = NULL;
        _cleanup_strbuf_ StrBuf text = STRBUF_INIT;
        _cleanup_(run_result_done) RunResult res = {};

        if (access(gen, X_OK) < 0) {
                OK(true, "EnvironmentFile lines round-trip through systemd's parser # SKIP %s missing", gen);
                return;
        }
        if (asprintf(&dir, "%s/xdg/environment.d", tmp) < 0 || asprintf(&file, "%s/50-test.conf", dir) < 0 ||
            asprintf(&xdg, "XDG_CONFIG_HOME=%s/xdg", tmp) < 0 || make_dirs(tmp, "xdg/environment.d") < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                char name[16];

                snprintf(name, sizeof(name), "NPT_%zu", i);
                if (escape_env_file_line(&text, name, values[i], NULL) < 0)
                        abort();
        }
        if (!text.data || write_text(file, text.data, 0644) < 0)
                abort();

        res = run((char *const[]){ (char *) gen, NULL }, (char *const[]){ xdg, NULL }, false);
        if (!OK(res.status == 0 && res.out && res.err && !*res.err, "environment.d generator ran cleanly"))
                printf("#   status %d, err: %s\n", res.status, strempty(res.err));

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_free_ char *prefix = NULL, *got = NULL;
                const char *line;

                if (asprintf(&prefix, "NPT_%zu=", i) < 0)
                        abort();
                line = res.out ? strstr(res.out, prefix) : NULL;
                if (line) {
                        /* printed as K=V, V double-quoted and C-escaped when needed */
                        _cleanup_free_ char *v = strndup(line + strlen(prefix),
                                                         strcspn(line + strlen(prefix), "\n"));
                        _cleanup_strv_free_ char **w = NULL;

                        if (v && v[0] == '"') {
                                w = parse_dump_command_line(v);
                                got = w && w[0] && !w[1] ? strdup(w[0]) : NULL;
                        } else
                                got = TAKE_PTR(v);
                }
                if (!OK(got && strcmp(got, values[i]) == 0, "EnvironmentFile value \"%s\" round-trips",
                        show(values[i])))
                        printf("#   got: \"%s\"\n", show(got));
        }
}

int main(void) {
        char tmp[] = "/tmp/test-escape.XXXXXX";

        test_unit_value();
        test_exec_word();
        test_exec_line();
        test_path_word();
        test_environment();
        test_env_file();
        test_nspawn_bind();
        test_unit_name_path();
        test_env_names();
        test_limits();

        test_systemd_escape();
        if (!mkdtemp(tmp)) {
                OK(false, "mkdtemp: %m");
                return tap_done();
        }
        test_systemd_analyze(tmp);
        test_systemd_test_dump(tmp);
        test_env_file_parser(tmp);
        rm_rf(tmp);
        OK(access(tmp, F_OK) < 0 && errno == ENOENT, "temporary directory removed");

        return tap_done();
}
