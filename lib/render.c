/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "escape.h"
#include "isolator.h"
#include "names.h"
#include "journal.h"
#include "render.h"
#include "strv.h"

/* Units generated for every pod; an app whose unit name would collide with
 * one of these (or with another app's units) is refused. */
#define UNIT_DEFAULT "default.target"
#define UNIT_SHUTDOWN "shutdown.service"
#define UNIT_POD_EXIT "pod-exit.service"
#define UNIT_HALT "halt.target"
#define UNIT_EXIT "exit.target"
#define UNIT_POWEROFF "poweroff.target"
#define UNIT_PREPARE_TEMPLATE "prepare-app@.service"
#define UNIT_JOURNALD_SOCKET "systemd-journald.socket"

#define APP_ROOT_FMT "/opt/stage2/%s/rootfs"
#define UNIT_NAME_MAX 255

/* systemd-nspawn 252 keeps these in the container's bounding set by default
 * (src/nspawn/nspawn.c, arg_caps_retain). Apps needing anything else get it
 * added with one --capability= for the whole pod. */
static const char *const nspawn_default_caps[] = {
        "CAP_AUDIT_CONTROL", "CAP_AUDIT_WRITE", "CAP_CHOWN",        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH", "CAP_FOWNER",    "CAP_FSETID",       "CAP_IPC_OWNER",
        "CAP_KILL",          "CAP_LEASE",       "CAP_LINUX_IMMUTABLE", "CAP_MKNOD",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_RAW",  "CAP_SETFCAP",
        "CAP_SETGID",        "CAP_SETPCAP",     "CAP_SETUID",       "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",      "CAP_SYS_CHROOT",  "CAP_SYS_NICE",     "CAP_SYS_PTRACE",
        "CAP_SYS_RESOURCE",  "CAP_SYS_TTY_CONFIG",
};

typedef struct RenderContext {
        const Pod *pod;
        const RenderOptions *opts;
        NpError *err;
        FileSet *files;
        char **argv_binds; /* --bind=… per app, in app order (RenderOptions.nspawn_binds) */
        RenderMount *mounts; /* every app's volume mounts, in app order */
        size_t n_mounts;
        char **extra_caps; /* capabilities beyond nspawn's default set */
        char **warnings;
        CgroupLimits *app_limits; /* per app, in pod order */
        char *lowers_oom_score;   /* RenderResult.lowers_oom_score */
        char *default_syscalls; /* the shared default allow list, joined once per pod */
        uint32_t *uids, *gids;  /* every user and group the apps run with, for etc/passwd and etc/group */
        uint32_t *uid_gids;     /* the primary gid that came with each of uids[] */
        size_t n_uids, n_gids, n_uid_gids;
        char *pod_dir;
        char *machine;
        char uuid[37];
        bool pod_memory_limited;  /* the pod has a memory limit of its own */
} RenderContext;

static void render_mounts_free(RenderMount *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].app);
                free(m[i].volume);
                free(m[i].target);
                free(m[i].path);
                free(m[i].source);
        }
        free(m);
}

static void limits_from_settings(const IsolatorSettings *iso, CgroupLimits *ret) {
        *ret = (CgroupLimits){
                .has_memory = iso->has_memory_max,
                .memory = iso->memory_max,
                .has_cpu_quota = iso->has_cpu_quota,
                .cpu_milli = iso->cpu_quota_milli,
                .has_cpu_shares = iso->has_cpu_weight,
                .cpu_shares = iso->cpu_shares,
                .cpu_weight = iso->cpu_weight,
        };
}

RenderResult *render_result_free(RenderResult *r) {
        if (!r)
                return NULL;
        fileset_free(r->files);
        render_mounts_free(r->mounts, r->n_mounts);
        strv_free(r->nspawn_argv);
        free(r->netns_join);
        strv_free(r->nspawn_env);
        strv_free(r->warnings);
        free(r->app_limits);
        free(r->lowers_oom_score);
        free(r);
        return NULL;
}

bool render_hostname_is_valid(const char *s) {
        size_t n = strlen(s);

        /* Kernel limit 64, and what systemd's hostname_is_valid() accepts. */
        if (n == 0 || n > 63 || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || (*p == '.' && p[1] != '.')))
                        return false;
        return true;
}

int render_machine_name(const char *prefix, const uint8_t uuid[16], char **ret) {
        char buf[37];
        char *s;

        if (asprintf(&s, "%s-%s", prefix ? prefix : "nspawn-pod", uuid_format(uuid, buf)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int fail_escape(RenderContext *c, const char *path, const char *what, const char *reason) {
        return error_set(c->err, -EINVAL, path, "%s cannot be written safely into a unit file: %s", what,
                         reason ? reason : "unrepresentable");
}

static int add_value(RenderContext *c, Unit *u, const char *section, const char *key, const char *raw,
                     const char *path) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        const char *reason = NULL;
        int r;

        r = escape_unit_value(&b, raw, &reason);
        if (r < 0)
                return fail_escape(c, path, key, reason);
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        return unit_add(u, section, key, b.data);
}

static int add_exec(RenderContext *c, Unit *u, const char *key, char *const *argv, const char *path) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        const char *reason = NULL;
        int r;

        r = escape_exec_line(&b, argv, &reason);
        if (r < 0)
                return fail_escape(c, path, key, reason);
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        return unit_add(u, "Service", key, b.data);
}

/* A space-separated list of path words, each with an optional "-" (ignore if
 * missing) put in front inside the quotes' reach: systemd reads "-" before the
 * quoted word. */
static int add_path_list(RenderContext *c, Unit *u, const char *key, const char *const *paths, size_t n,
                         bool ignore_missing, const char *path) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        const char *reason = NULL;
        int r;

        /* Every list goes to an app unit, whose paths are the app's: the '+'
         * prefix makes systemd take them relative to RootDirectory=. Without
         * it systemd 252 reads them as paths of the stage1 root and, since
         * they are outside RootDirectory=, silently drops them: not applied,
         * not even refused when missing (verified by booting a pod,
         * tests/integration/test-escape-roundtrip.sh). systemd strips '-'
         * before '+', so that is the order. */
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strbuf_putc(&b, ' ');
                if (ignore_missing)
                        strbuf_putc(&b, '-');
                strbuf_putc(&b, '+');
                r = escape_path_word(&b, paths[i], &reason);
                if (r < 0)
                        return fail_escape(c, path, key, reason);
        }
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        return unit_add(u, "Service", key, b.data);
}

static int unit_name_for_path(const char *prefix, const char *path, const char *suffix, char **ret) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        int r;

        strbuf_append(&b, prefix);
        r = escape_unit_name_path(&b, path, NULL);
        if (r < 0)
                return r;
        strbuf_append(&b, suffix);
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        *ret = strbuf_steal(&b, NULL);
        return *ret ? 0 : -ENOMEM;
}

/* Lexical clean-up of a manifest path as seen from the app root: made
 * absolute, "." and empty components dropped, ".." clamped at the root (it
 * cannot climb out). Symlinks are resolved later, on file descriptors inside
 * the real app root, by the run entrypoint. */
static char *path_clean_in_root(const char *p) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = strdup(p);
        char *save = NULL, *tok;
        size_t n = 0;

        if (!copy)
                return NULL;
        for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (strcmp(tok, ".") == 0)
                        continue;
                if (strcmp(tok, "..") == 0) {
                        if (n > 0) {
                                n--;
                                free(parts[n]);
                                parts[n] = NULL;
                        }
                        continue;
                }
                if (strv_extend(&parts, tok) < 0)
                        return NULL;
                n++;
        }
        if (n == 0)
                return strdup("/");
        {
                _cleanup_free_ char *j = strv_join(parts, "/");
                char *r;

                if (!j || asprintf(&r, "/%s", j) < 0)
                        return NULL;
                return r;
        }
}

static int parse_id(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (strcmp(s, "root") == 0) {
                *ret = 0;
                return 0;
        }
        if (s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* The RuntimeApp's own app section wins as a whole (appc: no field merge). */
static const App *effective_app(const RuntimeApp *ra, const Image *img) {
        if (ra->app)
                return ra->app;
        return img ? img->app : NULL;
}

static const char *image_name(const RuntimeApp *ra, const Image *img) {
        if (ra->image.name)
                return ra->image.name;
        if (img && img->name)
                return img->name;
        return ra->image.id;
}

static bool image_has_annotation(const Image *img, const char *name, const char *value) {
        const NameValue *nv;

        if (!img)
                return false;
        nv = name_value_find(img->annotations, img->n_annotations, name);
        return nv && (!value || strcmp(nv->value, value) == 0);
}


/* One mount of `v` (NULL: an implicit empty volume named `implicit`) at
 * `path`, appended to c->mounts. */
static int add_mount(RenderContext *c, const RuntimeApp *ra, const Volume *v, const char *implicit, const char *path,
                     bool read_only, bool copy_up) {
        RenderMount *m, *n;

        n = reallocarray(c->mounts, c->n_mounts + 1, sizeof(RenderMount));
        if (!n)
                return -ENOMEM;
        c->mounts = n;
        m = &c->mounts[c->n_mounts];
        *m = (RenderMount) {
                .app = strdup(ra->name),
                .volume = strdup(v ? v->name : implicit),
                .target = path_clean_in_root(path),
                .path = strdup(path),
                .read_only = read_only,
                .recursive = !v || v->recursive != 0,
                .empty = !v || v->kind == VOLUME_EMPTY,
                .mode = v ? v->mode : 0755,
                .uid = v ? v->uid : 0,
                .gid = v ? v->gid : 0,
                .copy_up = copy_up,
        };
        c->n_mounts++;
        if (!m->app || !m->volume || !m->target || !m->path)
                return -ENOMEM;
        if (strcmp(m->target, "/") == 0)
                return error_set(c->err, -EINVAL, NULL,
                                 "app \"%s\", volume \"%s\": target \"%s\" is the app's root; a volume cannot "
                                 "replace the root",
                                 ra->name, m->volume, path);
        if (!m->empty) {
                m->source = strdup(v->source);
                if (!m->source)
                        return -ENOMEM;
                m->device = strv_contains(c->opts->device_sources, v->source);
        }
        return 0;
}

static bool implicit_name_taken(const RenderContext *c, const char *name) {
        if (pod_find_volume(c->pod, name))
                return true;
        for (size_t i = 0; i < c->pod->n_apps; i++)
                for (size_t j = 0; j < c->pod->apps[i].n_mounts; j++)
                        if (c->pod->apps[i].mounts[j].app_volume &&
                            strcmp(c->pod->apps[i].mounts[j].app_volume->name, name) == 0)
                                return true;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (strcmp(c->mounts[i].volume, name) == 0 && c->mounts[i].empty)
                        return true;
        return false;
}

static size_t path_depth(const char *p) {
        size_t n = 0;

        for (; *p; p++)
                n += *p == '/' && p[1] && p[1] != '/';
        return n;
}

/* The app's mounts (docs/volumes.md): its explicit mounts in order, then each
 * mount point no explicit mount covers, from the pod volume of its name or an
 * implicit empty volume. Appended to c->mounts; *ret_first is where they
 * start. */
static int collect_mounts(RenderContext *c, size_t idx, const App *app, const Image *img, size_t *ret_first) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        /* rkt's test for an image converted from Docker (docker2aci sets it). */
        bool docker = image_has_annotation(img, "appc.io/docker/repository", NULL);
        int r;

        *ret_first = c->n_mounts;
        for (size_t i = 0; i < ra->n_mounts; i++) {
                const Mount *mnt = &ra->mounts[i];
                const Volume *v = mnt->app_volume ? mnt->app_volume : pod_find_volume(c->pod, mnt->volume);
                const MountPoint *mp = NULL;

                if (!v)
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu].mounts[%zu].volume: no volume named \"%s\" in $.volumes", idx, i,
                                         mnt->volume);
                for (size_t j = 0; j < app->n_mount_points; j++)
                        if (strcmp(app->mount_points[j].name, mnt->volume) == 0)
                                mp = &app->mount_points[j];
                r = add_mount(c, ra, v, NULL, mnt->path, v->read_only >= 0 ? v->read_only : (mp && mp->read_only),
                              false);
                if (r < 0)
                        return r;
        }

        for (size_t j = 0; j < app->n_mount_points; j++) {
                const MountPoint *mp = &app->mount_points[j];
                _cleanup_free_ char *implicit = NULL;
                const Volume *v;
                bool covered = false;

                /* appc: a mountPoint is satisfied by an explicit mount of the same path. */
                for (size_t i = 0; i < ra->n_mounts; i++)
                        if (strcmp(ra->mounts[i].path, mp->path) == 0)
                                covered = true;
                if (covered)
                        continue;

                v = pod_find_volume(c->pod, mp->name);
                if (v) {
                        r = add_mount(c, ra, v, NULL, mp->path, v->read_only >= 0 ? v->read_only : mp->read_only,
                                      false);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* No volume for this mount point: an implicit, private empty
                 * volume, as rkt did; say so, since data written there dies
                 * with the pod. */
                if (asprintf(&implicit, "%s-%s", ra->name, mp->name) < 0)
                        return -ENOMEM;
                /* Its directory is sharedVolumes/<name>: a name of another
                 * volume would share it. */
                if (implicit_name_taken(c, implicit))
                        return error_set(c->err, -EINVAL, NULL,
                                         "app \"%s\": mount point \"%s\" needs an implicit volume \"%s\", but "
                                         "another volume has that name; give the mount point a volume",
                                         ra->name, mp->name, implicit);
                r = add_mount(c, ra, NULL, implicit, mp->path, mp->read_only, docker);
                if (r < 0)
                        return r;
                if (strv_extendf(&c->warnings,
                                 "app \"%s\": mount point \"%s\" (%s) has no volume; using an empty volume \"%s\" "
                                 "that lives as long as the pod%s",
                                 ra->name, mp->name, mp->path, implicit,
                                 docker ? ", filled from the image's content there" : "") < 0)
                        return -ENOMEM;
        }
        /* Outer targets first, so that a volume inside another stays
         * visible (an image's /var/lib/app mount point and a --mount at
         * /var/lib/app/cache); a stable insertion sort keeps the given order
         * otherwise. */
        for (size_t i = *ret_first + 1; i < c->n_mounts; i++) {
                RenderMount t = c->mounts[i];
                size_t k = i, d = path_depth(t.target);

                while (k > *ret_first && path_depth(c->mounts[k - 1].target) > d) {
                        c->mounts[k] = c->mounts[k - 1];
                        k--;
                }
                c->mounts[k] = t;
        }
        /* The same target twice in one app: the second mount would hide the
         * first, which is never what was meant. */
        for (size_t i = *ret_first; i < c->n_mounts; i++)
                for (size_t k = *ret_first; k < i; k++)
                        if (strcmp(c->mounts[i].target, c->mounts[k].target) == 0)
                                return error_set(c->err, -EINVAL, NULL,
                                                 "app \"%s\": volumes \"%s\" and \"%s\" are both mounted at %s",
                                                 ra->name, c->mounts[k].volume, c->mounts[i].volume,
                                                 c->mounts[i].target);
        return 0;
}

static int render_env_file(RenderContext *c, size_t idx, const App *app, uint32_t uid) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        _cleanup_free_ NameValue *env = NULL;
        _cleanup_free_ char *path = NULL;
        const char *reason = NULL;
        size_t n = 0;
        int r;

        /* Defaults for names the app does not set, then the app's own
         * variables, then AC_APP_NAME (appc: set by the executor, wins). */
        static const NameValue root_defaults[] = {
                { (char *) "HOME", (char *) "/root" },
                { (char *) "LOGNAME", (char *) "root" },
                { (char *) "PATH", (char *) "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
                { (char *) "SHELL", (char *) "/bin/sh" },
                { (char *) "USER", (char *) "root" },
        };
        /* A non-root app gets no USER/LOGNAME of root's (rkt's quirk); its name
         * is not known without the image's passwd file. */
        static const NameValue user_defaults[] = {
                { (char *) "HOME", (char *) "/" },
                { (char *) "PATH", (char *) "/usr/local/bin:/usr/bin:/bin" },
                { (char *) "SHELL", (char *) "/bin/sh" },
        };
        const NameValue *defaults = uid == 0 ? root_defaults : user_defaults;
        size_t n_defaults = uid == 0 ? ELEMENTSOF(root_defaults) : ELEMENTSOF(user_defaults);

        env = calloc(app->n_environment + n_defaults + 1, sizeof(NameValue));
        if (!env)
                return -ENOMEM;

        for (size_t i = 0; i < app->n_environment; i++) {
                const NameValue *e = &app->environment[i];

                if (!env_name_is_systemd_safe(e->name))
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu]: environment variable \"%s\": systemd passes only "
                                         "names made of letters, digits and '_' (not starting with a "
                                         "digit); it would silently drop this one",
                                         idx, e->name);
                if (strcmp(e->name, "AC_APP_NAME") == 0)
                        continue;
                env[n++] = *e;
        }
        for (size_t i = 0; i < n_defaults; i++)
                if (!name_value_find(app->environment, app->n_environment, defaults[i].name))
                        env[n++] = defaults[i];
        env[n++] = (NameValue){ (char *) "AC_APP_NAME", ra->name };

        /* Order carries no meaning in an environment; sort for stable output. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(env[j - 1].name, env[j].name) > 0; j--) {
                        NameValue t = env[j];
                        env[j] = env[j - 1];
                        env[j - 1] = t;
                }

        strbuf_append(&b, UNIT_HEADER "\n");
        for (size_t i = 0; i < n; i++) {
                r = escape_env_file_line(&b, env[i].name, env[i].value, &reason);
                if (r < 0)
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu]: environment variable \"%s\" cannot be written to "
                                         "an environment file: %s",
                                         idx, env[i].name, reason ? reason : "unrepresentable");
        }
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        if (asprintf(&path, STAGE1_ENV_DIR "/%s", ra->name) < 0)
                return -ENOMEM;
        return fileset_add_file(c->files, path, 0640, b.data, b.len);
}

static int append_id(uint32_t **l, size_t *n, uint32_t id) {
        uint32_t *m = reallocarray(*l, *n + 1, sizeof(uint32_t));

        if (!m)
                return -ENOMEM;
        m[(*n)++] = id;
        *l = m;
        return 0;
}

/* Appends `id` unless present. Linear, but a pod has few distinct ids. */
static int add_id(uint32_t **l, size_t *n, uint32_t id) {
        uint32_t *m;

        for (size_t i = 0; i < *n; i++)
                if ((*l)[i] == id)
                        return 0;
        m = reallocarray(*l, *n + 1, sizeof(uint32_t));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = id;
        *l = m;
        return 0;
}

/* The pod's systemd resolves numeric User=, Group= and SupplementaryGroups=
 * through its own /etc/passwd and /etc/group (systemd 252 refuses to start
 * the app, 217/USER or 216/GROUP, when an id has no entry), so every id an
 * app runs with gets one. The passwd entry records the uid's first primary gid. */
static int note_ids(RenderContext *c, const App *app, uint32_t uid, uint32_t gid) {
        size_t before = c->n_uids;
        int r;

        if ((r = add_id(&c->uids, &c->n_uids, uid)) < 0 || (r = add_id(&c->gids, &c->n_gids, gid)) < 0)
                return r;
        /* Parallel to uids[]: one entry per new uid, duplicates and all. */
        if (c->n_uids > before && (r = append_id(&c->uid_gids, &c->n_uid_gids, gid)) < 0)
                return r;
        for (size_t i = 0; i < app->n_supplementary_gids; i++)
                if ((r = add_id(&c->gids, &c->n_gids, app->supplementary_gids[i])) < 0)
                        return r;
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

/* Names are derived from the numbers ("gen<id>", as rkt's sysusers lines
 * had them), never taken from a manifest, so nothing needs escaping. No
 * group lists members: supplementary groups come from SupplementaryGroups=
 * only, not from what an initgroups() would find here. */
static int render_passwd_group(RenderContext *c) {
        _cleanup_strbuf_ StrBuf pw = STRBUF_INIT, gr = STRBUF_INIT;
        _cleanup_free_ uint32_t *gids = NULL;
        int r;

        strbuf_append(&pw, "root:x:0:0:root:/root:/bin/sh\n");
        for (size_t i = 0; i < c->n_uids; i++)
                if (c->uids[i] != 0)
                        strbuf_printf(&pw, "gen%" PRIu32 ":x:%" PRIu32 ":%" PRIu32 ":gen%" PRIu32 ":/:/usr/sbin/nologin\n",
                                      c->uids[i], c->uids[i], c->uid_gids[i], c->uids[i]);
        gids = malloc(sizeof(uint32_t) * (c->n_gids + 1));
        if (!gids)
                return -ENOMEM;
        if (c->n_gids > 0)
                memcpy(gids, c->gids, sizeof(uint32_t) * c->n_gids);
        qsort(gids, c->n_gids, sizeof(uint32_t), cmp_u32);
        strbuf_append(&gr, "root:x:0:\n");
        for (size_t i = 0; i < c->n_gids; i++)
                if (gids[i] != 0)
                        strbuf_printf(&gr, "gen%" PRIu32 ":x:%" PRIu32 ":\n", gids[i], gids[i]);
        if (strbuf_error(&pw) < 0 || strbuf_error(&gr) < 0)
                return -ENOMEM;
        if ((r = fileset_add_file(c->files, STAGE1_PASSWD, 0644, pw.data, pw.len)) < 0 ||
            (r = fileset_add_file(c->files, STAGE1_GROUP, 0644, gr.data, gr.len)) < 0)
                return r;
        return 0;
}

static int add_unit(RenderContext *c, const Unit *u, const char *who) {
        int r = fileset_add_unit(c->files, STAGE1_UNIT_DIR, u);

        if (r == -EEXIST || r == -EINVAL)
                return error_set(c->err, -EINVAL, NULL,
                                 "%s: unit name \"%s\" collides with another unit of the pod", who,
                                 u->name);
        return r;
}

/* A listening socket the host hands the pod (LISTEN_FDS, through nspawn)
 * goes to the socket unit whose address it has, but only to one loaded when
 * the pod's systemd starts, before any job (systemd 252: manager_startup()
 * offers the passed descriptors to the loaded units, then closes the rest).
 * The root mount's unit is loaded then, from the mount table, with its
 * drop-ins: an ordering on the socket unit there loads that too. -.mount is
 * active from the start, so the ordering itself does nothing. */
static int render_socket_early_load(RenderContext *c, const char *socket) {
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        if (asprintf(&name, "50-%s.conf", socket) < 0)
                return -ENOMEM;
        u = unit_new(name);
        if (!u)
                return -ENOMEM;
        r = unit_add(u, "Unit", "Before", socket);
        if (r < 0)
                return r;
        return fileset_add_unit(c->files, STAGE1_UNIT_DIR "/-.mount.d", u);
}

static int render_socket(RenderContext *c, size_t idx, const App *app, const char *img) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *name = NULL, *desc = NULL, *service = NULL, *who = NULL;
        bool any = false;
        int r;

        for (size_t i = 0; i < app->n_ports; i++)
                any = any || app->ports[i].socket_activated;
        if (!any)
                return 0;

        if (asprintf(&name, "%s.socket", ra->name) < 0 || asprintf(&service, "%s.service", ra->name) < 0 ||
            asprintf(&desc, "Application=%s Image=%s socket-activated ports", ra->name, img) < 0)
                return -ENOMEM;
        u = unit_new(name);
        if (!u)
                return -ENOMEM;
        r = add_value(c, u, "Unit", "Description", desc, "$.apps");
        if (r < 0)
                return r;
        r = unit_add(u, "Unit", "DefaultDependencies", "no");
        if (r < 0)
                return r;
        r = unit_add(u, "Socket", "BindIPv6Only", "both");
        if (r < 0)
                return r;
        r = unit_add(u, "Socket", "Service", service);
        if (r < 0)
                return r;
        for (size_t i = 0; i < app->n_ports; i++) {
                const Port *p = &app->ports[i];
                uint32_t port = p->port;

                if (!p->socket_activated)
                        continue;
                /* The listening socket is made on the host side and handed down, so
                 * the port systemd matches it by is the pod's host port. */
                for (size_t j = 0; j < c->pod->n_ports; j++)
                        if (strcmp(c->pod->ports[j].name, p->name) == 0)
                                port = c->pod->ports[j].host_port;
                if (p->count > 1)
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu]: port \"%s\" is socket-activated with count %" PRIu32
                                         "; socket activation takes single ports only",
                                         idx, p->name, p->count);
                if (strcmp(p->protocol, "tcp") == 0)
                        r = unit_addf(u, "Socket", "ListenStream", "%" PRIu32, port);
                else if (strcmp(p->protocol, "udp") == 0)
                        r = unit_addf(u, "Socket", "ListenDatagram", "%" PRIu32, port);
                else
                        r = error_set(c->err, -EINVAL, NULL,
                                      "$.apps[%zu]: port \"%s\": protocol must be \"tcp\" or \"udp\"", idx,
                                      p->name);
                if (r < 0)
                        return r;
        }
        if (asprintf(&who, "$.apps[%zu]", idx) < 0)
                return -ENOMEM;
        r = add_unit(c, u, who);
        if (r < 0)
                return r;
        return render_socket_early_load(c, name);
}

static int render_reaper(RenderContext *c, size_t idx) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *name = NULL, *desc = NULL, *who = NULL, *app = NULL;
        char *argv[] = { (char *) STAGE1_REAPER, ra->name, NULL };
        int r;

        if (asprintf(&name, "reaper-%s.service", ra->name) < 0 ||
            asprintf(&desc, "Record how app %s ended", ra->name) < 0 || asprintf(&who, "$.apps[%zu]", idx) < 0 ||
            asprintf(&app, "%s.service", ra->name) < 0)
                return -ENOMEM;
        u = unit_new(name);
        if (!u)
                return -ENOMEM;

        /* The reaper is active for as long as its app is wanted; when the app
         * ends it is no longer needed, stops, and its ExecStop records the
         * status. Any shutdown request conflicts with every reaper, so all
         * statuses get recorded. shutdown.service stays up while a reaper
         * wants it and ends the pod when the last one is gone. */
        if ((r = add_value(c, u, "Unit", "Description", desc, who)) < 0 ||
            (r = unit_add(u, "Unit", "DefaultDependencies", "no")) < 0 ||
            (r = unit_add(u, "Unit", "StopWhenUnneeded", "yes")) < 0 ||
            (r = unit_add(u, "Unit", "Wants", UNIT_SHUTDOWN)) < 0 ||
            (r = unit_add(u, "Unit", "After", UNIT_SHUTDOWN)) < 0 ||
            (r = unit_add(u, "Unit", "Before", UNIT_HALT)) < 0 ||
            /* Stop order is the reverse: a shutdown stops the app first,
             * so the reaper reads how it ended, not that it was running. */
            (r = unit_add(u, "Unit", "Before", app)) < 0 ||
            (r = unit_add(u, "Unit", "Conflicts", UNIT_EXIT " " UNIT_HALT " " UNIT_POWEROFF)) < 0 ||
            /* units/pod-exit.service ends the pod once every reaper has stopped. */
            (r = unit_add(u, "Unit", "Before", UNIT_POD_EXIT)) < 0 ||
            (r = unit_add(u, "Service", "Type", "oneshot")) < 0 ||
            (r = unit_add(u, "Service", "RemainAfterExit", "yes")) < 0 ||
            (r = add_exec(c, u, "ExecStop", argv, who)) < 0)
                return r;
        return add_unit(c, u, who);
}

/* What app-stdio does before it becomes the app (flavors/host/app-stdio.c),
 * which the app's seccomp filter must let it do. execve and exit_group the
 * app needs anyway. */
static const char *const app_stdio_syscalls[] = { "socket", "connect", "dup3", "write", "close" };
/* systemd's groups that hold them (systemd 252 "@basic-io", "@network-io");
 * other groups may too, but are not counted on. */
static const struct {
        const char *syscall, *group;
} app_stdio_groups[] = {
        { "socket", "@network-io" }, { "connect", "@network-io" }, { "dup3", "@basic-io" },
        { "write", "@basic-io" },    { "close", "@basic-io" },   { "openat", "@file-system" },
};

/* What app-stdio does to join the app's v1 cgroups (lib/cgroup-limits.h). */
static const char *const app_join_syscalls[] = { "openat", "write", "close" };
/* And what app-stdio -a needs (a Landlock domain: docs/security.md, "Apps of
 * one pod"); an allow list gets the landlock calls added, which can only
 * take rights away from whoever makes them. */
static const char *const app_apart_syscalls[] = { "prctl", "openat", "close" };
static const char *const landlock_syscalls[] = { "landlock_add_rule", "landlock_create_ruleset",
                                                 "landlock_restrict_self" };
/* The same, as one filter word list (SystemCallFilter=, nspawn's --system-call-filter=). */
#define LANDLOCK_SYSCALLS "landlock_add_rule landlock_create_ruleset landlock_restrict_self"

static bool syscall_listed(char *const *list, const char *name) {
        if (strv_contains(list, name))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(app_stdio_groups); i++)
                if (strcmp(app_stdio_groups[i].syscall, name) == 0 && strv_contains(list, app_stdio_groups[i].group))
                        return true;
        return false;
}

/* The app's stdin, stdout and stderr as systemd settings, from rkt's I/O
 * modes (its runtime app's coreos.com/rkt/stage2/{stdin,stdout,stderr}
 * annotations, which `run --stdin=…` writes too): "null"; "log" (the
 * default for output: the pod's journal and console); "interactive" (what
 * rkt's stage0 writes for --interactive: the console). "tty" and "stream" are
 * rkt's attachable modes, which need its ttymux/iomux services and `rkt
 * attach`: refused, not dropped. */
static int stdio_modes(RenderContext *c, size_t idx, const char *ret[3]) {
        static const char *const names[] = { "stdin", "stdout", "stderr" };
        const RuntimeApp *ra = &c->pod->apps[idx];

        for (size_t k = 0; k < 3; k++) {
                _cleanup_free_ char *key = NULL;
                const NameValue *a;

                if (asprintf(&key, STDIO_ANNOTATION_PREFIX "%s", names[k]) < 0)
                        return -ENOMEM;
                a = name_value_find(ra->annotations, ra->n_annotations, key);
                ret[k] = k == 0 ? "null" : "journal+console";
                if (!a || strcmp(a->value, k == 0 ? "null" : "log") == 0)
                        continue;
                if (strcmp(a->value, "null") == 0)
                        ret[k] = "null";
                else if (strcmp(a->value, "interactive") == 0)
                        ret[k] = "tty";
                else if (strcmp(a->value, "tty") == 0 || strcmp(a->value, "stream") == 0)
                        return error_set(c->err, -EOPNOTSUPP, NULL,
                                         "$.apps[%zu]: %s \"%s\" (annotation %s) is rkt's attachable I/O, which needs "
                                         "rkt attach; this stage1 does not provide it: use --interactive for a "
                                         "terminal, or null or log",
                                         idx, names[k], a->value, key);
                else
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu]: %s \"%s\" (annotation %s): must be null, %sinteractive, tty or "
                                         "stream",
                                         idx, names[k], a->value, key, k == 0 ? "" : "log, ");
        }
        return 0;
}

/* Whether the app's filter lets app-stdio do each of `calls` (or makes it
 * fail with an errno rather than killing). */
static bool filter_allows(const RenderContext *c, const IsolatorSettings *iso, const char *const *calls, size_t n) {
        bool ok = true;

        if (c->opts->disable_seccomp || iso->syscall_errno)
                return true;
        if (iso->seccomp_mode == SECCOMP_MODE_ALLOW)
                for (size_t i = 0; i < n; i++)
                        ok = ok && syscall_listed(iso->syscalls, calls[i]);
        else if (iso->seccomp_mode == SECCOMP_MODE_DENY) {
                for (size_t i = 0; i < n; i++)
                        ok = ok && !syscall_listed(iso->syscalls, calls[i]);
                STRV_FOREACH(s, iso->syscalls)
                        ok = ok && (*s)[0] != '@'; /* a group we cannot see into */
        }
        return ok;
}

/* Whether the app's output goes through app-stdio, so that its stdout and
 * stderr are two journal streams (docs/logs.md). Not for an interactive pod
 * (the console is the app's), nor when a volume is the app's /dev (where
 * prepare-app binds it), nor under an app's own SELinux context or AppArmor
 * profile, nor when the seccomp filter may kill it for what it does: then
 * both streams are one, as systemd makes them, and render says so. */
static int use_app_stdio(RenderContext *c, const RuntimeApp *ra, const IsolatorSettings *iso,
                         const RenderMount *mounts, size_t n_mounts, bool *ret) {
        *ret = false;
        if (c->opts->interactive)
                return 0;
        /* An SELinux domain or AppArmor profile of the app's would have to
         * allow app-stdio too (its socket, its exec of the app): not
         * assumed. */
        if (iso->selinux_context || iso->apparmor_profile) {
                if (strv_extendf(&c->warnings,
                                 "app \"%s\": with an SELinux context or AppArmor profile its stdout and stderr go "
                                 "to one journal stream, its stderr lines logged as its stdout's",
                                 ra->name) < 0)
                        return -ENOMEM;
                return 0;
        }
        for (size_t i = 0; i < n_mounts; i++)
                if (strcmp(mounts[i].target, "/dev") == 0)
                        return 0;
        /* A filter that makes refused calls fail with an errno instead of
         * killing: app-stdio then keeps what systemd gave the app. */
        if (!filter_allows(c, iso, app_stdio_syscalls, ELEMENTSOF(app_stdio_syscalls))) {
                if (strv_extendf(&c->warnings,
                                 "app \"%s\": its seccomp filter may block socket, connect, dup3, write or "
                                 "close, which give its stdout and stderr a journal stream each: both go to "
                                 "one stream, its stderr lines logged as its stdout's",
                                 ra->name) < 0)
                        return -ENOMEM;
                return 0;
        }
        *ret = true;
        return 0;
}

/* The v1 cgroups app-stdio must join for the app (a CGROUP_CTRL_MASK), or a
 * refusal where it could not be there to do it: a limit is never dropped. */
static int app_joins(RenderContext *c, size_t idx, const IsolatorSettings *iso, const RenderMount *mounts,
                     size_t n_mounts, unsigned *ret) {
        unsigned join = cgroup_limits_own_mask(&c->app_limits[idx]) & c->opts->cgroup_v1_mask;

        *ret = join;
        if (!join)
                return 0;
        for (size_t i = 0; i < n_mounts; i++)
                if (strcmp(mounts[i].target, "/dev") == 0)
                        return error_set(c->err, -EINVAL, NULL,
                                         "$.apps[%zu]: a volume is its /dev, where its resource limits are "
                                         "joined on this host's cgroup v1 controllers (docs/resources.md)",
                                         idx);
        if (!filter_allows(c, iso, app_join_syscalls, ELEMENTSOF(app_join_syscalls)))
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu]: its seccomp filter may kill openat, write or close, which joining "
                                 "its resource limits on this host's cgroup v1 controllers needs "
                                 "(docs/resources.md)",
                                 idx);
        return 0;
}

/* ExecStart=: the app's exec, checked as systemd will read it, behind
 * app-stdio when `stdio` (its two journal streams), `join` (the v1 cgroups
 * it joins first: "+memory", "+cpu"; "-n" without the streams) or `apart`
 * ("-a": a Landlock domain of its own). */
static int add_app_exec(RenderContext *c, Unit *u, const RuntimeApp *ra, char *const *exec, bool stdio,
                        unsigned join, bool apart, const char *who) {
        _cleanup_free_ char **argv = NULL;
        size_t n = strv_length(exec), k = 0;
        int r;

        if (!stdio && !join && !apart)
                return add_exec(c, u, "ExecStart", exec, who);
        {
                /* The app's own argv0 is checked as systemd would check it
                 * as the executable, also when app-stdio comes first. */
                _cleanup_strbuf_ StrBuf check = STRBUF_INIT;
                const char *reason = NULL;

                r = escape_exec_line(&check, exec, &reason);
                if (r < 0)
                        return fail_escape(c, who, "ExecStart", reason);
        }
        argv = calloc(n + 4 + 1 + _CGROUP_CTRL_MAX, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[k++] = (char *) APP_STDIO_PATH;
        if (apart)
                argv[k++] = (char *) "-a";
        if (!stdio)
                argv[k++] = (char *) "-n";
        for (CgroupController j = 0; j < _CGROUP_CTRL_MAX; j++)
                if (join & CGROUP_CTRL_MASK(j))
                        argv[k++] = (char *) (j == CGROUP_CTRL_MEMORY ? "+memory" : "+cpu");
        argv[k++] = ra->name;
        memcpy(argv + k, exec, n * sizeof(char *));
        return add_exec(c, u, "ExecStart", argv, who);
}

static int render_app_service(RenderContext *c, size_t idx, const App *app, const Image *img,
                              uint32_t uid, uint32_t gid, const IsolatorSettings *iso,
                              const RenderMount *mounts, size_t n_mounts) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *name = NULL, *desc = NULL, *root = NULL, *prepare = NULL, *reaper = NULL,
                            *who = NULL, *envfile = NULL, *socket = NULL;
        bool has_socket = false, stdio, split_output = true, apart;
        unsigned join;
        int r;

        for (size_t i = 0; i < app->n_ports; i++)
                has_socket = has_socket || app->ports[i].socket_activated;

        if (asprintf(&name, "%s.service", ra->name) < 0 ||
            asprintf(&desc, "Application=%s Image=%s", ra->name, image_name(ra, img)) < 0 ||
            asprintf(&root, APP_ROOT_FMT, ra->name) < 0 || asprintf(&reaper, "reaper-%s.service", ra->name) < 0 ||
            asprintf(&who, "$.apps[%zu]", idx) < 0 || asprintf(&envfile, "/" STAGE1_ENV_DIR "/%s", ra->name) < 0 ||
            asprintf(&socket, "%s.socket", ra->name) < 0)
                return -ENOMEM;
        r = unit_name_for_path("prepare-app@", root, ".service", &prepare);
        if (r < 0)
                return r;

        u = unit_new(name);
        if (!u)
                return -ENOMEM;

        if ((r = add_value(c, u, "Unit", "Description", desc, who)) < 0 ||
            (r = unit_add(u, "Unit", "DefaultDependencies", "no")) < 0 ||
            (r = unit_add(u, "Unit", "Wants", reaper)) < 0 ||
            (r = unit_add(u, "Unit", "Requires", prepare)) < 0 ||
            (r = unit_add(u, "Unit", "After", prepare)) < 0 ||
            /* journald is socket-activated: its sockets must exist before the
             * app's stdout is connected to them. */
            (r = unit_add(u, "Unit", "Wants", UNIT_JOURNALD_SOCKET)) < 0 ||
            (r = unit_add(u, "Unit", "After", UNIT_JOURNALD_SOCKET)) < 0 ||
            /* The boot target is reached once every app has started. */
            (r = unit_add(u, "Unit", "Before", UNIT_DEFAULT)) < 0 ||
            /* Any stop request (units/halt.target, …) stops every app. */
            (r = unit_add(u, "Unit", "Conflicts", UNIT_EXIT " " UNIT_HALT " " UNIT_POWEROFF)) < 0)
                return r;
        if (has_socket && ((r = unit_add(u, "Unit", "Requires", socket)) < 0 ||
                           (r = unit_add(u, "Unit", "After", socket)) < 0))
                return r;
        /* A failing app brings the pod down (docs/exit-codes.md). */
        if ((r = unit_add(u, "Unit", "OnFailure", UNIT_HALT)) < 0 ||
            (r = unit_add(u, "Unit", "OnFailureJobMode", "replace-irreversibly")) < 0)
                return r;

        if ((r = unit_add(u, "Service", "Type",
                          image_has_annotation(img, "appc.io/executor/supports-systemd-notify", "true")
                                  ? "notify"
                                  : "exec")) < 0 ||
            (r = unit_add(u, "Service", "Restart", "no")) < 0 ||
            (r = unit_add(u, "Service", "KillMode", "mixed")) < 0 ||
            (r = unit_add(u, "Service", "TimeoutStartSec", "infinity")) < 0 ||
            (r = add_value(c, u, "Service", "SyslogIdentifier", ra->name, who)) < 0)
                return r;
        if (c->opts->interactive) {
                if ((r = unit_add(u, "Service", "StandardInput", "tty")) < 0 ||
                    (r = unit_add(u, "Service", "StandardOutput", "tty")) < 0 ||
                    (r = unit_add(u, "Service", "StandardError", "tty")) < 0)
                        return r;
        } else {
                const char *io[3];

                r = stdio_modes(c, idx, io);
                if (r < 0)
                        return r;
                if ((r = unit_add(u, "Service", "StandardInput", io[0])) < 0 ||
                    (r = unit_add(u, "Service", "StandardOutput", io[1])) < 0 ||
                    (r = unit_add(u, "Service", "StandardError", io[2])) < 0)
                        return r;
                split_output = strcmp(io[1], "journal+console") == 0 && strcmp(io[2], "journal+console") == 0;
        }

        for (size_t i = 0; i < app->n_event_handlers; i++)
                if (strcmp(app->event_handlers[i].name, "pre-start") == 0 &&
                    (r = add_exec(c, u, "ExecStartPre", app->event_handlers[i].exec, who)) < 0)
                        return r;
        r = use_app_stdio(c, ra, iso, mounts, n_mounts, &stdio);
        if (r < 0)
                return r;
        /* Apart from the pod's other apps where app-stdio can run, unless the
         * app may mount (Landlock forbids a domain's processes to change
         * mounts) or trace others anyway: docs/security.md, "Apps of one pod". */
        apart = stdio && !c->opts->disable_capabilities && !strv_contains(iso->capabilities, "CAP_SYS_ADMIN") &&
                !strv_contains(iso->capabilities, "CAP_SYS_PTRACE") &&
                filter_allows(c, iso, app_apart_syscalls, ELEMENTSOF(app_apart_syscalls)) &&
                (iso->seccomp_mode == SECCOMP_MODE_ALLOW ||
                 filter_allows(c, iso, landlock_syscalls, ELEMENTSOF(landlock_syscalls)));
        /* Two journal streams only where both go to the journal. */
        stdio = stdio && split_output;
        if ((r = app_joins(c, idx, iso, mounts, n_mounts, &join)) < 0 ||
            (r = add_app_exec(c, u, ra, app->exec, stdio, join, apart, who)) < 0)
                return r;
        for (size_t i = 0; i < app->n_event_handlers; i++)
                if (strcmp(app->event_handlers[i].name, "post-stop") == 0 &&
                    (r = add_exec(c, u, "ExecStopPost", app->event_handlers[i].exec, who)) < 0)
                        return r;
        /* appc: event handlers run as root in the app's root, whatever user
         * the app itself runs as. */
        if (app->n_event_handlers > 0 && (r = unit_add(u, "Service", "PermissionsStartOnly", "yes")) < 0)
                return r;

        /* A mount namespace of the app's own, but with no mount of systemd's
         * in it (the path protections are prepare-app's): without any
         * namespace systemd 252 looks the executable up in the pod's root
         * before it chroots, and runs the stage1's file of that name (seen
         * in tests/integration/test-escape-roundtrip.sh: 203/EXEC for an
         * exec only the image has, the stage1's binary when both have it). */
        if ((r = add_value(c, u, "Service", "RootDirectory", root, who)) < 0 ||
            (r = unit_add(u, "Service", "PrivateMounts", "yes")) < 0 ||
            (r = add_value(c, u, "Service", "WorkingDirectory",
                           app->working_directory ? app->working_directory : "/", who)) < 0 ||
            (r = add_value(c, u, "Service", "EnvironmentFile", envfile, who)) < 0 ||
            (r = unit_addf(u, "Service", "User", "%" PRIu32, uid)) < 0 ||
            (r = unit_addf(u, "Service", "Group", "%" PRIu32, gid)) < 0)
                return r;
        if (app->n_supplementary_gids > 0) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

                for (size_t i = 0; i < app->n_supplementary_gids; i++)
                        strbuf_printf(&b, "%s%" PRIu32, i > 0 ? " " : "", app->supplementary_gids[i]);
                if (strbuf_error(&b) < 0)
                        return -ENOMEM;
                if ((r = unit_add(u, "Service", "SupplementaryGroups", b.data)) < 0)
                        return r;
        }

        if (!c->opts->disable_capabilities) {
                _cleanup_free_ char *caps = strv_join(iso->capabilities, " ");

                if (!caps)
                        return -ENOMEM;
                /* An empty value here means the empty bounding set. */
                if ((r = unit_add(u, "Service", "CapabilityBoundingSet", caps)) < 0)
                        return r;
        }
        if (!c->opts->disable_seccomp && iso->seccomp_mode != SECCOMP_MODE_NONE) {
                _cleanup_free_ char *own = NULL;
                const char *list;

                if (iso->syscalls_shared) {
                        if (!c->default_syscalls && !(c->default_syscalls = strv_join(iso->syscalls, " ")))
                                return -ENOMEM;
                        list = c->default_syscalls;
                } else if (!(list = own = strv_join(iso->syscalls, " ")))
                        return -ENOMEM;
                if (iso->seccomp_mode == SECCOMP_MODE_DENY)
                        r = unit_addf(u, "Service", "SystemCallFilter", "~%s", list);
                else
                        r = unit_add(u, "Service", "SystemCallFilter", list);
                /* A second allow line adds to the first (systemd.exec(5)). */
                if (r >= 0 && apart && iso->seccomp_mode == SECCOMP_MODE_ALLOW &&
                    !filter_allows(c, iso, landlock_syscalls, ELEMENTSOF(landlock_syscalls)))
                        r = unit_add(u, "Service", "SystemCallFilter", LANDLOCK_SYSCALLS);
                if (r < 0)
                        return r;
                if (iso->syscall_errno && (r = unit_add(u, "Service", "SystemCallErrorNumber", iso->syscall_errno)) < 0)
                        return r;
        }
        if ((r = unit_add(u, "Service", "NoNewPrivileges",
                          yes_no(iso->no_new_privileges ||
                                 (!c->opts->disable_seccomp && iso->seccomp_mode != SECCOMP_MODE_NONE && uid != 0)))) < 0)
                return r;

        if (ra->read_only_root_fs) {
                _cleanup_free_ const char **rw = calloc(n_mounts + 1, sizeof(char *));
                size_t n_rw = 0;
                const char *slash[] = { "/" };

                if (!rw)
                        return -ENOMEM;
                if ((r = add_path_list(c, u, "ReadOnlyPaths", slash, 1, false, who)) < 0)
                        return r;
                for (size_t i = 0; i < n_mounts; i++)
                        if (!mounts[i].read_only)
                                rw[n_rw++] = mounts[i].target;
                if (n_rw > 0 && (r = add_path_list(c, u, "ReadWritePaths", rw, n_rw, false, who)) < 0)
                        return r;
        }

        /* The kernel interfaces below /proc and /sys (docs/helpers.md, "Kernel interfaces")
         * are masked or made read-only by prepare-app, in the pod's mount
         * namespace: as InaccessiblePaths=/ReadOnlyPaths= they made systemd
         * build a mount namespace per app, ~45 ms of every pod start. */
        if (!c->opts->disable_paths) {
                if (/* prepare-app already mounted /proc, /sys and /dev in the app root. */
                    (r = unit_add(u, "Service", "MountAPIVFS", "no")) < 0 ||
                    (r = unit_add(u, "Service", "DevicePolicy", "closed")) < 0)
                        return r;
                /* The app's device volumes, read-only as the volume is. */
                for (size_t i = 0; i < n_mounts; i++)
                        if (mounts[i].device &&
                            (r = unit_addf(u, "Service", "DeviceAllow", POD_DEVICE_LINKS "/%s/%s %s", ra->name,
                                           mounts[i].volume, mounts[i].read_only ? "r" : "rw")) < 0)
                                return r;
        }

        if (iso->has_memory_max && (r = unit_addf(u, "Service", "MemoryMax", "%" PRIu64, iso->memory_max)) < 0)
                return r;
        if (iso->has_cpu_quota &&
            (r = unit_addf(u, "Service", "CPUQuota", "%" PRIu64 ".%" PRIu64 "%%", iso->cpu_quota_milli / 10,
                           iso->cpu_quota_milli % 10)) < 0)
                return r;
        if (iso->has_cpu_weight && (r = unit_addf(u, "Service", "CPUWeight", "%" PRIu64, iso->cpu_weight)) < 0)
                return r;
        if (iso->has_oom_score_adj && (r = unit_addf(u, "Service", "OOMScoreAdjust", "%d", iso->oom_score_adj)) < 0)
                return r;
        if (iso->selinux_context && (r = add_value(c, u, "Service", "SELinuxContext", iso->selinux_context, who)) < 0)
                return r;
        if (iso->apparmor_profile &&
            (r = add_value(c, u, "Service", "AppArmorProfile", iso->apparmor_profile, who)) < 0)
                return r;

        return add_unit(c, u, who);
}

/* nspawn --bind= arguments for the mounts (RenderOptions.nspawn_binds). */
static int add_bind_args(RenderContext *c, const RuntimeApp *ra, const RenderMount *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                _cleanup_free_ char *target = NULL;
                const char *reason = NULL;
                int r;

                if (asprintf(&target, APP_ROOT_FMT "%s", ra->name, strcmp(m[i].target, "/") == 0 ? "" : m[i].target) < 0)
                        return -ENOMEM;
                strbuf_append(&b, m[i].read_only ? "--bind-ro=" : "--bind=");
                if (m[i].empty) {
                        _cleanup_free_ char *src = NULL;

                        if (asprintf(&src, "%s/sharedVolumes/%s", c->pod_dir, m[i].volume) < 0)
                                return -ENOMEM;
                        r = escape_nspawn_bind_path(&b, src, &reason);
                } else
                        r = escape_nspawn_bind_path(&b, m[i].source, &reason);
                if (r >= 0) {
                        strbuf_putc(&b, ':');
                        r = escape_nspawn_bind_path(&b, target, &reason);
                }
                if (r < 0)
                        return error_set(c->err, -EINVAL, NULL,
                                         "app \"%s\", volume \"%s\": path cannot be passed to systemd-nspawn: %s",
                                         ra->name, m[i].volume, reason ? reason : "unrepresentable");
                strbuf_append(&b, m[i].recursive ? ":rbind" : ":norbind");
                if (strbuf_error(&b) < 0)
                        return -ENOMEM;
                r = strv_consume(&c->argv_binds, strbuf_steal(&b, NULL));
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_nspawn_default_cap(const char *cap) {
        for (size_t i = 0; i < ELEMENTSOF(nspawn_default_caps); i++)
                if (strcmp(nspawn_default_caps[i], cap) == 0)
                        return true;
        return false;
}

/* App names become unit names, and systemd refuses unit names over 255
 * bytes; the prepare-app instance is the longest, since '-' in the app root
 * path is escaped to "\x2d". */
static int check_unit_name_lengths(RenderContext *c, size_t idx) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        _cleanup_free_ char *root = NULL, *prepare = NULL;
        int r;

        if (strlen(ra->name) > UNIT_NAME_MAX - strlen("reaper-.service"))
                goto too_long;
        if (asprintf(&root, APP_ROOT_FMT, ra->name) < 0)
                return -ENOMEM;
        r = unit_name_for_path("prepare-app@", root, ".service", &prepare);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || strlen(prepare) > UNIT_NAME_MAX)
                goto too_long;
        return 0;
too_long:
        return error_set(c->err, -EINVAL, NULL,
                         "$.apps[%zu].name: \"%.40s…\" is too long: the unit names made from it would "
                         "exceed systemd's limit of %d bytes",
                         idx, ra->name, UNIT_NAME_MAX);
}

static int render_app(RenderContext *c, size_t idx, const Image *img) {
        const RuntimeApp *ra = &c->pod->apps[idx];
        const App *app = effective_app(ra, img);
        _cleanup_(isolator_settings_done) IsolatorSettings iso = {};
        _cleanup_free_ char *iso_path = NULL, *wants = NULL, *wants_target = NULL;
        size_t first_mount;
        uint32_t uid, gid;
        int r;

        if (!app)
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu]: app \"%s\" has no \"app\" section and no image manifest "
                                 "was given for it (--image-manifest %s=FILE)",
                                 idx, ra->name, ra->name);
        if (strncmp(ra->name, "systemd-", 8) == 0 || strcmp(ra->name, "shutdown") == 0 ||
            strcmp(ra->name, "prepare-app") == 0 || strcmp(ra->name, "pod-exit") == 0)
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu].name: \"%s\" is reserved: its unit would replace one the "
                                 "pod itself needs",
                                 idx, ra->name);
        if (strncmp(ra->name, "reaper-", 7) == 0 && pod_find_app(c->pod, ra->name + 7))
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu].name: \"%s\" collides with the reaper unit of app \"%s\"", idx,
                                 ra->name, ra->name + 7);
        r = check_unit_name_lengths(c, idx);
        if (r < 0)
                return r;
        if (strv_length(app->exec) == 0)
                return error_set(c->err, -EINVAL, NULL, "$.apps[%zu]: app \"%s\" has an empty \"exec\"", idx,
                                 ra->name);
        if (!path_is_absolute(app->exec[0]))
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu]: exec[0] \"%s\" must be an absolute path", idx, app->exec[0]);
        if (c->opts->ids) {
                uid = c->opts->ids[idx].uid;
                gid = c->opts->ids[idx].gid;
        } else if (parse_id(app->user, &uid) < 0)
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu]: user \"%s\": render resolves numeric ids and \"root\" "
                                 "only; names and paths need the image's root filesystem",
                                 idx, app->user);
        else if (parse_id(app->group, &gid) < 0)
                return error_set(c->err, -EINVAL, NULL,
                                 "$.apps[%zu]: group \"%s\": render resolves numeric ids and \"root\" "
                                 "only; names and paths need the image's root filesystem",
                                 idx, app->group);

        if (asprintf(&iso_path, ra->app ? "$.apps[%zu].app.isolators" : "image of $.apps[%zu]: $.app.isolators",
                     idx) < 0)
                return -ENOMEM;
        r = isolator_settings_resolve(app->isolators, app->n_isolators, uid, iso_path, &iso, c->err);
        if (r < 0)
                return r;
        limits_from_settings(&iso, &c->app_limits[idx]);
        /* Under the pod's memory limit an app is accounted apart (lib/cgroup-limits.h). */
        c->app_limits[idx].memory_accounted =
                c->pod_memory_limited && (c->opts->cgroup_v1_mask & CGROUP_CTRL_MASK(CGROUP_CTRL_MEMORY));
        if (!c->opts->disable_capabilities)
                STRV_FOREACH(cap, iso.capabilities)
                        if (!is_nspawn_default_cap(*cap) && (r = strv_extend(&c->extra_caps, *cap)) < 0)
                                return r;
        /* Lowering an OOM score takes CAP_SYS_RESOURCE, which nspawn does
         * not give the pod's systemd: without it OOMScoreAdjust=-N is
         * dropped without a word. The app's own bounding set stays its. */
        if (!c->opts->disable_capabilities && iso.has_oom_score_adj && iso.oom_score_adj < 0 &&
            !strv_contains(c->extra_caps, "CAP_SYS_RESOURCE") &&
            (r = strv_extend(&c->extra_caps, "CAP_SYS_RESOURCE")) < 0)
                return r;
        if (iso.has_oom_score_adj && iso.oom_score_adj < 0 && !c->lowers_oom_score &&
            !(c->lowers_oom_score = strdup(ra->name)))
                return -ENOMEM;

        r = collect_mounts(c, idx, app, img, &first_mount);
        if (r < 0)
                return r;
        /* (No mount at all: c->mounts is NULL, and NULL + 0 is not C.) */
        const RenderMount *am = c->mounts ? c->mounts + first_mount : NULL;
        r = render_app_service(c, idx, app, img, uid, gid, &iso, am, c->n_mounts - first_mount);
        if (r >= 0 && c->opts->nspawn_binds)
                r = add_bind_args(c, ra, am, c->n_mounts - first_mount);
        if (r < 0)
                return r;

        if ((r = render_reaper(c, idx)) < 0 || (r = render_socket(c, idx, app, image_name(ra, img))) < 0 ||
            (r = render_env_file(c, idx, app, uid)) < 0 || (r = note_ids(c, app, uid, gid)) < 0)
                return r;

        if (asprintf(&wants, STAGE1_UNIT_DIR "/" UNIT_DEFAULT ".wants/%s.service", ra->name) < 0 ||
            asprintf(&wants_target, "../%s.service", ra->name) < 0)
                return -ENOMEM;
        return fileset_add_symlink(c->files, wants, wants_target);
}

/* The pod's fixed units (default.target, halt.target, …, prepare-app@.service)
 * are static files of the stage1 image (units/, installed in
 * etc/systemd/system.control): each app and reaper names them, never the
 * other way round. What the pod's options change in them is a drop-in. */
/* In a user namespace nspawn cannot bind the journal's "flushed" flag file
 * (see build_argv()): the directories it would create for it in the pod's
 * /run would be the host's root's, "nobody"'s in the pod, and the pod's
 * systemd could not write its own /run/systemd. journald's start makes it
 * instead, in its socket's directory, before journald reads it. */
static int render_userns_dropins(RenderContext *c) {
        _cleanup_(unit_freep) Unit *u = NULL;
        int r;

        if (c->opts->uid_range == 0)
                return 0;
        u = unit_new("50-userns.conf");
        if (!u)
                return -ENOMEM;
        if ((r = unit_add(u, "Service", "ExecStartPre", "/usr/bin/touch /run/systemd/journal/flushed")) < 0)
                return r;
        return fileset_add_unit(c->files, STAGE1_UNIT_DIR "/systemd-journald.service.d", u);
}

static int render_static_dropins(RenderContext *c) {
        _cleanup_strbuf_ StrBuf line = STRBUF_INIT;
        _cleanup_(unit_freep) Unit *u = NULL;
        int r;

        r = render_userns_dropins(c);
        if (r < 0)
                return r;
        if (!c->opts->disable_paths && !c->opts->pod_hosts)
                return 0;
        /* prepare-app masks the kernel interfaces below /proc and /sys, and
         * gives each app the image's /etc/hosts if it has one; both options
         * are the whole pod's, so the template says them. */
        r = escape_exec_word(&line, STAGE1_PREPARE_APP, true, NULL);
        if (r < 0)
                return r;
        if (c->opts->disable_paths)
                strbuf_append(&line, " --disable-paths");
        if (c->opts->pod_hosts)
                strbuf_append(&line, " --pod-hosts");
        strbuf_append(&line, " \"%f\"");
        if (strbuf_error(&line) < 0)
                return -ENOMEM;
        u = unit_new("50-options.conf");
        if (!u)
                return -ENOMEM;
        /* An empty ExecStart= first: a drop-in's line would otherwise add a
         * second command to the template's. */
        if ((r = unit_add(u, "Service", "ExecStart", "")) < 0 ||
            (r = unit_add(u, "Service", "ExecStart", line.data)) < 0)
                return r;
        return fileset_add_unit(c->files, STAGE1_UNIT_DIR "/" UNIT_PREPARE_TEMPLATE ".d", u);
}

static int build_argv(RenderContext *c, char ***ret_argv, char ***ret_env) {
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        /* In a user namespace, what nspawn binds from the host is idmapped:
         * the host's root owns it in the pod too, not "nobody". (Not what
         * it binds from the stage1 root: the run idmapped that already.) */
        const char *idmap_opt = c->opts->uid_range > 0 ? ":idmap" : "";
        int r;

        if ((r = strv_extend(&argv, c->opts->nspawn_path ? c->opts->nspawn_path : "/usr/bin/systemd-nspawn")) < 0 ||
            (r = strv_extend(&argv, "--boot")) < 0)
                return r;
        if (c->opts->register_machine)
                r = strv_extend(&argv, "--register=yes");
        else if ((r = strv_extend(&argv, "--register=no")) >= 0)
                /* Without machined there is no scope to move into: stay in ours. */
                r = strv_extend(&argv, "--keep-unit");
        if (r < 0)
                return r;
        /* Never read a .nspawn file: settings come from the manifest only
         * (docs/security.md, CVE-2026-40226). */
        /* nspawn tells its own service manager (NOTIFY_SOCKET) that the pod is
         * ready when the pod's systemd is: once every app is (docs/lifecycle.md). */
        if ((r = strv_extend(&argv, "--notify-ready=yes")) < 0 ||
            (r = strv_extend(&argv, "--settings=no")) < 0 ||
            (r = strv_extend(&argv, c->opts->link_journal ? "--link-journal=try-guest" : "--link-journal=no")) < 0)
                return r;
        if (!c->opts->debug && (r = strv_extend(&argv, "--quiet")) < 0)
                return r;
        if ((r = strv_extendf(&argv, "--uuid=%s", c->uuid)) < 0 ||
            (r = strv_extendf(&argv, "--machine=%s", c->machine)) < 0)
                return r;
        if (c->opts->hostname) {
                /* Hostnames go on the argv as one word; nspawn checks them too. */
                r = strv_extendf(&argv, "--hostname=%s", c->opts->hostname);
        } else
                r = strv_extendf(&argv, "--hostname=%s", c->machine);
        if (r < 0)
                return r;
        if (c->opts->resolv_conf_off && (r = strv_extend(&argv, "--resolv-conf=off")) < 0)
                return r;
        if (c->opts->netns_path && c->opts->uid_range > 0) {
                /* nspawn inherits it from the run (RenderResult.netns_join). */
        } else if (c->opts->netns_path) {
                /* A path nspawn takes as one word; ours (NETNS_DIR/…), checked there. */
                if ((r = strv_extendf(&argv, "--network-namespace-path=%s", c->opts->netns_path)) < 0)
                        return r;
        } else if (c->opts->private_network && (r = strv_extend(&argv, "--private-network")) < 0)
                return r;
        /* SELinux labels come from the caller (rkt's stage0 passes its
         * own); a label is one word, and nspawn checks it. */
        if (c->opts->selinux_context && (r = strv_extendf(&argv, "--selinux-context=%s", c->opts->selinux_context)) < 0)
                return r;
        if (c->opts->selinux_apifs_context &&
            (r = strv_extendf(&argv, "--selinux-apifs-context=%s", c->opts->selinux_apifs_context)) < 0)
                return r;
        if (c->opts->uid_range > 0) {
                /* The run idmaps the pod's trees itself (lib/idmap.h): nspawn
                 * must neither chown them nor map them again. */
                if ((r = strv_extendf(&argv, "--private-users=%" PRIu32 ":%" PRIu32, c->opts->uid_shift,
                                      c->opts->uid_range)) < 0 ||
                    (r = strv_extend(&argv, "--private-users-ownership=off")) < 0)
                        return r;
        }
        if ((r = strv_extend(&argv, "--directory=stage1/rootfs")) < 0 ||
            /* Host flavor: the pod runs the host's systemd, from the host's
             * /usr; in a user namespace idmapped, so that root's files are
             * root's there too. */
            (r = strv_extendf(&argv, "--bind-ro=/usr%s%s", c->opts->uid_range > 0 ? ":/usr" : "", idmap_opt)) < 0)
                return r;
        if (c->opts->rendered_dir) {
                /* The pod's systemd reads its units, and the apps' environment
                 * files, from read-only binds: nothing in the pod can rewrite
                 * what the next daemon-reload or app start would read. */
                static const char *const dirs[] = { STAGE1_UNIT_DIR, STAGE1_ENV_DIR, STAGE1_PASSWD, STAGE1_GROUP };

                for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                        _cleanup_free_ char *src = NULL;
                        const char *reason = NULL;

                        if (asprintf(&src, "%s/%s", c->opts->rendered_dir, dirs[i]) < 0)
                                return -ENOMEM;
                        strbuf_append(&b, "--bind-ro=");
                        r = escape_nspawn_bind_path(&b, src, &reason);
                        if (r < 0)
                                return error_set(c->err, -EINVAL, NULL, "rendered directory \"%s\": %s",
                                                 c->opts->rendered_dir, reason ? reason : "unrepresentable");
                        strbuf_printf(&b, ":/%s%s", dirs[i], idmap_opt);
                        if (strbuf_error(&b) < 0)
                                return -ENOMEM;
                        if ((r = strv_consume(&argv, strbuf_steal(&b, NULL))) < 0)
                                return r;
                }
        }
        {
                /* journald writes to the pod's /var/log/journal from its
                 * start (it takes an existing flag file as "flushed"; in a
                 * user namespace render_userns_dropins() makes it), and
                 * prints console lines without the kernel's timestamp. */
                _cleanup_strbuf_ StrBuf src = STRBUF_INIT;
                const char *reason = NULL;

                strbuf_append(&src, "--bind-ro=");
                r = escape_nspawn_bind_path(&src, c->pod_dir, &reason);
                if (r < 0)
                        return error_set(c->err, -EINVAL, NULL, "pod directory \"%s\": %s", c->pod_dir,
                                         reason ? reason : "unrepresentable");
                strbuf_append(&src, "/stage1/rootfs/" STAGE1_EMPTY);
                if (strbuf_error(&src) < 0)
                        return -ENOMEM;
                if (c->opts->uid_range == 0 &&
                    (r = strv_extendf(&argv, "%s:/run/systemd/journal/flushed", src.data)) < 0)
                        return r;
                if (c->opts->hide_printk_time &&
                    (r = strv_extendf(&argv, "%s:/sys/module/printk/parameters/time", src.data)) < 0)
                        return r;
        }
        if (c->opts->disable_capabilities)
                r = strv_extend(&argv, "--capability=all");
        else if (c->extra_caps) {
                _cleanup_free_ char *j = NULL;

                strv_sort(c->extra_caps);
                strv_uniq(c->extra_caps);
                j = strv_join(c->extra_caps, ",");
                r = j ? strv_extendf(&argv, "--capability=%s", j) : -ENOMEM;
        }
        if (r < 0)
                return r;
        /* The pod's systemd enforces each app's DevicePolicy=/DeviceAllow=
         * with a BPF device program on the app's cgroup; nspawn's own seccomp
         * filter refuses bpf(), and systemd then silently enforces nothing
         * (seen with systemd 252: an app opened any device it mknod'ed).
         * Apps do not get bpf() through this: their own filter and bounding
         * set stay (docs/volumes.md, "Devices"). */
        if (!c->opts->disable_paths && (r = strv_extend(&argv, "--system-call-filter=bpf")) < 0)
                return r;
        /* nspawn 252's own filter refuses (EPERM) the Landlock calls, which
         * can only take rights away: app-stdio -a makes its domains with
         * them (docs/security.md, "Apps of one pod"). */
        if ((r = strv_extend(&argv, "--system-call-filter=" LANDLOCK_SYSCALLS)) < 0)
                return r;
        STRV_FOREACH(b, c->argv_binds)
                if ((r = strv_extend(&argv, *b)) < 0)
                        return r;
        if ((r = strv_extend(&argv, "--")) < 0)
                return r;
        if (!c->opts->debug && ((r = strv_extend(&argv, "--log-target=null")) < 0 ||
                                (r = strv_extend(&argv, "--show-status=no")) < 0))
                return r;

        if ((r = strv_extend(&env, "SYSTEMD_NSPAWN_CONTAINER_SERVICE=nspawn-pod")) < 0 ||
            (r = strv_extend(&env, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")) < 0)
                return r;
        if (c->opts->disable_paths && (r = strv_extend(&env, "SYSTEMD_NSPAWN_API_VFS_WRITABLE=yes")) < 0)
                return r;
        if (c->opts->share_ipc && (r = strv_extend(&env, "SYSTEMD_NSPAWN_SHARE_NS_IPC=1")) < 0)
                return r;
        if (!c->opts->debug && (r = strv_extend(&env, "SYSTEMD_LOG_LEVEL=err")) < 0)
                return r;
        strv_sort(env);

        *ret_argv = TAKE_PTR(argv);
        *ret_env = TAKE_PTR(env);
        return 0;
}

int render_pod(const Pod *pod, Image *const *images, const RenderOptions *opts, RenderResult **ret,
               NpError *err) {
        _cleanup_(render_result_freep) RenderResult *res = NULL;
        CgroupLimits pod_limits = {};
        RenderContext c = {
                .pod = pod,
                .opts = opts,
                .err = err,
        };
        int r;

        if (pod->n_apps == 0)
                return error_set(err, -EINVAL, "$.apps", "a pod needs at least one app");
        if (pod->n_isolators > 0) {
                _cleanup_(isolator_settings_done) IsolatorSettings iso = {};

                r = isolator_pod_resolve(pod->isolators, pod->n_isolators, &iso, err);
                if (r < 0)
                        return r;
                limits_from_settings(&iso, &pod_limits);
                c.pod_memory_limited = pod_limits.has_memory;
        }
        {
                /* What the run will refuse (lib/journal.h): refused here too. */
                uint64_t journal_max_use;

                r = journal_max_use_of_pod(pod, &journal_max_use, err);
                if (r < 0)
                        return r;
        }
        if (opts->interactive && pod->n_apps != 1)
                return error_set(err, -EINVAL, "$.apps",
                                 "an interactive pod must have exactly one app (it gets the console)");

        if (opts->hostname && !render_hostname_is_valid(opts->hostname))
                return error_set(err, -EINVAL, NULL,
                                 "\"%s\" is not a valid hostname (1-63 letters, digits, '-' and '.', "
                                 "not starting or ending with '-' or '.')",
                                 opts->hostname);
        uuid_format(opts->uuid, c.uuid);
        r = render_machine_name(opts->machine_prefix, opts->uuid, &c.machine);
        if (r < 0)
                return r;
        if (opts->pod_dir)
                c.pod_dir = strdup(opts->pod_dir);
        else if (asprintf(&c.pod_dir, "/var/lib/nspawn-pod/pods/run/%s", c.uuid) < 0)
                c.pod_dir = NULL;
        c.files = fileset_new();
        res = calloc(1, sizeof(*res));
        c.app_limits = calloc(pod->n_apps, sizeof(CgroupLimits));
        if (!c.pod_dir || !c.files || !res || !c.app_limits) {
                r = -ENOMEM;
                goto finish;
        }

        r = render_static_dropins(&c);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < pod->n_apps; i++) {
                r = render_app(&c, i, images ? images[i] : NULL);
                if (r < 0)
                        goto finish;
        }
        r = render_passwd_group(&c);
        if (r < 0)
                goto finish;
        r = build_argv(&c, &res->nspawn_argv, &res->nspawn_env);
        if (r < 0)
                goto finish;
        if (opts->netns_path && opts->uid_range > 0 && !(res->netns_join = strdup(opts->netns_path))) {
                r = -ENOMEM;
                goto finish;
        }

        fileset_sort(c.files);
        res->files = TAKE_PTR(c.files);
        res->mounts = TAKE_PTR(c.mounts);
        res->n_mounts = c.n_mounts;
        c.n_mounts = 0;
        res->warnings = TAKE_PTR(c.warnings);
        res->pod_limits = pod_limits;
        res->app_limits = TAKE_PTR(c.app_limits);
        res->lowers_oom_score = TAKE_PTR(c.lowers_oom_score);
        res->n_app_limits = pod->n_apps;
        *ret = TAKE_PTR(res);
        r = 0;
finish:
        fileset_free(c.files);
        render_mounts_free(c.mounts, c.n_mounts);
        strv_free(c.argv_binds);
        strv_free(c.extra_caps);
        strv_free(c.warnings);
        free(c.default_syscalls);
        free(c.app_limits);
        free(c.lowers_oom_score);
        free(c.uids);
        free(c.gids);
        free(c.uid_gids);
        free(c.pod_dir);
        free(c.machine);
        return r;
}
