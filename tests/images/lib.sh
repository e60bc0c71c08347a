# shellcheck shell=bash
# tests/images/lib.sh: shared by the build-* image builders (sourced).
#
# Images are deterministic: same inputs (Debian packages, probe source), same
# bytes. Archives are written by GNU tar sorted by name, with numeric owners,
# mtime 0 and no atime/ctime; directories and files get fixed modes, never
# the caller's umask.

set -euo pipefail
umask 022

IMAGES_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_SRC_ROOT=$(cd "$IMAGES_LIB_DIR/../.." && pwd)

images_die() {
        printf '%s: %s\n' "${0##*/}" "$*" >&2
        exit 1
}

# images_out OUT: checks the argument and makes the directory; prints its
# absolute path.
images_out() {
        if [ $# != 1 ] || [ -z "$1" ]; then
                images_die "usage: ${0##*/} OUT-DIR"
        fi
        mkdir -p "$1" || images_die "cannot create $1"
        (cd "$1" && pwd -P)
}

# images_build_dir: where the build artefacts are ($BUILD, relative to the
# source tree unless absolute; default build).
images_build_dir() {
        local b=${BUILD:-build}
        case $b in
        /*) printf '%s\n' "$b" ;;
        *) printf '%s\n' "$IMAGES_SRC_ROOT/$b" ;;
        esac
}

# images_manifest NAME EXEC_JSON USER GROUP [EXTRA_APP_JSON]: an appc image
# manifest (acVersion 0.8.11) on stdout. EXEC_JSON is a JSON array;
# EXTRA_APP_JSON, if given, is inserted into "app" (e.g. "workingDirectory": "/").
images_manifest() {
        local name=$1 exec=$2 user=$3 group=$4 extra=${5:-}
        printf '{\n'
        printf '  "acKind": "ImageManifest",\n'
        printf '  "acVersion": "0.8.11",\n'
        printf '  "name": "%s",\n' "$name"
        printf '  "labels": [\n'
        printf '    {"name": "version", "value": "1.0.0"},\n'
        printf '    {"name": "os", "value": "linux"},\n'
        printf '    {"name": "arch", "value": "amd64"}\n'
        printf '  ],\n'
        printf '  "app": {\n'
        printf '    "exec": %s,\n' "$exec"
        printf '    "user": "%s",\n' "$user"
        printf '    "group": "%s"%s\n' "$group" "${extra:+,}"
        [ -z "$extra" ] || printf '    %s\n' "$extra"
        printf '  }\n'
        printf '}\n'
}

# images_passwd ROOTFS [EXTRA_PASSWD_LINE [EXTRA_GROUP_LINE]]: etc/passwd and
# etc/group with root, a user "app" (1000:1000), groups "app" (1000) and
# "extra" (2000, with "app" as a member), nogroup.
images_passwd() {
        local root=$1 pw=${2:-} gr=${3:-}
        mkdir -p "$root/etc"
        {
                printf 'root:x:0:0:root:/root:/bin/sh\n'
                printf 'app:x:1000:1000:test app user:/home/app:/bin/sh\n'
                printf 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'
                [ -z "$pw" ] || printf '%s\n' "$pw"
        } >"$root/etc/passwd"
        {
                printf 'root:x:0:\n'
                printf 'app:x:1000:\n'
                printf 'extra:x:2000:app\n'
                printf 'nogroup:x:65534:\n'
                [ -z "$gr" ] || printf '%s\n' "$gr"
        } >"$root/etc/group"
        chmod 0644 "$root/etc/passwd" "$root/etc/group"
}

# images_normalize DIR: fixed modes for directories (0755, or what they
# already have if sticky) so that the umask of whoever built them does not
# matter; ownership root unless set otherwise later.
images_normalize() {
        local dir=$1
        find "$dir" -type d ! -perm -1000 -exec chmod 0755 {} +
}

# images_tar DIR OUT_FILE: DIR (holding manifest and rootfs/) as a
# deterministic ACI, written atomically.
images_tar() {
        local dir=$1 out=$2 tmp
        tmp=$(mktemp "$out.XXXXXX")
        if ! tar --create --file="$tmp" --directory="$dir" \
                --format=gnu --sort=name --numeric-owner --owner=0 --group=0 \
                --mtime=@0 --no-acls --no-xattrs --no-selinux \
                manifest rootfs; then
                rm -f "$tmp"
                images_die "tar of $dir failed"
        fi
        chmod 0644 "$tmp"
        mv -f "$tmp" "$out"
}

# images_dir_copy SRC DEST: the directory form of an image (DEST replaced).
images_dir_copy() {
        local src=$1 dest=$2
        rm -rf "$dest.tmp"
        cp -a "$src" "$dest.tmp"
        rm -rf "$dest"
        mv "$dest.tmp" "$dest"
}
