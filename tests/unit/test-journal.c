/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/journal.c (the journal's bound, its ACLs) and the times and
 * durations of lib/parse-util.c that `logs` and the --wait options read. */
#include <acl/libacl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "parse-util.h"
#include "tap.h"

static void test_max_use(void) {
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } cases[] = {
                { "4Mi", 0, 4ULL << 20 },        { "128Mi", 0, 128ULL << 20 }, { "1Gi", 0, 1ULL << 30 },
                { "500M", 0, 500000000ULL },      { "4194304", 0, 4194304ULL }, { "1Ti", 0, 1ULL << 40 },
                { "4194303", -ERANGE, 0 },        { "1Mi", -ERANGE, 0 },        { "2Ti", -ERANGE, 0 },
                { "", -EINVAL, 0 },               { "x", -EINVAL, 0 },          { "-5Mi", -EINVAL, 0 },
                { "4 Mi", -EINVAL, 0 },           { "4MiB", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NpError err = NP_ERROR_INIT;
                uint64_t v = 0;
                int r = journal_max_use_parse(cases[i].s, &v, &err);

                OK(r == cases[i].r && (r < 0 || v == cases[i].v) && (r == 0) == (err.message == NULL),
                   "journal_max_use_parse(\"%s\") = %d, %llu", cases[i].s, r, (unsigned long long) v);
                error_done(&err);
        }
}

static void test_max_use_of_pod(void) {
        NameValue ann[] = { { (char *) "other", (char *) "x" }, { (char *) JOURNAL_MAX_USE_ANNOTATION, (char *) "64Mi" } };
        NameValue bad[] = { { (char *) JOURNAL_MAX_USE_ANNOTATION, (char *) "lots" } };
        Pod pod = {};
        NpError err = NP_ERROR_INIT;
        uint64_t v = 0;

        OK(journal_max_use_of_pod(&pod, &v, &err) == 0 && v == JOURNAL_MAX_USE_DEFAULT,
           "a pod without the annotation: the default, %llu", (unsigned long long) v);
        pod.annotations = ann;
        pod.n_annotations = ELEMENTSOF(ann);
        OK(journal_max_use_of_pod(&pod, &v, &err) == 0 && v == 64ULL << 20, "the annotation's 64Mi");
        pod.annotations = bad;
        pod.n_annotations = ELEMENTSOF(bad);
        OK(journal_max_use_of_pod(&pod, &v, &err) == -EINVAL && err.path && strcmp(err.path, "$.annotations") == 0 &&
                   strstr(err.message, "\"lots\""),
           "a bad annotation: -EINVAL, at $.annotations, naming the value");
        error_done(&err);
}

/* The ACL of `fd` as short text ("u::rwx,g::r-x,…"), `type` access or default. */
static char *acl_text(int fd, acl_type_t type) {
        char proc[64];
        acl_t a;
        char *t, *s;

        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        a = type == ACL_TYPE_ACCESS ? acl_get_fd(fd) : acl_get_file(proc, type);
        if (!a)
                return NULL;
        t = acl_to_any_text(a, NULL, ',', TEXT_ABBREVIATE | TEXT_NUMERIC_IDS);
        acl_free(a);
        s = t ? strdup(t) : NULL;
        acl_free(t);
        return s;
}

static void test_acls(void) {
        char tmpl[] = "/tmp/test-journal.XXXXXX";
        const gid_t gids[] = { 54321, 54322 };
        char *d = mkdtemp(tmpl), *t;
        int dfd = d ? open(d, O_PATH | O_DIRECTORY) : -1, fd = -1, sub = -1, r;
        struct stat st;

        if (dfd < 0 || mkdirat(dfd, "j", 0755) < 0) {
                OK(false, "a scratch directory");
                return;
        }
        fd = openat(dfd, "j", O_RDONLY | O_DIRECTORY);
        close(dfd);
        r = journal_acl_set_dir(fd, gids, ELEMENTSOF(gids));
        if (r == -EOPNOTSUPP) {
                printf("ok %u - journal ACLs # SKIP no ACLs on %s\n", ++tap_n, d);
                goto finish;
        }
        OK(r == 0, "journal_acl_set_dir: %d", r);
        t = acl_text(fd, ACL_TYPE_ACCESS);
        OK_STREQ(t, "u::rwx,g::r-x,g:54321:r-x,g:54322:r-x,m::r-x,o::---", "the journal directory: owner, groups, nobody else");
        free(t);
        t = acl_text(fd, ACL_TYPE_DEFAULT);
        OK_STREQ(t, "u::rwx,g::r-x,g:54321:r-x,g:54322:r-x,m::r-x,o::---", "and the same as default ACL");
        free(t);
        /* What journald makes in it inherits it. */
        if (mkdirat(fd, "mid", 0755) == 0 && (sub = openat(fd, "mid", O_RDONLY | O_DIRECTORY)) >= 0 &&
            fstat(sub, &st) == 0) {
                t = acl_text(sub, ACL_TYPE_ACCESS);
                OK(t && strstr(t, "g:54321:r-x") && (st.st_mode & 07) == 0,
                   "a directory made in it: the groups read it, others not (%s, mode %o)", t ? t : "?",
                   (unsigned) (st.st_mode & 0777));
                free(t);
        } else
                OK(false, "a directory made in it");

        /* Traversal added to an ACL that has entries of its own. */
        {
                acl_t a = acl_from_text("u::rwx,g::---,g:54399:rwx,m::rwx,o::---");

                OK(a && acl_set_fd(sub, a) == 0, "an ACL with an entry of someone else's");
                acl_free(a);
        }
        r = journal_acl_add_traverse(sub, gids, 1);
        t = acl_text(sub, ACL_TYPE_ACCESS);
        OK(r == 0 && t && strcmp(t, "u::rwx,g::---,g:54321:--x,g:54399:rwx,m::rwx,o::---") == 0,
           "journal_acl_add_traverse: --x added, the other entry kept (%s)", t ? t : "?");
        free(t);
        r = journal_acl_add_traverse(sub, gids, 1);
        t = acl_text(sub, ACL_TYPE_ACCESS);
        OK(r == 0 && t && strcmp(t, "u::rwx,g::---,g:54321:--x,g:54399:rwx,m::rwx,o::---") == 0,
           "twice: the same ACL");
        free(t);
        OK(journal_acl_add_traverse(sub, NULL, 0) == 0, "no groups: nothing to do");
finish:
        if (sub >= 0)
                close(sub);
        if (fd >= 0)
                close(fd);
        {
                char cmd[128];

                (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
                (void) system(cmd);
        }
}

static void test_reader_gids(void) {
        gid_t g[JOURNAL_READER_GROUPS_MAX];
        size_t n = 99;
        bool root = false;

        OK(journal_reader_gids(g, &n) == 0 && n <= JOURNAL_READER_GROUPS_MAX, "journal_reader_gids: %zu groups", n);
        for (size_t i = 0; i < n && n <= JOURNAL_READER_GROUPS_MAX; i++)
                root = root || g[i] == 0;
        OK(!root, "never the root group");
}

static void test_timestamps(void) {
        struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 2, .tm_hour = 10, .tm_isdst = -1 };
        uint64_t v = 0, now = (uint64_t) time(NULL) * 1000000ULL;
        time_t local = mktime(&tm);

        OK(parse_timestamp("@0", &v) == 0 && v == 0, "@0");
        OK(parse_timestamp("@1700000000", &v) == 0 && v == 1700000000ULL * 1000000ULL, "@1700000000");
        OK(parse_timestamp("2026-12-02T06:57:08.338+00:00", &v) == 0 && v == 1796194628338000ULL,
           "what status prints, with its offset: %llu", (unsigned long long) v);
        OK(parse_timestamp("2026-12-02T07:57:08.338+01:00", &v) == 0 && v == 1796194628338000ULL, "another offset");
        OK(parse_timestamp("2026-12-02 06:57:08Z", &v) == 0 && v == 1796194628000000ULL, "Z, a space");
        OK(parse_timestamp("2026-12-02 10:00", &v) == 0 && v == (uint64_t) local * 1000000ULL, "local time, no seconds");
        tm = (struct tm){ .tm_year = 126, .tm_mon = 11, .tm_mday = 2, .tm_isdst = -1 };
        local = mktime(&tm);
        OK(parse_timestamp("2026-12-02", &v) == 0 && v == (uint64_t) local * 1000000ULL, "a date: its local midnight");
        /* Relative to now: within a minute of what we compute (the clock moves). */
        OK(parse_timestamp("-10m", &v) == 0 && v + 600000000ULL + 60000000ULL > now && v + 600000000ULL < now + 60000000ULL,
           "-10m");
        OK(parse_timestamp("1h ago", &v) == 0 && v + 3600000000ULL + 60000000ULL > now &&
                   v + 3600000000ULL < now + 60000000ULL,
           "1h ago");
        OK(parse_timestamp("+1d", &v) == 0 && v > now, "+1d");
        OK(parse_timestamp("today", &v) == 0 && v <= now + 60000000ULL && now - v < 86400000000ULL + 3600000000ULL,
           "today");
        OK(parse_timestamp("yesterday", &v) == 0 && v < now, "yesterday");
        OK(parse_timestamp("now", &v) == 0 && v + 60000000ULL > now, "now");
        static const char *const bad[] = { "", "soon", "2026-13-01", "2026-12-32", "2026-12-02 25:00", "2026-12-02T10",
                                           "2026-12-02 10:00 +01:00", "26-12-02", "@", "@-1", "@12x", "-", "-10q",
                                           "2026-12-02T10:00:00.+00:00", "1969-12-31", "2026-12-02 10:00:00+0100x" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                OK(parse_timestamp(bad[i], &v) < 0, "refused: \"%s\"", bad[i]);
}

static void test_durations(void) {
        uint64_t v = 0;

        OK(parse_duration("90", &v) == 0 && v == 90000000ULL, "90: seconds");
        OK(parse_duration("1h30m", &v) == 0 && v == 5400000000ULL, "1h30m");
        OK(parse_duration("500ms", &v) == 0 && v == 500000ULL, "500ms");
        OK(parse_duration("1m30", &v) == -EINVAL, "1m30: a unit missing");
        OK(parse_duration("99999999999999999999", &v) == -ERANGE, "too large");
}

int main(void) {
        test_max_use();
        test_max_use_of_pod();
        test_acls();
        test_reader_gids();
        test_timestamps();
        test_durations();
        return tap_done();
}
