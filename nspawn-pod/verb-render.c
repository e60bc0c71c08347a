/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "bind-mount.h"
#include "idmap.h"
#include "log.h"
#include "error.h"
#include "fileset.h"
#include "manifest.h"
#include "names.h"
#include "pod-run.h"
#include "render.h"
#include "strbuf.h"
#include "strv.h"
#include "verbs.h"

static void render_usage(FILE *f) {
        fputs("Usage: nspawn-pod render MANIFEST [OPTIONS...]\n"
              "\n"
              "Translate a pod manifest into the systemd units, environment files and\n"
              "systemd-nspawn command line of the pod, without side effects. Prints them,\n"
              "or with -o writes them into a new pod directory the way 'run' would.\n"
              "\n"
              "  --image-manifest=APP=FILE  image manifest of app APP (needed when the pod\n"
              "                             manifest has no \"app\" section for it); repeatable\n"
              "  -o, --output=DIR           write DIR/stage1/rootfs/…, DIR/nspawn.argv and\n"
              "                             DIR/nspawn.env (NUL-separated); DIR must not exist\n"
              "                             or be empty; all of it is written, or nothing\n"
              "  --uuid=UUID                the pod's UUID (default: a random one)\n"
              "  --pod-dir=DIR              the pod directory the argv refers to\n"
              "                             (default /var/lib/nspawn-pod/pods/run/UUID)\n"
              "  --hostname=NAME            pod hostname (default: the machine name)\n"
              "  --register=yes|no          register with systemd-machined (default no)\n"
              "  --link-journal=yes|no      link the pod journal into the host's (default no)\n"
              "  --interactive              give the single app the console\n"
              "  --net=host|none|NETWORKS   the host's network, loopback only, or CNI networks\n"
              "                             (default, as run's: the namespace the run makes,\n"
              "                             /run/netns/nspawn-pod-UUID; docs/networks.md)\n"
              "  --ipc=private|parent       an IPC namespace of the pod's own (default), or the\n"
              "                             host's\n"
              "  --machine-prefix=PREFIX    machine name PREFIX-UUID (default nspawn-pod; rkt's\n"
              "                             stage0 runs pods as rkt-UUID)\n"
              "  --disable-capabilities     apps keep every capability\n"
              "  --disable-paths            no /proc, /sys protection, no device policy\n"
              "  --disable-seccomp          no system call filters\n"
              "  --cgroup-layout=host|unified|v1\n"
              "                             where the memory and cpu controllers are: as on\n"
              "                             this host (default), in cgroup2, or in cgroup v1\n"
              "                             hierarchies (apps with limits then join them\n"
              "                             through app-stdio: docs/resources.md)\n"
              "  --private-users=SHIFT[:RANGE]\n"
              "                             a user namespace whose uid 0 is the host's SHIFT, as\n"
              "                             run --private-users makes it (docs/security.md)\n"
              "  --nspawn-binds             volumes as systemd-nspawn --bind= arguments, for\n"
              "                             booting the output with plain systemd-nspawn\n"
              "                             (run mounts them itself: docs/volumes.md)\n"
              "  -h, --help                 show this help\n"
              "\n"
              "MANIFEST may be '-' for standard input. Exit status: 0 rendered, 1 invalid\n"
              "input (the message names the JSON path), 2 usage, 254 internal error.\n",
              f);
}

static int exit_for(int r) {
        return r == -ENOMEM || r == -EIO || r == -ENOSPC ? EXIT_INTERNAL : EXIT_INVALID;
}

static int load(const char *path, ManifestKind kind, void **ret) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        int r;

        r = manifest_load_file(path, kind, ret, &err);
        if (r < 0) {
                log_error("%s manifest '%s': %s", kind == MANIFEST_POD ? "pod" : "image", path,
                          error_format(&err, r));
                return manifest_load_exit_code(r);
        }
        return EXIT_OK;
}

/* One argv word per line; bytes that would break the line-per-word reading
 * are shown C-style, so what is printed is unambiguous. */
static void print_word(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", stdout);
                else if (*p == '\n')
                        fputs("\\n", stdout);
                else if (*p < 0x20 || *p == 0x7f)
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
        }
        putchar('\n');
}

/* A word of a line of fields: spaces and bytes that would break the line
 * are shown C-style. */
static void print_field(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", stdout);
                else if (*p <= ' ' || *p == 0x7f)
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
        }
}

static void print_limit_fields(const CgroupLimits *l) {
        if (l->has_memory)
                printf(" memory=%" PRIu64, l->memory);
        if (l->has_cpu_quota)
                printf(" cpu=%" PRIu64 "m", l->cpu_milli);
        if (l->has_cpu_shares)
                printf(" cpu-shares=%" PRIu64 " cpu-weight=%" PRIu64, l->cpu_shares, l->cpu_weight);
        if (l->memory_accounted && !l->has_memory)
                printf(" memory-cgroup=own"); /* accounted apart, under the pod's limit */
}

/* The limits the run enforces (docs/resources.md): the pod's in its
 * cgroup, the apps' in theirs. */
static void print_limits(const Pod *pod, const RenderResult *res) {
        bool any = cgroup_limits_mask(&res->pod_limits) != 0;

        for (size_t i = 0; i < res->n_app_limits; i++)
                any = any || cgroup_limits_own_mask(&res->app_limits[i]) != 0;
        if (!any)
                return;
        printf("==> resource limits <==\n");
        if (cgroup_limits_mask(&res->pod_limits)) {
                printf("pod");
                print_limit_fields(&res->pod_limits);
                putchar('\n');
        }
        for (size_t i = 0; i < res->n_app_limits; i++)
                if (cgroup_limits_own_mask(&res->app_limits[i])) {
                        printf("app=");
                        print_field(pod->apps[i].name);
                        print_limit_fields(&res->app_limits[i]);
                        putchar('\n');
                }
        putchar('\n');
}

static void print_result(const Pod *pod, const RenderResult *res) {
        for (size_t i = 0; i < res->files->n_entries; i++) {
                const FileSetEntry *e = &res->files->entries[i];

                switch (e->kind) {
                case FILESET_FILE:
                        printf("==> %s (%04o) <==\n", e->path, (unsigned) e->mode);
                        fwrite(e->data, 1, e->size, stdout);
                        if (e->size > 0 && e->data[e->size - 1] != '\n')
                                putchar('\n');
                        putchar('\n');
                        break;
                case FILESET_SYMLINK:
                        printf("==> %s -> %s <==\n\n", e->path, e->data);
                        break;
                case FILESET_DIRECTORY:
                        printf("==> %s/ (%04o) <==\n\n", e->path, (unsigned) e->mode);
                        break;
                default:
                        abort();
                }
        }
        if (res->n_mounts > 0) {
                /* What run mounts before nspawn starts (docs/volumes.md), one
                 * mount per line: app, target, source, options. */
                printf("==> volume mounts <==\n");
                for (size_t i = 0; i < res->n_mounts; i++) {
                        const RenderMount *m = &res->mounts[i];

                        printf("app=");
                        print_field(m->app);
                        printf(" target=");
                        print_field(m->target);
                        printf(" volume=");
                        print_field(m->volume);
                        if (m->empty)
                                printf(" kind=empty mode=%04o uid=%u gid=%u", (unsigned) m->mode, (unsigned) m->uid,
                                       (unsigned) m->gid);
                        else {
                                printf(" kind=host source=");
                                print_field(m->source);
                        }
                        printf(" %s %s%s%s\n", m->read_only ? "ro" : "rw", m->recursive ? "rbind" : "norbind",
                               m->copy_up ? " copy-up" : "", m->device ? " device" : "");
                }
                putchar('\n');
        }
        print_limits(pod, res);
        printf("==> nspawn environment <==\n");
        STRV_FOREACH(s, res->nspawn_env)
                print_word(*s);
        if (res->netns_join) {
                printf("\n==> nspawn started in network namespace <==\n");
                print_word(res->netns_join);
        }
        printf("\n==> nspawn argv <==\n");
        STRV_FOREACH(s, res->nspawn_argv)
                print_word(*s);
}

static int add_nul_list(FileSet *fs, const char *path, char *const *l) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

        STRV_FOREACH(s, l)
                strbuf_append_n(&b, *s, strlen(*s) + 1);
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        return fileset_add_file(fs, path, 0644, b.data ? b.data : "", b.len);
}

static int write_result(const RenderResult *res, const char *dir) {
        _cleanup_(fileset_freep) FileSet *fs = fileset_new();
        int r;

        if (!fs)
                return -ENOMEM;
        for (size_t i = 0; i < res->files->n_entries; i++) {
                const FileSetEntry *e = &res->files->entries[i];
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "stage1/rootfs/%s", e->path) < 0)
                        return -ENOMEM;
                switch (e->kind) {
                case FILESET_FILE:
                        r = fileset_add_file(fs, p, e->mode, e->data, e->size);
                        break;
                case FILESET_SYMLINK:
                        r = fileset_add_symlink(fs, p, e->data);
                        break;
                case FILESET_DIRECTORY:
                        r = fileset_add_directory(fs, p, e->mode);
                        break;
                default:
                        abort();
                }
                if (r < 0)
                        return r;
        }
        if ((r = add_nul_list(fs, "nspawn.argv", res->nspawn_argv)) < 0 ||
            (r = add_nul_list(fs, "nspawn.env", res->nspawn_env)) < 0)
                return r;

        /* The writer works below a directory fd, on one path component. */
        _cleanup_free_ char *copy = strdup(dir);
        _cleanup_close_ int parent = -1;
        char *slash, *base;

        if (!copy)
                return -ENOMEM;
        for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
                copy[n - 1] = 0;
        slash = strrchr(copy, '/');
        if (!slash) {
                base = copy;
                parent = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
                base = slash + 1;
                *slash = 0;
                parent = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (parent < 0)
                return negative_errno();
        if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return -EINVAL;
        return fileset_write(fs, parent, base);
}

int verb_render(int argc, char *argv[], const GlobalOptions *g) {
        enum {
                ARG_IMAGE = 0x100,
                ARG_UUID,
                ARG_POD_DIR,
                ARG_HOSTNAME,
                ARG_REGISTER,
                ARG_LINK_JOURNAL,
                ARG_INTERACTIVE,
                ARG_DISABLE_CAPS,
                ARG_DISABLE_PATHS,
                ARG_DISABLE_SECCOMP,
                ARG_NET,
                ARG_IPC,
                ARG_MACHINE_PREFIX,
                ARG_NSPAWN_BINDS,
                ARG_CGROUP_LAYOUT,
                ARG_PRIVATE_USERS,
        };
        static const struct option options[] = {
                { "image-manifest", required_argument, NULL, ARG_IMAGE },
                { "output", required_argument, NULL, 'o' },
                { "uuid", required_argument, NULL, ARG_UUID },
                { "pod-dir", required_argument, NULL, ARG_POD_DIR },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "register", required_argument, NULL, ARG_REGISTER },
                { "link-journal", required_argument, NULL, ARG_LINK_JOURNAL },
                { "interactive", no_argument, NULL, ARG_INTERACTIVE },
                { "disable-capabilities", no_argument, NULL, ARG_DISABLE_CAPS },
                { "disable-paths", no_argument, NULL, ARG_DISABLE_PATHS },
                { "disable-seccomp", no_argument, NULL, ARG_DISABLE_SECCOMP },
                { "net", required_argument, NULL, ARG_NET },
                { "ipc", required_argument, NULL, ARG_IPC },
                { "machine-prefix", required_argument, NULL, ARG_MACHINE_PREFIX },
                { "nspawn-binds", no_argument, NULL, ARG_NSPAWN_BINDS },
                { "cgroup-layout", required_argument, NULL, ARG_CGROUP_LAYOUT },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_strv_free_ char **image_args = NULL, **device_sources = NULL;
        _cleanup_free_ char *netns = NULL;
        PodNet net = POD_NET_CNI;
        _cleanup_(pod_freep) Pod *pod = NULL;
        _cleanup_(render_result_freep) RenderResult *res = NULL;
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        Image **images = NULL;
        /* The printk timestamp is hidden as on any host that has one (run
         * looks: docs/logs.md). */
        RenderOptions opts = { .debug = g->debug, .hide_printk_time = true };
        const char *output = NULL, *layout = "host";
        bool have_uuid = false;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case ARG_IMAGE:
                        if (!strchr(optarg, '=')) {
                                log_error("--image-manifest expects APP=FILE, not \"%s\"",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&image_args, optarg) < 0)
                                return EXIT_INTERNAL;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case ARG_UUID:
                        if (uuid_parse(optarg, opts.uuid) < 0) {
                                log_error("\"%s\" is not a valid UUID", optarg);
                                return EXIT_USAGE;
                        }
                        have_uuid = true;
                        break;
                case ARG_POD_DIR:
                        if (!path_is_absolute(optarg)) {
                                log_error("--pod-dir must be an absolute path");
                                return EXIT_USAGE;
                        }
                        opts.pod_dir = optarg;
                        break;
                case ARG_HOSTNAME:
                        opts.hostname = optarg;
                        break;
                case ARG_REGISTER:
                        if (parse_bool_option("--register", optarg, &opts.register_machine) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_LINK_JOURNAL:
                        if (parse_bool_option("--link-journal", optarg, &opts.link_journal) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_INTERACTIVE:
                        opts.interactive = true;
                        break;
                case ARG_DISABLE_CAPS:
                        opts.disable_capabilities = true;
                        break;
                case ARG_DISABLE_PATHS:
                        opts.disable_paths = true;
                        break;
                case ARG_DISABLE_SECCOMP:
                        opts.disable_seccomp = true;
                        break;
                case ARG_NET:
                        /* Which networks does not change the units: only whether
                         * the pod joins a namespace the run made (CNI), gets one
                         * of loopback only, or keeps the host's. */
                        net = strcmp(optarg, "host") == 0 ? POD_NET_HOST
                              : strcmp(optarg, "none") == 0 ? POD_NET_NONE
                                                             : POD_NET_CNI;
                        break;
                case ARG_IPC:
                        if (strcmp(optarg, "private") != 0 && strcmp(optarg, "parent") != 0) {
                                log_error("--ipc must be private or parent, not \"%s\"", optarg);
                                return EXIT_USAGE;
                        }
                        opts.share_ipc = strcmp(optarg, "parent") == 0;
                        break;
                case ARG_MACHINE_PREFIX:
                        /* A machine name is a hostname: "<prefix>-<uuid>" must stay one. */
                        if (!*optarg || strlen(optarg) > 26 || optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789-")] ||
                            optarg[0] == '-') {
                                log_error("--machine-prefix must be 1-26 of [a-z0-9-], not starting with '-'");
                                return EXIT_USAGE;
                        }
                        opts.machine_prefix = optarg;
                        break;
                case ARG_NSPAWN_BINDS:
                        opts.nspawn_binds = true;
                        break;
                case ARG_CGROUP_LAYOUT:
                        if (strcmp(optarg, "host") != 0 && strcmp(optarg, "unified") != 0 && strcmp(optarg, "v1") != 0) {
                                log_error("--cgroup-layout must be host, unified or v1, not \"%s\"", optarg);
                                return EXIT_USAGE;
                        }
                        layout = optarg;
                        break;
                case ARG_PRIVATE_USERS:
                        if (idmap_parse(optarg, &opts.uid_shift, &opts.uid_range) < 0) {
                                log_error("--private-users must be SHIFT[:RANGE], multiples of 65536, RANGE no larger "
                                          "than SHIFT, not \"%s\"",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        render_usage(stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }

        if (optind + 1 != argc) {
                log_error("expected exactly one MANIFEST argument; see --help");
                return EXIT_USAGE;
        }
        if (!have_uuid) {
                sd_id128_t id;

                r = sd_id128_randomize(&id);
                if (r < 0) {
                        log_error("cannot generate a UUID: %s", strerror(-r));
                        return EXIT_INTERNAL;
                }
                memcpy(opts.uuid, id.bytes, 16);
        }

        ret = load(argv[optind], MANIFEST_POD, (void **) &pod);
        if (ret != EXIT_OK)
                return ret;

        images = calloc(pod->n_apps + 1, sizeof(Image *));
        if (!images)
                return EXIT_INTERNAL;
        STRV_FOREACH(a, image_args) {
                _cleanup_free_ char *name = strndup(*a, strcspn(*a, "="));
                const char *file = strchr(*a, '=') + 1;
                size_t i;

                if (!name) {
                        ret = EXIT_INTERNAL;
                        goto finish;
                }
                for (i = 0; i < pod->n_apps; i++)
                        if (strcmp(pod->apps[i].name, name) == 0)
                                break;
                if (i == pod->n_apps) {
                        log_error("--image-manifest: the pod has no app named \"%s\"",
                                  name);
                        ret = EXIT_USAGE;
                        goto finish;
                }
                if (images[i]) {
                        log_error("--image-manifest given twice for app \"%s\"", name);
                        ret = EXIT_USAGE;
                        goto finish;
                }
                ret = load(file, MANIFEST_IMAGE, (void **) &images[i]);
                if (ret != EXIT_OK)
                        goto finish;
        }

        /* Device volumes are told apart as the run tells them (its host's
         * view of the sources). */
        r = bind_mount_device_sources(pod, &device_sources);
        if (r < 0) {
                ret = EXIT_INTERNAL;
                goto finish;
        }
        opts.device_sources = device_sources;
        if (strcmp(layout, "v1") == 0)
                opts.cgroup_v1_mask = CGROUP_CTRL_MASK(CGROUP_CTRL_MEMORY) | CGROUP_CTRL_MASK(CGROUP_CTRL_CPU);
        else if (strcmp(layout, "host") == 0) {
                CgroupPlace places[_CGROUP_CTRL_MAX];

                /* As the run will see it (lib/cgroup-limits.h). */
                if (cgroup_places_detect(places) >= 0)
                        opts.cgroup_v1_mask = cgroup_places_v1_mask(places);
        }
        opts.private_network = net == POD_NET_NONE;
        if (net == POD_NET_CNI) {
                char u[37];

                if (asprintf(&netns, "/run/netns/nspawn-pod-%s", uuid_format(opts.uuid, u)) < 0) {
                        ret = EXIT_INTERNAL;
                        goto finish;
                }
                opts.netns_path = netns;
        }
        r = render_pod(pod, images, &opts, &res, &err);
        if (r < 0) {
                log_error("cannot render pod '%s': %s", argv[optind], error_format(&err, r));
                ret = exit_for(r);
                goto finish;
        }
        STRV_FOREACH(w, res->warnings)
                log_error("warning: %s", *w);

        if (output) {
                r = write_result(res, output);
                if (r < 0) {
                        bool bad_arg = IN_SET(r, -ENOTEMPTY, -EEXIST, -EINVAL, -ENOENT, -ENOTDIR);

                        log_error("cannot write '%s': %s; nothing was written", output,
                                  r == -ENOTEMPTY || r == -EEXIST ? "it exists and is not an empty directory"
                                  : r == -EINVAL                  ? "not a usable directory name"
                                  : strerror(-r));
                        ret = bad_arg ? EXIT_INVALID : EXIT_INTERNAL;
                        goto finish;
                }
        } else {
                print_result(pod, res);
                if (fflush(stdout) != 0 || ferror(stdout)) {
                        log_error("cannot write to standard output: %m");
                        ret = EXIT_INTERNAL;
                        goto finish;
                }
        }
        ret = EXIT_OK;
finish:
        for (size_t i = 0; pod && i < pod->n_apps; i++)
                image_free(images[i]);
        free(images);
        return ret;
}
