/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <acl/libacl.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/acl.h>
#include <systemd/sd-journal.h>

#include "fd-util.h"
#include "journal.h"
#include "quantity.h"
#include "strv.h"
#include "strbuf.h"

int journal_max_use_parse(const char *s, uint64_t *ret, NpError *err) {
        Quantity q = {};
        int64_t v;
        int r;

        r = quantity_parse(s, &q);
        v = q.ceil;
        quantity_done(&q);
        if (r < 0)
                return error_set(err, -EINVAL, NULL,
                                 "journal size \"%s\" is not a quantity (bytes, or with a suffix: 64Mi, 1Gi, 500M)", s);
        if (v < 0 || (uint64_t) v < JOURNAL_MAX_USE_MIN || (uint64_t) v > JOURNAL_MAX_USE_MAX)
                return error_set(err, -ERANGE, NULL, "journal size \"%s\" is out of range (4Mi to 1Ti)", s);
        *ret = (uint64_t) v;
        return 0;
}

int journal_max_use_of_pod(const Pod *pod, uint64_t *ret, NpError *err) {
        for (size_t i = 0; i < pod->n_annotations; i++)
                if (strcmp(pod->annotations[i].name, JOURNAL_MAX_USE_ANNOTATION) == 0) {
                        const char *v = pod->annotations[i].value;
                        int r = journal_max_use_parse(v, ret, NULL);

                        if (r < 0)
                                return error_set(err, r, "$.annotations",
                                                 "%s=\"%s\": not a size from 4Mi to 1Ti (64Mi, 1Gi, 500M, bytes)",
                                                 JOURNAL_MAX_USE_ANNOTATION, v);
                        return 0;
                }
        *ret = JOURNAL_MAX_USE_DEFAULT;
        return 0;
}

static int lookup_gid(const char *name, gid_t *ret) {
        _cleanup_free_ char *buf = NULL;
        struct group g, *res = NULL;
        size_t size = 4096;

        for (;;) {
                int r;

                free(buf);
                buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                r = getgrnam_r(name, &g, buf, size, &res);
                if (r == ERANGE && size < (1U << 20)) {
                        size *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                if (!res)
                        return -ENOENT;
                *ret = res->gr_gid;
                return 0;
        }
}

int journal_reader_gids(gid_t ret[static JOURNAL_READER_GROUPS_MAX], size_t *ret_n) {
        static const char *const names[JOURNAL_READER_GROUPS_MAX] = { "systemd-journal", "adm", "wheel", "rkt" };
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                gid_t gid = 0;
                bool dup = false;
                int r = lookup_gid(names[i], &gid);

                if (r == -ENOMEM)
                        return r;
                if (r < 0 || gid == 0)
                        continue; /* a group the host does not have: skipped */
                for (size_t j = 0; j < n; j++)
                        dup = dup || ret[j] == gid;
                if (!dup)
                        ret[n++] = gid;
        }
        *ret_n = n;
        return 0;
}

int journal_acl_set_dir(int fd, const gid_t *gids, size_t n) {
        _cleanup_strbuf_ StrBuf text = STRBUF_INIT;
        char proc[64];
        acl_t acl;
        int r = 0;

        strbuf_append(&text, "u::rwx,g::r-x,o::---");
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&text, ",g:%lu:r-x", (unsigned long) gids[i]);
        strbuf_append(&text, ",m::r-x");
        if (strbuf_error(&text) < 0)
                return -ENOMEM;
        acl = acl_from_text(text.data);
        if (!acl)
                return negative_errno();
        /* A default ACL has no fd call: through the fd's magic link, which
         * names this very directory. */
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (acl_set_fd(fd, acl) < 0 || acl_set_file(proc, ACL_TYPE_DEFAULT, acl) < 0)
                r = negative_errno();
        acl_free(acl);
        return r;
}

/* The ACL_GROUP entry of `gid` in `*acl`, created if missing. */
static int group_entry(acl_t *acl, gid_t gid, acl_entry_t *ret) {
        acl_entry_t e;

        for (int w = ACL_FIRST_ENTRY; acl_get_entry(*acl, w, &e) == 1; w = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                gid_t *q;
                bool match;

                if (acl_get_tag_type(e, &tag) < 0)
                        return negative_errno();
                if (tag != ACL_GROUP)
                        continue;
                q = acl_get_qualifier(e);
                if (!q)
                        return negative_errno();
                match = *q == gid;
                acl_free(q);
                if (match) {
                        *ret = e;
                        return 0;
                }
        }
        if (acl_create_entry(acl, &e) < 0 || acl_set_tag_type(e, ACL_GROUP) < 0 || acl_set_qualifier(e, &gid) < 0)
                return negative_errno();
        *ret = e;
        return 0;
}

int journal_acl_add_traverse(int fd, const gid_t *gids, size_t n) {
        acl_t acl;
        int r = 0;

        if (n == 0)
                return 0;
        acl = acl_get_fd(fd);
        if (!acl)
                return negative_errno();
        for (size_t i = 0; i < n && r >= 0; i++) {
                acl_entry_t e;
                acl_permset_t ps;

                r = group_entry(&acl, gids[i], &e);
                if (r >= 0 && (acl_get_permset(e, &ps) < 0 || acl_add_perm(ps, ACL_EXECUTE) < 0 ||
                               acl_set_permset(e, ps) < 0))
                        r = negative_errno();
        }
        if (r >= 0 && (acl_calc_mask(&acl) < 0 || acl_set_fd(fd, acl) < 0))
                r = negative_errno();
        acl_free(acl);
        return r;
}

JournalReader *journal_reader_free(JournalReader *r) {
        if (!r)
                return NULL;
        sd_journal_close(r->journal);
        /* sd-journal reads below the directory through this fd, and leaves
         * closing it to us. */
        safe_close(r->dir_fd);
        free(r);
        return NULL;
}

int journal_reader_open(int pod_fd, char *const *units, JournalReader **ret) {
        _cleanup_(journal_reader_freep) JournalReader *r = calloc(1, sizeof(*r));
        int k;

        if (!r)
                return -ENOMEM;
        r->dir_fd = -1;
        r->until = UINT64_MAX;
        r->dir_fd = fd_open_in_root(pod_fd, JOURNAL_POD_DIR, O_RDONLY | O_DIRECTORY, 0, true);
        if (r->dir_fd < 0)
                return r->dir_fd == -ELOOP || r->dir_fd == -ENOTDIR ? -ENOENT : r->dir_fd;
        k = sd_journal_open_directory_fd(&r->journal, r->dir_fd, 0);
        if (k < 0)
                return k;
        STRV_FOREACH(u, units) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "_SYSTEMD_UNIT=%s", *u) < 0)
                        return -ENOMEM;
                /* Matches of one field are alternatives. */
                k = sd_journal_add_match(r->journal, m, 0);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

int journal_reader_seek(JournalReader *r, uint64_t since, uint64_t until, uint64_t lines) {
        int k;

        r->since = since;
        r->until = until;
        r->positioned = r->done = false;
        if (lines == UINT64_MAX)
                return since > 0 ? sd_journal_seek_realtime_usec(r->journal, since) : sd_journal_seek_head(r->journal);
        /* The last `lines` entries up to `until`: from there, back. */
        k = until != UINT64_MAX ? sd_journal_seek_realtime_usec(r->journal, until + 1) : sd_journal_seek_tail(r->journal);
        if (k < 0)
                return k;
        if (lines == 0) {
                /* Only what comes: on the last entry, so the next one is new. */
                k = sd_journal_previous(r->journal);
                return k < 0 ? k : 0;
        }
        k = sd_journal_previous_skip(r->journal, lines);
        if (k < 0)
                return k;
        r->positioned = k > 0;
        return 0;
}

int journal_reader_next(JournalReader *r) {
        for (;;) {
                uint64_t t;
                int k;

                if (r->done)
                        return 0;
                if (r->positioned) {
                        r->positioned = false;
                        k = 1;
                } else
                        k = sd_journal_next(r->journal);
                if (k <= 0)
                        return k;
                k = sd_journal_get_realtime_usec(r->journal, &t);
                if (k < 0)
                        return k;
                if (t < r->since)
                        continue;
                if (t > r->until) {
                        r->done = true;
                        return 0;
                }
                return 1;
        }
}

int journal_reader_wait(JournalReader *r, uint64_t timeout_usec) {
        int k = sd_journal_wait(r->journal, timeout_usec);

        return k == -EINTR ? 0 : k;
}
