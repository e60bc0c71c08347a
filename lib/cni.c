/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "fd-util.h"
#include "macro.h"
#include "strbuf.h"
#include "strv.h"

#define CNI_CONF_MAX (1024 * 1024)
#define CNI_OUTPUT_MAX (1024 * 1024)

CniNetwork *cni_network_free(CniNetwork *n) {
        if (!n)
                return NULL;
        free(n->name);
        free(n->file);
        json_decref(n->conf);
        free(n);
        return NULL;
}

/* A configuration list from a file's JSON: a list as it is, a single
 * configuration as a list of one plugin (its name and version lifted). */
static int normalize(json_t *j, const char *file, json_t **ret, NpError *err) {
        json_t *name = json_object_get(j, "name"), *plugins = json_object_get(j, "plugins");
        json_t *version = json_object_get(j, "cniVersion");

        if (!json_is_object(j) || !json_is_string(name) || !*json_string_value(name))
                return error_set(err, -EINVAL, file, "not a CNI network configuration (an object with a \"name\")");
        {
                /* CNI's rule for names (they become file names: records, IPAM state). */
                const char *s = json_string_value(name);

                if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')) ||
                    s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] || strlen(s) > 100)
                        return error_set(err, -EINVAL, file, "network name \"%s\" is not [A-Za-z0-9][A-Za-z0-9_.-]*", s);
        }
        if (version && !json_is_string(version))
                return error_set(err, -EINVAL, file, "\"cniVersion\" is not a string");
        if (plugins) {
                if (!json_is_array(plugins) || json_array_size(plugins) == 0)
                        return error_set(err, -EINVAL, file, "\"plugins\" must be a non-empty array");
                for (size_t i = 0; i < json_array_size(plugins); i++) {
                        json_t *t = json_object_get(json_array_get(plugins, i), "type");

                        if (!json_is_string(t))
                                return error_set(err, -EINVAL, file, "plugins[%zu] has no \"type\"", i);
                }
                *ret = json_deep_copy(j);
        } else {
                json_t *plugin = json_deep_copy(j), *list = json_object();

                if (!json_is_string(json_object_get(j, "type"))) {
                        json_decref(plugin);
                        json_decref(list);
                        return error_set(err, -EINVAL, file, "has neither \"plugins\" nor \"type\"");
                }
                if (!plugin || !list || json_object_set(list, "name", name) < 0 ||
                    json_object_set_new(list, "plugins", json_pack("[o]", plugin)) < 0) {
                        json_decref(list);
                        return -ENOMEM;
                }
                if (version)
                        json_object_set(list, "cniVersion", version);
                *ret = list;
        }
        if (!*ret)
                return -ENOMEM;
        if (!json_object_get(*ret, "cniVersion"))
                json_object_set_new(*ret, "cniVersion", json_string(CNI_VERSION_DEFAULT));
        return 0;
}

static bool conf_file_name(const char *n) {
        size_t l = strlen(n);

        if (n[0] == '.')
                return false;
        return (l > 5 && strcmp(n + l - 5, ".conf") == 0) || (l > 9 && strcmp(n + l - 9, ".conflist") == 0) ||
               (l > 5 && strcmp(n + l - 5, ".json") == 0);
}

/* Looks for `name` in one directory. 1: found (*ret set), 0: not there. A
 * file that is not JSON cannot name a network: it is skipped, the first such
 * noted in *skipped for the message when nothing is found. */
static int find_in_dir(const char *dir, const char *name, CniNetwork **ret, char **skipped, NpError *err) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_close_ int dfd = -1;
        DIR *d;
        int r;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : error_set(err, negative_errno(), dir, "cannot open: %m");
        d = fdopendir(dfd);
        if (!d)
                return -ENOMEM;
        TAKE_FD(dfd);
        for (struct dirent *de; (de = readdir(d));)
                if (conf_file_name(de->d_name) && strv_extend(&files, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        strv_sort(files);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *data = NULL, *path = NULL;
                _cleanup_json_ json_t *j = NULL;
                json_error_t jerr;
                json_t *conf = NULL;
                size_t size;

                if (asprintf(&path, "%s/%s", dir, *f) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                r = fd_read_file_in_root(dirfd(d), *f, CNI_CONF_MAX, &data, &size);
                if (r < 0) {
                        closedir(d);
                        return error_set(err, r, path, "cannot read: %s", strerror(-r));
                }
                j = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
                if (!j) {
                        if (!*skipped && asprintf(skipped, "%s: line %d: %s", path, jerr.line, jerr.text) < 0)
                                *skipped = NULL;
                        continue;
                }
                if (!json_is_string(json_object_get(j, "name")) ||
                    strcmp(json_string_value(json_object_get(j, "name")), name) != 0)
                        continue;
                r = normalize(j, path, &conf, err);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
                CniNetwork *n = calloc(1, sizeof(*n));
                if (!n || !(n->name = strdup(name)) || !(n->file = strdup(path))) {
                        json_decref(conf);
                        cni_network_free(n);
                        closedir(d);
                        return -ENOMEM;
                }
                n->conf = conf;
                *ret = n;
                closedir(d);
                return 1;
        }
        closedir(d);
        return 0;
}

int cni_network_find(char *const *dirs, const char *name, CniNetwork **ret, NpError *err) {
        _cleanup_free_ char *list = NULL, *skipped = NULL;
        int r;

        STRV_FOREACH(dir, dirs) {
                r = find_in_dir(*dir, name, ret, &skipped, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        list = strv_join((char **) dirs, ", ");
        return error_set(err, -ENOENT, NULL, "no network \"%s\" is configured (looked in %s%s%s)", name,
                         list ? list : "?", skipped ? "; not JSON, skipped: " : "", skipped ? skipped : "");
}

int cni_network_from_json(const json_t *conf, CniNetwork **ret, NpError *err) {
        _cleanup_(cni_network_freep) CniNetwork *n = calloc(1, sizeof(*n));
        int r;

        if (!n)
                return -ENOMEM;
        r = normalize((json_t *) conf, "recorded network", &n->conf, err);
        if (r < 0)
                return r;
        n->name = strdup(json_string_value(json_object_get(n->conf, "name")));
        n->file = strdup("(recorded)");
        if (!n->name || !n->file)
                return -ENOMEM;
        *ret = TAKE_PTR(n);
        return 0;
}

static bool plugin_takes_port_mappings(const json_t *plugin) {
        return json_is_true(json_object_get(json_object_get(plugin, "capabilities"), "portMappings"));
}

bool cni_network_has_port_mappings(const CniNetwork *n) {
        json_t *plugins = json_object_get(n->conf, "plugins");

        for (size_t i = 0; i < json_array_size(plugins); i++)
                if (plugin_takes_port_mappings(json_array_get(plugins, i)))
                        return true;
        return false;
}

/* A plugin's type names a file in the plugin directory, nothing else. */
static bool plugin_type_is_valid(const char *t) {
        return *t && strcmp(t, ".") != 0 && strcmp(t, "..") != 0 &&
               t[strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

/* What plugin `i` is given on stdin: its own configuration with the list's
 * name and version, the previous result, the runtime's port mappings. */
static json_t *plugin_conf(const CniNetwork *n, size_t i, const CniRuntime *rt, json_t *prev) {
        json_t *p = json_array_get(json_object_get(n->conf, "plugins"), i);
        json_t *c = json_deep_copy(p);

        if (!c)
                return NULL;
        if (json_object_set(c, "name", json_object_get(n->conf, "name")) < 0 ||
            json_object_set(c, "cniVersion", json_object_get(n->conf, "cniVersion")) < 0 ||
            (prev && json_object_set(c, "prevResult", prev) < 0)) {
                json_decref(c);
                return NULL;
        }
        if (rt->port_mappings && plugin_takes_port_mappings(p) &&
            json_object_set_new(c, "runtimeConfig", json_pack("{sO}", "portMappings", rt->port_mappings)) < 0) {
                json_decref(c);
                return NULL;
        }
        return c;
}

/* Reads both pipes until they end or the deadline passes. */
static int collect(int out, int errfd, StrBuf *o, StrBuf *e, const struct timespec *deadline) {
        struct pollfd p[2] = { { .fd = out, .events = POLLIN }, { .fd = errfd, .events = POLLIN } };

        while (p[0].fd >= 0 || p[1].fd >= 0) {
                struct timespec now;
                long ms;
                int r;

                clock_gettime(CLOCK_MONOTONIC, &now);
                ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
                if (ms <= 0)
                        return -ETIMEDOUT;
                r = poll(p, 2, (int) ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                for (int i = 0; i < 2; i++) {
                        char buf[4096];
                        ssize_t k;
                        StrBuf *b = i == 0 ? o : e;

                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        k = read(p[i].fd, buf, sizeof(buf));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                p[i].fd = -1;
                                continue;
                        }
                        if (b->len + (size_t) k > CNI_OUTPUT_MAX)
                                return -EFBIG;
                        strbuf_append_n(b, buf, (size_t) k);
                }
        }
        return strbuf_error(o) < 0 || strbuf_error(e) < 0 ? -ENOMEM : 0;
}

/* Runs one plugin with `conf` on stdin; its result in *ret (ADD), or NULL. */
static int run_plugin(const CniNetwork *n, const char *type, const char *command, const CniRuntime *rt,
                      json_t *conf, json_t **ret, NpError *err) {
        _cleanup_strbuf_ StrBuf out = STRBUF_INIT, errout = STRBUF_INIT;
        _cleanup_free_ char *path = NULL, *input = NULL;
        _cleanup_close_ int exe = -1;
        _cleanup_strv_free_ char **env = NULL;
        int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
        const char *dir = rt->plugin_dir ? rt->plugin_dir : CNI_PLUGIN_DIR;
        struct timespec deadline;
        struct stat st;
        int status, r;
        pid_t child;

        if (!plugin_type_is_valid(type))
                return error_set(err, -EINVAL, NULL, "network \"%s\": plugin type \"%s\" is not a plugin name", n->name,
                                 type);
        if (asprintf(&path, "%s/%s", dir, type) < 0)
                return -ENOMEM;
        exe = open(path, O_RDONLY | O_CLOEXEC);
        if (exe < 0 || fstat(exe, &st) < 0 || !S_ISREG(st.st_mode) || faccessat(exe, "", X_OK, AT_EMPTY_PATH) < 0)
                return error_set(err, exe < 0 ? negative_errno() : -ENOEXEC, NULL,
                                 "network \"%s\": no CNI plugin \"%s\" in %s (Debian's containernetworking-plugins)",
                                 n->name, type, dir);
        input = json_dumps(conf, JSON_COMPACT);
        if (!input)
                return -ENOMEM;
        if (strv_extendf(&env, "CNI_COMMAND=%s", command) < 0 ||
            strv_extendf(&env, "CNI_CONTAINERID=%s", rt->container_id) < 0 ||
            strv_extendf(&env, "CNI_NETNS=%s", rt->netns ? rt->netns : "") < 0 ||
            strv_extendf(&env, "CNI_IFNAME=%s", rt->ifname) < 0 ||
            strv_extendf(&env, "CNI_ARGS=%s", rt->args ? rt->args : "") < 0 ||
            strv_extendf(&env, "CNI_PATH=%s", dir) < 0 ||
            /* iptables and ip, for the plugins that run them. */
            strv_extend(&env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin") < 0)
                return -ENOMEM;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
                r = negative_errno();
                goto fail_pipes;
        }
        /* Waited for here whatever the caller does with SIGCHLD (gc's
         * callers may ignore it); a plugin that does not read its stdin
         * must not kill us with SIGPIPE. Restored below. */
        struct sigaction old_chld, old_pipe;
        (void) sigaction(SIGCHLD, &(struct sigaction) { .sa_handler = SIG_DFL }, &old_chld);
        (void) sigaction(SIGPIPE, &(struct sigaction) { .sa_handler = SIG_IGN }, &old_pipe);
        child = fork();
        if (child < 0) {
                r = negative_errno();
                (void) sigaction(SIGCHLD, &old_chld, NULL);
                (void) sigaction(SIGPIPE, &old_pipe, NULL);
                goto fail_pipes;
        }
        if (child == 0) {
                char *argv[] = { (char *) type, NULL };

                /* A process group of its own, killed whole on a timeout;
                 * killed with us (a run killed half-way: gc's DEL must not
                 * race an ADD still going on); the pod's lock held while it
                 * runs (rt->keep_fd), so gc waits for it. */
                (void) setpgid(0, 0);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
                        _exit(127);
                {
                        const int keep[] = { 0, 1, 2, exe, rt->keep_fd };

                        if (fd_close_all_except(keep, ELEMENTSOF(keep)) < 0)
                                _exit(127);
                }
                /* fexecve() of a script hands the interpreter /dev/fd/N. */
                (void) fcntl(exe, F_SETFD, 0);
                if (rt->keep_fd >= 0)
                        (void) fcntl(rt->keep_fd, F_SETFD, 0);
                sigset_t none;

                /* Not what we block or ignore (pod_run blocks the stop signals). */
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                fexecve(exe, argv, env);
                _exit(127);
        }
        safe_close(in[0]);
        safe_close(o[1]);
        safe_close(e[1]);
        in[0] = o[1] = e[1] = -1;
        /* The configuration is small (a pipe holds 64 KiB); written at once. */
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += CNI_PLUGIN_TIMEOUT_SEC;
        r = fd_write_all(in[1], input, strlen(input));
        in[1] = safe_close(in[1]);
        if (r >= 0 || r == -EPIPE)
                r = collect(o[0], e[0], &out, &errout, &deadline);
        if (r < 0)
                (void) kill(-child, SIGKILL);
        for (;;) {
                if (waitpid(child, &status, 0) >= 0)
                        break;
                if (errno != EINTR) {
                        r = r < 0 ? r : negative_errno();
                        break;
                }
        }
        (void) sigaction(SIGCHLD, &old_chld, NULL);
        (void) sigaction(SIGPIPE, &old_pipe, NULL);
        safe_close(o[0]);
        safe_close(e[0]);
        if (r == -ETIMEDOUT)
                return error_set(err, r, NULL, "network \"%s\": plugin %s %s did not finish in %d s; killed", n->name,
                                 type, command, CNI_PLUGIN_TIMEOUT_SEC);
        if (r < 0)
                return error_set(err, r, NULL, "network \"%s\": plugin %s %s: %s", n->name, type, command, strerror(-r));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                json_error_t jerr;
                _cleanup_json_ json_t *j = out.len ? json_loadb(out.data, out.len, 0, &jerr) : NULL;
                const char *msg = json_string_value(json_object_get(j, "msg"));
                const char *details = json_string_value(json_object_get(j, "details"));
                char *tail = errout.len ? errout.data : NULL;

                if (tail && strlen(tail) > 500)
                        tail += strlen(tail) - 500;
                return error_set(err, -EIO, NULL, "network \"%s\": plugin %s %s failed: %s%s%s%s%s", n->name, type,
                                 command,
                                 msg ? msg : WIFEXITED(status) ? "no message" : "killed by a signal",
                                 details ? " (" : "", details ? details : "", details ? ")" : "",
                                 !msg && tail ? tail : "");
        }
        if (ret) {
                json_error_t jerr;
                json_t *j = out.len ? json_loadb(out.data, out.len, 0, &jerr) : NULL;

                if (!json_is_object(j)) {
                        json_decref(j);
                        return error_set(err, -EIO, NULL, "network \"%s\": plugin %s %s gave no result", n->name, type,
                                         command);
                }
                *ret = j;
        }
        return 0;

fail_pipes:
        for (int i = 0; i < 2; i++) {
                safe_close(in[i]);
                safe_close(o[i]);
                safe_close(e[i]);
        }
        return error_set(err, r, NULL, "network \"%s\": cannot run plugin %s: %s", n->name, type, strerror(-r));
}

int cni_add(const CniNetwork *n, const CniRuntime *rt, json_t **ret_result, NpError *err) {
        json_t *plugins = json_object_get(n->conf, "plugins");
        _cleanup_json_ json_t *prev = NULL;
        int r;

        for (size_t i = 0; i < json_array_size(plugins); i++) {
                _cleanup_json_ json_t *conf = plugin_conf(n, i, rt, prev);
                json_t *result = NULL;

                if (!conf)
                        return -ENOMEM;
                r = run_plugin(n, json_string_value(json_object_get(json_array_get(plugins, i), "type")), "ADD", rt,
                               conf, &result, err);
                if (r < 0)
                        return r;
                json_decref(prev);
                prev = result;
        }
        *ret_result = TAKE_PTR(prev);
        return 0;
}

int cni_del(const CniNetwork *n, const CniRuntime *rt, json_t *prev_result, NpError *err) {
        json_t *plugins = json_object_get(n->conf, "plugins");
        int first = 0;

        for (size_t i = json_array_size(plugins); i > 0; i--) {
                _cleanup_json_ json_t *conf = plugin_conf(n, i - 1, rt, prev_result);
                _cleanup_error_ NpError perr = NP_ERROR_INIT;
                int r;

                if (!conf)
                        return -ENOMEM;
                r = run_plugin(n, json_string_value(json_object_get(json_array_get(plugins, i - 1), "type")), "DEL", rt,
                               conf, NULL, first < 0 ? &perr : err);
                if (r < 0 && first == 0)
                        first = r;
        }
        return first;
}

int cni_result_addresses(const json_t *result, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_t *ips = json_object_get(result, "ips");

        for (size_t i = 0; i < json_array_size(ips); i++) {
                const char *a = json_string_value(json_object_get(json_array_get(ips, i), "address"));

                if (a && strv_extend(&l, a) < 0)
                        return -ENOMEM;
        }
        /* CNI 0.2.0 and older: ip4 / ip6. */
        for (const char *const *k = (const char *const[]) { "ip4", "ip6", NULL }; *k; k++) {
                const char *a = json_string_value(json_object_get(json_object_get(result, *k), "ip"));

                if (a && strv_extend(&l, a) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
