/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "image-id.h"
#include "journal.h"
#include "image-store.h"
#include "image.h"
#include "manifest.h"
#include "names.h"
#include "pod-prepare.h"
#include "pod.h"
#include "render.h"
#include "rm-rf.h"
#include "stage1.h"
#include "strv.h"

/* appc's default app name: the last part of the image name, made an ACName. */
static char *app_name_from_image(const char *image_name) {
        const char *base = strrchr(image_name, '/');
        char *s = strdup(base ? base + 1 : image_name), *p, *start;

        if (!s)
                return NULL;
        for (p = s; *p; p++) {
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                        *p = '-';
        }
        for (start = s; *start == '-'; start++)
                ;
        memmove(s, start, strlen(start) + 1);
        for (p = s + strlen(s); p > s && p[-1] == '-'; p--)
                p[-1] = 0;
        return s;
}


/* NAME=VALUE into an app's environment: replaces a variable of that name. */
static int app_setenv(App *a, const char *assignment, NpError *err) {
        const char *eq = strchr(assignment, '=');
        _cleanup_free_ char *name = NULL, *value = NULL;
        NameValue *n;

        if (!eq || eq == assignment)
                return error_set(err, -EINVAL, NULL, "environment \"%s\" is not NAME=VALUE", assignment);
        name = strndup(assignment, (size_t) (eq - assignment));
        value = strdup(eq + 1);
        if (!name || !value)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_environment; i++)
                if (strcmp(a->environment[i].name, name) == 0) {
                        free(a->environment[i].value);
                        a->environment[i].value = TAKE_PTR(value);
                        return 0;
                }
        n = reallocarray(a->environment, a->n_environment + 1, sizeof(NameValue));
        if (!n)
                return -ENOMEM;
        a->environment = n;
        a->environment[a->n_environment++] = (NameValue){ TAKE_PTR(name), TAKE_PTR(value) };
        return 0;
}


static int replace_string(char **field, const char *value) {
        char *c;

        if (!value)
                return 0;
        c = strdup(value);
        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}


/* Sets `name` to `value` in a list of name/value pairs (replacing). */
static int nv_set(NameValue **l, size_t *n, const char *name, const char *value) {
        _cleanup_free_ char *v = strdup(value), *k = NULL;
        NameValue *grown;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*l)[i].name, name) == 0) {
                        free((*l)[i].value);
                        (*l)[i].value = TAKE_PTR(v);
                        return 0;
                }
        k = strdup(name);
        grown = k ? reallocarray(*l, *n + 1, sizeof(NameValue)) : NULL;
        if (!grown)
                return -ENOMEM;
        *l = grown;
        grown[(*n)++] = (NameValue){ TAKE_PTR(k), TAKE_PTR(v) };
        return 0;
}

/* "NAME=VALUE" of option `opt` into a list. */
static int nv_set_assignment(NameValue **l, size_t *n, const char *kv, const char *opt, NpError *err) {
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *name = eq ? strndup(kv, (size_t) (eq - kv)) : NULL;

        if (!eq || eq == kv)
                return error_set(err, -EINVAL, NULL, "%s=%s: expected NAME=VALUE", opt, kv);
        if (!name)
                return -ENOMEM;
        return nv_set(l, n, name, eq + 1);
}

static int parse_u32_word(const char *v, unsigned base, uint32_t *ret);

/* --supplementary-gids=N,N,…: replaces the app's list. */
static int parse_gids(const char *list, App *a, NpError *err) {
        _cleanup_free_ uint32_t *gids = NULL;
        size_t n = 0;

        for (const char *p = list;;) {
                size_t len = strcspn(p, ",");
                _cleanup_free_ char *w = strndup(p, len);
                uint32_t gid;
                uint32_t *grown;

                if (!w)
                        return -ENOMEM;
                if (parse_u32_word(w, 10, &gid) < 0 || gid == UINT32_MAX)
                        return error_set(err, -EINVAL, NULL,
                                         "--supplementary-gids=%s: expected group ids (numbers) separated by ','",
                                         list);
                grown = reallocarray(gids, n + 1, sizeof(uint32_t));
                if (!grown)
                        return -ENOMEM;
                gids = grown;
                gids[n++] = gid;
                if (!p[len])
                        break;
                p += len + 1;
        }
        free(a->supplementary_gids);
        a->supplementary_gids = TAKE_PTR(gids);
        a->n_supplementary_gids = n;
        return 0;
}

/* The image's app with the command line's overrides (rkt's precedence:
 * image < --set-env < --environment). */
static int build_app(const PodPrepareOptions *s, const PodPrepareApp *as, const Image *img, App **ret,
                     NpError *err) {
        App *a = img->app ? app_copy(img->app) : calloc(1, sizeof(App));
        int r = 0;

        if (!a)
                return -ENOMEM;
        if (as->exec) {
                char **e = NULL;

                if ((r = strv_extend(&e, as->exec)) < 0) {
                        app_free(a);
                        return r;
                }
                STRV_FOREACH(w, as->args)
                        if ((r = strv_extend(&e, *w)) < 0)
                                break;
                strv_free(a->exec);
                a->exec = e;
        } else if (as->has_args) {
                char **e = NULL;

                if (strv_length(a->exec) == 0) {
                        app_free(a);
                        return error_set(err, -EINVAL, as->image, "the image has no exec to pass arguments to; use --exec");
                }
                r = strv_extend(&e, a->exec[0]);
                STRV_FOREACH(w, as->args)
                        if (r >= 0)
                                r = strv_extend(&e, *w);
                strv_free(a->exec);
                a->exec = e;
        }
        if (r >= 0)
                r = replace_string(&a->user, as->user);
        if (r >= 0)
                r = replace_string(&a->group, as->group);
        if (r >= 0)
                r = replace_string(&a->working_directory, as->working_dir);
        STRV_FOREACH(e, s->inherit_env) {
                size_t n = strcspn(*e, "=");
                bool present = false;

                for (size_t i = 0; i < a->n_environment; i++)
                        present = present || (strlen(a->environment[i].name) == n &&
                                              strncmp(a->environment[i].name, *e, n) == 0);
                if (r >= 0 && !present)
                        r = app_setenv(a, *e, err);
        }
        STRV_FOREACH(e, s->env_file)
                if (r >= 0)
                        r = app_setenv(a, *e, err);
        STRV_FOREACH(e, s->set_env)
                if (r >= 0)
                        r = app_setenv(a, *e, err);
        STRV_FOREACH(e, as->environment)
                if (r >= 0)
                        r = app_setenv(a, *e, err);
        if (r >= 0 && as->supplementary_gids)
                r = parse_gids(as->supplementary_gids, a, err);
        STRV_FOREACH(kv, as->user_annotations)
                if (r >= 0)
                        r = nv_set_assignment(&a->user_annotations, &a->n_user_annotations, *kv,
                                              "--user-annotation", err);
        STRV_FOREACH(kv, as->user_labels)
                if (r >= 0)
                        r = nv_set_assignment(&a->user_labels, &a->n_user_labels, *kv, "--user-label", err);
        STRV_FOREACH(o, as->isolators)
                if (r >= 0) {
                        _cleanup_free_ char *option = strndup(*o, strcspn(*o, "="));

                        r = option ? manifest_app_set_isolator_option(a, option, *o + strlen(option) + 1, err)
                                   : -ENOMEM;
                }
        if (r >= 0 && (!a->user || !a->group || strv_length(a->exec) == 0))
                r = error_set(err, -EINVAL, as->image,
                              "the image does not say how to run it (exec, user, group); give --exec, --user and "
                              "--group");
        if (r < 0) {
                app_free(a);
                return r;
        }
        *ret = a;
        return 0;
}


/* The pod's writable layer over a stored image: POD/overlay/<app>/{upper,work}
 * and POD/overlay/<app>/image-id naming the store entry. */
static int make_overlay_dirs(int pod_fd, const char *app, const char *id, NpError *err) {
        _cleanup_close_ int ov = -1, a = -1;
        int r;

        ov = fd_mkdir_open(pod_fd, "overlay", 0700, O_PATH);
        if (ov < 0)
                return error_set(err, ov, "overlay", "cannot create: %s", strerror(-ov));
        a = fd_mkdir_open(ov, app, 0700, O_PATH);
        if (a < 0)
                return error_set(err, a, app, "cannot create the overlay directory: %s", strerror(-a));
        /* The upper directory's mode and owner become those of the app's "/". */
        if (mkdirat(a, "upper", 0755) < 0 || mkdirat(a, "work", 0700) < 0)
                return error_set(err, negative_errno(), app, "cannot create the overlay directories: %m");
        r = fd_write_file_atomic(a, "image-id", id, strlen(id), 0644);
        if (r < 0)
                return error_set(err, r, app, "cannot record the image ID: %s", strerror(-r));
        return 0;
}


/* appsinfo/<app>/manifest: the app's image manifest, where rkt's stage0
 * keeps it (its list and status read it). */
static int write_app_info(int info_fd, const char *app, int opt_fd) {
        _cleanup_free_ char *path = NULL, *m = NULL;
        _cleanup_close_ int dir = -1;
        size_t size;
        int r;

        if (asprintf(&path, "%s/manifest", app) < 0)
                return -ENOMEM;
        r = fd_read_file_in_root(opt_fd, path, MANIFEST_SIZE_MAX, &m, &size);
        if (r < 0)
                return r;
        dir = fd_mkdir_open(info_fd, app, 0755, O_PATH);
        if (dir < 0)
                return dir;
        return fd_write_file_atomic(dir, "manifest", m, size, 0644);
}

/* What prepare_pod() fills in a Pod of its own: the apps (their names,
 * image names and IDs, apps); the rest of it is borrowed or empty. */
static void pod_apps_done(Pod *p) {
        for (size_t i = 0; i < p->n_apps; i++) {
                p->apps[i].mounts = NULL; /* borrowed from the PodPrepareApp */
                p->apps[i].n_mounts = 0;
                free(p->apps[i].name);
                free(p->apps[i].image.name);
                free(p->apps[i].image.id);
                app_free(p->apps[i].app);
                manifest_name_values_free(p->apps[i].annotations, p->apps[i].n_annotations);
        }
        p->apps = mfree(p->apps);
        p->n_apps = 0;
        manifest_name_values_free(p->annotations, p->n_annotations);
        p->annotations = NULL;
        p->n_annotations = 0;
}

void pod_prepare_volume_clear(Volume *v) {
        free(v->name);
        free(v->source);
        *v = (Volume) {};
}

void pod_prepare_mount_clear(Mount *m) {
        free(m->volume);
        free(m->path);
        *m = (Mount) {};
}

static int parse_bool_word(const char *v, int *ret) {
        if (strcmp(v, "true") == 0)
                *ret = 1;
        else if (strcmp(v, "false") == 0)
                *ret = 0;
        else
                return -EINVAL;
        return 0;
}

static int parse_u32_word(const char *v, unsigned base, uint32_t *ret) {
        char *end;
        unsigned long n;

        if (!*v || *v == '-' || *v == '+')
                return -EINVAL;
        errno = 0;
        n = strtoul(v, &end, base);
        if (errno != 0 || *end != 0 || n >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) n;
        return 0;
}

/* Splits "first,key=value,…" into its words, in place. */
static int split_words(char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (char *w = s, *next; w; w = next) {
                next = strchr(w, ',');
                if (next)
                        *next++ = 0;
                if ((r = strv_extend(&l, w)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_prepare_parse_volume(const char *arg, Volume *ret, NpError *err) {
        _cleanup_free_ char *copy = strdup(arg);
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_(pod_prepare_volume_clear) Volume v = { .read_only = -1, .recursive = -1, .mode = 0755 };
        bool have_kind = false;

        if (!copy || split_words(copy, &w) < 0)
                return -ENOMEM;
        if (!w || !acname_is_valid(w[0]))
                return error_set(err, -EINVAL, NULL,
                                 "--volume=%s: \"%s\" is not a volume name (lower-case letters, digits and '-')", arg,
                                 w && w[0] ? w[0] : "");
        v.name = strdup(w[0]);
        if (!v.name)
                return -ENOMEM;
        for (char **p = w + 1; *p; p++) {
                char *eq = strchr(*p, '=');
                const char *val;
                uint32_t n;

                if (!eq)
                        return error_set(err, -EINVAL, NULL, "--volume=%s: \"%s\" is not KEY=VALUE", arg, *p);
                *eq = 0;
                val = eq + 1;
                if (strcmp(*p, "kind") == 0) {
                        if (strcmp(val, "host") == 0)
                                v.kind = VOLUME_HOST;
                        else if (strcmp(val, "empty") == 0)
                                v.kind = VOLUME_EMPTY;
                        else
                                return error_set(err, -EINVAL, NULL, "--volume=%s: kind must be host or empty, not \"%s\"",
                                              arg, val);
                        have_kind = true;
                } else if (strcmp(*p, "source") == 0) {
                        if (!path_is_absolute(val))
                                return error_set(err, -EINVAL, NULL, "--volume=%s: source must be an absolute path", arg);
                        free(v.source);
                        v.source = strdup(val);
                        if (!v.source)
                                return -ENOMEM;
                } else if (strcmp(*p, "readOnly") == 0 || strcmp(*p, "recursive") == 0) {
                        if (parse_bool_word(val, strcmp(*p, "readOnly") == 0 ? &v.read_only : &v.recursive) < 0)
                                return error_set(err, -EINVAL, NULL, "--volume=%s: %s must be true or false, not \"%s\"",
                                              arg, *p, val);
                } else if (strcmp(*p, "mode") == 0 || strcmp(*p, "uid") == 0 || strcmp(*p, "gid") == 0) {
                        bool mode = strcmp(*p, "mode") == 0;

                        if (parse_u32_word(val, mode ? 8 : 10, &n) < 0 || (mode && n > 07777))
                                return error_set(err, -EINVAL, NULL, "--volume=%s: %s must be %s, not \"%s\"", arg, *p,
                                              mode ? "octal, at most 7777" : "a number", val);
                        if (mode)
                                v.mode = n;
                        else if (strcmp(*p, "uid") == 0)
                                v.uid = n;
                        else
                                v.gid = n;
                } else
                        return error_set(err, -EINVAL, NULL,
                                      "--volume=%s: unknown key \"%s\" (kind, source, readOnly, recursive, mode, uid, gid)",
                                      arg, *p);
        }
        if (!have_kind)
                return error_set(err, -EINVAL, NULL, "--volume=%s: kind=host or kind=empty is required", arg);
        if (v.kind == VOLUME_HOST && !v.source)
                return error_set(err, -EINVAL, NULL, "--volume=%s: a host volume needs source=PATH", arg);
        if (v.kind == VOLUME_EMPTY && v.source)
                return error_set(err, -EINVAL, NULL, "--volume=%s: an empty volume has no source", arg);
        if (v.kind == VOLUME_HOST && (v.mode != 0755 || v.uid || v.gid))
                return error_set(err, -EINVAL, NULL, "--volume=%s: mode, uid and gid are for empty volumes", arg);
        *ret = v;
        v = (Volume) {};
        return 0;
}

int pod_prepare_parse_mount(const char *arg, Mount *ret, NpError *err) {
        _cleanup_free_ char *copy = strdup(arg);
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_(pod_prepare_mount_clear) Mount m = {};

        if (!copy || split_words(copy, &w) < 0)
                return -ENOMEM;
        STRV_FOREACH(p, w) {
                char *eq = strchr(*p, '=');
                char **field;

                if (!eq)
                        return error_set(err, -EINVAL, NULL, "--mount=%s: \"%s\" is not KEY=VALUE", arg, *p);
                *eq = 0;
                if (strcmp(*p, "volume") == 0)
                        field = &m.volume;
                else if (strcmp(*p, "target") == 0)
                        field = &m.path;
                else
                        return error_set(err, -EINVAL, NULL, "--mount=%s: unknown key \"%s\" (volume, target)", arg, *p);
                free(*field);
                *field = strdup(eq + 1);
                if (!*field)
                        return -ENOMEM;
        }
        if (!m.volume || !acname_is_valid(m.volume))
                return error_set(err, -EINVAL, NULL, "--mount=%s: volume=NAME (a volume name) is required", arg);
        if (!m.path || !*m.path)
                return error_set(err, -EINVAL, NULL, "--mount=%s: target=PATH is required", arg);
        *ret = m;
        m = (Mount) {};
        return 0;
}

void pod_prepare_port_clear(ExposedPort *p) {
        free(p->name);
        free(p->host_ip);
        *p = (ExposedPort) {};
}

int pod_prepare_parse_port(const char *arg, ExposedPort *ret, NpError *err) {
        _cleanup_(pod_prepare_port_clear) ExposedPort p = {};
        const char *first = strchr(arg, ':'), *last = strrchr(arg, ':');
        uint32_t port;

        if (!first)
                return error_set(err, -EINVAL, NULL, "--port=%s: expected NAME:[HOSTIP:]HOSTPORT", arg);
        p.name = strndup(arg, (size_t) (first - arg));
        if (!p.name)
                return -ENOMEM;
        if (!acname_is_valid(p.name))
                return error_set(err, -EINVAL, NULL, "--port=%s: \"%s\" is not a port name", arg, p.name);
        if (last != first) {
                p.host_ip = strndup(first + 1, (size_t) (last - first - 1));
                if (!p.host_ip)
                        return -ENOMEM;
                if (!ipv4_is_valid(p.host_ip))
                        return error_set(err, -EINVAL, NULL, "--port=%s: \"%s\" is not an IPv4 address", arg, p.host_ip);
        }
        if (parse_u32_word(last + 1, 10, &port) < 0 || port == 0 || port > 65535)
                return error_set(err, -EINVAL, NULL, "--port=%s: the host port must be 1-65535", arg);
        p.host_port = (uint16_t) port;
        *ret = p;
        p = (ExposedPort) {};
        return 0;
}

static int prepare_pod(const PodPrepareOptions *s, const char *data_dir, int data_fd, int pod_fd, NpError *err) {
        _cleanup_close_ int stage1 = -1, opt = -1, info = -1;
        Pod *given = s->pod_manifest;
        _cleanup_free_ char *json = NULL, *stage1_id = NULL;
        _cleanup_(pod_apps_done) Pod pod = { .ac_version = (char *) "0.8.11" };
        RuntimeApp *apps;
        size_t json_size;
        int r;

        if (given && s->n_ports > 0)
                return error_set(err, -EINVAL, NULL, "--port is refused with --pod-manifest: the manifest has the ports");
        for (size_t i = 0; i < s->n_ports; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s->ports[i].name, s->ports[j].name) == 0)
                                return error_set(err, -EINVAL, NULL, "port \"%s\" is published twice", s->ports[i].name);
        if (given && s->n_volumes > 0)
                return error_set(err, -EINVAL, NULL, "--volume is refused with --pod-manifest: the manifest has the volumes");
        for (size_t i = 0; i < s->n_volumes; i++) {
                struct stat st;

                /* Said now, before anything is made, rather than at the start. */
                if (s->volumes[i].kind == VOLUME_HOST && stat(s->volumes[i].source, &st) < 0)
                        return error_set(err, negative_errno(), NULL, "volume \"%s\": its source %s: %m",
                                         s->volumes[i].name, s->volumes[i].source);
        }
        for (size_t i = 0; i < s->n_volumes; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s->volumes[i].name, s->volumes[j].name) == 0)
                                return error_set(err, -EINVAL, NULL, "two volumes are named \"%s\"", s->volumes[i].name);
        for (size_t i = 0; i < s->n_apps; i++)
                for (size_t j = 0; j < s->apps[i].n_mounts; j++) {
                        bool found = false;

                        if (given)
                                return error_set(err, -EINVAL, NULL,
                                                 "--mount is refused with --pod-manifest: the manifest has the mounts");
                        for (size_t k = 0; k < s->n_volumes; k++)
                                found = found || strcmp(s->volumes[k].name, s->apps[i].mounts[j].volume) == 0;
                        if (!found)
                                return error_set(err, -EINVAL, NULL,
                                                 "--mount=volume=%s,…: no such volume; give it with --volume=%s,kind=…",
                                                 s->apps[i].mounts[j].volume, s->apps[i].mounts[j].volume);
                }
        if (given) {
                if (given->n_apps != s->n_apps)
                        return error_set(err, -EINVAL, NULL,
                                         "the pod has %zu apps but %zu images were given (one per app, in order)",
                                         given->n_apps, s->n_apps);
        }
        if (s->journal_max_use) {
                uint64_t v;

                r = journal_max_use_parse(s->journal_max_use, &v, err);
                if (r < 0)
                        return r;
        }

        /* The stage1, as a stage0 renders it (docs/stage1.md): its manifest
         * and root in stage1/, its tree store ID beside them. */
        r = stage1_store_get(data_fd, s->stage1_path ? s->stage1_path : stage1_default_path(), &stage1_id, err);
        if (r < 0)
                return r;
        if (mkdirat(pod_fd, "stage1", 0755) < 0)
                return error_set(err, negative_errno(), "stage1", "cannot create: %m");
        stage1 = fd_open_dir_nofollow(pod_fd, "stage1", O_RDONLY);
        if (stage1 < 0)
                return error_set(err, stage1, "stage1", "cannot open");
        r = stage1_install(data_dir, stage1_id, pod_fd, stage1, err);
        if (r < 0)
                return r;
        opt = fd_open_in_root(stage1, "rootfs/opt/stage2", O_PATH | O_DIRECTORY, 0, true);
        if (opt < 0)
                return error_set(err, opt, "stage1/rootfs/opt/stage2", "cannot open: %s", strerror(-opt));
        /* 0700, as everything in the pod directory that the journal's
         * readers have no business reading (docs/logs.md). */
        info = fd_mkdir_open(pod_fd, "appsinfo", 0700, O_PATH);
        if (info < 0)
                return error_set(err, info, "appsinfo", "cannot create: %s", strerror(-info));

        apps = calloc(s->n_apps, sizeof(RuntimeApp));
        if (!apps)
                return -ENOMEM;
        pod.apps = apps;
        for (size_t i = 0; i < s->n_apps; i++) {
                const PodPrepareApp *as = &s->apps[i];
                _cleanup_(image_freep) Image *img = NULL;
                _cleanup_close_ int dest = -1, store = -1;
                _cleanup_free_ char *id = NULL;
                bool stored = false;
                char tmp[32];

                /* Imported under a temporary name: the app's name may come from
                 * the image manifest, known only once it is read. */
                (void) snprintf(tmp, sizeof(tmp), ".import-%zu", i);
                if (mkdirat(opt, tmp, 0755) < 0)
                        return error_set(err, negative_errno(), tmp, "cannot create: %m");
                dest = fd_open_dir_nofollow(opt, tmp, O_RDONLY);
                if (dest < 0)
                        return error_set(err, dest, tmp, "cannot open");
                /* An ACI comes from the image store (imported once) and gets an
                 * overlay at run time; an image directory is imported per pod. */
                {
                        struct stat st;

                        /* Not a file: the name of an image in the store (rkt's). */
                        if (stat(as->image, &st) < 0 && errno == ENOENT && as->image[0] != '/' &&
                            acidentifier_is_valid(strndupa(as->image, strcspn(as->image, ":"))))
                                r = image_store_find(data_fd, as->image, &id, &store, &img, err);
                        else
                                r = image_store_get(data_fd, as->image, &id, &store, &img, err);
                }
                if (r >= 0) {
                        _cleanup_free_ char *m = NULL;
                        size_t msize;

                        r = fd_read_file_in_root(store, "manifest", MANIFEST_SIZE_MAX, &m, &msize);
                        if (r >= 0)
                                r = fd_write_file_atomic(dest, "manifest", m, msize, 0644);
                        if (r >= 0 && mkdirat(dest, "rootfs", 0755) < 0)
                                r = negative_errno();
                        if (r < 0)
                                return error_set(err, r, tmp, "cannot set up the app directory: %s", strerror(-r));
                        stored = true;
                } else if (r == -EISDIR) {
                        r = image_import(as->image, dest, &img, err);
                        if (r < 0)
                                return r;
                        r = image_compute_id(as->image, &id);
                        if (r < 0)
                                return error_set(err, r, as->image, "cannot compute the image ID: %s", strerror(-r));
                } else
                        return r;

                RuntimeApp *ra = &apps[i];
                pod.n_apps = i + 1;
                if (given) {
                        ra->name = strdup(given->apps[i].name);
                        if (as->name && strcmp(as->name, ra->name) != 0)
                                return error_set(err, -EINVAL, as->image,
                                                 "--name=%s, but app %zu of the pod manifest is \"%s\"", as->name,
                                                 i, ra->name);
                } else
                        ra->name = as->name ? strdup(as->name) : app_name_from_image(img->name);
                if (!ra->name)
                        return -ENOMEM;
                if (!acname_is_valid(ra->name))
                        return error_set(err, -EINVAL, as->image,
                                         "app name \"%s\" is not valid (lower-case letters, digits and '-')%s",
                                         ra->name, as->name ? "" : "; give one with --name");
                for (size_t j = 0; j < i; j++)
                        if (strcmp(apps[j].name, ra->name) == 0)
                                return error_set(err, -EINVAL, as->image,
                                                 "two apps are named \"%s\"; give one another with --name",
                                                 ra->name);
                if (renameat(opt, tmp, opt, ra->name) < 0)
                        return error_set(err, negative_errno(), ra->name, "cannot rename the imported image: %m");
                if (stored && (r = make_overlay_dirs(pod_fd, ra->name, id, err)) < 0)
                        return r;
                r = write_app_info(info, ra->name, opt);
                if (r < 0)
                        return error_set(err, r, "appsinfo", "cannot write the app's image manifest: %s",
                                         strerror(-r));

                ra->image.name = strdup(img->name);
                ra->image.id = TAKE_PTR(id);
                if (!ra->image.name)
                        return -ENOMEM;
                if (given) {
                        /* The manifest's own app, or (absent) the image's: render
                         * reads the image manifest stored beside the rootfs. */
                        const RuntimeApp *g = &given->apps[i];

                        ra->app = g->app ? app_copy(g->app) : NULL;
                        if (g->app && !ra->app)
                                return -ENOMEM;
                } else {
                        r = build_app(s, as, img, &ra->app, err);
                        if (r < 0)
                                return r;
                        /* Borrowed: the JSON is written below, while they live. */
                        ra->mounts = (Mount *) as->mounts;
                        ra->n_mounts = as->n_mounts;
                        ra->read_only_root_fs = as->readonly_rootfs;
                        for (size_t k = 0; k < 3; k++) {
                                static const char *const names[] = { STDIO_ANNOTATION_PREFIX "stdin",
                                                                     STDIO_ANNOTATION_PREFIX "stdout",
                                                                     STDIO_ANNOTATION_PREFIX "stderr" };

                                if (as->stdio[k] &&
                                    (r = nv_set(&ra->annotations, &ra->n_annotations, names[k], as->stdio[k])) < 0)
                                        return r;
                        }
                }
        }

        if (given) {
                /* Keep everything else of the given manifest as it is. */
                for (size_t i = 0; i < given->n_apps; i++) {
                        RuntimeApp *g = &given->apps[i];

                        app_free(g->app);
                        g->app = TAKE_PTR(apps[i].app);
                        free(g->image.name);
                        g->image.name = TAKE_PTR(apps[i].image.name);
                        /* What the pod runs is the image given, whatever ID the
                         * manifest named. */
                        free(g->image.id);
                        g->image.id = TAKE_PTR(apps[i].image.id);
                }
                if (s->journal_max_use && (r = nv_set(&given->annotations, &given->n_annotations,
                                                      JOURNAL_MAX_USE_ANNOTATION, s->journal_max_use)) < 0)
                        return r;
                STRV_FOREACH(kv, s->annotations)
                        if ((r = nv_set_assignment(&given->annotations, &given->n_annotations, *kv, "--annotation",
                                                   err)) < 0)
                                return r;
                r = manifest_pod_to_json(given, &json, &json_size);
        } else {
                if (s->journal_max_use && (r = nv_set(&pod.annotations, &pod.n_annotations,
                                                      JOURNAL_MAX_USE_ANNOTATION, s->journal_max_use)) < 0)
                        return r;
                STRV_FOREACH(kv, s->annotations)
                        if ((r = nv_set_assignment(&pod.annotations, &pod.n_annotations, *kv, "--annotation", err)) < 0)
                                return r;
                pod.volumes = (Volume *) s->volumes;
                pod.n_volumes = s->n_volumes;
                pod.ports = (ExposedPort *) s->ports;
                pod.n_ports = s->n_ports;
                r = manifest_pod_to_json(&pod, &json, &json_size);
                pod.ports = NULL;
                pod.n_ports = 0;
                pod.volumes = NULL;
                pod.n_volumes = 0;
        }
        if (r < 0)
                return error_set(err, r, NULL, "cannot write the pod manifest: %s", strerror(-r));

        /* Validate what we wrote exactly as a run will read it: a bad --exec
         * or --user is reported here, with its JSON path. */
        {
                _cleanup_error_ NpError perr = NP_ERROR_INIT;
                Pod *check = NULL;

                r = manifest_parse_pod(json, json_size, &check, &perr);
                if (r >= 0) {
                        uint64_t v;

                        r = journal_max_use_of_pod(check, &v, &perr);
                }
                pod_free(check);
                if (r < 0)
                        return error_set(err, r, NULL, "the app options give an invalid pod: %s",
                                         error_format(&perr, r));
        }
        r = fd_write_file_atomic(pod_fd, "pod", json, json_size, 0640);
        /* rkt's stage0 writes it too: its mtime is the pod's creation time. */
        if (r >= 0)
                r = fd_write_file_atomic(pod_fd, "pod-created", "", 0, 0644);
        if (r < 0)
                return error_set(err, r, "pod", "cannot write: %s", strerror(-r));
        return 0;
}


int pod_prepare(const char *data_dir, int pods_fd, const PodPrepareOptions *o, uint8_t ret_uuid[16], int *ret_lock_fd,
                NpError *err) {
        _cleanup_close_ int lock = -1, data = -1;
        uint8_t uuid[16];
        int r;

        data = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (data < 0)
                return error_set(err, negative_errno(), data_dir, "cannot open the data directory: %m");
        r = pod_create(pods_fd, uuid, &lock);
        if (r < 0)
                return error_set(err, r, NULL, "cannot create a pod directory: %s", strerror(-r));
        r = prepare_pod(o, data_dir, data, lock, err);
        if (r < 0) {
                /* Bad input leaves nothing behind: the half-prepared pod goes. */
                pod_remove_dir(pods_fd, POD_STATE_PREPARE, uuid);
                return r;
        }
        memcpy(ret_uuid, uuid, 16);
        *ret_lock_fd = TAKE_FD(lock);
        return 0;
}

void pod_remove_dir(int pods_fd, PodState state, const uint8_t uuid[16]) {
        _cleanup_close_ int d = fd_open_dir_nofollow(pods_fd, pod_state_dir(state), O_PATH);
        char name[37];

        if (d < 0)
                return;
        uuid_format(uuid, name);
        (void) rm_rf_at(d, name);
}
