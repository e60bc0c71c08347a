/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prepare, run-prepared, run: the standalone stage0 and the run entrypoint.
 *
 *   prepare       creates pods/prepare/<uuid> (locked), imports the images into
 *                 stage1/rootfs/opt/stage2/<app>/, assembles the host flavor's
 *                 stage1 root, writes the pod manifest, moves the pod to
 *                 pods/prepared/ and prints its UUID.
 *   run-prepared  moves it to pods/run/ keeping the lock, resolves users from the
 *                 images, renders the units into stage1/rendered/ (written all at
 *                 once, bound read-only into the pod), enters the pod's own
 *                 cgroups, writes subcgroup then ppid, and execs systemd-nspawn,
 *                 which inherits the locked directory fd: the pod is "running"
 *                 exactly as long as that lock is held.
 *   run           both.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "cgroup.h"
#include "fd-util.h"
#include "image.h"
#include "image-id.h"
#include "image-store.h"
#include "manifest.h"
#include "names.h"
#include "passwd.h"
#include "pod.h"
#include "render.h"
#include "stage1-host.h"
#include "strv.h"
#include "verbs.h"

typedef struct AppSpec {
        const char *image;     /* path of the ACI or image directory */
        const char *name;      /* --name */
        const char *exec;      /* --exec */
        const char *user, *group, *working_dir;
        char **environment;    /* --environment=NAME=VALUE, in order */
        char **args;           /* after "--" */
        bool has_args;
} AppSpec;

typedef struct RunSpec {
        const char *pod_manifest; /* --pod-manifest */
        const char *hostname;
        const char *uuid_file;    /* --uuid-file-save */
        char **set_env;           /* --set-env=NAME=VALUE, for every app */
        bool interactive;
        bool disable_caps, disable_paths, disable_seccomp;
        AppSpec *apps;
        size_t n_apps;
} RunSpec;

static void run_spec_done(RunSpec *s) {
        for (size_t i = 0; i < s->n_apps; i++) {
                strv_free(s->apps[i].environment);
                strv_free(s->apps[i].args);
        }
        free(s->apps);
        strv_free(s->set_env);
}

static const char run_usage_text[] =
        "Usage: nspawn-pod [--dir=DIR] run [OPTIONS] IMAGE [APP-OPTIONS] [-- ARGS...] [--- IMAGE ...]\n"
        "       nspawn-pod [--dir=DIR] run [OPTIONS] --pod-manifest=FILE IMAGE [--- IMAGE ...]\n"
        "       nspawn-pod [--dir=DIR] prepare (same arguments as run)\n"
        "       nspawn-pod [--dir=DIR] run-prepared [OPTIONS] UUID\n"
        "\n"
        "Run a pod of one or more apps, each from an appc image: an ACI file (tar,\n"
        "optionally gzip/bzip2/xz compressed) or a directory with manifest and rootfs/.\n"
        "'run' prepares and runs; 'prepare' only prepares and prints the pod's UUID;\n"
        "'run-prepared' runs a prepared pod. The exit status is the pod's (docs/exit-codes.md).\n"
        "\n"
        "Options (before the first image):\n"
        "  --pod-manifest=FILE      use this pod manifest; the images follow in the order of\n"
        "                           its apps\n"
        "  --hostname=NAME          pod hostname (default nspawn-pod-<uuid>)\n"
        "  --set-env=NAME=VALUE     environment variable for every app; repeatable\n"
        "  --interactive            the (single) app gets the terminal\n"
        "  --insecure-options=LIST  capabilities, paths, seccomp, all-run: turn protections off\n"
        "  --uuid-file-save=FILE    write the pod's UUID to FILE\n"
        "  -h, --help               show this help\n"
        "\n"
        "App options (after an image, for that app):\n"
        "  --name=NAME              app name (default: from the image name)\n"
        "  --exec=PATH              run PATH (absolute) instead of the image's exec\n"
        "  --user=USER --group=GROUP  name, number, or /path (its owner) in the image\n"
        "  --working-dir=DIR        working directory\n"
        "  --environment=NAME=VALUE environment variable; repeatable\n"
        "  -- ARGS...               arguments, replacing the image's (until ---)\n"
        "  ---                      the next image\n"
        "\n"
        "Pods use the host's network. Pod directories live in DIR/pods (default\n"
        "/var/lib/nspawn-pod). Exit status of nspawn-pod's own failures: 254.\n";

/* Matches "--name=value" or "--name value"; advances *i over a separate value. */
static int take_value(char **argv, int argc, int *i, const char *opt, const char **ret) {
        size_t n = strlen(opt);
        const char *a = argv[*i];

        if (strncmp(a, opt, n) != 0)
                return 0;
        if (a[n] == '=') {
                *ret = a + n + 1;
                return 1;
        }
        if (a[n] != 0)
                return 0;
        if (*i + 1 >= argc) {
                fprintf(stderr, "nspawn-pod: option %s needs a value\n", opt);
                return -EINVAL;
        }
        *ret = argv[++*i];
        return 1;
}

static int parse_insecure(RunSpec *s, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (strcmp(w, "capabilities") == 0)
                        s->disable_caps = true;
                else if (strcmp(w, "paths") == 0)
                        s->disable_paths = true;
                else if (strcmp(w, "seccomp") == 0)
                        s->disable_seccomp = true;
                else if (strcmp(w, "all-run") == 0 || strcmp(w, "all") == 0)
                        s->disable_caps = s->disable_paths = s->disable_seccomp = true;
                else {
                        fprintf(stderr, "nspawn-pod: unknown --insecure-options value \"%s\"\n", w);
                        return -EINVAL;
                }
        }
        return 0;
}

static int parse_run_args(int argc, char *argv[], RunSpec *s) {
        AppSpec *cur = NULL;
        int i = 1, r;

        for (; i < argc; i++) {
                const char *a = argv[i], *v;

                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(run_usage_text, stdout);
                        return 1;
                }
                if (strcmp(a, "---") == 0) {
                        if (!cur) {
                                fprintf(stderr, "nspawn-pod: \"---\" must follow an image\n");
                                return -EINVAL;
                        }
                        cur = NULL;
                        continue;
                }
                if (cur && strcmp(a, "--") == 0) {
                        cur->has_args = true;
                        for (i++; i < argc && strcmp(argv[i], "---") != 0; i++)
                                if ((r = strv_extend(&cur->args, argv[i])) < 0)
                                        return r;
                        if (!cur->args && !(cur->args = calloc(1, sizeof(char *))))
                                return -ENOMEM;
                        cur = NULL;
                        continue;
                }
                if (!cur) {
                        if ((r = take_value(argv, argc, &i, "--pod-manifest", &s->pod_manifest)) != 0 ||
                            (r = take_value(argv, argc, &i, "--hostname", &s->hostname)) != 0 ||
                            (r = take_value(argv, argc, &i, "--uuid-file-save", &s->uuid_file)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--set-env", &v)) != 0) {
                                if (r < 0 || (r = strv_extend(&s->set_env, v)) < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--insecure-options", &v)) != 0) {
                                if (r < 0 || (r = parse_insecure(s, v)) < 0)
                                        return r;
                                continue;
                        }
                        if (strcmp(a, "--interactive") == 0) {
                                s->interactive = true;
                                continue;
                        }
                        if (a[0] == '-') {
                                fprintf(stderr, "nspawn-pod: unknown option \"%s\" (pod options come before the "
                                                "first image; see --help)\n", a);
                                return -EINVAL;
                        }
                        /* An image starts a new app. */
                        AppSpec *n = reallocarray(s->apps, s->n_apps + 1, sizeof(AppSpec));
                        if (!n)
                                return -ENOMEM;
                        s->apps = n;
                        cur = &s->apps[s->n_apps++];
                        *cur = (AppSpec){ .image = a };
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--name", &cur->name)) != 0 ||
                    (r = take_value(argv, argc, &i, "--exec", &cur->exec)) != 0 ||
                    (r = take_value(argv, argc, &i, "--user", &cur->user)) != 0 ||
                    (r = take_value(argv, argc, &i, "--group", &cur->group)) != 0 ||
                    (r = take_value(argv, argc, &i, "--working-dir", &cur->working_dir)) != 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--environment", &v)) != 0) {
                        if (r < 0 || (r = strv_extend(&cur->environment, v)) < 0)
                                return r;
                        continue;
                }
                fprintf(stderr, "nspawn-pod: unexpected \"%s\" after image \"%s\" (use \"---\" before the "
                                "next image; see --help)\n", a, cur->image);
                return -EINVAL;
        }
        if (s->n_apps == 0) {
                fprintf(stderr, "nspawn-pod: no image given; see --help\n");
                return -EINVAL;
        }
        if (s->pod_manifest)
                for (size_t k = 0; k < s->n_apps; k++)
                        if (s->apps[k].exec || s->apps[k].user || s->apps[k].group || s->apps[k].working_dir ||
                            s->apps[k].environment || s->apps[k].has_args) {
                                fprintf(stderr, "nspawn-pod: with --pod-manifest, app options other than "
                                                "--name are refused: the manifest says how apps run\n");
                                return -EINVAL;
                        }
        return 0;
}

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
static int app_setenv(App *a, const char *assignment) {
        const char *eq = strchr(assignment, '=');
        _cleanup_free_ char *name = NULL, *value = NULL;
        NameValue *n;

        if (!eq || eq == assignment) {
                fprintf(stderr, "nspawn-pod: environment \"%s\" is not NAME=VALUE\n", assignment);
                return -EINVAL;
        }
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

/* The image's app with the command line's overrides (rkt's precedence:
 * image < --set-env < --environment). */
static int build_app(const RunSpec *s, const AppSpec *as, const Image *img, App **ret) {
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
                        fprintf(stderr, "nspawn-pod: image \"%s\" has no exec to pass arguments to; use --exec\n",
                                as->image);
                        app_free(a);
                        return -EINVAL;
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
        STRV_FOREACH(e, s->set_env)
                if (r >= 0)
                        r = app_setenv(a, *e);
        STRV_FOREACH(e, as->environment)
                if (r >= 0)
                        r = app_setenv(a, *e);
        if (r >= 0 && (!a->user || !a->group || strv_length(a->exec) == 0)) {
                fprintf(stderr,
                        "nspawn-pod: image \"%s\" does not say how to run it (exec, user, group); give --exec, "
                        "--user and --group\n",
                        as->image);
                r = -EINVAL;
        }
        if (r < 0) {
                app_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

static int write_text_at(int dirfd, const char *name, const char *text) {
        return fd_write_file_atomic(dirfd, name, text, strlen(text), 0644);
}

/* Imports the images, builds and writes the pod manifest, assembles stage1. */
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

static int prepare_pod(const RunSpec *s, int data_fd, int pod_fd, const uint8_t uuid[16], NpError *err) {
        _cleanup_close_ int stage1 = -1, s1 = -1, opt = -1;
        _cleanup_(pod_freep) Pod *given = NULL;
        _cleanup_free_ char *json = NULL, *hostname = NULL;
        Pod pod = { .ac_version = (char *) "0.8.11" };
        RuntimeApp *apps = NULL;
        size_t json_size;
        int r;

        if (s->pod_manifest) {
                r = manifest_load_file(s->pod_manifest, MANIFEST_POD, (void **) &given, err);
                if (r < 0)
                        return r;
                if (given->n_apps != s->n_apps)
                        return error_set(err, -EINVAL, s->pod_manifest,
                                         "the pod has %zu apps but %zu images were given (one per app, in order)",
                                         given->n_apps, s->n_apps);
        }

        if (mkdirat(pod_fd, "stage1", 0755) < 0 || mkdirat(pod_fd, "stage1/rootfs", 0755) < 0)
                return error_set(err, negative_errno(), "stage1", "cannot create: %m");
        stage1 = fd_open_dir_nofollow(pod_fd, "stage1", O_PATH);
        s1 = fd_open_dir_nofollow(pod_fd, "stage1/rootfs", O_PATH);
        if (stage1 < 0 || s1 < 0)
                return error_set(err, stage1 < 0 ? stage1 : s1, "stage1/rootfs", "cannot open");

        if (s->hostname)
                hostname = strdup(s->hostname);
        else
                r = render_machine_name(uuid, &hostname);
        if (!hostname)
                return -ENOMEM;
        if (!render_hostname_is_valid(hostname))
                return error_set(err, -EINVAL, NULL, "\"%s\" is not a valid hostname", hostname);
        Stage1HostOptions so = { .hostname = hostname, .libexec_dir = libexec_dir() };
        memcpy(so.uuid, uuid, 16);
        r = stage1_host_assemble(s1, &so, err);
        if (r < 0)
                return r;
        opt = fd_open_dir_nofollow(s1, "opt/stage2", O_PATH);
        if (opt < 0)
                return error_set(err, opt, "opt/stage2", "cannot open");

        apps = calloc(s->n_apps, sizeof(RuntimeApp));
        if (!apps)
                return -ENOMEM;
        pod.apps = apps;
        for (size_t i = 0; i < s->n_apps; i++) {
                const AppSpec *as = &s->apps[i];
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
                r = image_store_get(data_fd, as->image, &id, &store, &img, err);
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
                        r = build_app(s, as, img, &ra->app);
                        if (r < 0)
                                return error_set(err, r, as->image, "invalid app options");
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
                }
                r = manifest_pod_to_json(given, &json, &json_size);
        } else
                r = manifest_pod_to_json(&pod, &json, &json_size);
        for (size_t i = 0; i < pod.n_apps; i++) {
                free(apps[i].name);
                free(apps[i].image.name);
                free(apps[i].image.id);
                app_free(apps[i].app);
        }
        free(apps);
        if (r < 0)
                return error_set(err, r, NULL, "cannot write the pod manifest: %s", strerror(-r));

        /* Validate what we wrote exactly as a run will read it: a bad --exec
         * or --user is reported here, with its JSON path. */
        {
                _cleanup_error_ NpError perr = NP_ERROR_INIT;
                Pod *check = NULL;

                r = manifest_parse_pod(json, json_size, &check, &perr);
                pod_free(check);
                if (r < 0)
                        return error_set(err, r, NULL, "the app options give an invalid pod: %s",
                                         error_format(&perr, r));
        }
        r = fd_write_file_atomic(pod_fd, "pod", json, json_size, 0640);
        if (r >= 0)
                r = write_text_at(pod_fd, "pod-created", "");
        if (r >= 0 && symlinkat("host", pod_fd, "flavor") < 0)
                r = negative_errno();
        if (r < 0)
                return error_set(err, r, "pod", "cannot write: %s", strerror(-r));
        return 0;
}

static void remove_pod_dir(int pods_fd, PodState state, const uint8_t uuid[16]) {
        _cleanup_close_ int d = fd_open_dir_nofollow(pods_fd, pod_state_dir(state), O_PATH);
        char name[37];

        if (d < 0)
                return;
        uuid_format(uuid, name);
        (void) image_remove_tree(d, name);
}

static int prepare_common(int argc, char *argv[], const GlobalOptions *g, RunSpec *spec, int *ret_pods_fd,
                          uint8_t uuid[16], int *ret_lock_fd) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int pods = -1, lock = -1, data = -1;
        int r;

        r = parse_run_args(argc, argv, spec);
        if (r > 0)
                return -ECANCELED; /* --help */
        if (r < 0)
                return r == -ENOMEM ? -ENOMEM : -EINVAL;
        r = pod_open_pods_dir(g->dir, &pods);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot open the data directory '%s': %s\n", g->dir, strerror(-r));
                return -EIO;
        }
        r = pod_create(pods, uuid, &lock);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot create a pod directory: %s\n", strerror(-r));
                return -EIO;
        }
        data = open(g->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = data < 0 ? error_set(&err, negative_errno(), g->dir, "cannot open the data directory: %m")
                     : prepare_pod(spec, data, lock, uuid, &err);
        if (r < 0) {
                /* Bad input leaves nothing behind: the half-prepared pod goes. */
                fprintf(stderr, "nspawn-pod: cannot prepare the pod: %s\n", error_format(&err, r));
                remove_pod_dir(pods, POD_STATE_PREPARE, uuid);
                return r == -ENOMEM || r == -EIO || r == -ENOSPC ? -EIO : -EINVAL;
        }
        if (spec->uuid_file) {
                char buf[38];

                uuid_format(uuid, buf);
                strcat(buf, "\n");
                r = fd_write_file_atomic(AT_FDCWD, spec->uuid_file, buf, strlen(buf), 0644);
                if (r == -EINVAL) {
                        /* a path with directories: write it in place */
                        _cleanup_fclose_ FILE *f = fopen(spec->uuid_file, "we");
                        r = f && fputs(buf, f) >= 0 && fflush(f) == 0 ? 0 : -errno;
                }
                if (r < 0) {
                        fprintf(stderr, "nspawn-pod: cannot write '%s': %s\n", spec->uuid_file, strerror(-r));
                        remove_pod_dir(pods, POD_STATE_PREPARE, uuid);
                        return -EIO;
                }
        }
        *ret_pods_fd = TAKE_FD(pods);
        *ret_lock_fd = TAKE_FD(lock);
        return 0;
}

static int exit_code_for(int r) {
        return r == -ECANCELED ? EXIT_OK : EXIT_RUN_INVALID;
}

static volatile sig_atomic_t nspawn_pid;

/* A stop request for us is one for the pod: nspawn turns SIGTERM into an
 * orderly shutdown of the pod's systemd. */
static void forward_signal(int sig) {
        if (nspawn_pid > 0)
                (void) kill((pid_t) nspawn_pid, sig);
}

/* Makes `pgrp` the terminal's foreground group, with SIGTTOU blocked: a
 * process group that is not in the foreground may do so only that way. */
static void set_foreground(pid_t pgrp) {
        sigset_t ttou, old;

        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        (void) sigprocmask(SIG_BLOCK, &ttou, &old);
        (void) tcsetpgrp(STDIN_FILENO, pgrp);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
}

/* In the child: a process group of its own, enter the pod's cgroups, record
 * them and our pid, exec nspawn. The own process group matters: nspawn takes
 * a second SIGTERM as "kill the pod now", so a signal sent to our whole group
 * (Ctrl-C, kill -- -PGID, a service manager) must reach nspawn once, through
 * us, not twice. On a terminal nspawn becomes the foreground group, so that
 * it can read it and ^C goes to the pod's console. */
static int exec_nspawn(int lock_fd, const char *pod_dir, const char *cgname, const char *ustr,
                       const RenderResult *res, bool take_terminal) {
        _cleanup_free_ char *sub = NULL;
        char ppid[32];
        int r;

        (void) setpgid(0, 0);
        if (take_terminal)
                set_foreground(getpid());

        r = cgroup_enter_pod(cgname, &sub);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot create the cgroups of pod %s: %s\n", ustr, strerror(-r));
                return EXIT_INTERNAL;
        }
        /* rkt's order: subcgroup before ppid, so whoever sees ppid finds both. */
        (void) snprintf(ppid, sizeof(ppid), "%d\n", (int) getpid());
        if ((r = write_text_at(lock_fd, "subcgroup", sub)) < 0 || (r = write_text_at(lock_fd, "ppid", ppid)) < 0) {
                fprintf(stderr, "nspawn-pod: cannot write the pid files of pod %s: %s\n", ustr, strerror(-r));
                return EXIT_INTERNAL;
        }
        STRV_FOREACH(e, res->nspawn_env)
                (void) putenv(*e);
        /* By path: in our mount namespace, where the overlays are; the lock
         * fd was opened before it existed. */
        if (chdir(pod_dir) < 0) {
                fprintf(stderr, "nspawn-pod: cannot enter the pod directory: %m\n");
                return EXIT_INTERNAL;
        }
        /* The locked directory fd goes to nspawn: the pod runs as long as it
         * is held, and the kernel drops it when nspawn exits. */
        if (fcntl(lock_fd, F_SETFD, 0) < 0)
                return EXIT_INTERNAL;
        execv(res->nspawn_argv[0], res->nspawn_argv);
        fprintf(stderr, "nspawn-pod: cannot execute %s: %m\n", res->nspawn_argv[0]);
        return EXIT_INTERNAL;
}

/* Waits for nspawn, forwarding stop signals; its exit status is the pod's. */
static int wait_nspawn(pid_t child) {
        struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
        int status;

        nspawn_pid = child;
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return EXIT_INTERNAL;
        nspawn_pid = 0;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        /* Shell convention, so "killed by a signal" stays visible. */
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_INTERNAL;
}

/* Mounts each stored app's overlay (lower: the image store's rootfs, read
 * only; upper and work: the pod's) on its app root. The caller has entered a
 * mount namespace of our own, which nspawn inherits: the host never sees
 * these mounts, and the kernel removes them with the namespace when nspawn
 * and we are gone, even if both are killed. `s1` must have been opened in
 * that namespace: a mount cannot be moved onto a path of another one. */
static int mount_overlays(const char *data_dir, const char *ustr, int lock_fd, int s1, const Pod *pod) {
        for (size_t i = 0; i < pod->n_apps; i++) {
                const char *app = pod->apps[i].name;
                _cleanup_free_ char *idpath = NULL, *id = NULL, *lower = NULL, *upper = NULL, *work = NULL,
                                    *target_path = NULL;
                _cleanup_close_ int fs = -1, mnt = -1, target = -1, store = -1, data = -1;
                size_t size;
                int r;

                if (asprintf(&idpath, "overlay/%s/image-id", app) < 0)
                        return -ENOMEM;
                r = fd_read_file_in_root(lock_fd, idpath, 4096, &id, &size);
                if (r == -ENOENT)
                        continue; /* imported into the pod itself */
                data = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (r < 0 || data < 0 || (r = image_store_open(data, id, &store)) < 0) {
                        fprintf(stderr, "nspawn-pod: app %s: its image %s is not in the image store: %s\n", app,
                                id ? id : "?", strerror(r < 0 ? -r : errno));
                        return -ENOENT;
                }
                /* overlayfs splits lowerdir at ':' and reads '\' and ',' as
                 * escapes; our data directory is ours to choose, so refuse
                 * rather than escape. */
                if (strpbrk(data_dir, ":,\\")) {
                        fprintf(stderr, "nspawn-pod: the data directory must not contain ':', ',' or '\\'\n");
                        return -EINVAL;
                }
                if (asprintf(&lower, "%s/images/%s/rootfs", data_dir, id) < 0 ||
                    asprintf(&upper, "%s/pods/run/%s/overlay/%s/upper", data_dir, ustr, app) < 0 ||
                    asprintf(&work, "%s/pods/run/%s/overlay/%s/work", data_dir, ustr, app) < 0 ||
                    asprintf(&target_path, "opt/stage2/%s/rootfs", app) < 0)
                        return -ENOMEM;
                target = fd_open_in_root(s1, target_path, O_PATH | O_DIRECTORY, 0, true);
                if (target < 0) {
                        fprintf(stderr, "nspawn-pod: app %s: cannot open its root: %s\n", app, strerror(-target));
                        return target;
                }
                fs = fsopen("overlay", FSOPEN_CLOEXEC);
                if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
                    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0 ||
                    move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                        fprintf(stderr, "nspawn-pod: app %s: cannot mount its overlay on '%s': %m\n", app, lower);
                        return -errno;
                }
        }
        return 0;
}

/* Resolves users, renders, and runs nspawn in the pod's own cgroups. Returns
 * the pod's exit code, or 254 for our own failures. */
static int run_pod(const GlobalOptions *g, const RunSpec *spec, int pods_fd, int lock_fd, const uint8_t uuid[16],
                   PodState from) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_(pod_freep) Pod *pod = NULL;
        _cleanup_(render_result_freep) RenderResult *res = NULL;
        _cleanup_free_ RenderIds *ids = NULL;
        _cleanup_free_ char *pod_dir = NULL, *rendered = NULL, *cgname = NULL, *manifest = NULL;
        _cleanup_close_ int stage1 = -1, s1 = -1;
        Image **images = NULL;
        char ustr[37];
        bool terminal;
        pid_t child;
        size_t size;
        int r;

        uuid_format(uuid, ustr);
        r = pod_move(pods_fd, uuid, from, POD_STATE_RUN);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot move pod %s to run/: %s\n", ustr, strerror(-r));
                return EXIT_INTERNAL;
        }
        if (asprintf(&pod_dir, "%s/pods/run/%s", g->dir, ustr) < 0 ||
            asprintf(&rendered, "%s/stage1/rendered", pod_dir) < 0 || asprintf(&cgname, "nspawn-pod-%s", ustr) < 0)
                return EXIT_INTERNAL;

        r = fd_read_file_in_root(lock_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size);
        if (r >= 0)
                r = manifest_parse_pod(manifest, size, &pod, &err);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: pod %s: bad pod manifest: %s\n", ustr, error_format(&err, r));
                return EXIT_INTERNAL;
        }
        /* Pods with overlays get a mount namespace of their own, entered
         * before any fd into the stage1 is opened (see mount_overlays()). */
        if (faccessat(lock_fd, "overlay", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
            (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)) {
                fprintf(stderr, "nspawn-pod: cannot create a mount namespace: %m\n");
                r = EXIT_INTERNAL;
                goto finish;
        }
        {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/stage1", pod_dir) < 0) {
                        r = EXIT_INTERNAL;
                        goto finish;
                }
                stage1 = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        s1 = stage1 >= 0 ? fd_open_dir_nofollow(stage1, "rootfs", O_PATH) : -EBADF;
        images = calloc(pod->n_apps + 1, sizeof(Image *));
        ids = calloc(pod->n_apps + 1, sizeof(RenderIds));
        if (s1 < 0 || !images || !ids) {
                fprintf(stderr, "nspawn-pod: pod %s: stage1 root missing\n", ustr);
                r = EXIT_INTERNAL;
                goto finish;
        }
        r = mount_overlays(g->dir, ustr, lock_fd, s1, pod);
        if (r < 0) {
                r = EXIT_INTERNAL;
                goto finish;
        }
        for (size_t i = 0; i < pod->n_apps; i++) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                _cleanup_close_ int root = -1;
                const App *app;
                uid_t uid;
                gid_t gid;

                if (asprintf(&path, "opt/stage2/%s/manifest", pod->apps[i].name) < 0) {
                        r = EXIT_INTERNAL;
                        goto finish;
                }
                r = fd_read_file_in_root(s1, path, MANIFEST_SIZE_MAX, &data, &size);
                if (r >= 0)
                        r = manifest_parse_image(data, size, &images[i], &err);
                if (r < 0) {
                        fprintf(stderr, "nspawn-pod: app %s: bad image manifest: %s\n", pod->apps[i].name,
                                error_format(&err, r));
                        r = EXIT_INTERNAL;
                        goto finish;
                }
                app = pod->apps[i].app ? pod->apps[i].app : images[i]->app;
                if (!app) {
                        fprintf(stderr, "nspawn-pod: app %s: neither the pod nor the image says how to run it\n",
                                pod->apps[i].name);
                        r = EXIT_RUN_INVALID;
                        goto finish;
                }
                free(path);
                if (asprintf(&path, "opt/stage2/%s/rootfs", pod->apps[i].name) < 0) {
                        r = EXIT_INTERNAL;
                        goto finish;
                }
                root = fd_open_in_root(s1, path, O_PATH | O_DIRECTORY, 0, true);
                if (root < 0 || (r = passwd_resolve_user(root, app->user, &uid, &err)) < 0 ||
                    (r = passwd_resolve_group(root, app->group, &gid, &err)) < 0) {
                        fprintf(stderr, "nspawn-pod: app %s: %s\n", pod->apps[i].name,
                                root < 0 ? strerror(-root) : error_format(&err, r));
                        r = EXIT_RUN_INVALID;
                        goto finish;
                }
                ids[i] = (RenderIds){ uid, gid };
        }

        RenderOptions opts = {
                .pod_dir = pod_dir,
                .hostname = spec ? spec->hostname : NULL,
                /* machined needs a systemd host and its bus; detect, don't assume. */
                .register_machine = sd_booted() > 0 && access("/run/dbus/system_bus_socket", F_OK) == 0,
                .link_journal = sd_booted() > 0 && access("/var/log/journal", F_OK) == 0,
                .interactive = spec && spec->interactive,
                .debug = g->debug,
                .disable_capabilities = spec && spec->disable_caps,
                .disable_paths = spec && spec->disable_paths,
                .disable_seccomp = spec && spec->disable_seccomp,
                .ids = ids,
                .rendered_dir = rendered,
        };
        memcpy(opts.uuid, uuid, 16);
        r = render_pod(pod, images, &opts, &res, &err);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot render pod %s: %s\n", ustr, error_format(&err, r));
                r = r == -ENOMEM ? EXIT_INTERNAL : EXIT_RUN_INVALID;
                goto finish;
        }
        STRV_FOREACH(w, res->warnings)
                fprintf(stderr, "nspawn-pod: warning: %s\n", *w);
        /* Rendered anew at every start: no fsync on the start path. */
        r = fileset_write_flags(res->files, stage1, "rendered", FILESET_WRITE_NO_SYNC);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot write the units of pod %s: %s\n", ustr, strerror(-r));
                r = EXIT_INTERNAL;
                goto finish;
        }
        /* Empty volumes' backing directories. */
        for (size_t i = 0; i < pod->n_volumes; i++)
                if (pod->volumes[i].kind == VOLUME_EMPTY) {
                        _cleanup_close_ int sv = fd_mkdir_open(lock_fd, "sharedVolumes", 0755, O_PATH);
                        _cleanup_close_ int v = -1;

                        if (sv < 0 || (v = fd_mkdir_open(sv, pod->volumes[i].name, pod->volumes[i].mode, O_RDONLY)) < 0 ||
                            fchown(v, pod->volumes[i].uid, pod->volumes[i].gid) < 0 ||
                            fchmod(v, pod->volumes[i].mode) < 0) {
                                fprintf(stderr, "nspawn-pod: cannot create volume %s: %m\n", pod->volumes[i].name);
                                r = EXIT_INTERNAL;
                                goto finish;
                        }
                }

        /* nspawn runs as our child: when it is gone, we remove the pod's
         * cgroups (nspawn leaves its supervisor/payload cgroups behind) and
         * exit with its status. The child holds the same locked directory
         * fd, so the pod counts as running until both of us are gone. */
        /* Only if we are the terminal's foreground group ourselves. */
        terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
        fflush(NULL);
        child = fork();
        if (child < 0) {
                fprintf(stderr, "nspawn-pod: cannot fork: %m\n");
                r = EXIT_INTERNAL;
                goto finish;
        }
        if (child == 0)
                _exit(exec_nspawn(lock_fd, pod_dir, cgname, ustr, res, terminal));
        (void) setpgid(child, child); /* also here: whichever of us runs first */
        r = wait_nspawn(child);
        /* Lifecycle (docs/lifecycle.md): record the pod's exit code; the
         * file's mtime is its exit time. Written while we still hold the
         * lock, so `status --wait` finds it. Best effort. */
        {
                char code[16];

                (void) snprintf(code, sizeof(code), "%d\n", r);
                (void) write_text_at(lock_fd, "exit-code", code);
        }
        if (terminal)
                set_foreground(getpgrp());
        (void) cgroup_remove_pod(cgname, 5000);
        goto finish;
finish:
        for (size_t i = 0; images && i < pod->n_apps; i++)
                image_free(images[i]);
        free(images);
        return r;
}

int verb_prepare(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = {};
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        char ustr[37];
        int r;

        r = prepare_common(argc, argv, g, &spec, &pods, uuid, &lock);
        if (r < 0)
                return exit_code_for(r);
        /* A prepared pod is kept for later: make it durable once, as a whole,
         * instead of one fsync per file while preparing. */
        if (syncfs(lock) < 0) {
                fprintf(stderr, "nspawn-pod: cannot sync the prepared pod: %m\n");
                remove_pod_dir(pods, POD_STATE_PREPARE, uuid);
                return EXIT_INTERNAL;
        }
        r = pod_move(pods, uuid, POD_STATE_PREPARE, POD_STATE_PREPARED);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod: cannot move the pod to prepared/: %s\n", strerror(-r));
                remove_pod_dir(pods, POD_STATE_PREPARE, uuid);
                return EXIT_INTERNAL;
        }
        printf("%s\n", uuid_format(uuid, ustr));
        return EXIT_OK;
}

int verb_run(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = {};
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        int r;

        r = prepare_common(argc, argv, g, &spec, &pods, uuid, &lock);
        if (r < 0)
                return exit_code_for(r);
        return run_pod(g, &spec, pods, lock, uuid, POD_STATE_PREPARE);
}

int verb_run_prepared(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = {};
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        int r, i;

        /* Only pod-level options apply: the apps were fixed at prepare time. */
        for (i = 1; i < argc; i++) {
                const char *v;

                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        fputs(run_usage_text, stdout);
                        return EXIT_OK;
                }
                if ((r = take_value(argv, argc, &i, "--hostname", &spec.hostname)) != 0) {
                        if (r < 0)
                                return EXIT_RUN_INVALID;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--insecure-options", &v)) != 0) {
                        if (r < 0 || parse_insecure(&spec, v) < 0)
                                return EXIT_RUN_INVALID;
                        continue;
                }
                if (strcmp(argv[i], "--interactive") == 0) {
                        spec.interactive = true;
                        continue;
                }
                break;
        }
        if (i + 1 != argc) {
                fprintf(stderr, "nspawn-pod run-prepared: expected exactly one UUID; see --help\n");
                return EXIT_RUN_INVALID;
        }
        if (uuid_parse(argv[i], uuid) < 0) {
                fprintf(stderr, "nspawn-pod run-prepared: \"%s\" is not a pod UUID\n", argv[i]);
                return EXIT_RUN_INVALID;
        }
        r = pod_open_pods_dir(g->dir, &pods);
        if (r >= 0)
                r = pod_open(pods, uuid, POD_STATE_PREPARED, &lock);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod run-prepared: no prepared pod %s: %s\n", argv[i], strerror(-r));
                return EXIT_RUN_INVALID;
        }
        r = pod_lock(lock);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod run-prepared: pod %s is being started by someone else\n", argv[i]);
                return EXIT_RUN_INVALID;
        }
        return run_pod(g, &spec, pods, lock, uuid, POD_STATE_PREPARED);
}
