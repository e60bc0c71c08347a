/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI configurations (lib/cni.h): found by name in directories in order and
 * in the lexical order of their files, a single .conf read as a list of one,
 * bad ones refused naming the file; and rkt's --net lists (pod_run_net_kind). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "pod-run.h"
#include "tap.h"

static void put(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

static const char *plugin_type(const CniNetwork *n, size_t i) {
        return json_string_value(json_object_get(json_array_get(json_object_get(n->conf, "plugins"), i), "type"));
}

static void kind(const char *const *nets, PodNet want, int want_r, const char *what) {
        NpError err = NP_ERROR_INIT;
        PodNet got = POD_NET_HOST;
        int r = pod_run_net_kind((char *const *) nets, POD_NET_CNI, &got, &err);

        OK(r == want_r && (r < 0 || got == want), "%s (%s)", what, r < 0 ? error_format(&err, r) : "ok");
        error_done(&err);
}

int main(void) {
        char tmp[] = "/tmp/test-cni.XXXXXX", user[256], builtin[256];
        NpError err = NP_ERROR_INIT;
        CniNetwork *n = NULL;
        char **addrs = NULL;
        int r;

        if (!mkdtemp(tmp))
                abort();
        snprintf(user, sizeof(user), "%s/user", tmp);
        snprintf(builtin, sizeof(builtin), "%s/builtin", tmp);
        if (mkdir(user, 0755) < 0 || mkdir(builtin, 0755) < 0)
                abort();
        put(builtin, "99-default.conflist",
            "{\"cniVersion\":\"1.0.0\",\"name\":\"default\",\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"portmap\","
            "\"capabilities\":{\"portMappings\":true}}]}");
        put(user, "10-mine.conf", "{\"cniVersion\":\"0.4.0\",\"name\":\"mine\",\"type\":\"bridge\",\"bridge\":\"br9\"}");
        put(user, "20-default.conflist", "{\"name\":\"default\",\"plugins\":[{\"type\":\"macvlan\"}]}");
        put(user, "05-other.json", "{\"name\":\"other\",\"plugins\":[{\"type\":\"ptp\"}]}");
        put(user, "30-default.conf", "{\"name\":\"default\",\"type\":\"ipvlan\"}");
        put(user, "README", "not a configuration");
        put(user, "40-broken.conflist", "{\"name\":\"broken\",\"plugins\":[]}");
        put(user, "50-typeless.conf", "{\"name\":\"typeless\"}");
        put(user, "60-syntax.conf", "{\"name\": \"syntax\",");

        char *dirs[] = { user, builtin, NULL };
        char *only_builtin[] = { builtin, NULL };

        r = cni_network_find(dirs, "mine", &n, &err);
        OK_INTEQ(r, 0, "a .conf is found by its name");
        OK(n && json_array_size(json_object_get(n->conf, "plugins")) == 1 && strcmp(plugin_type(n, 0), "bridge") == 0,
           "read as a list of one plugin");
        OK(n && strcmp(json_string_value(json_object_get(n->conf, "cniVersion")), "0.4.0") == 0, "its version kept");
        OK(n && !cni_network_has_port_mappings(n), "no port mappings");
        n = cni_network_free(n);

        r = cni_network_find(dirs, "default", &n, &err);
        OK(r == 0 && strcmp(plugin_type(n, 0), "macvlan") == 0, "a user configuration wins over the built-in one, and "
                                                                   "the first file in lexical order wins (20- over 30-)");
        OK(n && strstr(n->file, "/user/20-default.conflist"), "the file it came from: %s", n ? n->file : "");
        OK(n && strcmp(json_string_value(json_object_get(n->conf, "cniVersion")), CNI_VERSION_DEFAULT) == 0,
           "no version: " CNI_VERSION_DEFAULT);
        n = cni_network_free(n);

        r = cni_network_find(only_builtin, "default", &n, &err);
        OK(r == 0 && n && strcmp(plugin_type(n, 0), "ptp") == 0 && cni_network_has_port_mappings(n),
           "the built-in default: ptp, then portmap, which takes port mappings");
        n = cni_network_free(n);

        r = cni_network_find(dirs, "other", &n, &err);
        OK(r == 0, ".json files are read too");
        n = cni_network_free(n);

        {
                static const struct {
                        const char *name, *want;
                        int r;
                        const char *what;
                } bad[] = {
                        { "nosuch", "no network \"nosuch\"", -ENOENT, "an unknown network" },
                        { "nosuch", "60-syntax.conf", -ENOENT, "and the file that is not JSON is named" },
                        { "broken", "40-broken.conflist", -EINVAL, "an empty plugin list" },
                        { "typeless", "50-typeless.conf", -EINVAL, "no type" },
                };

                for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        char *m;

                        error_done(&err);
                        r = cni_network_find(dirs, bad[i].name, &n, &err);
                        m = strdup(error_format(&err, r));
                        OK(r == bad[i].r && m && strstr(m, bad[i].want), "%s: %s", bad[i].what, m ? m : "");
                        free(m);
                }
        }
        {
                char missing[300], *dm[] = { missing, builtin, NULL };

                snprintf(missing, sizeof(missing), "%s/absent", tmp);
                r = cni_network_find(dm, "default", &n, &err);
                OK(r == 0, "a directory that does not exist is skipped");
                n = cni_network_free(n);
        }

        {
                json_error_t jerr;
                json_t *res = json_loads("{\"ips\":[{\"interface\":1,\"address\":\"172.16.28.2/24\"},"
                                         "{\"address\":\"fd00::2/64\"}]}",
                                         0, &jerr);

                OK(cni_result_addresses(res, &addrs) == 0 && addrs && strcmp(addrs[0], "172.16.28.2/24") == 0 &&
                           strcmp(addrs[1], "fd00::2/64") == 0 && !addrs[2],
                   "a 1.0.0 result's addresses");
                json_decref(res);
                for (char **a = addrs; a && *a; a++)
                        free(*a);
                free(addrs);
                addrs = NULL;
                res = json_loads("{\"ip4\":{\"ip\":\"10.1.1.2/24\"}}", 0, &jerr);
                OK(cni_result_addresses(res, &addrs) == 0 && addrs && strcmp(addrs[0], "10.1.1.2/24") == 0,
                   "a 0.2.0 result's address");
                json_decref(res);
                for (char **a = addrs; a && *a; a++)
                        free(*a);
                free(addrs);
        }

        kind((const char *[]) { NULL }, POD_NET_CNI, 0, "no --net: the default given (rkt's default network)");
        kind((const char *[]) { "host", NULL }, POD_NET_HOST, 0, "host");
        kind((const char *[]) { "none", NULL }, POD_NET_NONE, 0, "none");
        kind((const char *[]) { "default", "mine:IP=10.1.1.9", NULL }, POD_NET_CNI, 0, "several CNI networks");
        kind((const char *[]) { "host", "default", NULL }, POD_NET_CNI, -EINVAL, "host beside another: refused");
        kind((const char *[]) { "none", "host", NULL }, POD_NET_CNI, -EINVAL, "none and host: refused");
        kind((const char *[]) { "host:IP=1.2.3.4", NULL }, POD_NET_CNI, -EINVAL, "host with arguments: refused");
        kind((const char *[]) { "hostile", NULL }, POD_NET_CNI, 0, "a network named hostile is a CNI one");

        error_done(&err);
        tap_rm_tree(tmp);
        return tap_done();
}
