/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "bind-mount.h"
#include "capability.h"
#include "cgroup.h"
#include "cgroup-limits.h"
#include "chase.h"
#include "copy.h"
#include "exit-status.h"
#include "fd-util.h"
#include "idmap.h"
#include "image-store.h"
#include "journal.h"
#include "machined.h"
#include "manifest.h"
#include "names.h"
#include "passwd.h"
#include "pod-net.h"
#include "pod-run.h"
#include "pod-stop.h"
#include "pod.h"
#include "proc-state.h"
#include "render.h"
#include "stage1-host.h"
#include "strbuf.h"
#include "strv.h"

static char *data_dir_of(const char *pod_dir);

bool pod_run_dns_word_is_valid(const char *s, bool address) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (!*s || strlen(s) > 253)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || *p == '#' || *p == ';')
                        return false;
        return !address || inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int pod_run_net_list_add(char ***networks, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
                if (strv_extend(networks, w) < 0)
                        return -ENOMEM;
        return 0;
}

int pod_run_net_kind(char *const *networks, PodNet default_kind, PodNet *ret, NpError *err) {
        size_t n = strv_length(networks);
        bool special = false;

        if (n == 0) {
                *ret = default_kind;
                return 0;
        }
        STRV_FOREACH(w, networks) {
                bool host = strncmp(*w, "host", 4) == 0 && (!(*w)[4] || (*w)[4] == ':');
                bool none = strncmp(*w, "none", 4) == 0 && (!(*w)[4] || (*w)[4] == ':');

                if ((host || none) && (*w)[4] == ':')
                        return error_set(err, -EINVAL, NULL, "--net=%s: %s takes no arguments", *w, host ? "host" : "none");
                special = special || host || none;
        }
        if (special && n > 1)
                return error_set(err, -EINVAL, NULL, "--net: host and none cannot be combined with other networks");
        if (special)
                *ret = strcmp(networks[0], "host") == 0 ? POD_NET_HOST : POD_NET_NONE;
        else
                *ret = POD_NET_CNI;
        return 0;
}

/* The ports the pod publishes (its manifest's "ports", `--port`) as CNI
 * portMappings: each by the name of a port an app declares (the app's own
 * section, or its image's, read from the pod directory). NULL: none. */
static int port_mappings(int lock_fd, const Pod *pod, json_t **ret, NpError *err) {
        _cleanup_json_ json_t *a = NULL;

        *ret = NULL;
        if (pod->n_ports == 0)
                return 0;
        a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < pod->n_ports; i++) {
                const ExposedPort *ep = &pod->ports[i];
                const Port *found = NULL;

                for (size_t k = 0; k < pod->n_apps && !found; k++) {
                        _cleanup_(image_freep) Image *img = NULL;
                        _cleanup_free_ char *path = NULL, *data = NULL;
                        _cleanup_error_ NpError perr = NP_ERROR_INIT;
                        const App *app = pod->apps[k].app;
                        size_t size;

                        if (!app) {
                                if (asprintf(&path, "stage1/rootfs/opt/stage2/%s/manifest", pod->apps[k].name) < 0)
                                        return -ENOMEM;
                                if (fd_read_file_in_root(lock_fd, path, MANIFEST_SIZE_MAX, &data, &size) < 0 ||
                                    manifest_parse_image(data, size, &img, &perr) < 0)
                                        continue; /* said when the app is loaded */
                                app = img->app;
                        }
                        for (size_t j = 0; app && j < app->n_ports && !found; j++)
                                if (strcmp(app->ports[j].name, ep->name) == 0) {
                                        json_t *m = json_pack("{sisiss}", "hostPort", (int) ep->host_port,
                                                              "containerPort", (int) app->ports[j].port, "protocol",
                                                              app->ports[j].protocol);

                                        if (!m || (ep->host_ip && json_object_set_new(m, "hostIP",
                                                                                       json_string(ep->host_ip)) < 0) ||
                                            json_array_append_new(a, m) < 0)
                                                return -ENOMEM;
                                        found = &app->ports[j];
                                }
                }
                if (!found)
                        return error_set(err, -EINVAL, NULL, "port \"%s\" is published, but no app declares a port of "
                                         "that name", ep->name);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* The pod's CNI networks (lib/pod-net.h), made in the caller's mount
 * namespace (the host's), before ours is: gc must find the namespace's
 * mount there after we are gone. */
static int setup_networks(const char *pod_dir, int lock_fd, const uint8_t uuid[16], const Pod *pod,
                          const PodRunOptions *o, char **ret_netns, NpError *err) {
        _cleanup_free_ char *builtin = NULL, *user = NULL, *data_dir = NULL, *ipam = NULL;
        _cleanup_json_ json_t *ports = NULL;
        char *dirs[3] = {};
        size_t k = 0;
        int r;

        r = port_mappings(lock_fd, pod, &ports, err);
        if (r < 0)
                return r;
        data_dir = data_dir_of(pod_dir);
        if (asprintf(&builtin, "%s/stage1/rootfs/etc/nspawn-pod/net.d", pod_dir) < 0 ||
            (o->net_conf_dir && !(user = strdup(o->net_conf_dir))) ||
            (data_dir && asprintf(&ipam, "%s/cni-networks", data_dir) < 0))
                return -ENOMEM;
        if (user)
                dirs[k++] = user;
        dirs[k++] = builtin;
        PodNetSetup s = {
                .uuid = uuid,
                .networks = o->networks,
                .conf_dirs = dirs,
                .builtin_dir = builtin,
                .ipam_dir = ipam,
                .port_mappings = ports,
        };
        return pod_net_setup(lock_fd, &s, ret_netns, err);
}

/* The networks go when the pod has ended, back in the mount namespace
 * they were made in; what cannot go now, gc takes. */
static void teardown_networks(int host_mnt, int lock_fd, const uint8_t uuid[16], void (*warn)(const char *)) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        /* setns() moves us to the namespace's root: back where we were after. */
        r = host_mnt >= 0 && setns(host_mnt, CLONE_NEWNS) < 0 ? negative_errno() : 0;
        if (r >= 0 && cwd >= 0)
                (void) fchdir(cwd);
        if (r >= 0)
                r = pod_net_teardown(lock_fd, uuid, &err);
        if (r < 0 && warn) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "cannot tear down the pod's networks now (gc will): %s", error_format(&err, r)) >= 0)
                        warn(m);
        }
}

static void resolv_list(StrBuf *b, const char *key, char *const *l) {
        if (!l || !*l)
                return;
        strbuf_append(b, key);
        STRV_FOREACH(w, l) {
                strbuf_putc(b, ' ');
                strbuf_append(b, *w);
        }
        strbuf_putc(b, '\n');
}

/* Values from a plugin's result too: a word that is not one is left out
 * (never a line of its own in resolv.conf). */
static int resolv_conf_text(const char *from, char *const *servers, char *const *search, char *const *options,
                            const char *domain, char **ret) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        _cleanup_strv_free_ char **s_ok = NULL, **o_ok = NULL;

        STRV_FOREACH(w, search)
                if (pod_run_dns_word_is_valid(*w, false) && strv_extend(&s_ok, *w) < 0)
                        return -ENOMEM;
        STRV_FOREACH(w, options)
                if (pod_run_dns_word_is_valid(*w, false) && strv_extend(&o_ok, *w) < 0)
                        return -ENOMEM;
        search = s_ok;
        options = o_ok;
        if (domain && !pod_run_dns_word_is_valid(domain, false))
                domain = NULL;
        strbuf_printf(&b, "# Automatically generated by nspawn-pod (%s)\n", from);
        STRV_FOREACH(s, servers)
                if (pod_run_dns_word_is_valid(*s, true))
                        strbuf_printf(&b, "nameserver %s\n", *s);
        resolv_list(&b, "search", search);
        resolv_list(&b, "options", options);
        if (domain)
                strbuf_printf(&b, "domain %s\n", domain);
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        *ret = strbuf_steal(&b, NULL);
        return 0;
}

/* A file of the stage1 that its stage0 wrote (rkt's etc/rkt-resolv.conf,
 * etc/rkt-hosts), read as a regular file below the stage1 root. */
static int read_stage1_file(int s1, const char *path, char **ret, NpError *err) {
        size_t size;
        int r = fd_read_file_in_root(s1, path, 1024 * 1024, ret, &size);

        return r < 0 ? error_set(err, r, path, "cannot read the stage0's file: %s", strerror(-r)) : 0;
}

/* The pod's /etc/resolv.conf and /etc/hosts as PodDns says (docs/networks.md,
 * "DNS and hosts"), written into the stage1 root; what render must know of
 * them in *ret_resolv_off and *ret_pod_hosts. */
static int write_dns(int lock_fd, int s1, const PodRunOptions *o, const char *hostname, bool *ret_resolv_off,
                     bool *ret_pod_hosts, NpError *err) {
        const PodDns *d = &o->dns;
        _cleanup_free_ char *resolv = NULL, *hosts = NULL;
        _cleanup_close_ int etc = -1;
        int r;

        *ret_resolv_off = *ret_pod_hosts = false;
        etc = fd_open_dir_nofollow(s1, "etc", O_PATH);
        if (etc < 0)
                return error_set(err, etc, "stage1/rootfs/etc", "cannot open: %s", strerror(-etc));
        switch (d->resolv) {
        case POD_RESOLV_DEFAULT: {
                PodNetInfo *nets = NULL;
                size_t n = 0;

                r = o->net == POD_NET_CNI ? pod_net_read(lock_fd, &nets, &n) : 0;
                if (r < 0)
                        return error_set(err, r, "net", "cannot read the pod's networks: %s", strerror(-r));
                for (size_t i = 0; i < n && !resolv && r >= 0; i++)
                        if (nets[i].nameservers) {
                                _cleanup_free_ char *from = NULL;

                                r = asprintf(&from, "from network \"%s\"", nets[i].name) < 0 ? -ENOMEM : 0;
                                if (r >= 0)
                                        r = resolv_conf_text(from, nets[i].nameservers, nets[i].search,
                                                             nets[i].options, nets[i].domain, &resolv);
                        }
                pod_net_infos_free(nets, n);
                if (r < 0)
                        return r;
                break;
        }
        case POD_RESOLV_GIVEN:
                r = resolv_conf_text("from --dns", d->servers, d->search, d->options, d->domain, &resolv);
                if (r < 0)
                        return r;
                break;
        case POD_RESOLV_FILE:
                r = read_stage1_file(s1, d->resolv_file, &resolv, err);
                if (r < 0)
                        return r;
                break;
        case POD_RESOLV_HOST: {
                /* The host's, as it is now (rkt bound it; a copy keeps the
                 * host's file out of the pod's reach). open() follows its
                 * symlinks: the host's are the host's to choose. */
                _cleanup_close_ int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC | O_NOCTTY);
                size_t size;

                if (fd >= 0 && (r = fd_read_regular(fd, 1024 * 1024, &resolv, &size, NULL)) < 0)
                        return error_set(err, r, "/etc/resolv.conf", "cannot read the host's: %s", strerror(-r));
                if (fd < 0) /* the host has none: neither has the pod */
                        *ret_resolv_off = true;
                break;
        }
        case POD_RESOLV_NONE:
                if (unlinkat(etc, "resolv.conf", 0) < 0 && errno != ENOENT)
                        return error_set(err, negative_errno(), "etc/resolv.conf", "cannot remove: %m");
                *ret_resolv_off = true;
                break;
        default:
                break;
        }
        if (resolv) {
                r = fd_write_file_atomic(etc, "resolv.conf", resolv, strlen(resolv), 0644);
                if (r < 0)
                        return error_set(err, r, "etc/resolv.conf", "cannot write: %s", strerror(-r));
                *ret_resolv_off = true;
        }

        if (d->hosts == POD_HOSTS_DEFAULT)
                return 0;
        {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
                _cleanup_free_ char *base = NULL;
                size_t size;

                if (d->hosts == POD_HOSTS_HOST) {
                        _cleanup_close_ int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC | O_NOCTTY);

                        if (fd >= 0 && (r = fd_read_regular(fd, 1024 * 1024, &base, &size, NULL)) < 0)
                                return error_set(err, r, "/etc/hosts", "cannot read the host's: %s", strerror(-r));
                } else if (d->hosts == POD_HOSTS_FILE) {
                        r = read_stage1_file(s1, d->hosts_file, &base, err);
                        if (r < 0)
                                return r;
                } else {
                        r = fd_read_file_in_root(etc, "hosts", 1024 * 1024, &base, &size);
                        if (r < 0)
                                return error_set(err, r, "etc/hosts", "cannot read: %s", strerror(-r));
                }
                if (base) {
                        strbuf_append(&b, base);
                        if (*base && base[strlen(base) - 1] != '\n')
                                strbuf_putc(&b, '\n');
                }
                if (d->hosts != POD_HOSTS_GIVEN)
                        strbuf_printf(&b, "127.0.0.1\t%s\n", hostname);
                if (d->hosts_entries) {
                        strbuf_append(&b, "# --hosts-entry\n");
                        STRV_FOREACH(e, d->hosts_entries)
                                strbuf_printf(&b, "%s\n", *e);
                }
                if (strbuf_error(&b) < 0)
                        return -ENOMEM;
                hosts = strbuf_steal(&b, NULL);
        }
        r = fd_write_file_atomic(etc, "hosts", hosts, strlen(hosts), 0644);
        if (r < 0)
                return error_set(err, r, "etc/hosts", "cannot write: %s", strerror(-r));
        *ret_pod_hosts = true;
        return 0;
}

/* How long the run process waits, once nspawn has ended, for the pod's
 * cgroups to empty before it removes them. */
#define CGROUP_REMOVE_TIMEOUT_MS 5000U

static int write_text_at(int dirfd, const char *name, const char *text) {
        return fd_write_file_atomic(dirfd, name, text, strlen(text), 0644);
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

/* The data directory of a pod directory <data>/pods/run/<uuid>. */
static char *data_dir_of(const char *pod_dir) {
        char *d = strdup(pod_dir);

        for (int i = 0; d && i < 3; i++) {
                char *slash = strrchr(d, '/');

                if (!slash || slash == d) {
                        free(d);
                        return NULL;
                }
                *slash = 0;
        }
        return d;
}

/* The state of a user-namespaced run (docs/security.md, "User namespaces"). */
typedef struct PodUserns {
        uint32_t shift, range; /* range 0: no user namespace */
        int userns_fd;         /* the idmapping (lib/idmap.h) */
        int lock_fd;           /* the range's lock, held by nspawn while the pod runs */
        uint32_t lock_range;   /* the range locked: [shift, shift+lock_range) */
} PodUserns;

#define POD_USERNS_INIT { .userns_fd = -1, .lock_fd = -1 }

/* An app's overlay layers as the pod's user namespace sees them: its
 * POD/overlay/<app> (upper and work) idmapped in place, and the store's
 * rootfs `lower` idmapped on POD/overlay/<app>/lower. The image store
 * itself is never chowned or changed. */
static int idmap_layers(int here, const char *app, const char *lower, const PodUserns *uns, int *ov, int *ret_upper,
                        int *ret_work, int *ret_lower) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int tree = -1, dir = -1, upper = -1, work = -1, low = -1;
        int r;

        if (asprintf(&path, "overlay/%s", app) < 0)
                return -ENOMEM;
        if (mkdirat(*ov, "lower", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        /* On the fd: the pod directory's paths are not followed. */
        r = idmap_remount(*ov, "", uns->userns_fd, false);
        if (r < 0)
                return r;
        dir = fd_open_in_root(here, path, O_PATH | O_DIRECTORY, 0, true);
        if (dir < 0)
                return dir;
        {
                /* Reopened by path: it must be the very directory, now on
                 * the idmapped mount just made there. */
                struct statx a, b;

                r = fd_statx_nofollow(*ov, "", &a);
                if (r >= 0)
                        r = fd_statx_nofollow(dir, "", &b);
                if (r < 0)
                        return r;
                if (a.stx_ino != b.stx_ino || a.stx_dev_major != b.stx_dev_major ||
                    a.stx_dev_minor != b.stx_dev_minor || !fd_statx_is_other_mount(&b, &a))
                        return -ESTALE;
        }
        tree = open_tree(AT_FDCWD, lower, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return negative_errno();
        r = idmap_tree(tree, uns->userns_fd, false);
        if (r < 0)
                return r;
        low = fd_open_dir_nofollow(dir, "lower", O_PATH);
        if (low < 0)
                return low;
        if (move_mount(tree, "", low, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        closep(&low);
        upper = fd_open_dir_nofollow(dir, "upper", O_PATH);
        work = fd_open_dir_nofollow(dir, "work", O_PATH);
        low = fd_open_dir_nofollow(dir, "lower", O_PATH);
        if (upper < 0 || work < 0 || low < 0)
                return upper < 0 ? upper : work < 0 ? work : low;
        closep(ov);
        closep(ret_upper);
        closep(ret_work);
        *ov = TAKE_FD(dir);
        *ret_upper = TAKE_FD(upper);
        *ret_work = TAKE_FD(work);
        *ret_lower = TAKE_FD(low);
        return 0;
}

/* Mounts each stored app's overlay (lower: the image store's rootfs, read
 * only; upper and work: the pod's) on its app root. The caller has entered a
 * mount namespace of our own, which nspawn inherits: the host never sees
 * these mounts, and the kernel removes them with the namespace when nspawn
 * and we are gone, even if both are killed. `s1` must have been opened in
 * that namespace: a mount cannot be moved onto a path of another one.
 * Pods prepared by rkt's stage0 have no overlay/<app>/image-id: their app
 * roots are rkt's own (overlays mounted by it, or copies). */
static int mount_overlays(const char *pod_dir, int lock_fd, int s1, const Pod *pod, const PodUserns *uns,
                          NpError *err) {
        _cleanup_free_ char *data_dir = NULL;
        _cleanup_close_ int data = -1, here = -1;

        for (size_t i = 0; i < pod->n_apps; i++) {
                const char *app = pod->apps[i].name;
                _cleanup_free_ char *idpath = NULL, *id = NULL, *lower = NULL, *upper = NULL, *work = NULL,
                                    *target_path = NULL;
                _cleanup_close_ int fs = -1, mnt = -1, target = -1, store = -1, ov = -1, upper_fd = -1, work_fd = -1,
                                    lower_fd = -1;
                size_t size;
                int r;

                if (asprintf(&idpath, "overlay/%s/image-id", app) < 0)
                        return -ENOMEM;
                r = fd_read_file_in_root(lock_fd, idpath, 4096, &id, &size);
                if (r == -ENOENT)
                        continue; /* imported into the pod itself */
                if (!data_dir) {
                        data_dir = data_dir_of(pod_dir);
                        if (!data_dir)
                                return error_set(err, -EINVAL, pod_dir, "not a pod directory <data>/pods/run/<uuid>");
                        /* overlayfs splits lowerdir at ':' and reads '\' and ','
                         * as escapes; the data directory is ours to choose, so
                         * refuse rather than escape. */
                        if (strpbrk(data_dir, ":,\\"))
                                return error_set(err, -EINVAL, data_dir,
                                                 "the data directory must not contain ':', ',' or '\\'");
                        data = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (data < 0)
                                return error_set(err, negative_errno(), data_dir, "cannot open: %m");
                }
                if (r < 0 || (r = image_store_open(data, id, &store)) < 0)
                        return error_set(err, r, app, "its image %s is not in the image store: %s", id ? id : "?",
                                         strerror(-r));
                /* The pod's own directories by fd (the pod directory is not
                 * trusted further than that); the store's by path, ours.
                 * overlayfs takes only paths of our mount namespace: the pod
                 * directory is opened again in it, and checked to be the
                 * one we hold the lock of. */
                if (here < 0) {
                        struct stat a, b;

                        here = open(pod_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (here < 0 || fstat(here, &a) < 0 || fstat(lock_fd, &b) < 0 || a.st_dev != b.st_dev ||
                            a.st_ino != b.st_ino)
                                return error_set(err, -ESTALE, pod_dir, "is not the pod directory we locked");
                }
                if (asprintf(&target_path, "overlay/%s", app) < 0)
                        return -ENOMEM;
                ov = fd_open_in_root(here, target_path, O_PATH | O_DIRECTORY, 0, true);
                upper_fd = ov < 0 ? ov : fd_open_dir_nofollow(ov, "upper", O_PATH);
                work_fd = ov < 0 ? ov : fd_open_dir_nofollow(ov, "work", O_PATH);
                if (upper_fd < 0 || work_fd < 0)
                        return error_set(err, upper_fd < 0 ? upper_fd : work_fd, app,
                                         "cannot open its overlay directories: %s",
                                         strerror(-(upper_fd < 0 ? upper_fd : work_fd)));
                target_path = mfree(target_path);
                if (asprintf(&lower, "%s/images/%s/rootfs", data_dir, id) < 0)
                        return -ENOMEM;
                if (uns->range > 0) {
                        r = idmap_layers(here, app, lower, uns, &ov, &upper_fd, &work_fd, &lower_fd);
                        if (r < 0)
                                return error_set(err, r, app, "cannot idmap its overlay's layers: %s", strerror(-r));
                        free(lower);
                        if (asprintf(&lower, "/proc/self/fd/%d", lower_fd) < 0)
                                return -ENOMEM;
                }
                if (asprintf(&upper, "/proc/self/fd/%d", upper_fd) < 0 ||
                    asprintf(&work, "/proc/self/fd/%d", work_fd) < 0 ||
                    asprintf(&target_path, "opt/stage2/%s/rootfs", app) < 0)
                        return -ENOMEM;
                target = fd_open_in_root(s1, target_path, O_PATH | O_DIRECTORY, 0, true);
                if (target < 0)
                        return error_set(err, target, app, "cannot open its root: %s", strerror(-target));
                fs = fsopen("overlay", FSOPEN_CLOEXEC);
                if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
                        return error_set(err, negative_errno(), app, "cannot mount its overlay on '%s': %m", lower);
                /* overlayfs works on its upper layer with the credentials of
                 * whoever created it: in a user namespace the pod's root's,
                 * whose ids the idmapped layers map to on-disk 0. */
                if (uns->range > 0 && (r = idmap_become(uns->shift)) < 0)
                        return error_set(err, r, app, "cannot act as the pod's root: %s", strerror(-r));
                r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ? negative_errno() : 0;
                if (uns->range > 0)
                        idmap_unbecome();
                if (r < 0 || (mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0 ||
                    move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return error_set(err, r < 0 ? r : negative_errno(), app, "cannot mount its overlay on '%s': %s",
                                         lower, strerror(r < 0 ? -r : errno));
        }
        return 0;
}

/* Reads each app's image manifest (stage1/rootfs/opt/stage2/<app>/manifest,
 * as rkt's stage0 lays it out) and resolves its user and group from the
 * image's own /etc/passwd and /etc/group on file descriptors. */
static int load_apps(int s1, const Pod *pod, Image **images, RenderIds *ids, NpError *err) {
        for (size_t i = 0; i < pod->n_apps; i++) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                _cleanup_close_ int root = -1;
                _cleanup_error_ NpError perr = NP_ERROR_INIT;
                const App *app;
                size_t size;
                int r;

                if (asprintf(&path, "opt/stage2/%s/manifest", pod->apps[i].name) < 0)
                        return -ENOMEM;
                r = fd_read_file_in_root(s1, path, MANIFEST_SIZE_MAX, &data, &size);
                if (r >= 0)
                        r = manifest_parse_image(data, size, &images[i], &perr);
                if (r < 0)
                        return error_set(err, r == -ENOMEM ? r : -EINVAL, pod->apps[i].name, "bad image manifest: %s",
                                         error_format(&perr, r));
                app = pod->apps[i].app ? pod->apps[i].app : images[i]->app;
                if (!app)
                        return error_set(err, -EINVAL, pod->apps[i].name,
                                         "neither the pod nor the image says how to run it");
                free(path);
                if (asprintf(&path, "opt/stage2/%s/rootfs", pod->apps[i].name) < 0)
                        return -ENOMEM;
                root = fd_open_in_root(s1, path, O_PATH | O_DIRECTORY, 0, true);
                if (root < 0)
                        return error_set(err, -EINVAL, pod->apps[i].name, "cannot open its root: %s", strerror(-root));
                if ((r = passwd_resolve_user(root, app->user, &ids[i].uid, &perr)) < 0 ||
                    (r = passwd_resolve_group(root, app->group, &ids[i].gid, &perr)) < 0)
                        return error_set(err, r == -ENOMEM ? r : -EINVAL, pod->apps[i].name, "%s",
                                         error_format(&perr, r));
        }
        return 0;
}

/* An empty volume's backing directory POD/sharedVolumes/<name>, 0700 below
 * (docs/logs.md: who may pass through the pod directory), created with the
 * volume's mode and owner; for a Docker image's implicit volume filled from
 * the image's content at the target first, with that directory's mode and
 * owner (rkt's copy-up). The same explicit volume mounted by several apps
 * is created (and filled) once, by the first. */
static int open_empty_volume(int pod_fd, int app_root, const RenderMount *m, const PodUserns *uns, int *ret_fd,
                             NpError *err) {
        _cleanup_close_ int sv = -1, v = -1, from = -1;
        mode_t mode = m->mode;
        uid_t uid = m->uid;
        gid_t gid = m->gid;
        struct stat st;
        bool created;
        int r;

        sv = fd_mkdir_open(pod_fd, "sharedVolumes", 0700, O_PATH);
        if (sv < 0)
                return error_set(err, sv, "sharedVolumes", "cannot create: %s", strerror(-sv));
        created = mkdirat(sv, m->volume, 0700) >= 0;
        if (!created && errno != EEXIST)
                return error_set(err, negative_errno(), m->volume, "cannot create the volume: %m");
        v = fd_open_dir_nofollow(sv, m->volume, O_RDONLY);
        if (v < 0)
                return error_set(err, v, m->volume, "cannot open the volume: %s", strerror(-v));
        if (created && m->copy_up) {
                r = chase_in_root(app_root, m->target, 0, &from, NULL);
                if (r >= 0 && fstat(from, &st) >= 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int dir = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), view = -1;

                        mode = st.st_mode & 07777;
                        uid = st.st_uid;
                        gid = st.st_gid;
                        if (uns->range > 0) {
                                /* The app's root shows the pod's owners shifted
                                 * (idmapped): copied through an idmapped view of
                                 * the volume, as the pod's root, they are stored
                                 * as the pod's own ids, which the volume's mount
                                 * shifts back. */
                                uid -= uid >= uns->shift ? uns->shift : 0;
                                gid -= gid >= uns->shift ? uns->shift : 0;
                                view = open_tree(v, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                                r = view < 0 ? negative_errno() : idmap_tree(view, uns->userns_fd, false);
                                if (r >= 0 && (r = idmap_become(uns->shift)) >= 0) {
                                        r = dir < 0 ? negative_errno() : copy_tree_at(dir, view);
                                        idmap_unbecome();
                                }
                        } else
                                r = dir < 0 ? negative_errno() : copy_tree_at(dir, v);
                        if (r < 0)
                                return error_set(err, r, m->volume, "cannot fill the volume from app \"%s\"'s %s: %s",
                                                 m->app, m->target, strerror(-r));
                }
        }
        if (created && (fchown(v, uid, gid) < 0 || fchmod(v, mode) < 0))
                return error_set(err, negative_errno(), m->volume, "cannot set the volume's owner and mode: %m");
        *ret_fd = TAKE_FD(v);
        return 0;
}

/* The device volume's node for the app's DeviceAllow= (lib/render.h):
 * "c MAJOR:MINOR" or "b …" of what was mounted, which prepare-app makes in
 * the pod's /dev. A number, not a link to the app root: the app could
 * rename its way to another node behind a link. */
static int record_device(int s1, const RenderMount *m, const struct stat *st, NpError *err) {
        _cleanup_free_ char *dir = NULL, *line = NULL;
        _cleanup_close_ int d = -1;
        int r;

        if (asprintf(&dir, STAGE1_DEVICE_LINKS "/%s", m->app) < 0 ||
            asprintf(&line, "%c %u:%u\n", S_ISBLK(st->st_mode) ? 'b' : 'c', major(st->st_rdev), minor(st->st_rdev)) < 0)
                return -ENOMEM;
        r = fd_mkdir_p(s1, dir, 0700, &d);
        if (r >= 0)
                r = fd_write_file_atomic(d, m->volume, line, strlen(line), 0600);
        if (r < 0)
                return error_set(err, r, dir, "cannot record the device volume \"%s\": %s", m->volume, strerror(-r));
        return 0;
}

/* Every app's volumes (docs/volumes.md), in render's order, in our mount
 * namespace below the app roots: nspawn takes them along into the pod. */
static int mount_volumes(const char *pod_dir, int lock_fd, int s1, const RenderResult *res, const PodUserns *uns,
                         NpError *err) {
        _cleanup_close_ int here = -1;

        /* Empty volumes are cloned from the pod directory, which must be
         * opened in our mount namespace for that (open_tree() clones only
         * mounts of the caller's); checked to be the one we locked. */
        for (size_t i = 0; i < res->n_mounts && here < 0; i++)
                if (res->mounts[i].empty) {
                        struct stat a, b;

                        here = open(pod_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (here < 0 || fstat(here, &a) < 0 || fstat(lock_fd, &b) < 0 || a.st_dev != b.st_dev ||
                            a.st_ino != b.st_ino)
                                return error_set(err, -ESTALE, pod_dir, "is not the pod directory we locked");
                }
        for (size_t i = 0; i < res->n_mounts; i++) {
                const RenderMount *m = &res->mounts[i];
                _cleanup_free_ char *root_path = NULL, *resolved = NULL;
                _cleanup_close_ int root = -1, tree = -1, v = -1;
                BindMountFlags flags = BIND_MOUNT_MKDIR;
                struct stat st;
                int r;

                if (m->recursive)
                        flags |= BIND_MOUNT_RECURSIVE;
                if (m->read_only)
                        flags |= BIND_MOUNT_READ_ONLY;
                if (asprintf(&root_path, "opt/stage2/%s/rootfs", m->app) < 0)
                        return -ENOMEM;
                root = fd_open_in_root(s1, root_path, O_PATH | O_DIRECTORY, 0, true);
                if (root < 0)
                        return error_set(err, root, m->app, "cannot open its root: %s", strerror(-root));
                if (m->empty) {
                        r = open_empty_volume(here, root, m, uns, &v, err);
                        if (r < 0)
                                return r;
                        r = bind_mount_clone(v, "", flags, &tree);
                } else
                        r = bind_mount_clone(AT_FDCWD, m->source, flags, &tree);
                if (r < 0)
                        return error_set(err, r, NULL, "volume \"%s\": cannot open its source %s: %s", m->volume,
                                         m->empty ? "directory" : m->source, strerror(-r));
                /* What is mounted is what render was told (a device or not):
                 * the source may have changed since. */
                if (fstat(tree, &st) < 0)
                        return error_set(err, negative_errno(), m->volume, "cannot inspect the source: %m");
                if (m->device != (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                        return error_set(err, -ESTALE, NULL, "volume \"%s\": its source %s changed while the pod started",
                                         m->volume, m->source);
                if (uns->range > 0) {
                        /* An empty volume is the pod's own (in the pod
                         * directory): idmapped, its owners are the pod's ids.
                         * A host volume is not: idmapped, the host's root's
                         * files would be the pod's root's to change, and what
                         * it made there (set-id included) the host's root's.
                         * So it keeps its owners as the host has them: ids
                         * outside the pod's range are "nobody" in the pod, and
                         * what the pod makes there is its shifted ids'. */
                        if (m->empty && (r = idmap_tree(tree, uns->userns_fd, m->recursive)) < 0)
                                return error_set(err, r, m->volume, "cannot idmap the empty volume: %s",
                                                 strerror(-r));
                        /* What the run makes in the app's root (the mount
                         * point, the device's record) is the pod's root's. */
                        r = idmap_become(uns->shift);
                        if (r < 0)
                                return error_set(err, r, m->app, "cannot act as the pod's root: %s", strerror(-r));
                }
                r = bind_mount_at(tree, root, m->path, flags, &resolved);
                if (r < 0) {
                        if (uns->range > 0)
                                idmap_unbecome();
                        return error_set(err, r, NULL, "app \"%s\", volume \"%s\": cannot mount it at %s: %s", m->app,
                                         m->volume, m->target,
                                         r == -EBUSY     ? "that is the app's root"
                                         : r == -ENOTDIR ? "the source is a directory, the target is not"
                                         : r == -EISDIR  ? "the source is not a directory, the target is one"
                                                         : strerror(-r));
                }
                if (m->device)
                        r = record_device(s1, m, &st, err);
                if (uns->range > 0)
                        idmap_unbecome();
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The pod's journal (docs/logs.md): its directory readable by the host's
 * journal-reading groups only, and the pod directory, its state directory
 * and the pods directory passable (not readable) for them. Warnings only:
 * without ACLs the journal is root's, which is safe. */
static void journal_access(int lock_fd, int s1, void (*warn)(const char *)) {
        /* The pod directory, its state directory, the pods directory, and
         * exited-garbage/, where a stage0's gc keeps exited pods for a grace
         * period (rkt's) before it removes them. */
        static const char *const ups[] = { ".", "..", "../..", "../../exited-garbage" };
        _cleanup_close_ int jfd = -1;
        gid_t gids[JOURNAL_READER_GROUPS_MAX];
        size_t n = 0;
        int r;

        r = journal_reader_gids(gids, &n);
        if (r >= 0) {
                jfd = fd_open_in_root(s1, JOURNAL_STAGE1_DIR, O_RDONLY | O_DIRECTORY, 0, true);
                r = jfd < 0 ? jfd : journal_acl_set_dir(jfd, gids, n);
        }
        for (size_t i = 0; r >= 0 && n > 0 && i < ELEMENTSOF(ups); i++) {
                _cleanup_close_ int fd = openat(lock_fd, ups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (fd < 0 && errno == ENOENT && i == ELEMENTSOF(ups) - 1)
                        break; /* no exited-garbage/ (yet): it gets it with its first pod */
                r = fd < 0 ? negative_errno() : journal_acl_add_traverse(fd, gids, n);
        }
        if (r < 0 && warn) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "cannot give the journal readers' groups access to the pod's journal (%s): "
                                 "only root reads it",
                             strerror(-r)) >= 0)
                        warn(m);
        }
}

/* nspawn removes its runtime-mount directory /run/systemd/nspawn/propagate/
 * <machine> when it ends, but only from a tmpfs: where /run is on disk it
 * refuses, saying "Attempted to remove disk file system under …" on every
 * run. There a tmpfs of our own is put on it, in our mount namespace (gone
 * with it); elsewhere nothing changes. Returns true if it did. */
static bool propagate_dir_on_tmpfs(const char *machine) {
        _cleanup_free_ char *p = NULL;
        struct statfs sfs;

        if (statfs("/run/systemd/nspawn", &sfs) < 0 && statfs("/run", &sfs) < 0)
                return false;
        if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC)
                return false;
        if (asprintf(&p, "/run/systemd/nspawn/propagate/%s", machine) < 0)
                return false;
        /* The modes nspawn gives them. */
        if (fd_mkdir_p(AT_FDCWD, "/run/systemd/nspawn/propagate", 0755, NULL) < 0 ||
            (mkdir(p, 0700) < 0 && errno != EEXIST))
                return false;
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=1m") < 0) {
                (void) rmdir(p);
                return false;
        }
        return true;
}

static void propagate_dir_remove(const char *machine) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "/run/systemd/nspawn/propagate/%s", machine) < 0)
                return;
        (void) umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW);
        (void) rmdir(p);
}

/* What the child tells its parent when it cannot execute nspawn: the
 * descriptor has O_CLOEXEC, so an exec closes it and the parent reads EOF. */
typedef struct ExecFailure {
        int error; /* -errno */
        char message[256];
} ExecFailure;

/* Sockets a service manager passed us (socket activation: LISTEN_FDS, fds 3
 * onwards, LISTEN_PID our pid) go on to nspawn, which hands them to the
 * pod's systemd, which gives each to the app socket unit listening on its
 * address (docs/lifecycle.md). They are addressed to the run process, whose
 * child is about to become nspawn: LISTEN_PID is made nspawn's, and the fds
 * stay open across the exec. Anything else (a LISTEN_PID of another
 * process, a bad count) is not passed on. */
/* How many listening sockets (fds 3…) the environment passes to `owner`
 * (sd_listen_fds(3)'s LISTEN_PID and LISTEN_FDS); 0 for none or nonsense. */
static int listen_fds_count(pid_t owner) {
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        long n;
        char *end;

        if (!pid || !fds || strtol(pid, NULL, 10) != (long) owner)
                return 0;
        errno = 0;
        n = strtol(fds, &end, 10);
        return errno || *end || n <= 0 || n > 1024 ? 0 : (int) n;
}

static void listen_env_unset(void) {
        (void) unsetenv("LISTEN_PID");
        (void) unsetenv("LISTEN_FDS");
        (void) unsetenv("LISTEN_FDNAMES");
}

/* In the child that becomes nspawn: the sockets the run was passed are
 * nspawn's to pass on. */
static void pass_listen_fds(void) {
        int n = listen_fds_count(getppid());
        char buf[32];

        if (n == 0) {
                listen_env_unset();
                return;
        }
        for (int fd = 3; fd < 3 + n; fd++)
                (void) fcntl(fd, F_SETFD, 0);
        (void) snprintf(buf, sizeof(buf), "%d", (int) getpid());
        (void) setenv("LISTEN_PID", buf, 1);
}

/* In the parent, once nspawn has them: the listening sockets are the pod's.
 * Kept here they would stay open for as long as the pod runs even if the
 * pod's systemd takes none of them, and a client would wait on a socket no
 * one accepts on instead of being refused. */
static void close_listen_fds(void) {
        int n = listen_fds_count(getpid());

        if (n == 0)
                return;
        for (int fd = 3; fd < 3 + n; fd++)
                (void) close(fd);
        listen_env_unset();
}

static _Noreturn void child_fail(int report_fd, int r, const char *message) {
        ExecFailure f = { .error = r };

        (void) snprintf(f.message, sizeof(f.message), "%s: %s", message, strerror(-r));
        (void) fd_write_all(report_fd, &f, sizeof(f));
        _exit(EXIT_INTERNAL);
}

/* In the child: a process group of its own, the pod's cgroups, record them
 * and our pid, exec nspawn. The own process group matters: nspawn takes a
 * second SIGTERM as "kill the pod now", so a signal sent to the caller's
 * whole group (Ctrl-C, kill -- -PGID, a service manager) must reach nspawn
 * once, through the parent, not twice. On a terminal nspawn becomes the
 * foreground group, so that it can read it and ^C goes to the pod's
 * console. */
static _Noreturn void exec_nspawn(int report_fd, int lock_fd, int range_lock_fd, const char *pod_dir,
                                  const char *cgname, const char *machine_scope, const RenderResult *res,
                                  const CgroupLimitsSetup *limits, bool take_terminal) {
        _cleanup_free_ char *sub = NULL;
        char ppid[32];
        int r;

        (void) setpgid(0, 0);
        if (take_terminal)
                set_foreground(getpid());

        /* nspawn itself stays in the cgroup it starts in, registered or
         * not: ours, not whoever ran us. */
        if ((r = cgroup_enter_pod(cgname, &sub)) < 0)
                child_fail(report_fd, r, "cannot create the pod's cgroups");
        /* Before nspawn: everything of the pod is inside its limits. */
        if ((r = cgroup_limits_enter(limits)) < 0)
                child_fail(report_fd, r, "cannot place the pod in its resource limits' cgroups");
        if (machine_scope) {
                /* Registered with machined, the pod's payload goes to the
                 * machine's scope: that is the pod's cgroup, as rkt records it. */
                free(sub);
                sub = strdup(machine_scope);
                if (!sub)
                        child_fail(report_fd, -ENOMEM, "cannot record the pod's cgroup");
        }
        /* rkt's order: subcgroup before ppid, so whoever sees ppid finds both. */
        (void) snprintf(ppid, sizeof(ppid), "%d\n", (int) getpid());
        if ((r = write_text_at(lock_fd, "subcgroup", sub)) < 0 || (r = write_text_at(lock_fd, "ppid", ppid)) < 0)
                child_fail(report_fd, r, "cannot write the pod's subcgroup and ppid files");
        if (res->netns_join) {
                _cleanup_close_ int ns = open(res->netns_join, O_RDONLY | O_CLOEXEC), port = -1;

                if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
                        child_fail(report_fd, negative_errno(), "cannot join the pod's network namespace");
                /* That namespace is the host's user namespace's (the CNI
                 * plugins set it up from here): no capability of the pod's
                 * reaches it, CAP_NET_BIND_SERVICE neither, so ports below
                 * 1024 are opened to every process of it instead, in it
                 * alone (docs/security.md, "User namespaces"). */
                port = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
                if (port < 0 || write(port, "0\n", 2) != 2)
                        child_fail(report_fd, negative_errno(),
                                   "cannot open the pod's ports below 1024 to its user namespace");
        }
        STRV_FOREACH(e, res->nspawn_env)
                (void) putenv(*e);
        pass_listen_fds();
        /* By path: in our mount namespace, where the overlays are; the lock
         * fd was opened before it existed. */
        if (chdir(pod_dir) < 0)
                child_fail(report_fd, negative_errno(), "cannot enter the pod directory");
        /* The locked directory fd goes to nspawn: the pod runs as long as it
         * is held, and the kernel drops it when nspawn exits. */
        if (fcntl(lock_fd, F_SETFD, 0) < 0)
                child_fail(report_fd, negative_errno(), "cannot pass on the pod's lock");
        /* And the uid range's (docs/security.md, "User namespaces"). */
        if (range_lock_fd >= 0 && fcntl(range_lock_fd, F_SETFD, 0) < 0)
                child_fail(report_fd, negative_errno(), "cannot pass on the uid range's lock");
        execv(res->nspawn_argv[0], res->nspawn_argv);
        child_fail(report_fd, negative_errno(), "cannot execute systemd-nspawn");
}

/* Input typed before an interactive pod's app runs (docs/run.md,
 * "Interactive pods"): the pod's systemd flushes its console when it starts
 * (console_setup()), so what nspawn had forwarded by then is lost. The
 * caller reads what is waiting on the terminal before nspawn starts, and we
 * put it back into the terminal's input (TIOCSTI) once the pod is ready, when
 * nspawn forwards it to the app. */
typedef struct TypeAhead {
        char buf[4096];
        size_t n;
        int ready_dir; /* the stage1 root's rkt/, where supervisor-status appears */
        void (*warn)(const char *);
} TypeAhead;

static void typeahead_take(TypeAhead *t) {
        struct termios old, raw;
        ssize_t k;
        int flags;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) < 0)
                return;
        raw = old;
        raw.c_lflag &= ~(tcflag_t) ICANON; /* a line not yet ended is input too */
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        flags = fcntl(STDIN_FILENO, F_GETFL);
        if (flags < 0 || tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                return;
        (void) fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
        while (t->n < sizeof(t->buf) && (k = read(STDIN_FILENO, t->buf + t->n, sizeof(t->buf) - t->n)) > 0)
                t->n += (size_t) k;
        (void) fcntl(STDIN_FILENO, F_SETFL, flags);
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &old);
}

/* Once the pod is ready (its app has started), the input goes back. */
static void typeahead_give(TypeAhead *t) {
        char target[8];

        if (t->n == 0 || t->ready_dir < 0 || readlinkat(t->ready_dir, "supervisor-status", target, sizeof(target)) != 5)
                return;
        for (size_t i = 0; i < t->n; i++)
                if (ioctl(STDIN_FILENO, TIOCSTI, t->buf + i) < 0) {
                        if (t->warn)
                                t->warn("the input typed before the app started could not be passed on to it "
                                        "(TIOCSTI)");
                        break;
                }
        t->n = 0;
}

/* Waits for nspawn, passing on the first stop signal we get (SIGTERM,
 * SIGINT, SIGHUP; blocked by the caller before nspawn was forked) as one
 * SIGTERM, which nspawn turns into an orderly shutdown of the pod. Later ones
 * are dropped: nspawn takes a second SIGTERM as "kill the pod now", and a
 * signal often comes twice (to us and to our process group, from timeout(1)
 * or a service manager). A signal that comes before the pod's init takes
 * nspawn's stop request is held until it does (lib/pod-stop.h), so that no
 * stop is lost, but no longer than POD_STOP_READY_TIMEOUT_USEC: a pod whose
 * init never gets there (a stage1 that does not boot) still gets the
 * SIGTERM, and nspawn's own handling of it. Its exit status is the pod's. */
static int wait_nspawn(pid_t child, const sigset_t *stop_signals, TypeAhead *typeahead) {
        bool sent = false;
        uint64_t held_since = 0; /* 0: no signal held */
        int status;

        for (;;) {
                struct timespec poll = { .tv_nsec = 10 * 1000 * 1000 };
                pid_t w = waitpid(child, &status, WNOHANG);
                siginfo_t si;
                int sig;

                if (w == child)
                        break;
                if (w < 0 && errno != EINTR)
                        return EXIT_INTERNAL;
                typeahead_give(typeahead);
                sig = sigtimedwait(stop_signals, &si, held_since || typeahead->n > 0 ? &poll : NULL);
                if (sig > 0 && sig != SIGCHLD && !sent && !held_since)
                        held_since = now_usec();
                if (held_since && (pod_init_takes_stop(child) != 0 ||
                                   now_usec() - held_since >= POD_STOP_READY_TIMEOUT_USEC)) {
                        (void) kill(child, SIGTERM);
                        held_since = 0;
                        sent = true;
                }
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        /* Shell convention, so "killed by a signal" stays visible. */
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_INTERNAL;
}

/* Drops the stop signals that came while they were blocked and not waited
 * for: once the mask is restored they would be delivered, and their default
 * action would kill us before the caller has reported the pod's end. */
static void drain_signals(const sigset_t *set) {
        struct timespec zero = {};
        siginfo_t si;

        while (sigtimedwait(set, &si, &zero) > 0)
                ;
}

/* After nspawn: what it and a registration leave behind. nspawn leaves its
 * supervisor/payload cgroups below ours; machined's scope for the pod goes
 * with the machine, asked for in case the pod ended abruptly. */
static void remove_pod_cgroups(const char *cgname, const char *machine, const char *machine_scope) {
        (void) cgroup_remove_pod(cgname, CGROUP_REMOVE_TIMEOUT_MS);
        if (machine_scope) {
                char *scope_names[] = { (char *) strrchr(machine_scope, '/') + 1, NULL };

                (void) machined_terminate(machine);
                (void) cgroup_pod_remove(scope_names, machine_scope, CGROUP_REMOVE_TIMEOUT_MS);
        }
}

/* Starts nspawn as our child and waits for it; records the pod's exit code
 * and removes the pod's cgroups when it has ended. `machine_scope`: the pod
 * is registered with machined as `machine`, its payload in that scope. */
static int spawn_and_wait(const char *pod_dir, int lock_fd, int range_lock_fd, const char *cgname,
                          const char *machine, const char *machine_scope, const RenderResult *res,
                          const CgroupLimitsSetup *limits, TypeAhead *typeahead, NpError *err) {
        _cleanup_close_ int report_r = -1, report_w = -1;
        struct sigaction old_chld;
        sigset_t stop_signals, old_mask;
        ExecFailure f;
        bool terminal;
        pid_t child;
        ssize_t n;
        int pipefd[2], r;
        char code[16];

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set(err, negative_errno(), NULL, "cannot create a pipe: %m");
        report_r = pipefd[0];
        report_w = pipefd[1];
        /* Only if we are the terminal's foreground group ourselves. */
        terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGHUP);
        sigaddset(&stop_signals, SIGCHLD);
        /* A caller that ignores SIGCHLD would have nspawn reaped behind
         * waitpid()'s back, and its exit status lost. */
        if (sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, &old_chld) < 0)
                return error_set(err, negative_errno(), NULL, "cannot reset SIGCHLD: %m");
        (void) sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
        fflush(NULL);
        child = fork();
        if (child < 0) {
                r = error_set(err, negative_errno(), NULL, "cannot fork: %m");
                goto restore;
        }
        if (child == 0) {
                /* SIGCHLD stays at its default: nspawn waits for its own. */
                (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);
                report_r = safe_close(report_r);
                exec_nspawn(report_w, lock_fd, range_lock_fd, pod_dir, cgname, machine_scope, res, limits, terminal);
        }
        report_w = safe_close(report_w);
        close_listen_fds();
        (void) setpgid(child, child); /* also here: whichever of us runs first */
        do
                n = read(report_r, &f, sizeof(f));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t) sizeof(f)) {
                while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                        ;
                f.message[sizeof(f.message) - 1] = 0;
                r = error_set(err, f.error < 0 ? f.error : -EIO, NULL, "%s", f.message);
        } else {
                r = wait_nspawn(child, &stop_signals, typeahead);
                /* Lifecycle (docs/lifecycle.md): record the pod's exit code;
                 * the file's mtime is its exit time. Written while we still
                 * hold the lock, so `status --wait` finds it. Best effort. */
                (void) snprintf(code, sizeof(code), "%d\n", r);
                (void) write_text_at(lock_fd, "exit-code", code);
        }
        if (terminal)
                set_foreground(getpgrp());
        remove_pod_cgroups(cgname, machine, machine_scope);
restore:
        /* The pod has ended and is recorded: a stop signal that came late
         * has nothing left to stop. */
        drain_signals(&stop_signals);
        (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);
        (void) sigaction(SIGCHLD, &old_chld, NULL);
        return r;
}

/* The pod's user namespace, before anything is mounted in its trees: its
 * range locked (for as long as nspawn runs), the idmapping made, and the
 * stage1 root idmapped in place; `*s1` is reopened on that view, which is
 * what nspawn and the rest of the run see. Files the run wrote into the
 * stage1 root before are root's in the pod (on-disk 0). */
static int userns_start(const PodRunOptions *o, int stage1, int *s1, PodUserns *uns, NpError *err) {
        uint32_t range = o->uid_range > 0 ? o->uid_range : IDMAP_RANGE;
        int r, fd;

        if (o->uid_shift > 0) {
                r = idmap_lock(o->uid_shift, range, &uns->lock_fd);
                uns->lock_range = range;
                if (r == -EBUSY)
                        return error_set(err, r, NULL,
                                         "--private-users=%" PRIu32 ":%" PRIu32 ": another pod runs in that range "
                                         "(or one overlapping it)",
                                         o->uid_shift, range);
                uns->shift = o->uid_shift;
        } else {
                r = idmap_pick(&uns->shift, &uns->lock_fd);
                uns->lock_range = IDMAP_RANGE;
                if (r == -EBUSY)
                        return error_set(err, r, NULL, "--private-users: every uid range is in use");
        }
        if (r < 0)
                return error_set(err, r, NULL, "cannot lock a uid range for the pod: %s", strerror(-r));
        r = idmap_userns(uns->shift, range, &uns->userns_fd);
        if (r < 0)
                return error_set(err, r, NULL, "cannot create the user namespace of the pod's idmapped mounts: %s",
                                 strerror(-r));
        if (o->uid_preshifted) {
                struct stat st;

                /* rkt's stage0 renders the stage1 root with the shift's owners. */
                if (fstat(*s1, &st) < 0)
                        return error_set(err, negative_errno(), "stage1/rootfs", "cannot inspect: %m");
                if (st.st_uid != uns->shift || st.st_gid != uns->shift)
                        return error_set(err, -EINVAL, NULL,
                                         "--private-users=%" PRIu32 ":%" PRIu32 ": the pod's stage1 root is owned by "
                                         "%u:%u, not by the shift: the pod was not prepared for this user namespace "
                                         "(rkt prepare --private-users --no-overlay renders it so)",
                                         uns->shift, range, (unsigned) st.st_uid, (unsigned) st.st_gid);
                uns->range = range;
                return 0;
        }
        r = idmap_remount(*s1, "", uns->userns_fd, false);
        if (r < 0)
                return error_set(err, r, "stage1/rootfs",
                                 "cannot idmap the pod's root for its user namespace: %s (that takes idmapped "
                                 "mounts: Linux 5.12 or later and a file system that has them, such as ext4, xfs, "
                                 "btrfs, tmpfs; docs/security.md)",
                                 strerror(-r));
        fd = fd_open_dir_nofollow(stage1, "rootfs", O_PATH);
        if (fd < 0)
                return error_set(err, fd, "stage1/rootfs", "cannot open the pod's idmapped root: %s", strerror(-fd));
        closep(s1);
        *s1 = fd;
        uns->range = range;
        return 0;
}

int pod_run(const char *pod_dir, int lock_fd, const uint8_t uuid[16], const PodRunOptions *o, NpError *err) {
        _cleanup_error_ NpError perr = NP_ERROR_INIT;
        _cleanup_(pod_freep) Pod *pod = NULL;
        _cleanup_(render_result_freep) RenderResult *res = NULL;
        _cleanup_free_ RenderIds *ids = NULL;
        _cleanup_strv_free_ char **device_sources = NULL;
        _cleanup_free_ char *rendered = NULL, *manifest = NULL, *machine = NULL, *scope = NULL;
        _cleanup_close_ int stage1 = -1, s1 = -1, host_mnt = -1;
        _cleanup_free_ char *netns = NULL;
        struct sigaction old_chld;
        bool chld_saved = false, resolv_off = false, pod_hosts = false;
        Image **images = NULL;
        char cgname[49];
        bool register_machine, propagate_tmpfs = false;
        CgroupLimitsSetup limits = CGROUP_LIMITS_SETUP_INIT;
        TypeAhead typeahead = { .ready_dir = -1, .warn = o->warn };
        PodUserns uns = POD_USERNS_INIT;
        CgroupPlace places[_CGROUP_CTRL_MAX];
        uint64_t journal_max_use;
        size_t size;
        int r;

        pod_cgroup_name(uuid, cgname);
        /* First of all: what was typed before, whose pod this is. */
        if (o->interactive)
                typeahead_take(&typeahead);
        if (asprintf(&rendered, "%s/stage1/rendered", pod_dir) < 0)
                return -ENOMEM;
        r = render_machine_name(o->machine_prefix, uuid, &machine);
        if (r < 0)
                return r;
        if (o->hostname && !render_hostname_is_valid(o->hostname))
                return error_set(err, -EINVAL, NULL,
                                 "\"%s\" is not a valid hostname (1-63 letters, digits, '-' and '.', not starting or "
                                 "ending with '-' or '.')",
                                 o->hostname);

        r = fd_read_file_in_root(lock_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size);
        if (r >= 0)
                r = manifest_parse_pod(manifest, size, &pod, &perr);
        if (r < 0)
                return error_set(err, r == -ENOMEM ? r : -EINVAL, "pod", "bad pod manifest: %s", error_format(&perr, r));

        r = journal_max_use_of_pod(pod, &journal_max_use, err);
        if (r < 0)
                return r;

        if (pod->n_ports > 0 && o->net != POD_NET_CNI) {
                r = error_set(err, -EINVAL, NULL, "the pod publishes ports, which need a CNI network (not --net=%s)",
                              o->net == POD_NET_HOST ? "host" : "none");
                return r;
        }
        /* Our helpers' children (CNI plugins, the namespace maker) are waited
         * for: a caller that ignores SIGCHLD would have them reaped away. */
        if (sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, &old_chld) < 0)
                return error_set(err, negative_errno(), NULL, "cannot reset SIGCHLD: %m");
        chld_saved = true;
        if (o->net == POD_NET_CNI) {
                host_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
                if (host_mnt < 0) {
                        r = error_set(err, negative_errno(), NULL, "cannot open our mount namespace: %m");
                        goto finish;
                }
                r = setup_networks(pod_dir, lock_fd, uuid, pod, o, &netns, err);
                if (r < 0)
                        goto finish;
        }

        /* A mount namespace of our own, entered before any fd into the
         * stage1 is opened (see mount_overlays()): the overlays and the
         * propagation directory's tmpfs live and die with it. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
                r = error_set(err, negative_errno(), NULL, "cannot create a mount namespace: %m");
                goto finish;
        }
        {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/stage1", pod_dir) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                stage1 = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        s1 = stage1 >= 0 ? fd_open_dir_nofollow(stage1, "rootfs", O_PATH) : -EBADF;
        if (s1 < 0) {
                r = error_set(err, -EINVAL, "stage1/rootfs", "the pod has no stage1 root");
                goto finish;
        }

        {
                Stage1HostOptions so = {
                        .hostname = o->hostname ? o->hostname : machine,
                        .journal_max_use = journal_max_use,
                };

                memcpy(so.uuid, uuid, 16);
                r = stage1_host_setup(s1, &so, err);
                if (r < 0)
                        goto finish;
        }
        journal_access(lock_fd, s1, o->warn);
        /* rkt's convention, read by its gc: which flavor the pod runs. */
        if (symlinkat("host", lock_fd, "flavor") < 0 && errno != EEXIST) {
                r = error_set(err, negative_errno(), "flavor", "cannot create: %m");
                goto finish;
        }

        r = write_dns(lock_fd, s1, o, o->hostname ? o->hostname : machine, &resolv_off, &pod_hosts, err);
        if (r < 0)
                goto finish;

        if (o->private_users && (r = userns_start(o, stage1, &s1, &uns, err)) < 0)
                goto finish;
        r = mount_overlays(pod_dir, lock_fd, s1, pod, &uns, err);
        if (r < 0)
                goto finish;
        images = calloc(pod->n_apps + 1, sizeof(Image *));
        ids = calloc(pod->n_apps + 1, sizeof(RenderIds));
        if (!images || !ids) {
                r = -ENOMEM;
                goto finish;
        }
        r = load_apps(s1, pod, images, ids, err);
        if (r < 0)
                goto finish;
        for (size_t i = 0; uns.range > 0 && i < pod->n_apps; i++)
                if (ids[i].uid >= uns.range || ids[i].gid >= uns.range) {
                        r = error_set(err, -ERANGE, pod->apps[i].name,
                                      "runs as uid %" PRIu32 ", gid %" PRIu32 ": outside the pod's user namespace, "
                                      "whose ids are 0 to %" PRIu32,
                                      ids[i].uid, ids[i].gid, uns.range - 1);
                        goto finish;
                }

        /* machined where it answers (docs/stage1.md): detected, never assumed. */
        register_machine = machined_available() > 0;
        r = cgroup_places_detect(places);
        if (r < 0) {
                r = error_set(err, r, NULL, "cannot tell where this host's cgroup controllers are: %s", strerror(-r));
                goto finish;
        }
        r = bind_mount_device_sources(pod, &device_sources);
        if (r < 0)
                goto finish;
        if (register_machine && (r = machined_scope_path(machine, &scope)) < 0)
                goto finish;
        RenderOptions opts = {
                .pod_dir = pod_dir,
                .hostname = o->hostname,
                .machine_prefix = o->machine_prefix,
                .register_machine = register_machine,
                .link_journal = access("/var/log/journal", F_OK) == 0,
                .hide_printk_time = access("/sys/module/printk/parameters/time", F_OK) == 0,
                .interactive = o->interactive,
                .debug = o->debug,
                .disable_capabilities = o->disable_capabilities,
                .disable_paths = o->disable_paths,
                .disable_seccomp = o->disable_seccomp,
                .private_network = o->net == POD_NET_NONE,
                .netns_path = netns,
                .resolv_conf_off = resolv_off,
                .pod_hosts = pod_hosts,
                .share_ipc = o->share_ipc,
                .selinux_context = o->selinux_context,
                .selinux_apifs_context = o->selinux_apifs_context,
                .ids = ids,
                .device_sources = device_sources,
                .rendered_dir = rendered,
                .cgroup_v1_mask = cgroup_places_v1_mask(places),
                .uid_shift = uns.shift,
                .uid_range = uns.range,
        };
        memcpy(opts.uuid, uuid, 16);
        r = render_pod(pod, images, &opts, &res, &perr);
        if (r < 0) {
                r = error_set(err, r == -ENOMEM ? r : -EINVAL, NULL, "%s", error_format(&perr, r));
                goto finish;
        }
        if (o->warn)
                STRV_FOREACH(w, res->warnings)
                        o->warn(*w);
        if (res->lowers_oom_score) {
                uint64_t eff = 0;

                /* The kernel lets only CAP_SYS_RESOURCE lower an OOM score,
                 * and the pod's systemd ignores the failure: refused here
                 * instead of a setting that looks applied and is not. */
                if (capability_get(&eff, NULL, NULL) < 0 || !(eff & (UINT64_C(1) << CAP_SYS_RESOURCE))) {
                        r = error_set(err, -EPERM, NULL,
                                      "app \"%s\": its negative oom-score-adj cannot be applied: lowering an OOM "
                                      "score takes CAP_SYS_RESOURCE, which this run does not have",
                                      res->lowers_oom_score);
                        goto finish;
                }
        }
        /* Rendered anew at every start: no fsync on the start path. */
        r = fileset_write_flags(res->files, stage1, "rendered", FILESET_WRITE_NO_SYNC | FILESET_WRITE_PRIVATE);
        if (r < 0) {
                r = error_set(err, r, "stage1/rendered", "cannot write the units: %s", strerror(-r));
                goto finish;
        }
        r = mount_volumes(pod_dir, lock_fd, s1, res, &uns, err);
        if (r < 0)
                goto finish;

        {
                _cleanup_free_ uid_t *uids = calloc(pod->n_apps + 1, sizeof(uid_t));
                _cleanup_free_ char **names = calloc(pod->n_apps + 1, sizeof(char *));

                if (!uids || !names) {
                        r = -ENOMEM;
                        goto finish;
                }
                for (size_t i = 0; i < pod->n_apps; i++) {
                        uids[i] = uns.shift + ids[i].uid; /* as the host sees the app */
                        names[i] = pod->apps[i].name;
                }
                r = cgroup_limits_setup(cgname, places, &res->pod_limits, names, res->app_limits, uids, s1,
                                        &limits, err);
                if (r < 0)
                        goto finish;
        }
        propagate_tmpfs = propagate_dir_on_tmpfs(machine);
        typeahead.ready_dir = openat(s1, "rkt", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (o->uid_preshifted && uns.range > 0) {
                /* What the run made in the stage1 root is the pod's root's
                 * (and users'), as the rest of the tree rkt rendered. */
                static char *const skip[] = { (char *) "opt/stage2/*/rootfs", NULL };

                r = idmap_shift_tree(s1, uns.shift, uns.range, skip);
                if (r < 0) {
                        r = error_set(err, r, "stage1/rootfs", "cannot give the pod's files to its user namespace: %s",
                                      strerror(-r));
                        cgroup_limits_release(&limits);
                        goto finish;
                }
        }
        /* nspawn holds the uid range's lock for as long as the pod runs. */
        r = spawn_and_wait(pod_dir, lock_fd, uns.lock_fd, cgname, machine, scope, res, &limits, &typeahead, err);
        typeahead.ready_dir = safe_close(typeahead.ready_dir);
        cgroup_limits_release(&limits);
        if (propagate_tmpfs)
                propagate_dir_remove(machine);
finish:
        safe_close(uns.userns_fd);
        idmap_unlock(uns.shift, uns.lock_range, uns.lock_fd);
        for (size_t i = 0; images && i < pod->n_apps; i++)
                image_free(images[i]);
        free(images);
        if (netns)
                teardown_networks(host_mnt, lock_fd, uuid, o->warn);
        if (chld_saved)
                (void) sigaction(SIGCHLD, &old_chld, NULL);
        return r;
}
