/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <sys/wait.h>
#include <signal.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "fd-util.h"
#include "macro.h"
#include "names.h"
#include "netns.h"
#include "pod-net.h"
#include "strbuf.h"
#include "strv.h"

#define RECORD_MAX (1024 * 1024)

void pod_net_infos_free(PodNetInfo *n, size_t count) {
        for (size_t i = 0; i < count; i++) {
                free(n[i].name);
                free(n[i].ifname);
                strv_free(n[i].addresses);
                strv_free(n[i].nameservers);
                strv_free(n[i].search);
                strv_free(n[i].options);
                free(n[i].domain);
        }
        free(n);
}

static void netns_name_of(const uint8_t uuid[16], char buf[static 64]) {
        char u[37];

        snprintf(buf, 64, "nspawn-pod-%s", uuid_format(uuid, u));
}

/* Masquerading for a network whose configuration list says
 * "nspawnPodMasquerade": true (the built-in default): what ptp's ipMasq
 * does (a chain of the pod's own, hooked from POSTROUTING for its address:
 * its own subnet accepted, everything but multicast masqueraded), in one
 * iptables-restore each way instead of ptp's dozen iptables runs (~60 ms of
 * every pod's start and end: docs/networks.md). The chain is named for the
 * pod and the interface, so a teardown finds it without the ADD's result. */

static bool wants_masquerade(const CniNetwork *n) {
        return json_is_true(json_object_get(n->conf, "nspawnPodMasquerade"));
}

static void masq_chain(const uint8_t uuid[16], const char *ifname, char buf[static 29]) {
        /* iptables allows 28 characters: "NSPOD-", the UUID's first 8 bytes
         * in hex (ptp's own chains hash the container ID the same way), "-",
         * the interface. */
        snprintf(buf, 29, "NSPOD-%02x%02x%02x%02x%02x%02x%02x%02x-%.4s", uuid[0], uuid[1], uuid[2], uuid[3], uuid[4],
                 uuid[5], uuid[6], uuid[7], ifname);
}

/* The IPv4 network of "A.B.C.D/N" in *ret ("A.B.C.0/N"). */
static int ipv4_network(const char *cidr, char ret[static 32]) {
        char addr[INET_ADDRSTRLEN];
        const char *slash = strchr(cidr, '/');
        struct in_addr a;
        unsigned long n;
        char *end;

        if (!slash || (size_t) (slash - cidr) >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, cidr, (size_t) (slash - cidr));
        addr[slash - cidr] = 0;
        errno = 0;
        n = strtoul(slash + 1, &end, 10);
        if (errno || *end || n > 32 || inet_pton(AF_INET, addr, &a) != 1)
                return -EINVAL;
        a.s_addr &= n == 0 ? 0 : htonl(~0u << (32 - n));
        if (!inet_ntop(AF_INET, &a, ret, 32))
                return -EINVAL;
        snprintf(ret + strlen(ret), 32 - strlen(ret), "/%lu", n);
        return 0;
}

static int iptables_restore(const char *script) {
        int p[2], status;
        pid_t child;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        child = fork();
        if (child < 0) {
                close(p[0]);
                close(p[1]);
                return negative_errno();
        }
        if (child == 0) {
                char *argv[] = { (char *) "iptables-restore", (char *) "--noflush", (char *) "--wait", NULL };
                char *envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                const int keep[] = { 0, 1, 2 };
                sigset_t none;
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(p[0], 0) < 0 || (devnull >= 0 && (dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)) ||
                    fd_close_all_except(keep, ELEMENTSOF(keep)) < 0)
                        _exit(127);
                execve("/usr/sbin/iptables-restore", argv, envp);
                _exit(127);
        }
        close(p[0]);
        (void) fd_write_all(p[1], script, strlen(script));
        close(p[1]);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int masquerade_add(const uint8_t uuid[16], const char *ifname, json_t *result, NpError *err) {
        _cleanup_strv_free_ char **addrs = NULL;
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        char chain[29], u[37];
        int r;

        masq_chain(uuid, ifname, chain);
        uuid_format(uuid, u);
        r = cni_result_addresses(result, &addrs);
        if (r < 0)
                return r;
        strbuf_printf(&b, "*nat\n:%s - [0:0]\n", chain);
        STRV_FOREACH(a, addrs) {
                char net[32];

                if (strchr(*a, ':') || ipv4_network(*a, net) < 0)
                        continue; /* IPv4 only, as ptp's */
                strbuf_printf(&b, "-A POSTROUTING -s %.*s/32 -m comment --comment \"nspawn-pod %s\" -j %s\n",
                              (int) strcspn(*a, "/"), *a, u, chain);
                strbuf_printf(&b, "-A %s -d %s -j ACCEPT\n-A %s ! -d 224.0.0.0/4 -j MASQUERADE\n", chain, net, chain);
        }
        strbuf_append(&b, "COMMIT\n");
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        r = iptables_restore(b.data);
        return r < 0 ? error_set(err, r, NULL, "cannot add the pod's masquerading rules (iptables-restore)") : 0;
}

/* Idempotent: the hooks of the chain, then the chain, whatever is there. */
static void masquerade_del(const uint8_t uuid[16], const char *ifname) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *rules = NULL;
        char chain[29];
        int p[2], status;
        pid_t child;
        size_t size;

        masq_chain(uuid, ifname, chain);
        /* The hooks are found in `iptables -t nat -S POSTROUTING`. */
        if (pipe2(p, O_CLOEXEC) < 0)
                return;
        child = fork();
        if (child < 0) {
                close(p[0]);
                close(p[1]);
                return;
        }
        if (child == 0) {
                char *argv[] = { (char *) "iptables", (char *) "-w", (char *) "-t", (char *) "nat", (char *) "-S",
                                 (char *) "POSTROUTING", NULL };
                char *envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                const int keep[] = { 1 };

                if (dup2(p[1], 1) < 0 || fd_close_all_except(keep, 1) < 0)
                        _exit(127);
                execve("/usr/sbin/iptables", argv, envp);
                _exit(127);
        }
        close(p[1]);
        (void) fd_read_all(p[0], 4 * 1024 * 1024, &rules, &size);
        close(p[0]);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        strbuf_append(&b, "*nat\n");
        for (char *line = rules, *next; line && *line; line = next) {
                char jump[40];
                size_t len, jl;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                snprintf(jump, sizeof(jump), " -j %s", chain);
                len = strlen(line);
                jl = strlen(jump);
                if (strncmp(line, "-A POSTROUTING ", 15) == 0 && len > jl && strcmp(line + len - jl, jump) == 0)
                        strbuf_printf(&b, "-D %s\n", line + 3);
        }
        strbuf_printf(&b, "-F %s\n-X %s\nCOMMIT\n", chain, chain);
        /* No such chain (a teardown again, or an ADD cut short before it):
         * iptables-restore fails as a whole and changes nothing, ignoring;
         * then the hooks alone, in case they are there without it. */
        if (strbuf_error(&b) >= 0 && iptables_restore(b.data) < 0) {
                _cleanup_strbuf_ StrBuf h = STRBUF_INIT;

                strbuf_append(&h, b.data);
                if (strbuf_error(&h) >= 0) {
                        char *f = strstr(h.data, "-F ");

                        if (f) {
                                strcpy(f, "COMMIT\n");
                                (void) iptables_restore(h.data);
                        }
                }
        }
}

/* A record: {"name", "ifName", "args", "conf", "result"} (result null
 * until the ADD succeeded). */
static int write_record(int dir, const char *file, const CniNetwork *n, const char *ifname, const char *args,
                        json_t *port_mappings, json_t *result, bool add_failed) {
        _cleanup_json_ json_t *j = json_pack("{sssssOsO}", "name", n->name, "ifName", ifname, "conf", n->conf,
                                             "result", result ? result : json_null());
        _cleanup_free_ char *s = NULL;

        if (!j || (args && json_object_set_new(j, "args", json_string(args)) < 0) ||
            (port_mappings && json_object_set(j, "portMappings", port_mappings) < 0) ||
            (add_failed && json_object_set_new(j, "addFailed", json_true()) < 0))
                return -ENOMEM;
        s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!s)
                return -ENOMEM;
        /* Durable: after a power loss the IPAM state on disk must still have
         * its record, or nobody would release it. */
        return fd_write_file_atomic_flags(dir, file, s, strlen(s), 0600, WRITE_DURABLE);
}

/* The record files of POD/net/, sorted. */
static int list_records(int pod_fd, int *ret_dir, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_close_ int dir = -1;
        DIR *d;
        int dup_fd;

        dir = fd_open_in_root(pod_fd, POD_NET_DIR, O_RDONLY | O_DIRECTORY, 0, true);
        if (dir < 0) {
                *ret_dir = -1;
                *ret = NULL;
                return dir == -ENOENT ? 0 : dir;
        }
        dup_fd = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return -ENOMEM;
        }
        for (struct dirent *de; (de = readdir(d));) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                if (strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        strv_sort(l);
        *ret_dir = TAKE_FD(dir);
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_record(int dir, const char *file, json_t **ret) {
        _cleanup_free_ char *data = NULL;
        json_error_t jerr;
        size_t size;
        int r;

        r = fd_read_file_in_root(dir, file, RECORD_MAX, &data, &size);
        if (r < 0)
                return r;
        *ret = json_loadb(data, size, 0, &jerr);
        return json_is_object(*ret) ? 0 : -EINVAL;
}

/* The pod's namespace name from POD/netns, checked to be one of ours or
 * rkt's (NETNS_DIR or /var/run/netns, a single valid name). NULL: none. */
static int read_netns(int pod_fd, const uint8_t uuid[16], char **ret_path, const char **ret_name, bool *ret_ours,
                      NpError *err) {
        static const char *const dirs[] = { NETNS_DIR "/", "/var/run/netns/" };
        _cleanup_free_ char *path = NULL;
        const char *name = NULL;
        size_t size;
        int r;

        *ret_path = NULL;
        *ret_ours = false;
        r = fd_read_file_in_root(pod_fd, POD_NETNS_FILE, 4096, &path, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(err, r, POD_NETNS_FILE, "cannot read the pod's netns file: %s", strerror(-r));
        path[strcspn(path, "\n")] = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs) && !name; i++)
                if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
                        name = path + strlen(dirs[i]);
        if (!name || !netns_name_is_valid(name))
                return error_set(err, -EINVAL, POD_NETNS_FILE, "not a network namespace of %s: \"%s\"", NETNS_DIR, path);
        {
                char mine[64];

                /* Ours is named for the pod: only in that one are DELs run. */
                netns_name_of(uuid, mine);
                *ret_ours = strncmp(path, NETNS_DIR "/", strlen(NETNS_DIR) + 1) == 0 && strcmp(name, mine) == 0;
        }
        *ret_name = name;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int pod_net_teardown(int pod_fd, const uint8_t uuid[16], NpError *err) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *netns = NULL;
        _cleanup_close_ int dir = -1;
        const char *name = NULL;
        bool ours = false;
        char u[37];
        int r, first = 0, live;

        uuid_format(uuid, u);
        {
                _cleanup_error_ NpError nerr = NP_ERROR_INIT;

                r = read_netns(pod_fd, uuid, &netns, &name, &ours, &nerr);
                if (r < 0 && r != -EINVAL)
                        return error_set(err, r, NULL, "%s", error_format(&nerr, r));
        }
        /* A netns file that names something else: the DELs run without a
         * namespace (they still release what is outside it), and it stays. */
        live = netns && ours ? netns_is_live(netns) : 0;
        r = list_records(pod_fd, &dir, &files);
        if (r < 0)
                return error_set(err, r, POD_NET_DIR, "cannot read the pod's network records: %s", strerror(-r));
        for (size_t i = strv_length(files); i > 0; i--) {
                _cleanup_(cni_network_freep) CniNetwork *n = NULL;
                _cleanup_error_ NpError perr = NP_ERROR_INIT;
                _cleanup_json_ json_t *rec = NULL;
                json_t *result;

                r = read_record(dir, files[i - 1], &rec);
                if (r >= 0)
                        r = cni_network_from_json(json_object_get(rec, "conf"), &n, &perr);
                if (r < 0) {
                        /* Not a record we can act on: it stays, and says so. */
                        if (first == 0)
                                first = error_set(err, r, files[i - 1], "cannot read the network record: %s",
                                                  error_format(&perr, r));
                        continue;
                }
                result = json_object_get(rec, "result");
                CniRuntime rt = {
                        .container_id = u,
                        .netns = live > 0 ? netns : "",
                        .ifname = json_string_value(json_object_get(rec, "ifName")),
                        .args = json_string_value(json_object_get(rec, "args")),
                        .port_mappings = json_object_get(rec, "portMappings"),
                        .keep_fd = pod_fd,
                };
                if (!rt.ifname)
                        rt.ifname = "eth0";
                if (wants_masquerade(n))
                        masquerade_del(uuid, rt.ifname);
                r = cni_del(n, &rt, json_is_object(result) ? result : NULL, &perr);
                if (r < 0 && *rt.netns && !json_is_object(result)) {
                        /* An ADD cut short (the run killed half-way) leaves
                         * what ptp's DEL then fails to find (its masquerading
                         * chain): without the namespace the plugins release
                         * what they hold outside it (IPAM) and skip the rest,
                         * and the interface goes with the namespace. */
                        _cleanup_error_ NpError again = NP_ERROR_INIT;

                        rt.netns = "";
                        if (cni_del(n, &rt, json_is_object(result) ? result : NULL, &again) >= 0)
                                r = 0;
                        rt.netns = netns;
                }
                /* A network whose ADD was seen to fail has had every plugin's
                 * DEL that could run (cni_del() goes on past failures): a DEL
                 * that cannot succeed (its plugin missing, the configuration
                 * that failed the ADD) must not keep the pod forever. Any
                 * other keeps its record until its DEL succeeds. */
                if (r < 0 && !json_is_true(json_object_get(rec, "addFailed"))) {
                        if (first == 0)
                                first = error_set(err, r, NULL, "%s", error_format(&perr, r));
                        continue;
                }
                if (unlinkat(dir, files[i - 1], 0) < 0 && errno != ENOENT && first == 0)
                        first = error_set(err, negative_errno(), files[i - 1], "cannot remove the network record: %m");
        }
        if (first < 0)
                return first;
        if (dir >= 0)
                (void) unlinkat(pod_fd, POD_NET_DIR, AT_REMOVEDIR); /* empty now; a stray file keeps it, ignoring */
        (void) unlinkat(pod_fd, "net-info.json", 0);             /* rkt's summary, if written; ignoring ENOENT */
        if (netns && (ours || strncmp(netns, "/var/run/netns/cni-", 19) == 0)) { /* ours, or rkt's stage1's */
                r = netns_remove(name);
                if (r < 0)
                        return error_set(err, r, netns, "cannot remove the pod's network namespace: %s", strerror(-r));
                if (unlinkat(pod_fd, POD_NETNS_FILE, 0) < 0 && errno != ENOENT)
                        return error_set(err, negative_errno(), POD_NETNS_FILE, "cannot remove: %m");
        }
        return 0;
}

/* "name[:K=V;…]" into its name and CNI_ARGS. */
static int split_network(const char *spec, char **ret_name, char **ret_args) {
        const char *colon = strchr(spec, ':');

        *ret_name = colon ? strndup(spec, (size_t) (colon - spec)) : strdup(spec);
        *ret_args = colon ? strdup(colon + 1) : NULL;
        if (!*ret_name || (colon && !*ret_args))
                return -ENOMEM;
        return 0;
}

/* rkt's summary for its own commands (rkt status, list): one entry per
 * network, {netName, netConf, pluginPath, ifName, ip, args, mask}. */
static int write_net_info(int pod_fd, CniNetwork **nets, char **ifnames, char **args, json_t **results, size_t n) {
        _cleanup_json_ json_t *a = json_array();
        _cleanup_free_ char *s = NULL;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **addrs = NULL;
                char ip[64] = "", mask[16] = "";
                int r = cni_result_addresses(results[i], &addrs);

                if (r < 0)
                        return r;
                if (addrs && addrs[0]) {
                        const char *slash = strchr(addrs[0], '/');

                        snprintf(ip, sizeof(ip), "%.*s", (int) (slash ? slash - addrs[0] : (int) strlen(addrs[0])),
                                 addrs[0]);
                        if (slash && !strchr(addrs[0], ':')) {
                                /* rkt's NetInfo.Mask is an IP: the dotted mask. */
                                unsigned long bits = strtoul(slash + 1, NULL, 10);
                                uint32_t m = bits == 0 ? 0 : bits >= 32 ? 0xffffffffu : ~0u << (32 - bits);

                                snprintf(mask, sizeof(mask), "%u.%u.%u.%u", m >> 24, (m >> 16) & 255, (m >> 8) & 255,
                                         m & 255);
                        }
                }
                if (json_array_append_new(a, json_pack("{ssssssssssssss}", "netName", nets[i]->name, "netConf",
                                                       nets[i]->file, "pluginPath", CNI_PLUGIN_DIR, "ifName",
                                                       ifnames[i], "ip", ip, "args", args[i] ? args[i] : "", "mask",
                                                       mask)) < 0)
                        return -ENOMEM;
        }
        s = json_dumps(a, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        return fd_write_file_atomic(pod_fd, "net-info.json", s, strlen(s), 0644);
}

/* Sets the IPAM state directory of a built-in network's host-local IPAM,
 * unless it has one. */
static void set_ipam_dir(CniNetwork *n, const char *dir) {
        json_t *plugins = json_object_get(n->conf, "plugins");

        for (size_t i = 0; i < json_array_size(plugins); i++) {
                json_t *ipam = json_object_get(json_array_get(plugins, i), "ipam");

                if (json_is_object(ipam) && json_is_string(json_object_get(ipam, "type")) &&
                    strcmp(json_string_value(json_object_get(ipam, "type")), "host-local") == 0 &&
                    !json_object_get(ipam, "dataDir"))
                        json_object_set_new(ipam, "dataDir", json_string(dir));
        }
}

int pod_net_setup(int pod_fd, const PodNetSetup *s, char **ret_netns, NpError *err) {
        size_t n = strv_length(s->networks);
        _cleanup_free_ CniNetwork **nets = calloc(n + 1, sizeof(CniNetwork *));
        _cleanup_free_ json_t **results = calloc(n + 1, sizeof(json_t *));
        _cleanup_strv_free_ char **names = NULL, **ifnames = NULL;
        char **args = calloc(n + 1, sizeof(char *));
        _cleanup_close_ int dir = -1;
        _cleanup_free_ char *netns = NULL;
        char nsname[64], u[37];
        bool mappings_given = false;
        int r;

        if (!nets || !results || !args) {
                free(args);
                return -ENOMEM;
        }
        uuid_format(s->uuid, u);
        /* 1. Every network found and read before anything is made. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL;

                r = split_network(s->networks[i], &name, &args[i]);
                if (r < 0)
                        goto finish;
                if (!*name || strv_contains(names, name)) {
                        r = error_set(err, -EINVAL, NULL, "--net=%s: %s", s->networks[i],
                                      *name ? "a network given twice" : "no network name");
                        goto finish;
                }
                r = cni_network_find(s->conf_dirs, name, &nets[i], err);
                if (r < 0) {
                        r = r == -ENOENT ? -EINVAL : r;
                        goto finish;
                }
                if (s->ipam_dir && s->builtin_dir && strncmp(nets[i]->file, s->builtin_dir, strlen(s->builtin_dir)) == 0)
                        set_ipam_dir(nets[i], s->ipam_dir);
                if ((r = strv_consume(&names, TAKE_PTR(name))) < 0 || (r = strv_extendf(&ifnames, "eth%zu", i)) < 0)
                        goto finish;
        }
        /* 2. The namespace: its path recorded first. */
        netns_name_of(s->uuid, nsname);
        if (asprintf(&netns, NETNS_DIR "/%s", nsname) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        /* What an earlier start left (a failed run-prepared, say) goes first. */
        {
                _cleanup_error_ NpError terr = NP_ERROR_INIT;

                r = pod_net_teardown(pod_fd, s->uuid, &terr);
                if (r < 0) {
                        r = error_set(err, r, NULL, "an earlier start's networks cannot be torn down: %s",
                                      error_format(&terr, r));
                        goto finish;
                }
        }
        r = fd_write_file_atomic_flags(pod_fd, POD_NETNS_FILE, netns, strlen(netns), 0644, WRITE_DURABLE);
        if (r < 0) {
                r = error_set(err, r, POD_NETNS_FILE, "cannot write: %s", strerror(-r));
                goto finish;
        }
        r = netns_create(nsname);
        if (r < 0) {
                r = error_set(err, r, netns, "cannot create the pod's network namespace: %s", strerror(-r));
                /* Named for this pod and just torn down: EEXIST is a mount
                 * nobody else made; our file goes only when we made nothing. */
                if (r != -EEXIST)
                        (void) unlinkat(pod_fd, POD_NETNS_FILE, 0);
                goto finish;
        }
        dir = fd_mkdir_open(pod_fd, POD_NET_DIR, 0700, O_PATH);
        if (dir < 0) {
                r = error_set(err, dir, POD_NET_DIR, "cannot create: %s", strerror(-dir));
                goto undo;
        }
        /* 3. Each network: its record, then its ADD. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *file = NULL;
                json_t *pm = NULL;

                if (s->port_mappings && !mappings_given && cni_network_has_port_mappings(nets[i])) {
                        pm = s->port_mappings;
                        mappings_given = true;
                }
                if (asprintf(&file, "%02zu-%s.json", i, nets[i]->name) < 0) {
                        r = -ENOMEM;
                        goto undo;
                }
                r = write_record(dir, file, nets[i], ifnames[i], args[i], pm, NULL, false);
                if (r < 0) {
                        r = error_set(err, r, file, "cannot record the network: %s", strerror(-r));
                        goto undo;
                }
                CniRuntime rt = {
                        .container_id = u,
                        .netns = netns,
                        .ifname = ifnames[i],
                        .args = args[i],
                        .plugin_dir = s->plugin_dir,
                        .port_mappings = pm,
                        .keep_fd = pod_fd,
                };
                r = cni_add(nets[i], &rt, &results[i], err);
                if (r < 0) {
                        /* We saw it fail: its teardown may drop the record once
                         * the DELs that can run have run (see pod_net_teardown()). */
                        (void) write_record(dir, file, nets[i], ifnames[i], args[i], pm, NULL, true);
                        goto undo;
                }
                if (wants_masquerade(nets[i]) && (r = masquerade_add(s->uuid, ifnames[i], results[i], err)) < 0)
                        goto undo;
                r = write_record(dir, file, nets[i], ifnames[i], args[i], pm, results[i], false);
                if (r < 0) {
                        r = error_set(err, r, file, "cannot record the network: %s", strerror(-r));
                        goto undo;
                }
        }
        if (s->port_mappings && !mappings_given) {
                r = error_set(err, -EINVAL, NULL,
                              "ports are published (--port) but no network of the pod takes port mappings (a "
                              "\"portmap\" plugin)");
                goto undo;
        }
        r = write_net_info(pod_fd, nets, ifnames, args, results, n);
        if (r < 0) {
                r = error_set(err, r, "net-info.json", "cannot write: %s", strerror(-r));
                goto undo;
        }
        *ret_netns = TAKE_PTR(netns);
        r = 0;
        goto finish;
undo: {
        _cleanup_error_ NpError terr = NP_ERROR_INIT;

        /* What was made goes; the ADD's failure is the message. */
        (void) pod_net_teardown(pod_fd, s->uuid, &terr);
}
finish:
        for (size_t i = 0; i < n; i++) {
                cni_network_free(nets[i]);
                json_decref(results[i]);
                free(args[i]);
        }
        free(args);
        return r;
}

static int string_list(const json_t *a, char ***ret) {
        for (size_t i = 0; i < json_array_size(a); i++)
                if (json_is_string(json_array_get(a, i)) && strv_extend(ret, json_string_value(json_array_get(a, i))) < 0)
                        return -ENOMEM;
        return 0;
}

int pod_net_read(int pod_fd, PodNetInfo **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_close_ int dir = -1;
        PodNetInfo *l = NULL;
        size_t k = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = list_records(pod_fd, &dir, &files);
        if (r < 0)
                return r;
        STRV_FOREACH(f, files) {
                _cleanup_json_ json_t *rec = NULL;
                PodNetInfo *nl;
                const char *name, *ifname;

                if (read_record(dir, *f, &rec) < 0)
                        continue;
                name = json_string_value(json_object_get(rec, "name"));
                ifname = json_string_value(json_object_get(rec, "ifName"));
                if (!name || !ifname)
                        continue;
                nl = reallocarray(l, k + 1, sizeof(PodNetInfo));
                if (!nl) {
                        pod_net_infos_free(l, k);
                        return -ENOMEM;
                }
                l = nl;
                l[k] = (PodNetInfo) { .name = strdup(name), .ifname = strdup(ifname) };
                k++;
                json_t *result = json_object_get(rec, "result"), *dns = json_object_get(result, "dns");
                const char *domain = json_string_value(json_object_get(dns, "domain"));

                if (!l[k - 1].name || !l[k - 1].ifname ||
                    (json_is_object(result) && cni_result_addresses(result, &l[k - 1].addresses) < 0) ||
                    string_list(json_object_get(dns, "nameservers"), &l[k - 1].nameservers) < 0 ||
                    string_list(json_object_get(dns, "search"), &l[k - 1].search) < 0 ||
                    string_list(json_object_get(dns, "options"), &l[k - 1].options) < 0 ||
                    (domain && !(l[k - 1].domain = strdup(domain)))) {
                        pod_net_infos_free(l, k);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = k;
        return 0;
}
