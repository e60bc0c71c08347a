/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exe-path.h"
#include "fd-util.h"
#include "image-store.h"
#include "image.h"
#include "manifest.h"
#include "stage1.h"

extern char **environ;

static const char *const entrypoint_annotations[_STAGE1_ENTRYPOINT_MAX] = {
        [STAGE1_RUN] = "coreos.com/rkt/stage1/run",
        [STAGE1_ENTER] = "coreos.com/rkt/stage1/enter",
        [STAGE1_GC] = "coreos.com/rkt/stage1/gc",
        [STAGE1_STOP] = "coreos.com/rkt/stage1/stop",
};

const char *stage1_default_path(void) {
        static char *found;
        const char *env = getenv("NSPAWN_POD_STAGE1");

        if (env && *env)
                return env;
        /* A build tree: the image is beside the command. */
        if (!found)
                found = exe_path_sibling(STAGE1_ACI_NAME);
        return found ? found : LIBEXECDIR "/" STAGE1_ACI_NAME;
}

int stage1_store_get(int data_fd, const char *path, char **ret_id, NpError *err) {
        _cleanup_close_ int dir = -1;
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return error_set(err, negative_errno(), path, "cannot access the stage1 image: %m%s",
                                 errno == ENOENT ? " (build it with 'make stage1', or give --stage1-path=)" : "");
        if (!S_ISREG(st.st_mode))
                return error_set(err, -EINVAL, path, "the stage1 image must be an ACI file");
        r = image_store_get_in(data_fd, STAGE1_TREE_STORE, path, ret_id, &dir, NULL, err);
        return r;
}

int stage1_install(const char *data_dir, const char *id, int pod_fd, int stage1_fd, NpError *err) {
        _cleanup_free_ char *src = NULL;
        int r;

        if (asprintf(&src, "%s/" STAGE1_TREE_STORE "/%s", data_dir, id) < 0)
                return -ENOMEM;
        /* A copy, never a link to the store: root in a pod can write its own
         * stage1 root, and must not reach another pod's through it. */
        r = image_import(src, stage1_fd, NULL, err);
        if (r < 0)
                return r;
        /* rkt reads the whole file as the ID: no newline. */
        r = fd_write_file_atomic(pod_fd, "stage1TreeStoreID", id, strlen(id), 0644);
        if (r < 0)
                return error_set(err, r, "stage1TreeStoreID", "cannot write: %s", strerror(-r));
        return 0;
}

void stage1_info_done(Stage1Info *i) {
        free(i->name);
        for (size_t k = 0; k < _STAGE1_ENTRYPOINT_MAX; k++)
                free(i->entrypoints[k]);
        *i = (Stage1Info){};
}

int stage1_info_read(int pod_fd, Stage1Info *ret) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *data = NULL;
        Stage1Info i = {};
        size_t size;
        int r;

        r = fd_read_file_in_root(pod_fd, "stage1/manifest", MANIFEST_SIZE_MAX, &data, &size);
        if (r < 0)
                return r;
        r = manifest_parse_image(data, size, &img, &err);
        if (r < 0)
                return r;
        i.name = strdup(img->name);
        if (!i.name)
                return -ENOMEM;
        for (size_t a = 0; a < img->n_annotations; a++) {
                const NameValue *nv = &img->annotations[a];

                for (size_t k = 0; k < _STAGE1_ENTRYPOINT_MAX; k++)
                        if (strcmp(nv->name, entrypoint_annotations[k]) == 0 && !i.entrypoints[k] &&
                            !(i.entrypoints[k] = strdup(nv->value))) {
                                stage1_info_done(&i);
                                return -ENOMEM;
                        }
        }
        *ret = i;
        return 0;
}

bool stage1_info_is_ours(const Stage1Info *i) {
        return i->name && strcmp(i->name, STAGE1_IMAGE_NAME) == 0;
}

int stage1_run_entrypoint(int pod_fd, const Stage1Info *i, Stage1Entrypoint e, char *const *args) {
        _cleanup_close_ int root = -1, exe = -1;
        _cleanup_free_ char **argv = NULL;
        struct sigaction old_chld;
        struct stat st;
        char magic[2];
        bool script;
        size_t n = 0;
        pid_t pid;
        int status, r;

        if (!i->entrypoints[e])
                return -ENOENT;
        root = fd_open_in_root(pod_fd, "stage1/rootfs", O_PATH | O_DIRECTORY, 0, true);
        if (root < 0)
                return root;
        /* Non-blocking: a FIFO put there must not hang us; only a regular
         * file is executed. */
        exe = fd_open_in_root(root, i->entrypoints[e], O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, false);
        if (exe < 0)
                return exe;
        if (fstat(exe, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        /* A script is executed through /dev/fd/N: only then must the
         * descriptor survive the exec, for its interpreter to open it. */
        script = pread(exe, magic, sizeof(magic), 0) == (ssize_t) sizeof(magic) && memcmp(magic, "#!", 2) == 0;
        for (char *const *a = args; a && *a; a++)
                n++;
        argv = calloc(n + 2, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[0] = i->entrypoints[e];
        for (size_t k = 0; k < n; k++)
                argv[k + 1] = args[k];
        /* A caller that ignores SIGCHLD would have the child reaped behind
         * waitpid()'s back. */
        if (sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, &old_chld) < 0)
                return negative_errno();
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                (void) sigaction(SIGCHLD, &old_chld, NULL);
                return r;
        }
        if (pid == 0) {
                if (fchdir(pod_fd) < 0 || (script && fcntl(exe, F_SETFD, 0) < 0))
                        _exit(127);
                syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
                _exit(127);
        }
        r = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = negative_errno();
                        break;
                }
        (void) sigaction(SIGCHLD, &old_chld, NULL);
        if (r < 0)
                return r;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}
