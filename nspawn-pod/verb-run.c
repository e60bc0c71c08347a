/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prepare, run-prepared, run: the command line of the standalone stage0.
 * What they do is lib/pod-prepare.h and lib/pod-run.h, the same code the
 * stage1 run entrypoint (flavors/host/init.c) runs under rkt's stage0.
 *
 *   prepare       creates pods/prepare/<uuid> (locked), prepares it, moves it
 *                 to pods/prepared/ and prints its UUID.
 *   run-prepared  moves a prepared pod to pods/run/ keeping the lock and runs it.
 *   run           both, without the stop in prepared/.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "idmap.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "pod-net.h"
#include "pod-prepare.h"
#include "pod-run.h"
#include "pod-util.h"
#include "pod.h"
#include "strv.h"
#include "verbs.h"

typedef struct RunSpec {
        const char *pod_manifest; /* --pod-manifest */
        const char *hostname;
        const char *uuid_file;    /* --uuid-file-save */
        const char *stage1_path;  /* --stage1-path */
        const char *journal_max_use; /* --journal-max-use */
        char **set_env;           /* --set-env=NAME=VALUE, for every app */
        char **env_file;          /* --set-env-file=FILE's NAME=VALUE lines */
        char **annotations;       /* --annotation=NAME=VALUE */
        bool inherit_env;         /* --inherit-env */
        bool have_ipc;            /* --ipc given (run, run-prepared only) */
        bool ipc_parent;          /* --ipc=parent: the host's IPC namespace */
        bool private_users;       /* --private-users (run, run-prepared only) */
        uint32_t uid_shift, uid_range; /* its SHIFT:RANGE; 0: pick */
        const char *help;         /* the --help text of the verb */
        bool interactive;
        bool disable_caps, disable_paths, disable_seccomp;
        PodPrepareApp *apps;
        size_t n_apps;
        Volume *volumes;          /* --volume= */
        size_t n_volumes;
        ExposedPort *ports;       /* --port= */
        size_t n_ports;
        char **networks;          /* --net= (run, run-prepared) */
        char *net_conf_dir;       /* --local-config=DIR: DIR/net.d */
        char **dns, **dns_search, **dns_opt, **hosts_entries; /* --dns=, … (run, run-prepared) */
        const char *dns_domain;
} RunSpec;

static void run_spec_done(RunSpec *s) {
        for (size_t i = 0; i < s->n_apps; i++) {
                strv_free(s->apps[i].environment);
                strv_free(s->apps[i].isolators);
                strv_free(s->apps[i].user_annotations);
                strv_free(s->apps[i].user_labels);
                strv_free(s->apps[i].args);
                for (size_t j = 0; j < s->apps[i].n_mounts; j++)
                        pod_prepare_mount_clear((Mount *) &s->apps[i].mounts[j]);
                free((Mount *) s->apps[i].mounts);
        }
        free(s->apps);
        for (size_t i = 0; i < s->n_volumes; i++)
                pod_prepare_volume_clear(&s->volumes[i]);
        free(s->volumes);
        for (size_t i = 0; i < s->n_ports; i++)
                pod_prepare_port_clear(&s->ports[i]);
        free(s->ports);
        strv_free(s->networks);
        free(s->net_conf_dir);
        strv_free(s->dns);
        strv_free(s->dns_search);
        strv_free(s->dns_opt);
        strv_free(s->hosts_entries);
        strv_free(s->set_env);
        strv_free(s->env_file);
        strv_free(s->annotations);
}

#define POD_OPTIONS_TEXT \
        "  --pod-manifest=FILE      use this pod manifest; the images follow in the order of\n" \
        "                           its apps\n" \
        "  --set-env=NAME=VALUE     environment variable for every app; repeatable\n" \
        "  --set-env-file=FILE      NAME=VALUE lines (blank and '#' lines skipped) for every\n" \
        "                           app, under --set-env\n" \
        "  --inherit-env            every app gets this command's environment, for names it\n" \
        "                           does not set itself (under --set-env-file)\n" \
        "  --annotation=NAME=VALUE  an annotation of the pod; repeatable\n" \
        "  --uuid-file-save=FILE    write the pod's UUID to FILE\n" \
        "  --stage1-path=FILE       the stage1 image (default: the stage1-host.aci built or\n" \
        "                           installed with nspawn-pod)\n" \
        "  --port=NAME:[HOSTIP:]HOSTPORT  publish the app port NAME on the host\n" \
        "  --volume=NAME,kind=host|empty[,source=PATH][,readOnly=BOOL][,recursive=BOOL]\n" \
        "           [,mode=0755][,uid=N][,gid=N]\n" \
        "                           a volume the apps may mount (rkt's syntax): a host\n" \
        "                           directory, file or device node, or a new empty\n" \
        "                           directory; repeatable (docs/volumes.md)\n" \
        "  --journal-max-use=SIZE   the most the pod's journal takes on disk (default 128Mi;\n" \
        "                           4Mi to 1Ti: 64Mi, 1Gi, 500M); docs/logs.md\n"

#define START_OPTIONS_TEXT \
        "  --hostname=NAME          pod hostname (default nspawn-pod-<uuid>)\n" \
        "  --interactive            the (single) app gets the terminal\n" \
        "  --ipc=auto|private|parent  an IPC namespace of the pod's own (auto, private:\n" \
        "                           the default), or the host's\n" \
        "  --private-users[=pick|SHIFT[:RANGE]]\n" \
        "                           a user namespace: the pod's uid 0 is the host's\n" \
        "                           SHIFT (pick: a free range of 65536; SHIFT and RANGE\n" \
        "                           multiples of 65536); the image store is idmapped,\n" \
        "                           never chowned (docs/security.md)\n" \
        "  --insecure-options=LIST  capabilities, paths, seccomp, all-run, all: turn\n" \
        "                           protections off; rkt's fetch-time ones (none, image,\n" \
        "                           tls, ondisk, http, pubkey, all-fetch) are accepted and\n" \
        "                           change nothing here (docs/run.md)\n" \
        "  --net=LIST               the pod's networks: host, none (loopback only), or CNI\n" \
        "                           networks: default (the default: 172.16.28.0/24,\n" \
        "                           masqueraded), default-restricted (no route out), or\n" \
        "                           named ones from /etc/nspawn-pod/net.d, each\n" \
        "                           NAME[:K=V;...]; repeatable (docs/networks.md)\n" \
        "  --local-config=DIR       user CNI network configurations in DIR/net.d (default\n" \
        "                           /etc/nspawn-pod)\n" \
        "  --dns=IP|host|none       the pods' nameservers (repeatable), the host's, or\n" \
        "                           none (the images' own); default: the first network's\n" \
        "                           DNS, else the host's\n" \
        "  --dns-search=DOMAIN --dns-opt=OPTION --dns-domain=DOMAIN  resolv.conf's search,\n" \
        "                           options and domain (repeatable but the domain)\n" \
        "  --hosts-entry=IP=HOSTNAME[,…]|host  /etc/hosts lines for every app (over the\n" \
        "                           image's), or the host's /etc/hosts\n"

#define APP_OPTIONS_TEXT \
        "App options (after an image, for that app):\n" \
        "  --name=NAME              app name (default: from the image name)\n" \
        "  --exec=PATH              run PATH (absolute) instead of the image's exec\n" \
        "  --user=USER --group=GROUP  name, number, or /path (its owner) in the image\n" \
        "  --supplementary-gids=N,N  the app's supplementary groups (replace the image's)\n" \
        "  --working-dir=DIR        working directory\n" \
        "  --environment=NAME=VALUE environment variable; repeatable\n" \
        "  --mount=volume=NAME,target=PATH  mount the volume at PATH in the app (PATH is\n" \
        "                           resolved inside the app; created if missing); repeatable\n" \
        "  --readonly-rootfs[=BOOL] the app's root file system is read-only (its volumes\n" \
        "                           keep their own mode)\n" \
        "  --memory=QUANTITY        memory limit (64Mi, 1G, 500M; docs/resources.md)\n" \
        "  --cpu=QUANTITY           CPU limit (500m = half a CPU, 2 = two CPUs)\n" \
        "  --cpu-shares=N           relative CPU weight, 2..262144 (1024: the default)\n" \
        "  --oom-score-adj=N        the app's OOM score adjustment, -1000..1000\n" \
        "  --caps-retain=CAP,...    exactly these capabilities (bounding set)\n" \
        "  --caps-remove=CAP,...    the default capabilities but these\n" \
        "  --seccomp=mode=retain|remove,[errno=ENAME,]SYSCALL,...  system call filter:\n" \
        "                           only these, or all but these; names, or sets such as\n" \
        "                           @rkt/default-whitelist, @docker/default-whitelist\n" \
        "                           (each of these replaces the image's isolator of its kind)\n" \
        "  --user-annotation=NAME=VALUE --user-label=NAME=VALUE  the app's user annotations\n" \
        "                           and labels (over the image's); repeatable\n" \
        "  --stdin=null|tty|stream --stdout=null|log|tty|stream --stderr=…  the app's I/O\n" \
        "                           (default: stdin null, output to the pod's journal;\n" \
        "                           tty and stream need rkt attach: refused, docs/run.md)\n" \
        "  -- ARGS...               arguments, replacing the image's (until ---)\n" \
        "  ---                      the next image\n"

static const char run_usage_text[] =
        "Usage: nspawn-pod [--dir=DIR] run [OPTIONS] IMAGE [APP-OPTIONS] [-- ARGS...] [--- IMAGE ...]\n"
        "       nspawn-pod [--dir=DIR] run [OPTIONS] --pod-manifest=FILE IMAGE [--- IMAGE ...]\n"
        "\n"
        "Prepare and run a pod of one or more apps, each from an appc image: an ACI file\n"
        "(tar, optionally gzip/bzip2/xz compressed), a directory with manifest and rootfs/,\n"
        "or the name of an image already in the store (example.com/app[:VERSION]). The\n"
        "exit status is the pod's (docs/exit-codes.md). 'prepare' and 'run-prepared' do\n"
        "the two halves (see their --help).\n"
        "\n"
        "Options (before the first image):\n" POD_OPTIONS_TEXT START_OPTIONS_TEXT
        "  -h, --help               show this help\n"
        "\n" APP_OPTIONS_TEXT
        "\n"
        "Pod directories live in DIR/pods (default /var/lib/nspawn-pod). Exit status of\n"
        "nspawn-pod's own failures: 254.\n";

static const char prepare_usage_text[] =
        "Usage: nspawn-pod [--dir=DIR] prepare [OPTIONS] IMAGE [APP-OPTIONS] [-- ARGS...] [--- IMAGE ...]\n"
        "       nspawn-pod [--dir=DIR] prepare [OPTIONS] --pod-manifest=FILE IMAGE [--- IMAGE ...]\n"
        "\n"
        "Prepare a pod without running it: import the images (ACI files, image directories\n"
        "or names of stored images), write the pod manifest, and print the pod's UUID. Start\n"
        "it later with 'nspawn-pod run-prepared UUID'. The options of the start itself\n"
        "(--hostname, --interactive, --ipc, --insecure-options, --net, --dns…) belong to\n"
        "run-prepared and are refused here, rather than dropped.\n"
        "\n"
        "Options (before the first image):\n" POD_OPTIONS_TEXT
        "  -h, --help               show this help\n"
        "\n" APP_OPTIONS_TEXT
        "\n"
        "Exit status: 0 prepared (the UUID on stdout), 254 on failure (nothing is left).\n";

static const char run_prepared_usage_text[] =
        "Usage: nspawn-pod [--dir=DIR] run-prepared [OPTIONS] UUID\n"
        "\n"
        "Run a pod made by 'prepare' (UUID, or a unique prefix of at least 4 hex digits).\n"
        "The apps were fixed at prepare time; these options are the start's. The exit\n"
        "status is the pod's (docs/exit-codes.md), 254 for nspawn-pod's own failures.\n"
        "\n"
        "Options:\n" START_OPTIONS_TEXT
        "  -h, --help               show this help\n";

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
                log_error("option %s needs a value", opt);
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
                /* rkt's fetch-time ones: nothing here verifies signatures,
                 * fetches over the network or checks the store on disk, so
                 * they are accepted and change nothing (docs/run.md). */
                else if (strcmp(w, "none") == 0 || strcmp(w, "image") == 0 || strcmp(w, "tls") == 0 ||
                         strcmp(w, "ondisk") == 0 || strcmp(w, "http") == 0 || strcmp(w, "pubkey") == 0 ||
                         strcmp(w, "all-fetch") == 0)
                        ;
                else {
                        log_error("unknown --insecure-options value \"%s\" (rkt's: none, image, tls, ondisk, "
                                  "http, pubkey, capabilities, paths, seccomp, all-fetch, all-run, all)",
                                  w);
                        return -EINVAL;
                }
        }
        return 0;
}

/* --local-config=DIR (rkt's): user CNI configurations in DIR/net.d instead
 * of POD_NET_USER_CONF_DIR. */
static int set_local_config(RunSpec *s, const char *dir) {
        if (dir[0] != '/') {
                log_error("--local-config=%s: not an absolute path", dir);
                return -EINVAL;
        }
        free(s->net_conf_dir);
        return asprintf(&s->net_conf_dir, "%s/net.d", dir) < 0 ? -ENOMEM : 0;
}

/* The pod options of run and run-prepared about networks and DNS; 1 when
 * argv[*i] was one (taken), 0 when not, -errno. */
static int take_net_option(char **argv, int argc, int *i, RunSpec *s) {
        const char *v;
        int r;

        if ((r = take_value(argv, argc, i, "--net", &v)) != 0)
                return r < 0 ? r : pod_run_net_list_add(&s->networks, v) < 0 ? -ENOMEM : 1;
        if ((r = take_value(argv, argc, i, "--local-config", &v)) != 0)
                return r < 0 ? r : set_local_config(s, v) < 0 ? -EINVAL : 1;
        if ((r = take_value(argv, argc, i, "--dns", &v)) != 0) {
                if (r < 0)
                        return r;
                if (strcmp(v, "host") != 0 && strcmp(v, "none") != 0 && !pod_run_dns_word_is_valid(v, true)) {
                        log_error("--dns=%s: an IP address, host or none", v);
                        return -EINVAL;
                }
                return strv_extend(&s->dns, v) < 0 ? -ENOMEM : 1;
        }
        for (size_t k = 0; k < 3; k++) {
                static const char *const names[] = { "--dns-search", "--dns-opt", "--dns-domain" };

                if ((r = take_value(argv, argc, i, names[k], &v)) == 0)
                        continue;
                if (r < 0)
                        return r;
                if (!pod_run_dns_word_is_valid(v, false)) {
                        log_error("%s=%s: one word of printable characters, no '#' or ';'", names[k], v);
                        return -EINVAL;
                }
                if (k == 2)
                        s->dns_domain = v;
                else if (strv_extend(k == 0 ? &s->dns_search : &s->dns_opt, v) < 0)
                        return -ENOMEM;
                return 1;
        }
        if ((r = take_value(argv, argc, i, "--hosts-entry", &v)) != 0) {
                _cleanup_free_ char *copy = NULL;
                char *save = NULL;

                if (r < 0)
                        return r;
                if (strcmp(v, "host") == 0)
                        return strv_extend(&s->hosts_entries, "host") < 0 ? -ENOMEM : 1;
                copy = strdup(v);
                if (!copy)
                        return -ENOMEM;
                /* rkt's: IP=NAME[,IP=NAME…], one "IP NAME" line each. */
                for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(w, '=');

                        if (!eq || eq == w || !pod_run_dns_word_is_valid(strndupa(w, (size_t) (eq - w)), true) ||
                            !pod_run_dns_word_is_valid(eq + 1, false)) {
                                log_error("--hosts-entry=%s: expected IP=HOSTNAME[,IP=HOSTNAME…] or host", v);
                                return -EINVAL;
                        }
                        *eq = 0;
                        if (strv_extendf(&s->hosts_entries, "%s\t%s", w, eq + 1) < 0)
                                return -ENOMEM;
                }
                return 1;
        }
        return 0;
}

/* "--flag" or "--flag=BOOL"; 1 taken, 0 not this option, -errno. */
static int take_flag(const char *a, const char *opt, bool *ret) {
        size_t n = strlen(opt);

        if (strncmp(a, opt, n) != 0 || (a[n] != 0 && a[n] != '='))
                return 0;
        if (a[n] == 0) {
                *ret = true;
                return 1;
        }
        return parse_bool_option(opt, a + n + 1, ret) < 0 ? -EINVAL : 1;
}

/* rkt's --set-env-file: NAME=VALUE lines; blank lines and '#' comments skipped. */
static int read_env_file(const char *path, char ***env) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        unsigned no = 0;

        if (!f) {
                log_errno(negative_errno(), "--set-env-file=%s", path);
                return -EINVAL;
        }
        while (getline(&line, &n, f) > 0) {
                char *p = line, *end;

                no++;
                p += strspn(p, " \t");
                end = p + strlen(p);
                while (end > p && strchr(" \t\r\n", end[-1]))
                        *--end = 0;
                if (!*p || *p == '#')
                        continue;
                if (!strchr(p, '=') || *p == '=') {
                        log_error("--set-env-file=%s:%u: expected NAME=VALUE", path, no);
                        return -EINVAL;
                }
                if (strv_extend(env, p) < 0)
                        return -ENOMEM;
        }
        if (ferror(f)) {
                log_errno(-EIO, "--set-env-file=%s", path);
                return -EINVAL;
        }
        return 0;
}

/* --ipc=auto|private|parent (run, run-prepared). */
static int take_ipc(char **argv, int argc, int *i, RunSpec *s) {
        const char *v;
        int r = take_value(argv, argc, i, "--ipc", &v);

        if (r <= 0)
                return r;
        if (strcmp(v, "auto") == 0 || strcmp(v, "private") == 0)
                s->ipc_parent = false;
        else if (strcmp(v, "parent") == 0)
                s->ipc_parent = true;
        else {
                log_error("--ipc=%s: must be auto, private or parent", v);
                return -EINVAL;
        }
        s->have_ipc = true;
        return 1;
}

/* --private-users[=pick|SHIFT[:RANGE]|BOOL] (run, run-prepared): rkt's
 * boolean flag, nspawn's values. */
static int take_private_users(const char *a, RunSpec *s) {
        const char *v;
        int b;

        if (strncmp(a, "--private-users", 15) != 0 || (a[15] != 0 && a[15] != '='))
                return 0;
        v = a[15] == '=' ? a + 16 : NULL;
        s->uid_shift = s->uid_range = 0;
        if (!v || strcmp(v, "pick") == 0 || strcmp(v, "yes") == 0) {
                s->private_users = true;
                return 1;
        }
        b = strcmp(v, "no") == 0 ? 0 : *v >= '0' && *v <= '9' ? -EINVAL : parse_go_bool(v);
        if (b >= 0) {
                s->private_users = b > 0;
                return 1;
        }
        if (idmap_parse(v, &s->uid_shift, &s->uid_range) < 0) {
                log_error("--private-users=%s: must be pick, no, or SHIFT[:RANGE]: the pod's uid 0 is the host's "
                          "uid SHIFT, RANGE ids (default 65536); both multiples of 65536, RANGE no larger than "
                          "SHIFT, SHIFT+RANGE below 4294836224",
                          v);
                return -EINVAL;
        }
        s->private_users = true;
        return 1;
}

/* rkt's per-app options that become isolators (lib/manifest.h,
 * manifest_app_set_isolator_option()); checked when the app is built. */
static int take_isolator_option(char **argv, int argc, int *i, PodPrepareApp *app) {
        static const char *const names[] = { "memory", "cpu", "cpu-shares", "oom-score-adj",
                                             "caps-retain", "caps-remove", "seccomp" };
        const char *v;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                char opt[32];

                (void) snprintf(opt, sizeof(opt), "--%s", names[k]);
                if ((r = take_value(argv, argc, i, opt, &v)) == 0)
                        continue;
                if (r < 0)
                        return r;
                return strv_extendf(&app->isolators, "%s=%s", names[k], v) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

/* --stdin, --stdout, --stderr=null|log|tty|stream (rkt's I/O modes). */
static int take_stdio(char **argv, int argc, int *i, PodPrepareApp *app) {
        static const char *const names[] = { "--stdin", "--stdout", "--stderr" };
        const char *v;
        int r;

        for (size_t k = 0; k < 3; k++) {
                if ((r = take_value(argv, argc, i, names[k], &v)) == 0)
                        continue;
                if (r < 0)
                        return r;
                if (strcmp(v, "null") != 0 && strcmp(v, "tty") != 0 && strcmp(v, "stream") != 0 &&
                    (k == 0 || strcmp(v, "log") != 0)) {
                        log_error("%s=%s: must be null, %stty or stream", names[k], v, k == 0 ? "" : "log, ");
                        return -EINVAL;
                }
                app->stdio[k] = v;
                return 1;
        }
        return 0;
}

static int parse_run_args(int argc, char *argv[], RunSpec *s) {
        PodPrepareApp *cur = NULL;
        int i = 1, r;

        for (; i < argc; i++) {
                const char *a = argv[i], *v;

                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(s->help ? s->help : run_usage_text, stdout);
                        return 1;
                }
                if (strcmp(a, "---") == 0) {
                        if (!cur) {
                                log_error("\"---\" must follow an image");
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
                            (r = take_value(argv, argc, &i, "--uuid-file-save", &s->uuid_file)) != 0 ||
                            (r = take_value(argv, argc, &i, "--stage1-path", &s->stage1_path)) != 0 ||
                            (r = take_value(argv, argc, &i, "--journal-max-use", &s->journal_max_use)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--set-env", &v)) != 0) {
                                if (r < 0 || (r = strv_extend(&s->set_env, v)) < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--set-env-file", &v)) != 0) {
                                if (r < 0 || (r = read_env_file(v, &s->env_file)) < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--annotation", &v)) != 0) {
                                if (r < 0 || (r = strv_extend(&s->annotations, v)) < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_flag(a, "--inherit-env", &s->inherit_env)) != 0 ||
                            (r = take_ipc(argv, argc, &i, s)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--volume", &v)) != 0) {
                                _cleanup_error_ NpError err = NP_ERROR_INIT;
                                Volume *n;

                                if (r < 0)
                                        return r;
                                n = reallocarray(s->volumes, s->n_volumes + 1, sizeof(Volume));
                                if (!n)
                                        return -ENOMEM;
                                s->volumes = n;
                                r = pod_prepare_parse_volume(v, &s->volumes[s->n_volumes], &err);
                                if (r < 0) {
                                        log_error("%s", error_format(&err, r));
                                        return r;
                                }
                                s->n_volumes++;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--insecure-options", &v)) != 0) {
                                if (r < 0 || (r = parse_insecure(s, v)) < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_net_option(argv, argc, &i, s)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if ((r = take_value(argv, argc, &i, "--port", &v)) != 0) {
                                _cleanup_error_ NpError err = NP_ERROR_INIT;
                                ExposedPort *n;

                                if (r < 0)
                                        return r;
                                n = reallocarray(s->ports, s->n_ports + 1, sizeof(ExposedPort));
                                if (!n)
                                        return -ENOMEM;
                                s->ports = n;
                                r = pod_prepare_parse_port(v, &s->ports[s->n_ports], &err);
                                if (r < 0) {
                                        log_error("%s", error_format(&err, r));
                                        return r;
                                }
                                s->n_ports++;
                                continue;
                        }
                        if (strcmp(a, "--interactive") == 0) {
                                s->interactive = true;
                                continue;
                        }
                        if ((r = take_private_users(a, s)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (a[0] == '-') {
                                log_error("unknown option \"%s\" (pod options come before the "
                                          "first image; see --help)", a);
                                return -EINVAL;
                        }
                        /* An image starts a new app. */
                        PodPrepareApp *n = reallocarray(s->apps, s->n_apps + 1, sizeof(PodPrepareApp));
                        if (!n)
                                return -ENOMEM;
                        s->apps = n;
                        cur = &s->apps[s->n_apps++];
                        *cur = (PodPrepareApp){ .image = a };
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
                if ((r = take_isolator_option(argv, argc, &i, cur)) != 0 ||
                    (r = take_flag(a, "--readonly-rootfs", &cur->readonly_rootfs)) != 0 ||
                    (r = take_value(argv, argc, &i, "--supplementary-gids", &cur->supplementary_gids)) != 0 ||
                    (r = take_stdio(argv, argc, &i, cur)) != 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--user-annotation", &v)) != 0) {
                        if (r < 0 || (r = strv_extend(&cur->user_annotations, v)) < 0)
                                return r;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--user-label", &v)) != 0) {
                        if (r < 0 || (r = strv_extend(&cur->user_labels, v)) < 0)
                                return r;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--mount", &v)) != 0) {
                        _cleanup_error_ NpError err = NP_ERROR_INIT;
                        Mount *n;

                        if (r < 0)
                                return r;
                        n = reallocarray((Mount *) cur->mounts, cur->n_mounts + 1, sizeof(Mount));
                        if (!n)
                                return -ENOMEM;
                        cur->mounts = n;
                        r = pod_prepare_parse_mount(v, &n[cur->n_mounts], &err);
                        if (r < 0) {
                                log_error("%s", error_format(&err, r));
                                return r;
                        }
                        cur->n_mounts++;
                        continue;
                }
                log_error("unexpected \"%s\" after image \"%s\" (use \"---\" before the "
                          "next image; see --help)", a, cur->image);
                return -EINVAL;
        }
        if (s->n_apps == 0) {
                log_error("no image given; see --help");
                return -EINVAL;
        }
        if (s->pod_manifest)
                for (size_t k = 0; k < s->n_apps; k++)
                        if (s->apps[k].exec || s->apps[k].user || s->apps[k].group || s->apps[k].working_dir ||
                            s->apps[k].environment || s->apps[k].has_args || s->apps[k].isolators ||
                            s->apps[k].readonly_rootfs || s->apps[k].supplementary_gids ||
                            s->apps[k].user_annotations || s->apps[k].user_labels || s->apps[k].stdio[0] ||
                            s->apps[k].stdio[1] || s->apps[k].stdio[2]) {
                                log_error("with --pod-manifest, app options other than "
                                          "--name are refused: the manifest says how apps run");
                                return -EINVAL;
                        }
        return 0;
}

static void warn(const char *message) {
        log_warning("%s", message);
}

static int run_in(const GlobalOptions *g, const RunSpec *spec, int pods_fd, int lock_fd, const uint8_t uuid[16],
                  PodState from) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_free_ char *pod_dir = NULL;
        char u[37];
        int r;

        uuid_format(uuid, u);
        r = pod_move(pods_fd, uuid, from, POD_STATE_RUN);
        if (r < 0) {
                log_errno(r, "cannot move pod %s to run/", u);
                return EXIT_INTERNAL;
        }
        if (asprintf(&pod_dir, "%s/pods/run/%s", g->dir, u) < 0)
                return EXIT_INTERNAL;
        _cleanup_error_ NpError nerr = NP_ERROR_INIT;
        PodNet net;

        /* rkt's default when no --net is given: the default network. */
        r = pod_run_net_kind(spec->networks, POD_NET_CNI, &net, &nerr);
        if (r < 0) {
                log_error("%s", error_format(&nerr, r));
                return EXIT_INTERNAL;
        }
        char *default_net[] = { (char *) "default", NULL };
        PodDns dns = { .domain = spec->dns_domain, .search = spec->dns_search, .options = spec->dns_opt };

        /* rkt's --dns: host or none alone, else servers (with search,
         * options, domain); those alone keep the default servers' absence. */
        if (strv_contains(spec->dns, "host") || strv_contains(spec->dns, "none")) {
                if (strv_length(spec->dns) > 1 || spec->dns_search || spec->dns_opt || spec->dns_domain) {
                        log_error("--dns=host and --dns=none stand alone");
                        return EXIT_INTERNAL;
                }
                dns.resolv = strcmp(spec->dns[0], "host") == 0 ? POD_RESOLV_HOST : POD_RESOLV_NONE;
        } else if (spec->dns || spec->dns_search || spec->dns_opt || spec->dns_domain) {
                dns.resolv = POD_RESOLV_GIVEN;
                dns.servers = spec->dns;
        }
        if (strv_contains(spec->hosts_entries, "host")) {
                if (strv_length(spec->hosts_entries) > 1) {
                        log_error("--hosts-entry=host stands alone");
                        return EXIT_INTERNAL;
                }
                dns.hosts = POD_HOSTS_HOST;
        } else if (spec->hosts_entries) {
                dns.hosts = POD_HOSTS_GIVEN;
                dns.hosts_entries = spec->hosts_entries;
        }
        PodRunOptions o = {
                .dns = dns,
                .net = net,
                .networks = spec->networks ? spec->networks : default_net,
                .net_conf_dir = spec->net_conf_dir ? spec->net_conf_dir : POD_NET_USER_CONF_DIR,
                .hostname = spec->hostname,
                .interactive = spec->interactive,
                .debug = g->debug,
                .disable_capabilities = spec->disable_caps,
                .disable_paths = spec->disable_paths,
                .disable_seccomp = spec->disable_seccomp,
                .share_ipc = spec->ipc_parent,
                .private_users = spec->private_users,
                .uid_shift = spec->uid_shift,
                .uid_range = spec->uid_range,
                .warn = warn,
        };
        r = pod_run(pod_dir, lock_fd, uuid, &o, &err);
        if (r < 0) {
                log_error("cannot run pod %s: %s", u, error_format(&err, r));
                return EXIT_INTERNAL;
        }
        return r;
}

static int write_uuid_file(const char *path, const uint8_t uuid[16]) {
        char buf[38];
        int r;

        uuid_format(uuid, buf);
        strcat(buf, "\n");
        r = fd_write_file_atomic(AT_FDCWD, path, buf, strlen(buf), 0644);
        if (r == -EINVAL) {
                /* a path with directories: write it in place */
                _cleanup_fclose_ FILE *f = fopen(path, "we");
                r = f && fputs(buf, f) >= 0 && fflush(f) == 0 ? 0 : negative_errno();
        }
        return r;
}

/* Parses prepare's and run's arguments and prepares the pod. 1: --help
 * was shown. */
static int prepare_common(int argc, char *argv[], const GlobalOptions *g, RunSpec *spec, int *ret_pods_fd,
                          uint8_t ret_uuid[16], int *ret_lock_fd) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_(pod_freep) Pod *given = NULL;
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        int r;

        r = parse_run_args(argc, argv, spec);
        if (r != 0)
                return r;
        if (spec->pod_manifest) {
                r = manifest_load_file(spec->pod_manifest, MANIFEST_POD, (void **) &given, &err);
                if (r < 0) {
                        log_error("cannot prepare the pod: %s: %s", spec->pod_manifest, error_format(&err, r));
                        return -EINVAL;
                }
        }
        if (pod_util_open_pods(g, &pods) < 0)
                return -EIO;
        PodPrepareOptions o = {
                .pod_manifest = given,
                .set_env = spec->set_env,
                .env_file = spec->env_file,
                .inherit_env = spec->inherit_env ? environ : NULL,
                .annotations = spec->annotations,
                .stage1_path = spec->stage1_path,
                .journal_max_use = spec->journal_max_use,
                .apps = spec->apps,
                .n_apps = spec->n_apps,
                .volumes = spec->volumes,
                .n_volumes = spec->n_volumes,
                .ports = spec->ports,
                .n_ports = spec->n_ports,
        };
        r = pod_prepare(g->dir, pods, &o, uuid, &lock, &err);
        if (r < 0) {
                log_error("cannot prepare the pod: %s", error_format(&err, r));
                return r;
        }
        if (spec->uuid_file && (r = write_uuid_file(spec->uuid_file, uuid)) < 0) {
                log_errno(r, "cannot write '%s'", spec->uuid_file);
                pod_remove_dir(pods, POD_STATE_PREPARE, uuid);
                return -EIO;
        }
        memcpy(ret_uuid, uuid, 16);
        *ret_pods_fd = TAKE_FD(pods);
        *ret_lock_fd = TAKE_FD(lock);
        return 0;
}

int verb_prepare(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = { .help = prepare_usage_text };
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        char u[37];
        int r;

        r = prepare_common(argc, argv, g, &spec, &pods, uuid, &lock);
        if (r != 0)
                return r > 0 ? EXIT_OK : EXIT_INTERNAL;
        /* What prepare cannot keep for run-prepared must not look applied. */
        if (spec.hostname || spec.interactive || spec.disable_caps || spec.disable_paths || spec.disable_seccomp ||
            spec.networks || spec.net_conf_dir || spec.dns || spec.dns_search || spec.dns_opt || spec.dns_domain ||
            spec.hosts_entries || spec.have_ipc || spec.private_users) {
                log_error("--hostname, --interactive, --insecure-options, --net, --local-config, --dns*, --ipc, "
                          "--private-users and "
                          "--hosts-entry are options of run-prepared, "
                          "not of prepare");
                pod_remove_dir(pods, POD_STATE_PREPARE, uuid);
                return EXIT_INTERNAL;
        }
        /* A prepared pod is kept for later: make it durable once, as a whole,
         * instead of one fsync per file while preparing. */
        if (syncfs(lock) < 0) {
                log_errno(negative_errno(), "cannot sync the prepared pod");
                pod_remove_dir(pods, POD_STATE_PREPARE, uuid);
                return EXIT_INTERNAL;
        }
        r = pod_move(pods, uuid, POD_STATE_PREPARE, POD_STATE_PREPARED);
        if (r < 0) {
                log_errno(r, "cannot move the pod to prepared/");
                pod_remove_dir(pods, POD_STATE_PREPARE, uuid);
                return EXIT_INTERNAL;
        }
        printf("%s\n", uuid_format(uuid, u));
        return EXIT_OK;
}

int verb_run(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = {};
        _cleanup_close_ int pods = -1, lock = -1;
        uint8_t uuid[16];
        int r;

        r = prepare_common(argc, argv, g, &spec, &pods, uuid, &lock);
        if (r != 0)
                return r > 0 ? EXIT_OK : EXIT_INTERNAL;
        return run_in(g, &spec, pods, lock, uuid, POD_STATE_PREPARE);
}

int verb_run_prepared(int argc, char *argv[], const GlobalOptions *g) {
        _cleanup_(run_spec_done) RunSpec spec = {};
        _cleanup_close_ int pods = -1, lock = -1;
        PodEntry e;
        char u[37];
        int r, i;

        /* Only pod-level options apply: the apps were fixed at prepare time. */
        for (i = 1; i < argc; i++) {
                const char *v;

                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        fputs(run_prepared_usage_text, stdout);
                        return EXIT_OK;
                }
                if ((r = take_value(argv, argc, &i, "--hostname", &spec.hostname)) != 0) {
                        if (r < 0)
                                return EXIT_INTERNAL;
                        continue;
                }
                if ((r = take_value(argv, argc, &i, "--insecure-options", &v)) != 0) {
                        if (r < 0 || parse_insecure(&spec, v) < 0)
                                return EXIT_INTERNAL;
                        continue;
                }
                if (strcmp(argv[i], "--interactive") == 0) {
                        spec.interactive = true;
                        continue;
                }
                if ((r = take_private_users(argv[i], &spec)) != 0) {
                        if (r < 0)
                                return EXIT_INTERNAL;
                        continue;
                }
                if ((r = take_net_option(argv, argc, &i, &spec)) != 0 || (r = take_ipc(argv, argc, &i, &spec)) != 0) {
                        if (r < 0)
                                return EXIT_INTERNAL;
                        continue;
                }
                break;
        }
        if (i + 1 != argc) {
                log_error("expected exactly one UUID; see --help");
                return EXIT_INTERNAL;
        }
        if (pod_util_open_pods(g, &pods) < 0)
                return EXIT_INTERNAL;
        /* A UUID or a unique prefix of one, as everywhere. */
        r = pod_util_resolve(pods, argv[i], &e);
        if (r < 0)
                return EXIT_INTERNAL;
        r = pod_open(pods, e.uuid, POD_STATE_PREPARED, &lock);
        if (r < 0) {
                log_error("pod %s is not prepared (it is %s)", uuid_format(e.uuid, u),
                          r == -ENOENT ? pod_state_dir(e.state) : strerror(-r));
                return EXIT_INTERNAL;
        }
        r = pod_lock(lock);
        if (r < 0) {
                log_error("pod %s is being started by someone else", uuid_format(e.uuid, u));
                return EXIT_INTERNAL;
        }
        return run_in(g, &spec, pods, lock, e.uuid, POD_STATE_PREPARED);
}
