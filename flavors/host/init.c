/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * init: the run entrypoint of the host-flavor stage1 (docs/stage1.md, "run").
 * A stage0 (rkt's, or anything speaking the stage1 ABI) executes it with the
 * pod directory as its working directory, the pod's locked directory fd in
 * $RKT_LOCK_FD, flags of the interface version the stage1 manifest declares
 * and the pod's UUID. It runs the pod with the same code as `nspawn-pod run`
 * (lib/pod-run.h) and exits with the pod's exit code.
 *
 * Every flag rkt 1.30's stage0 passes up to interface version 6 is either
 * honoured or refused with a message saying so: none is ignored.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit-status.h"
#include "idmap.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "parse-util.h"
#include "pod-run.h"
#include "pod.h"
#include "strv.h"

static const char usage[] =
        "Usage: init [FLAGS] UUID\n"
        "\n"
        "The run entrypoint of nspawn-pod's host-flavor stage1 (docs/stage1.md). A stage0\n"
        "executes it with the pod directory as working directory and the pod's locked\n"
        "directory fd in $RKT_LOCK_FD; it runs the pod and exits with its exit code.\n"
        "\n"
        "Flags (stage1 interface version 6):\n"
        "  --debug                   keep nspawn's and systemd's messages\n"
        "  --net=LIST                host, none (loopback only), or CNI networks:\n"
        "                            default, default-restricted, named ones from\n"
        "                            DIR/net.d of --local-config, each NAME[:K=V;...]\n"
        "                            (CNI_ARGS); repeatable (docs/networks.md)\n"
        "  --interactive             the pod's single app gets the terminal\n"
        "  --hostname=NAME           the pod's hostname (default: rkt-UUID)\n"
        "  --disable-capabilities-restriction, --disable-paths, --disable-seccomp\n"
        "                            turn those protections off\n"
        "  --ipc=auto|private|parent the pod's IPC namespace: its own, or the host's\n"
        "  --local-config=DIR        user CNI network configurations are in DIR/net.d\n"
        "  --dns-conf-mode=resolv=default|host|stage0|none,hosts=default|host|stage0\n"
        "                            the pod's resolv.conf and hosts (rkt's stage0 writes\n"
        "                            etc/rkt-resolv.conf and etc/rkt-hosts for stage0)\n"
        "  --private-users=SHIFT:COUNT\n"
        "                            a user namespace whose uid 0 is the host's SHIFT, for\n"
        "                            a pod rkt's stage0 rendered shifted (rkt run\n"
        "                            --private-users --no-overlay): what the stage1 makes\n"
        "                            is shifted too; empty volumes are idmapped\n"
        "  --mds-token=, --mutable   refused: the metadata service and mutable pods are\n"
        "                            not supported by this stage1\n"
        "\n"
        "Exit status: the pod's; 254 when the pod cannot be run, 2 for a wrong command line.\n";

enum {
        ARG_DEBUG = 0x100,
        ARG_NET,
        ARG_INTERACTIVE,
        ARG_MUTABLE,
        ARG_PRIVATE_USERS,
        ARG_MDS_TOKEN,
        ARG_LOCAL_CONFIG,
        ARG_HOSTNAME,
        ARG_DISABLE_CAPS,
        ARG_DISABLE_PATHS,
        ARG_DISABLE_SECCOMP,
        ARG_DNS_CONF_MODE,
        ARG_IPC,
        ARG_HELP,
};

/* A boolean flag, or exit 2. */
static bool bool_flag(const char *name, const char *value) {
        int b = parse_go_bool(value);

        if (b < 0) {
                log_error("--%s=%s: not a boolean", name, value);
                exit(EXIT_USAGE);
        }
        return b;
}

/* rkt's --dns-conf-mode=resolv=MODE,hosts=MODE (its stage0 maps --dns and
 * --hosts-entry to them, and writes the stage0 files itself). */
static int parse_dns_conf_mode(const char *arg, PodDns *d) {
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (strcmp(w, "resolv=default") == 0)
                        d->resolv = POD_RESOLV_DEFAULT;
                else if (strcmp(w, "resolv=host") == 0)
                        d->resolv = POD_RESOLV_HOST;
                else if (strcmp(w, "resolv=none") == 0)
                        d->resolv = POD_RESOLV_NONE;
                else if (strcmp(w, "resolv=stage0") == 0) {
                        d->resolv = POD_RESOLV_FILE;
                        d->resolv_file = "etc/rkt-resolv.conf";
                } else if (strcmp(w, "hosts=default") == 0)
                        d->hosts = POD_HOSTS_DEFAULT;
                else if (strcmp(w, "hosts=host") == 0)
                        d->hosts = POD_HOSTS_HOST;
                else if (strcmp(w, "hosts=stage0") == 0) {
                        d->hosts = POD_HOSTS_FILE;
                        d->hosts_file = "etc/rkt-hosts";
                } else {
                        log_error("--dns-conf-mode=%s: \"%s\" is not resolv=default|host|stage0|none or "
                                  "hosts=default|host|stage0",
                                  arg, w);
                        return -EINVAL;
                }
        }
        return 0;
}

/* $RKT_LOCK_FD: the pod directory (our working directory), open and
 * locked by the stage0. It stays locked for the pod's life: nspawn
 * inherits it (pod_run()); nothing else may. */
static int take_lock_fd(int *ret) {
        const char *v = getenv("RKT_LOCK_FD");
        struct stat a, b;
        unsigned long fd;
        char *end;

        if (!v || !*v) {
                log_error("$RKT_LOCK_FD is not set: the stage0 must pass the pod's locked directory fd");
                return -EBADF;
        }
        errno = 0;
        fd = strtoul(v, &end, 10);
        if (errno != 0 || *end != 0 || end == v || fd > INT32_MAX) {
                log_error("$RKT_LOCK_FD=%s is not a file descriptor number", v);
                return -EBADF;
        }
        if (fstat((int) fd, &a) < 0 || stat(".", &b) < 0 || !S_ISDIR(a.st_mode) || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino) {
                log_error("$RKT_LOCK_FD=%s is not the pod directory (our working directory)", v);
                return -EBADF;
        }
        /* A lock we hold already is kept (same open file description); one
         * someone else holds means the pod is not ours to run. */
        if (flock((int) fd, LOCK_EX | LOCK_NB) < 0) {
                log_errno(negative_errno(), "cannot lock the pod directory through $RKT_LOCK_FD");
                return -EBUSY;
        }
        if (fcntl((int) fd, F_SETFD, FD_CLOEXEC) < 0)
                return log_errno(negative_errno(), "cannot set FD_CLOEXEC on $RKT_LOCK_FD");
        *ret = (int) fd;
        return 0;
}

static void warn(const char *message) {
        log_warning("%s", message);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "debug", optional_argument, NULL, ARG_DEBUG },
                { "net", required_argument, NULL, ARG_NET },
                { "interactive", optional_argument, NULL, ARG_INTERACTIVE },
                { "mutable", optional_argument, NULL, ARG_MUTABLE },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "mds-token", required_argument, NULL, ARG_MDS_TOKEN },
                { "local-config", required_argument, NULL, ARG_LOCAL_CONFIG },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "disable-capabilities-restriction", optional_argument, NULL, ARG_DISABLE_CAPS },
                { "disable-paths", optional_argument, NULL, ARG_DISABLE_PATHS },
                { "disable-seccomp", optional_argument, NULL, ARG_DISABLE_SECCOMP },
                { "dns-conf-mode", required_argument, NULL, ARG_DNS_CONF_MODE },
                { "ipc", required_argument, NULL, ARG_IPC },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_strv_free_ char **nets = NULL;
        _cleanup_free_ char *net_conf_dir = NULL;
        _cleanup_free_ char *cwd = NULL;
        PodRunOptions o = { .machine_prefix = "rkt", .warn = warn };
        const char *selinux;
        uint8_t uuid[16];
        char u[37];
        int c, r, lock_fd = -1;

        log_set_program("stage1");
        /* Go's flag syntax, as rkt's stage0 writes it: -flag or --flag,
         * --flag=value or --flag value, flags before the UUID. */
        while ((c = getopt_long_only(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case ARG_DEBUG:
                        o.debug = bool_flag("debug", optarg);
                        break;
                case ARG_NET:
                        if (pod_run_net_list_add(&nets, optarg) < 0)
                                return EXIT_INTERNAL;
                        break;
                case ARG_INTERACTIVE:
                        o.interactive = bool_flag("interactive", optarg);
                        break;
                case ARG_MUTABLE:
                        if (bool_flag("mutable", optarg)) {
                                log_error("--mutable: mutable pods (rkt app sandbox) are not supported by this stage1");
                                return EXIT_INTERNAL;
                        }
                        break;
                case ARG_PRIVATE_USERS:
                        /* rkt's "SHIFT:COUNT" (empty: none), for a pod its
                         * stage0 rendered with shifted owners. */
                        if (!*optarg) {
                                o.private_users = false;
                                break;
                        }
                        if (!strchr(optarg, ':') || idmap_parse(optarg, &o.uid_shift, &o.uid_range) < 0) {
                                log_error("--private-users=%s: must be SHIFT:COUNT, multiples of 65536, COUNT no "
                                          "larger than SHIFT",
                                          optarg);
                                return EXIT_INTERNAL;
                        }
                        o.private_users = o.uid_preshifted = true;
                        break;
                case ARG_MDS_TOKEN:
                        if (*optarg) {
                                log_error("--mds-token: the metadata service (rkt --mds-register) is not supported "
                                          "by this stage1");
                                return EXIT_INTERNAL;
                        }
                        break;
                case ARG_LOCAL_CONFIG:
                        /* Where user CNI configurations are: DIR/net.d, as rkt's. */
                        if (optarg[0] != '/') {
                                log_error("--local-config=%s: not an absolute path", optarg);
                                return EXIT_USAGE;
                        }
                        free(net_conf_dir);
                        if (asprintf(&net_conf_dir, "%s/net.d", optarg) < 0)
                                return EXIT_INTERNAL;
                        break;
                case ARG_HOSTNAME:
                        o.hostname = optarg;
                        break;
                case ARG_DISABLE_CAPS:
                        o.disable_capabilities = bool_flag("disable-capabilities-restriction", optarg);
                        break;
                case ARG_DISABLE_PATHS:
                        o.disable_paths = bool_flag("disable-paths", optarg);
                        break;
                case ARG_DISABLE_SECCOMP:
                        o.disable_seccomp = bool_flag("disable-seccomp", optarg);
                        break;
                case ARG_DNS_CONF_MODE:
                        if (parse_dns_conf_mode(optarg, &o.dns) < 0)
                                return EXIT_INTERNAL;
                        break;
                case ARG_IPC:
                        if (strcmp(optarg, "parent") == 0)
                                o.share_ipc = true;
                        else if (strcmp(optarg, "auto") == 0 || strcmp(optarg, "private") == 0)
                                o.share_ipc = false;
                        else {
                                log_error("--ipc=%s: must be auto, private or parent", optarg);
                                return EXIT_INTERNAL;
                        }
                        break;
                case ARG_HELP:
                        fputs(usage, stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (argc - optind != 1) {
                log_error("expected the pod's UUID after the flags; see --help");
                return EXIT_USAGE;
        }
        if (uuid_parse(argv[optind], uuid) < 0) {
                log_error("\"%s\" is not a pod UUID", argv[optind]);
                return EXIT_USAGE;
        }
        {
                _cleanup_error_ NpError nerr = NP_ERROR_INIT;

                /* No --net at all: rkt's stage1 takes that as host networking. */
                r = pod_run_net_kind(nets, POD_NET_HOST, &o.net, &nerr);
                if (r < 0) {
                        log_error("%s", error_format(&nerr, r));
                        return EXIT_INTERNAL;
                }
                o.networks = nets;
                o.net_conf_dir = net_conf_dir;
        }
        /* The stage0 exports its SELinux labels, possibly empty. */
        selinux = getenv("RKT_SELINUX_CONTEXT");
        o.selinux_context = selinux && *selinux ? selinux : NULL;
        selinux = getenv("RKT_SELINUX_MOUNT_CONTEXT");
        o.selinux_apifs_context = selinux && *selinux ? selinux : NULL;

        uuid_format(uuid, u);
        r = pod_open_cwd(uuid, &cwd, NULL, NULL, &err);
        if (r < 0) {
                log_error("%s", error_format(&err, r));
                return EXIT_INTERNAL;
        }
        if (take_lock_fd(&lock_fd) < 0)
                return EXIT_INTERNAL;
        r = pod_run(cwd, lock_fd, uuid, &o, &err);
        if (r < 0) {
                log_error("cannot run pod %s: %s", u, error_format(&err, r));
                return EXIT_INTERNAL;
        }
        return r;
}
