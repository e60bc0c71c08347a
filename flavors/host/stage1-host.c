/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "macro.h"
#include "names.h"
#include "stage1-host.h"

/* Directories of the skeleton. etc/systemd/system and rkt/env (and the files
 * etc/passwd, etc/group) are mount points: the rendered units and files are
 * bound there read-only. */
static const struct {
        const char *path;
        mode_t mode;
} skeleton[] = {
        { "dev", 0755 },         { "etc", 0755 },
        { "etc/systemd", 0755 }, { "etc/systemd/system", 0755 },
        { "etc/systemd/system.control", 0755 },
        { "etc/systemd/system-generators", 0755 },
        { "opt", 0755 },         { "opt/stage2", 0755 },
        { "proc", 0755 },        { "rkt", 0755 },
        { "rkt/env", 0755 },     { "rkt/status", 0755 },
        { "run", 0755 },         { "sys", 0755 },
        { "tmp", 01777 },        { "usr", 0755 },
        { "var", 0755 },         { "var/log", 0755 },
        { "var/log/journal", 0755 },
};

/* Host units that early boot would start for nothing in a pod: masked in
 * system.control, which wins over the read-only /etc/systemd/system. */
static const char *const masked_units[] = {
        "dev-hugepages.mount",
        "modprobe@.service",
        "sys-fs-fuse-connections.mount",
        "systemd-ask-password-console.path",
        "systemd-remount-fs.service",
        "systemd-tmpfiles-setup-dev.service",
        "systemd-tmpfiles-setup.service",
        "systemd-update-utmp.service",
};

/* Generators have nothing to find in a pod and cost ~90 ms per boot
 * together: every one the host has is masked by name. */
static const char *const generator_dirs[] = {
        "/usr/lib/systemd/system-generators",
        "/usr/local/lib/systemd/system-generators",
};

static const char *const helpers[] = { "prepare-app", "reaper" };

/* Writes "etc/<name>" below the stage1 root. */
static int write_etc(int s1_fd, const char *name, const char *data, NpError *err) {
        _cleanup_close_ int etc = fd_open_dir_nofollow(s1_fd, "etc", O_PATH);
        int r = etc < 0 ? etc : fd_write_file_atomic(etc, name, data, strlen(data), 0644);

        if (r < 0)
                return error_set(err, r, name, "cannot write in etc/ of the stage1 root: %s", strerror(-r));
        return 0;
}

static int copy_helper(int s1_fd, const char *libexec, const char *name, NpError *err) {
        _cleanup_free_ char *src = NULL;
        _cleanup_close_ int in = -1, out = -1;
        struct stat st;

        if (asprintf(&src, "%s/%s", libexec, name) < 0)
                return -ENOMEM;
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0 || fstat(in, &st) < 0)
                return error_set(err, negative_errno(), src,
                                 "cannot open the stage1 helper: %m (build it, or set NSPAWN_POD_LIBEXEC)");
        /* A copy, not a bind: root in the pod can write its own stage1, and
         * must never reach the host's binary through it (CVE-2019-5736). */
        out = openat(s1_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
        if (out < 0)
                return error_set(err, negative_errno(), name, "cannot create in the stage1 root: %m");
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = sendfile(out, in, NULL, (size_t) left);

                if (n <= 0)
                        return error_set(err, n < 0 ? negative_errno() : -EIO, src, "cannot copy: %m");
                left -= n;
        }
        return 0;
}

static int mask_generators(int s1_fd, NpError *err) {
        _cleanup_close_ int gen = fd_open_dir_nofollow(s1_fd, "etc/systemd/system-generators", O_PATH);

        if (gen < 0)
                return error_set(err, gen, "etc/systemd/system-generators", "cannot open: %s", strerror(-gen));
        for (size_t i = 0; i < ELEMENTSOF(generator_dirs); i++) {
                DIR *d = opendir(generator_dirs[i]);
                struct dirent *de;

                if (!d)
                        continue; /* a host without local generators */
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && symlinkat("/dev/null", gen, de->d_name) < 0 && errno != EEXIST) {
                                int r = negative_errno();

                                closedir(d);
                                return error_set(err, r, de->d_name, "cannot mask generator: %s", strerror(-r));
                        }
                closedir(d);
        }
        return 0;
}

int stage1_host_assemble(int s1_fd, const Stage1HostOptions *o, NpError *err) {
        _cleanup_free_ char *hosts = NULL;
        char machine_id[34], uuid[37];
        _cleanup_close_ int ctl = -1;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(skeleton); i++) {
                if (mkdirat(s1_fd, skeleton[i].path, skeleton[i].mode) < 0 && errno != EEXIST)
                        return error_set(err, negative_errno(), skeleton[i].path, "cannot create: %m");
                /* mkdir() applies the umask; the sticky /tmp needs its mode as is. */
                if (fchmodat(s1_fd, skeleton[i].path, skeleton[i].mode, 0) < 0)
                        return error_set(err, negative_errno(), skeleton[i].path, "cannot chmod: %m");
        }

        /* The host's merged-/usr symlinks, so that /bin/sh and the dynamic
         * loader resolve in the pod exactly as on the host. */
        static const char *const links[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                char target[256], host[16];
                ssize_t n;

                (void) snprintf(host, sizeof(host), "/%s", links[i]);
                n = readlink(host, target, sizeof(target) - 1);
                if (n < 0)
                        continue; /* not a symlink on this host: nothing to mirror */
                target[n] = 0;
                if (symlinkat(target, s1_fd, links[i]) < 0 && errno != EEXIST)
                        return error_set(err, negative_errno(), links[i], "cannot create symlink: %m");
        }

        ctl = fd_open_dir_nofollow(s1_fd, "etc/systemd/system.control", O_PATH);
        if (ctl < 0)
                return error_set(err, ctl, "etc/systemd/system.control", "cannot open: %s", strerror(-ctl));
        for (size_t i = 0; i < ELEMENTSOF(masked_units); i++)
                if (symlinkat("/dev/null", ctl, masked_units[i]) < 0 && errno != EEXIST)
                        return error_set(err, negative_errno(), masked_units[i], "cannot mask: %m");
        r = mask_generators(s1_fd, err);
        if (r < 0)
                return r;

        /* nspawn --boot refuses a directory without os-release. */
        r = write_etc(s1_fd, "os-release", "NAME=\"nspawn-pod stage1\"\nID=nspawn-pod\n", err);
        if (r < 0)
                return r;
        uuid_format(o->uuid, uuid);
        {
                size_t j = 0;

                for (size_t i = 0; uuid[i]; i++)
                        if (uuid[i] != '-')
                                machine_id[j++] = uuid[i];
                machine_id[j++] = '\n';
                machine_id[j] = 0;
        }
        if ((r = write_etc(s1_fd, "machine-id", machine_id, err)) < 0 ||
            (r = write_etc(s1_fd, "fstab", "", err)) < 0)
                return r;
        /* The hostname was checked against [A-Za-z0-9.-] by render. */
        if (asprintf(&hosts,
                     "# Automatically generated by nspawn-pod\n"
                     "127.0.0.1\tlocalhost %s\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n",
                     o->hostname) < 0)
                return -ENOMEM;
        if ((r = write_etc(s1_fd, "hosts", hosts, err)) < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(helpers); i++)
                if ((r = copy_helper(s1_fd, o->libexec_dir, helpers[i], err)) < 0)
                        return r;
        return 0;
}
