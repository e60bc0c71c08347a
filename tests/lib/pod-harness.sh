# shellcheck shell=bash
# pod-harness.sh: boot real pods with systemd-nspawn from integration tests.
#
# Source it, then:
#   harness_have_nspawn                    prints a skip reason, returns 1, if pods cannot boot here
#   harness_init                           HARNESS_DIR = fresh work dir; EXIT trap tears everything down
#   harness_probe                          prints the path of the static probe (builds it if needed)
#   harness_make_stage1 ROOT               a minimal host-flavor stage1 root at ROOT
#   harness_install_units ROOT             the static units of the stage1 image (units/) in ROOT
#   harness_install_test_prepare_app ROOT  TEST-ONLY /prepare-app and /reaper stand-ins (the
#                                          reaper makes `/reaper APP`'s exit status the pod's)
#   harness_boot POD_DIR ARGV_FILE [SECS [ENV_FILE]]  boot, wait, return nspawn's exit code
#                                          (HARNESS_BOOT_MS); ENV_FILE: NUL-separated NAME=VALUE
#                                          added to nspawn's environment (render's nspawn.env)
#   harness_boot_bg POD_DIR ARGV_FILE [SECS [ENV_FILE]] / harness_wait [PID]   the same in two steps
#   harness_leftovers [DIR]                prints mounts/processes/cgroups still tied to DIR
#   harness_on_exit CMD                    run CMD (eval'd) before the teardown
#   HARNESS_KEEP_LOGS=DIR                  the teardown copies every console.log there
#
# Return codes are meant to be collected, not to trip `set -e`:
#   rc=0; harness_boot "$pod" "$pod/argv" || rc=$?
#
# Why the teardown is this thorough: killing nspawn does not kill the pod
# (docs/security.md, "Removing pods": the payload survives a SIGKILLed supervisor), mounts left
# under /tmp outlive the test, and cgroups nspawn creates stay in the host
# hierarchy. A test run must leave none of them behind, even when it fails
# half-way or is interrupted.

HARNESS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESS_SRC_ROOT=$(cd "$HARNESS_LIB_DIR/../.." && pwd)
HARNESS_NSPAWN=${HARNESS_NSPAWN:-systemd-nspawn}
HARNESS_DIR=""
HARNESS_BOOT_MS=""
HARNESS_BOOT_PID=""
HARNESS_PIDS=()          # supervisors (timeout → nspawn) we started and not yet reaped
HARNESS_ROOTS=()         # stage1 roots we booted: a process whose root is one of them is ours
HARNESS_CGROUPS=()       # per-boot cgroup dirs we created, in every hierarchy
HARNESS_MACHINES=()      # machine names of the boots we started
HARNESS_EXIT_HOOKS=()
HARNESS_LOCKS=()         # nspawn's per-image lock files for the roots we booted
HARNESS_BOOTS=0
declare -gA HARNESS_CG_OF=() HARNESS_T0_OF=()

# Units of the host's /usr we keep from starting in a stage1: they only make
# sense on a real machine and cost ~80 ms of a ~170 ms boot. Deliberately kept:
# systemd-journald (app output goes there), systemd-journal-flush (the journal
# must land in the pod's /var/log/journal) and systemd-sysusers (render may
# rely on it for app users, as rkt did). Override before harness_make_stage1.
HARNESS_MASK_UNITS=${HARNESS_MASK_UNITS-"dev-hugepages.mount sys-fs-fuse-connections.mount
systemd-ask-password-console.path systemd-update-utmp.service systemd-tmpfiles-setup.service
systemd-tmpfiles-setup-dev.service systemd-remount-fs.service modprobe@.service"}

_harness_log() {
        printf '# harness: %s\n' "$*" >&2
}

harness_have_nspawn() {
        if [ "$(id -u)" != 0 ]; then
                echo "needs root"
                return 1
        fi
        if ! command -v "$HARNESS_NSPAWN" >/dev/null 2>&1; then
                echo "systemd-nspawn not installed"
                return 1
        fi
        # The host flavor boots the host's own systemd from the bound /usr.
        if [ ! -x /usr/lib/systemd/systemd ]; then
                echo "no /usr/lib/systemd/systemd to boot"
                return 1
        fi
        if ! command -v timeout >/dev/null 2>&1; then
                echo "timeout(1) missing"
                return 1
        fi
        return 0
}

harness_init() {
        local d
        if [ -n "$HARNESS_DIR" ]; then
                _harness_log "harness_init called twice"
                return 1
        fi
        d=$(mktemp -d /tmp/nspawn-pod-test.XXXXXXXX) || return 1
        # mountinfo shows resolved paths; compare against the same spelling.
        HARNESS_DIR=$(cd "$d" && pwd -P) || return 1
        trap _harness_teardown EXIT
        # Without these, bash dies of the signal and skips the EXIT trap.
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

harness_on_exit() {
        HARNESS_EXIT_HOOKS+=("$*")
}

# Prints the probe's path; builds it when missing or older than its source.
# The Makefile builds it too ($(BUILD)/probe); this keeps a single test
# runnable on its own.
harness_probe() {
        local build=${BUILD:-build} src out tmp
        case $build in
        /*) ;;
        *) build=$HARNESS_SRC_ROOT/$build ;;
        esac
        src=$HARNESS_SRC_ROOT/tests/probe/probe.c
        out=$build/probe
        if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
                mkdir -p "$build" || return 1
                tmp=$(mktemp "$build/.probe.XXXXXX") || return 1
                if ! "${CC:-gcc}" -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -static -O2 -o "$tmp" "$src" >&2; then
                        rm -f "$tmp"
                        return 1
                fi
                chmod 0755 "$tmp" && mv -f "$tmp" "$out" || return 1
        fi
        printf '%s\n' "$out"
}

# hex of a string's bytes, the encoding the probe uses (coreutils only).
harness_hex() {
        printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# _harness_app_stdio DEST: BUILD/libexec/app-stdio (built if missing) at DEST.
_harness_app_stdio() {
        local build=${BUILD:-build}
        case $build in
        /*) ;;
        *) build=$HARNESS_SRC_ROOT/$build ;;
        esac
        if [ ! -x "$build/libexec/app-stdio" ]; then
                make -C "$HARNESS_SRC_ROOT" --no-print-directory BUILD="$build" "$build/libexec/app-stdio" >&2 || return 1
        fi
        install -m 0755 "$build/libexec/app-stdio" "$1"
}

harness_make_stage1() {
        local root=$1 d l t g u
        [ -n "$root" ] || return 1
        for d in etc/systemd/system etc/systemd/system-generators opt/stage2 rkt proc sys dev run tmp \
                var/log/journal usr; do
                mkdir -p "$root/$d" || return 1
        done
        # Mirror the host's merged-/usr symlinks: with host /usr bound over
        # usr/, /bin/sh and the loader (/lib64/ld-linux-x86-64.so.2) resolve
        # exactly as on the host. A host without a symlink gets none.
        for l in bin sbin lib lib64 lib32 libx32; do
                if [ -L "/$l" ]; then
                        t=$(readlink "/$l") || return 1
                        ln -sfn "$t" "$root/$l" || return 1
                fi
        done
        # nspawn refuses a --boot directory that has no os-release.
        printf 'NAME="nspawn-pod stage1 (test)"\nID=nspawn-pod-stage1\n' >"$root/etc/os-release" || return 1
        # A fixed-format id; systemd would otherwise generate one and warn.
        { od -An -N16 -tx1 /dev/urandom | tr -d ' \n' && echo; } >"$root/etc/machine-id" || return 1
        : >"$root/etc/fstab" || return 1
        # What the stage1 image has for the pod's journal and the apps'
        # output (flavors/host/rootfs.list, docs/logs.md): the empty file
        # render binds over journald's flushed flag, and app-stdio, which the
        # rendered app units run first.
        install -m 0444 /dev/null "$root/etc/systemd/nspawn-pod-empty" || return 1
        _harness_app_stdio "$root/app-stdio" || return 1
        # Masking every host generator: none of them has anything to find in
        # a pod, and together they cost ~90 ms per boot. Any path of the
        # generator search list masks by name; /etc wins over /usr.
        for g in /usr/lib/systemd/system-generators/* /usr/local/lib/systemd/system-generators/*; do
                [ -e "$g" ] || continue
                ln -sfn /dev/null "$root/etc/systemd/system-generators/${g##*/}" || return 1
        done
        for u in $HARNESS_MASK_UNITS; do
                ln -sfn /dev/null "$root/etc/systemd/system/$u" || return 1
        done
}

# harness_install_units ROOT: the stage1 image's static units (units/: the
# targets, shutdown and exit handling, prepare-app@.service) in
# ROOT/etc/systemd/system.control, where the image has them
# (flavors/host/rootfs.list), for pods rendered with `render -o`.
harness_install_units() {
        local root=$1 u
        mkdir -p "$root/etc/systemd/system.control" || return 1
        for u in "$HARNESS_SRC_ROOT"/units/*; do
                install -m 0644 "$u" "$root/etc/systemd/system.control/" || return 1
        done
}

# TEST-ONLY stand-ins for helpers that do not exist yet. The real prepare-app
# (C, fd-based, tmpfs /dev, see docs/helpers.md) replaces these; nothing here
# is safe against a hostile app root and nothing outside tests may use it.
harness_install_test_prepare_app() {
        local root=$1
        cat >"$root/prepare-app" <<'EOF' || return 1
#!/bin/sh
# TEST-ONLY STAND-IN for nspawn-pod's prepare-app, installed by
# tests/lib/pod-harness.sh. Runs inside the pod as root, $1 = app root.
# It does the minimum for a chrooted app to run and trusts the app root
# completely (follows its symlinks): never use it outside the test suite.
set -eu
root=$1
case $root in
/*) ;;
*) echo "prepare-app (test stand-in): app root must be absolute: $root" >&2; exit 2 ;;
esac
# The app root becomes a mount point of its own, as with the real helper.
# Recursive: nspawn's --bind= of the app's volumes are mounts below the app
# root, and a plain --bind would hide them behind the app root's own
# (empty) mount point directories.
mount --rbind "$root" "$root"
mkdir -p "$root/proc" "$root/sys" "$root/dev"
# What the rendered app units run first (docs/logs.md), where the real
# prepare-app binds it: in the app's /dev (here the pod's, bound below).
if [ -e /app-stdio ] && [ ! -e /dev/.nspawn-pod-stdio ]; then
        : >/dev/.nspawn-pod-stdio
        mount --bind /app-stdio /dev/.nspawn-pod-stdio
fi
mount -t proc proc "$root/proc"
# nspawn's /sys as it is (read-only), for the app unit's InaccessiblePaths=
# and ReadOnlyPaths= below /sys to have something to act on.
mount --rbind /sys "$root/sys"
# rbind brings /dev/pts, /dev/shm and /dev/mqueue along.
mount --rbind /dev "$root/dev"
EOF
        cat >"$root/reaper" <<'EOF' || return 1
#!/bin/sh
# TEST-ONLY STAND-IN for nspawn-pod's reaper, installed by
# tests/lib/pod-harness.sh. Runs as `/reaper APP` from the ExecStop= of
# render's reaper-APP.service; records nothing, but makes the app's exit
# status the pod's: the status it exited with (systemd's own, e.g. 203 for a
# failed exec, included), 128+N if killed by signal N, 125 if it never
# started (its prepare-app failed, say). Without that last case a pod whose
# app never ran would exit 0: ExecMainStatus is 0 then.
set -u
unit=$1.service
started=$(systemctl show -p ExecMainStartTimestampMonotonic --value "$unit")
code=$(systemctl show -p ExecMainCode --value "$unit")
status=$(systemctl show -p ExecMainStatus --value "$unit")
case ${started:-0}:${code:-0}:${status:-x} in
0:*) status=125 ;;                         # never started
*:1:[0-9]*) ;;                             # CLD_EXITED
*:[23]:[0-9]*) status=$((128 + status)) ;; # CLD_KILLED, CLD_DUMPED
*) status=125 ;;
esac
# --no-block: a synchronous `systemctl exit` would wait for exit.target,
# which conflicts with the reaper unit whose ExecStop= this is.
exec systemctl --no-block exit "$status"
EOF
        chmod 0755 "$root/prepare-app" "$root/reaper"
}

# Prints, NUL-terminated, the mount points of the hierarchies a process can
# be placed in: the cgroup2 mount and the v1 name=systemd one (hybrid hosts
# such as this CI machine have both; nspawn uses both).
_harness_cgroup_mounts() {
        _harness_cgroup_mounts_of name=systemd
}

# Those, and the v1 memory and cpu hierarchies a pod with resource limits
# has cgroups in too (docs/resources.md): where leftovers are looked for.
_harness_cgroup_mounts_all() {
        _harness_cgroup_mounts_of name=systemd memory cpu
}

_harness_cgroup_mounts_of() {
        local mp rest fstype super want
        while read -r _ _ _ _ mp rest; do
                fstype=${rest#* - }
                super=${fstype#* * }
                fstype=${fstype%% *}
                case $fstype in
                cgroup2) printf '%s\0' "$(printf '%b' "$mp")" ;;
                cgroup)
                        for want in "$@"; do
                                case ,$super, in
                                *,"$want",*)
                                        printf '%s\0' "$(printf '%b' "$mp")"
                                        break
                                        ;;
                                *) ;;
                                esac
                        done
                        ;;
                *) ;;
                esac
        done </proc/self/mountinfo
}

# Our cgroup path in the hierarchy mounted at $1 (from /proc/self/cgroup).
_harness_own_cgroup() {
        local mp=$1 fstype h ctl path key=name=systemd
        fstype=$(stat -f -c %T "$mp" 2>/dev/null) || return 1
        [ -e "$mp/memory.limit_in_bytes" ] && key=memory
        [ -e "$mp/cpu.shares" ] && key=cpu
        while IFS=: read -r h ctl path; do
                if [ "$fstype" = cgroup2fs ] && [ "$h" = 0 ] && [ -z "$ctl" ]; then
                        printf '%s\n' "$path"
                        return 0
                fi
                if [ "$fstype" != cgroup2fs ] && case ,$ctl, in *,$key,*) true ;; *) false ;; esac; then
                        printf '%s\n' "$path"
                        return 0
                fi
        done </proc/self/cgroup
        return 1
}

# Creates one cgroup per hierarchy for a boot and prints them, one per line.
# nspawn with --keep-unit puts its "supervisor" and "payload" sub-cgroups
# below its own cgroup; without this they would land in the host's root
# cgroup, be shared by concurrent pods and stay behind after the pod.
_harness_make_boot_cgroups() {
        local tag=$1 mp own dir
        while IFS= read -r -d '' mp; do
                own=$(_harness_own_cgroup "$mp") || continue
                dir=${mp%/}${own%/}/$tag
                if mkdir "$dir" 2>/dev/null; then
                        printf '%s\n' "$dir"
                else
                        _harness_log "cannot create cgroup $dir, continuing without it"
                fi
        done < <(_harness_cgroup_mounts)
}

# The stage1 root an nspawn argv boots (--directory=, --directory X, -D X, -DX).
_harness_argv_directory() {
        local prev="" a
        for a in "$@"; do
                case $prev in
                --directory | -D) printf '%s\n' "$a"; return 0 ;;
                *) ;;
                esac
                case $a in
                --directory=*) printf '%s\n' "${a#--directory=}"; return 0 ;;
                -D?*) printf '%s\n' "${a#-D}"; return 0 ;;
                *) ;;
                esac
                prev=$a
        done
        return 1
}

_harness_now_us() {
        local t=$EPOCHREALTIME
        printf '%s\n' "${t/./}"
}

# harness_boot_bg POD_DIR ARGV_FILE [SECS [ENV_FILE]]: starts the boot and
# returns at once; HARNESS_BOOT_PID is the supervisor to pass to harness_wait.
harness_boot_bg() {
        local pod=$1 argv_file=$2 secs=${3:-60} env_file=${4:-} a has_register=0 dir tag cgs
        local -a argv a_cgs=() envs=()
        if [ -z "$HARNESS_DIR" ]; then
                _harness_log "harness_boot before harness_init"
                return 1
        fi
        # The argv file is what render writes: NUL-separated, argv[0] first.
        mapfile -d '' -t argv <"$argv_file" || return 1
        if [ "${#argv[@]}" = 0 ]; then
                _harness_log "empty argv file $argv_file"
                return 1
        fi
        # So is the environment file: NAME=VALUE entries, NUL-separated.
        if [ -n "$env_file" ]; then
                mapfile -d '' -t envs <"$env_file" || return 1
                for a in "${envs[@]}"; do
                        case $a in
                        [A-Za-z_]*=*) ;;
                        *)
                                _harness_log "not a NAME=VALUE entry in $env_file: $(printf '%q' "$a")"
                                return 1
                                ;;
                        esac
                done
        fi
        for a in "${argv[@]:1}"; do
                case $a in
                --register | --register=*) has_register=1 ;;
                --machine=*) HARNESS_MACHINES+=("${a#--machine=}") ;;
                *) ;;
                esac
        done
        # No machined/D-Bus on hosts whose PID 1 is not systemd (docs/stage1.md, "machined").
        if [ "$has_register" = 0 ]; then
                argv=("${argv[0]}" --register=no --keep-unit "${argv[@]:1}")
        fi
        if dir=$(_harness_argv_directory "${argv[@]:1}"); then
                case $dir in
                /*) ;;
                *) dir=$pod/$dir ;;
                esac
                HARNESS_ROOTS+=("$dir")
                # nspawn flocks /run/systemd/nspawn/locks/inode-<st_dev>:<st_ino>
                # of the image and unlinks it at exit; a SIGKILLed nspawn
                # leaves it behind.
                if a=$(stat -c '%d:%i' "$dir" 2>/dev/null); then
                        HARNESS_LOCKS+=("/run/systemd/nspawn/locks/inode-$a")
                fi
        fi
        HARNESS_BOOTS=$((HARNESS_BOOTS + 1))
        tag=nspawn-pod-test.${HARNESS_DIR##*.}.$HARNESS_BOOTS
        cgs=$(_harness_make_boot_cgroups "$tag")
        if [ -n "$cgs" ]; then
                mapfile -t a_cgs <<<"$cgs"
                HARNESS_CGROUPS+=("${a_cgs[@]}")
        fi
        (
                # Enter the boot's cgroups before exec, so timeout, nspawn
                # and the whole pod are inside them from the first instant.
                if [ -n "$cgs" ]; then
                        while IFS= read -r c; do
                                echo "$BASHPID" >"$c/cgroup.procs" || exit 125
                        done <<<"$cgs"
                fi
                cd "$pod" || exit 125
                for a in "${envs[@]}"; do
                        # shellcheck disable=SC2163 # exports NAME=VALUE, the entry itself
                        export "$a" || exit 125
                done
                # -k: nspawn answers SIGTERM by asking the pod to power off;
                # a wedged pod still gets SIGKILL 5 s later.
                exec timeout -k 5 "$secs" "${argv[@]}"
        ) </dev/null >"$pod/console.log" 2>&1 &
        HARNESS_BOOT_PID=$!
        HARNESS_PIDS+=("$HARNESS_BOOT_PID")
        HARNESS_CG_OF[$HARNESS_BOOT_PID]=$cgs
        HARNESS_T0_OF[$HARNESS_BOOT_PID]=$(_harness_now_us)
}

# Kills every process in the cgroup dirs given (and their descendants).
_harness_kill_cgroups() {
        local c f pid
        for c in "$@"; do
                [ -d "$c" ] || continue
                # cgroup v2 (kernel >= 5.14): one write kills the subtree.
                if [ -e "$c/cgroup.kill" ]; then
                        echo 1 >"$c/cgroup.kill" 2>/dev/null && continue
                fi
                while IFS= read -r -d '' f; do
                        while read -r pid; do
                                kill -KILL "$pid" 2>/dev/null
                        done 2>/dev/null <"$f"
                done < <(find "$c" -name cgroup.procs -print0 2>/dev/null)
        done
}

_harness_ppid() {
        local line rest
        read -r line 2>/dev/null <"/proc/$1/stat" || return 1
        # comm (field 2) may contain spaces and parentheses: cut after the last ')'.
        rest=${line##*) }
        # shellcheck disable=SC2086 # split into the stat fields on purpose
        set -- $rest
        printf '%s\n' "$2"
}

# harness_pid_alive PID: the process exists and is not a zombie. An orphaned
# pod PID 1 (its nspawn killed) is reparented to the host's PID 1, which may
# take its time to reap it; kill -0 alone would count that zombie as alive.
harness_pid_alive() {
        local line rest
        read -r line 2>/dev/null <"/proc/$1/stat" || return 1
        rest=${line##*) }
        [ "${rest%% *}" != Z ]
}

# Kills the processes of the boot cgroups except our supervisors (timeout)
# and their children (nspawn), so that those can exit and be reaped in order.
_harness_kill_payloads() {
        local c f pid ppid s keep
        for c in "$@"; do
                [ -d "$c" ] || continue
                while IFS= read -r -d '' f; do
                        while read -r pid; do
                                keep=0
                                ppid=$(_harness_ppid "$pid") || continue
                                for s in "${HARNESS_PIDS[@]}"; do
                                        [ "$pid" = "$s" ] || [ "$ppid" = "$s" ] && keep=1
                                done
                                [ "$keep" = 1 ] || kill -KILL "$pid" 2>/dev/null
                        done 2>/dev/null <"$f"
                done < <(find "$c" -name cgroup.procs -print0 2>/dev/null)
        done
}

# Removes cgroup dirs (deepest first: rmdir only works on leaf cgroups).
_harness_remove_cgroups() {
        local c i
        for c in "$@"; do
                [ -d "$c" ] || continue
                # A killed task keeps its cgroup busy until it is reaped, and
                # an orphaned pod PID 1 is reaped by the host's PID 1 whenever
                # that gets to it. cgroup.procs stops listing it before then,
                # so rmdir itself is the test of emptiness (up to 10 s).
                for i in $(seq 200); do
                        _harness_kill_cgroups "$c"
                        find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
                        [ -d "$c" ] || break
                        sleep 0.05
                done
                if [ -d "$c" ]; then
                        _harness_log "cgroup $c could not be removed"
                fi
        done
}

# Pod processes found by their root directory: the fallback for processes
# that escaped the boot cgroups (or hosts where we could not create them).
# Killing the pod's PID 1 takes its whole PID namespace with it.
_harness_kill_by_root() {
        local p r found=0
        [ "${#HARNESS_ROOTS[@]}" = 0 ] && return 1
        for p in /proc/[0-9]*; do
                for r in "${HARNESS_ROOTS[@]}"; do
                        [ -d "$r" ] || continue
                        # -ef: same device and inode after following the
                        # /proc magic link, whatever the process's mount ns.
                        if [ "$p/root" -ef "$r" ]; then
                                kill -KILL "${p#/proc/}" 2>/dev/null && found=1
                        fi
                done
        done
        [ "$found" = 1 ]
}

_harness_forget_pid() {
        local pid=$1 p
        local -a keep=()
        for p in "${HARNESS_PIDS[@]}"; do
                [ "$p" = "$pid" ] || keep+=("$p")
        done
        HARNESS_PIDS=("${keep[@]}")
}

# harness_wait [PID]: waits for a boot, removes its cgroups, sets
# HARNESS_BOOT_MS and returns nspawn's exit code (124: timed out; 137: killed).
harness_wait() {
        local pid=${1:-$HARNESS_BOOT_PID} rc=0 t1 cgs
        local -a a_cgs=()
        wait "$pid" || rc=$?
        t1=$(_harness_now_us)
        # shellcheck disable=SC2034 # read by the tests
        HARNESS_BOOT_MS=$(((t1 - ${HARNESS_T0_OF[$pid]:-$t1}) / 1000))
        _harness_forget_pid "$pid"
        cgs=${HARNESS_CG_OF[$pid]:-}
        if [ -n "$cgs" ]; then
                mapfile -t a_cgs <<<"$cgs"
                _harness_remove_cgroups "${a_cgs[@]}"
        fi
        return "$rc"
}

harness_boot() {
        harness_boot_bg "$@" || return 125
        harness_wait "$HARNESS_BOOT_PID"
}

# Mount points at or below DIR in our mount namespace, decoded (mountinfo
# escapes space, tab, newline and backslash as \ooo), NUL-separated.
_harness_mounts_under() {
        local dir=$1 mp
        while read -r _ _ _ _ mp _; do
                mp=$(printf '%b' "$mp")
                # Separator-aware: /tmp/x must not match /tmp/xy.
                case $mp in
                "$dir" | "$dir"/*) printf '%s\0' "$mp" ;;
                *) ;;
                esac
        done </proc/self/mountinfo
}

_harness_unmount_all() {
        local dir=$1 mp i best
        local -a mps
        for _ in $(seq 20); do
                mapfile -d '' -t mps < <(_harness_mounts_under "$dir")
                [ "${#mps[@]}" = 0 ] && return 0
                # Private first: unmounting a shared mount propagates the
                # unmount to its peers, possibly the host's (rkt#3546).
                for mp in "${mps[@]}"; do
                        mount --make-rprivate "$mp" 2>/dev/null
                done
                # Deepest first: a nested mount point's path is longer than
                # its parent's. Stacked mounts are peeled one per round.
                while [ "${#mps[@]}" -gt 0 ]; do
                        best=0
                        for i in "${!mps[@]}"; do
                                [ "${#mps[$i]}" -gt "${#mps[$best]}" ] && best=$i
                        done
                        umount "${mps[$best]}" 2>/dev/null || umount -l "${mps[$best]}" 2>/dev/null ||
                                _harness_log "cannot unmount ${mps[$best]}"
                        unset "mps[$best]"
                        mps=("${mps[@]}")
                done
        done
        mapfile -d '' -t mps < <(_harness_mounts_under "$dir")
        [ "${#mps[@]}" = 0 ]
}

# harness_leftovers [DIR]: prints what still ties the machine to DIR (default
# HARNESS_DIR): mounts, processes whose root/cwd is under it, our supervisors,
# our cgroups. Returns 0 when there is nothing.
harness_leftovers() {
        local dir=${1:-$HARNESS_DIR} mp p r cwd c n=0
        [ -n "$dir" ] || return 0
        while IFS= read -r -d '' mp; do
                printf 'mount %s\n' "$mp"
                n=$((n + 1))
        done < <(_harness_mounts_under "$dir")
        for p in /proc/[0-9]*; do
                [ "$p" = "/proc/$$" ] || [ "$p" = "/proc/$BASHPID" ] && continue
                for r in "${HARNESS_ROOTS[@]}"; do
                        if [ -d "$r" ] && [ "$p/root" -ef "$r" ]; then
                                printf 'process %s (%s): root is %s\n' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)" "$r"
                                n=$((n + 1))
                        fi
                done
                cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
                case $cwd in
                "$dir" | "$dir"/*)
                        printf 'process %s (%s): cwd %s\n' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)" "$cwd"
                        n=$((n + 1))
                        ;;
                *) ;;
                esac
        done
        for p in "${HARNESS_PIDS[@]}"; do
                if harness_pid_alive "$p"; then
                        printf 'supervisor %s still running\n' "$p"
                        n=$((n + 1))
                fi
        done
        for c in "${HARNESS_CGROUPS[@]}"; do
                if [ -d "$c" ]; then
                        printf 'cgroup %s\n' "$c"
                        n=$((n + 1))
                fi
        done
        [ "$n" = 0 ]
}

_harness_teardown() {
        local rc=$? i p left m
        # The teardown must run to the end whatever the test set.
        set +e
        trap - EXIT HUP INT TERM
        for ((i = ${#HARNESS_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
                eval "${HARNESS_EXIT_HOOKS[$i]}"
        done
        # 1. The pods, not their supervisors. Killing the pod's PID 1 takes
        #    its PID namespace with it and nspawn then exits by itself;
        #    killing nspawn first would leave the payload running (§0) and
        #    orphan nspawn, a zombie until the host's PID 1 reaps it.
        _harness_kill_by_root
        _harness_kill_payloads "${HARNESS_CGROUPS[@]}"
        # 2. Supervisors: TERM (timeout passes it on to nspawn), then KILL.
        for p in "${HARNESS_PIDS[@]}"; do
                kill -TERM "$p" 2>/dev/null
        done
        for i in $(seq 100); do
                left=0
                for p in "${HARNESS_PIDS[@]}"; do
                        harness_pid_alive "$p" && left=1
                done
                [ "$left" = 0 ] && break
                sleep 0.05
        done
        for p in "${HARNESS_PIDS[@]}"; do
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        HARNESS_PIDS=()
        # 3. Stragglers: anything still in a boot cgroup or rooted in a
        #    stage1 (a pod whose nspawn died before we got to it).
        _harness_kill_cgroups "${HARNESS_CGROUPS[@]}"
        for i in $(seq 50); do
                _harness_kill_by_root || break
                sleep 0.05
        done
        _harness_remove_cgroups "${HARNESS_CGROUPS[@]}"
        # A stale lock is harmless to nspawn (flock, not existence) but is
        # litter in the host's /run; remove only one nobody holds.
        for p in "${HARNESS_LOCKS[@]}"; do
                [ -e "$p" ] && flock -n "$p" rm -f -- "$p"
        done
        # Console logs are the only record of a failed boot; keep them on request.
        if [ -n "${HARNESS_KEEP_LOGS:-}" ] && [ -d "$HARNESS_DIR" ]; then
                mkdir -p "$HARNESS_KEEP_LOGS" &&
                        (cd "$HARNESS_DIR" && find . -xdev -name console.log -exec cp --parents {} "$HARNESS_KEEP_LOGS" \;)
        fi
        # 4. Mounts, then the directory. Never rm -rf with a mount left
        #    inside: a bind of a host dir from the same file system has the
        #    same st_dev, so --one-file-system would not stop rm there.
        if [ -n "$HARNESS_DIR" ] && [ -d "$HARNESS_DIR" ]; then
                if _harness_unmount_all "$HARNESS_DIR"; then
                        rm -rf --one-file-system -- "$HARNESS_DIR"
                else
                        _harness_log "mounts remain under $HARNESS_DIR; NOT removing it"
                        [ "$rc" = 0 ] && rc=1
                fi
        fi
        # Once the pods are gone: nspawn leaves an empty propagation directory per machine where /run
        # is not a tmpfs; those of the machines we booted go (empty ones only).
        for m in "${HARNESS_MACHINES[@]}"; do
                case $m in */* | . | .. | "") continue ;; esac
                rmdir "/run/systemd/nspawn/propagate/$m" 2>/dev/null
        done
        if left=$(harness_leftovers "$HARNESS_DIR") && [ ! -e "$HARNESS_DIR" ]; then
                :
        else
                _harness_log "teardown incomplete:" "$left"
                [ "$rc" = 0 ] && rc=1
        fi
        exit "$rc"
}

# --- pods started with nspawn-pod itself (run, prepare, run-prepared) -------------
#
#   harness_np_init                   HARNESS_NP = $BUILD/nspawn-pod (made when missing or
#                                     older than a source), HARNESS_NP_DATA = HARNESS_DIR/data
#                                     (its --dir); the teardown also tears down every pod
#                                     found there
#   harness_np_run ARGS...            nspawn-pod --dir=HARNESS_NP_DATA ARGS, in the foreground,
#                                     under timeout --foreground (HARNESS_NP_TIMEOUT s, default
#                                     120): on expiry SIGTERM goes to nspawn-pod alone, which has
#                                     nspawn stop the pod in order; stdin /dev/null; returns its
#                                     exit status
#   harness_np_start LOG ARGS...      the same in the background, as the leader of a process
#                                     group of its own (setsid; no timeout in between, so
#                                     HARNESS_NP_PID is nspawn-pod itself: `kill PID` is a
#                                     signal to the run process, `kill -- -PID` one to its
#                                     whole process group, as Ctrl-C in a terminal sends it)
#   harness_np_wait PID [SECS]        waits up to SECS (HARNESS_NP_TIMEOUT) for it to end, then
#                                     TERM, 10 s, KILL (returns 124 then); else its exit status
#   harness_np_pod_dir UUID           prints DATA/pods/<state>/<uuid>, whatever its state
#   harness_np_uuids                  prints the UUID of every pod under the data dir, and of
#                                     every one added to HARNESS_NP_UUIDS (pods since removed)
#   harness_np_cleanup                what the teardown does to the data dir: kills the pods
#                                     (processes rooted in a pod's stage1/rootfs, the cgroups
#                                     named by its subcgroup file in the cgroup2 and
#                                     name=systemd hierarchies, processes working in the
#                                     data dir), removes those cgroups, unmounts everything
#                                     under the data dir deepest first after making it private
#   harness_np_leftovers              prints mounts, processes and cgroups still tied to the
#                                     data dir's pods; returns 0 when there are none
#   harness_np_begin WHAT             the start of a test of real pods: skips the whole test
#                                     (loudly, "WHAT: real pods") where pods cannot boot here,
#                                     harness_init, harness_np_init and the busybox test image
#                                     (tests/images/build-busybox), each a TAP check; sets
#                                     `images` (its directory) and `bb` (the ACI); on failure
#                                     harness_bail
#   harness_bail MESSAGE...           TAP diagnostics, the plan, exit 1 (the teardown runs)
#   harness_in_net CMD ARGS...        CMD in the test's network namespace (HARNESS_NETNS, made
#                                     by harness_np_init), where every nspawn-pod of the test runs
#   harness_np_capture NAME ARGS...   harness_np_run ARGS with stdout and stderr in
#                                     HARNESS_DIR/NAME.out and .err; its status in RC; returns 0
#   harness_np_diag NAME              TAP diagnostics of such a run: RC, the ends of both files
#   harness_np_run_pod NAME ARGS...   harness_np_capture NAME run --uuid-file-save=… ARGS; sets
#                                     UUID and POD (its directory, "" if none) and remembers the
#                                     pod for the teardown
HARNESS_NP=""
HARNESS_NP_DATA=""
HARNESS_NP_PID=""
HARNESS_NP_UUIDS=()
HARNESS_NETNS=""

harness_bail() {
        tap_diag "$@"
        tap_done
        exit 1
}

harness_np_capture() {
        local name=$1
        shift
        RC=0
        harness_np_run "$@" >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
        return 0
}

harness_np_run_pod() {
        local name=$1
        shift
        rm -f "$HARNESS_DIR/$name.uuid"
        harness_np_capture "$name" run --uuid-file-save="$HARNESS_DIR/$name.uuid" "$@"
        UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid" 2>/dev/null)
        POD=""
        if [ -n "$UUID" ]; then
                HARNESS_NP_UUIDS+=("$UUID")
                POD=$(harness_np_pod_dir "$UUID") || POD=""
        fi
}

# harness_np_stop_pod UUID RUNPID: stop in order, wait for the run process.
harness_np_stop_pod() {
        [ -n "$1" ] && harness_np_run stop --wait=60s "$1" >/dev/null 2>&1
        [ -n "$2" ] && harness_np_wait "$2" 60 >/dev/null 2>&1
        return 0
}

harness_np_diag() {
        tap_diag "exit status $RC" "stderr:" "$(tail -n 20 "$HARNESS_DIR/$1.err" 2>&1)" \
                "stdout:" "$(head -n 40 "$HARNESS_DIR/$1.out" 2>&1)"
}

harness_np_begin() {
        local reason
        if ! reason=$(harness_have_nspawn); then
                tap_skip "$1: real pods" "$reason"
                tap_done
                exit 0
        fi
        harness_init || exit 1
        harness_np_init
        tap_ok $? "nspawn-pod and its helpers are built ($HARNESS_NP)" ||
                harness_bail "$(tail -n 30 "$HARNESS_DIR/make.log" 2>&1)"
        images=$HARNESS_DIR/images
        "$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$HARNESS_DIR/images.log" 2>&1
        tap_ok $? "busybox test image builds" || harness_bail "$(cat "$HARNESS_DIR/images.log")"
        bb=$images/busybox.aci
}

harness_np_init() {
        local build=${BUILD:-build} src=$HARNESS_SRC_ROOT np
        if [ -z "$HARNESS_DIR" ]; then
                _harness_log "harness_np_init before harness_init"
                return 1
        fi
        case $build in
        /*) ;;
        *) build=$src/$build ;;
        esac
        np=$build/nspawn-pod
        # make knows what is stale (the stage1 image depends on the helpers,
        # the units, the rootfs list, …); with nothing to do it costs little.
        if ! make -C "$src" --no-print-directory BUILD="${BUILD:-build}" all >"$HARNESS_DIR/make.log" 2>&1; then
                _harness_log "make failed:"
                tail -n 30 "$HARNESS_DIR/make.log" >&2
                return 1
        fi
        HARNESS_NP=$np
        HARNESS_NP_DATA=$HARNESS_DIR/data
        mkdir -p "$HARNESS_NP_DATA" || return 1
        # The pods' "host" network: a network namespace of the test's own,
        # where every nspawn-pod runs (nsenter --net, the mount namespace
        # stays the host's): the veths, routes, iptables rules and sysctls
        # of the pods' CNI networks (rkt's default network is the default)
        # live and die there, and no packet reaches a real interface.
        # Deleted after harness_np_cleanup (hooks run last first).
        HARNESS_NETNS=nspawn-pod-test-$$-$RANDOM
        if ! ip netns add "$HARNESS_NETNS" || ! ip -n "$HARNESS_NETNS" link set lo up; then
                _harness_log "cannot create the test's network namespace"
                return 1
        fi
        harness_on_exit '_harness_netns_delete'
        harness_on_exit harness_np_cleanup
}

# harness_in_net CMD ARGS...: CMD in the test's network namespace, where the
# pods' "host" network is (a client of a pod's port, say).
harness_in_net() {
        nsenter --net="/run/netns/$HARNESS_NETNS" "$@"
}

_harness_netns_delete() {
        [ -n "$HARNESS_NETNS" ] && ip netns delete "$HARNESS_NETNS" 2>/dev/null
        HARNESS_NETNS=""
        return 0
}

harness_np_run() {
        timeout --foreground -k 10 "${HARNESS_NP_TIMEOUT:-120}" \
                nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" "$@" </dev/null
}

harness_np_start() {
        local log=$1
        shift
        # A background job of a non-interactive shell is not a group leader,
        # so setsid(1) needs no fork: $! is nspawn-pod once exec'd.
        setsid nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" "$@" \
                </dev/null >"$log" 2>&1 &
        HARNESS_NP_PID=$!
        HARNESS_PIDS+=("$HARNESS_NP_PID")
}

harness_np_wait() {
        local pid=$1 secs=${2:-${HARNESS_NP_TIMEOUT:-120}} rc=0 i timed_out=0
        for ((i = 0; i < secs * 10; i++)); do
                harness_pid_alive "$pid" || break
                sleep 0.1
        done
        if harness_pid_alive "$pid"; then
                timed_out=1
                _harness_log "nspawn-pod $pid still running after $secs s: SIGTERM"
                kill -TERM "$pid" 2>/dev/null
                for ((i = 0; i < 100; i++)); do
                        harness_pid_alive "$pid" || break
                        sleep 0.1
                done
                kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" || rc=$?
        _harness_forget_pid "$pid"
        [ "$timed_out" = 0 ] || rc=124
        return "$rc"
}

harness_np_pod_dir() {
        local s
        for s in prepare prepared run exited-garbage garbage; do
                if [ -d "$HARNESS_NP_DATA/pods/$s/$1" ]; then
                        printf '%s\n' "$HARNESS_NP_DATA/pods/$s/$1"
                        return 0
                fi
        done
        return 1
}

# Pod directories under the data dir, NUL-separated.
_harness_np_pod_dirs() {
        [ -n "$HARNESS_NP_DATA" ] && [ -d "$HARNESS_NP_DATA/pods" ] || return 0
        find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d -print0 2>/dev/null
}

harness_np_uuids() {
        local d
        {
                while IFS= read -r -d '' d; do
                        printf '%s\n' "${d##*/}"
                done < <(_harness_np_pod_dirs)
                [ "${#HARNESS_NP_UUIDS[@]}" = 0 ] || printf '%s\n' "${HARNESS_NP_UUIDS[@]}"
        } | grep -E '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' | sort -u
}

# The cgroup dirs a pod may have: what its subcgroup file names, and
# <own cgroup>/nspawn-pod-<uuid> (where the run entrypoint creates them), in
# each hierarchy processes are placed in. Existing ones only, one per line.
_harness_np_pod_cgroups() {
        local uuid=$1 sub="" mp own d pd
        if pd=$(harness_np_pod_dir "$uuid") && [ -f "$pd/subcgroup" ]; then
                sub=$(head -n 1 "$pd/subcgroup")
        fi
        while IFS= read -r -d '' mp; do
                own=$(_harness_own_cgroup "$mp") || own=/
                for d in "${sub:+${mp%/}/${sub#/}}" "${mp%/}${own%/}/nspawn-pod-$uuid" "${mp%/}/nspawn-pod-$uuid"; do
                        [ -n "$d" ] && [ -d "$d" ] && printf '%s\n' "$d"
                done
        done < <(_harness_cgroup_mounts_all) | sort -u
}

# Processes tied to the data dir: rooted in a pod's stage1/rootfs, or with
# their cwd under the data dir (nspawn runs from the pod directory). Prints
# "PID REASON" lines; never our own shell.
_harness_np_procs() {
        local p r d cwd
        local -a roots=()
        [ -n "$HARNESS_NP_DATA" ] || return 0
        while IFS= read -r -d '' d; do
                [ -d "$d/stage1/rootfs" ] && roots+=("$d/stage1/rootfs")
        done < <(_harness_np_pod_dirs)
        for p in /proc/[0-9]*; do
                [ "$p" = "/proc/$$" ] || [ "$p" = "/proc/$BASHPID" ] && continue
                harness_pid_alive "${p#/proc/}" || continue
                for r in "${roots[@]}"; do
                        if [ "$p/root" -ef "$r" ]; then
                                printf '%s root %s\n' "${p#/proc/}" "$r"
                                continue 2
                        fi
                done
                cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
                case $cwd in
                "$HARNESS_NP_DATA" | "$HARNESS_NP_DATA"/*) printf '%s cwd %s\n' "${p#/proc/}" "$cwd" ;;
                *) ;;
                esac
        done
}

harness_np_cleanup() {
        local uuid pid _ i c found
        local -a cgs=()
        [ -n "$HARNESS_NP_DATA" ] || return 0
        # 1. Pods: their processes by root and by cgroup, then nspawn and
        #    nspawn-pod (cwd in the pod dir), which exit once their pod is gone.
        for i in $(seq 50); do
                mapfile -t cgs < <(harness_np_uuids | while read -r uuid; do _harness_np_pod_cgroups "$uuid"; done)
                [ "${#cgs[@]}" = 0 ] || _harness_kill_cgroups "${cgs[@]}"
                found=0
                while read -r pid _; do
                        [ -n "$pid" ] || continue
                        found=1
                        kill -KILL "$pid" 2>/dev/null
                done < <(_harness_np_procs)
                [ "$found" = 0 ] && break
                sleep 0.1
        done
        # 2. Their cgroups (rmdir retried while killed tasks are reaped).
        mapfile -t cgs < <(harness_np_uuids | while read -r uuid; do _harness_np_pod_cgroups "$uuid"; done)
        [ "${#cgs[@]}" = 0 ] || _harness_remove_cgroups "${cgs[@]}"
        # 3. nspawn's image lock files of these pods, if nobody holds them.
        while IFS= read -r -d '' c; do
                if i=$(stat -c '%d:%i' "$c/stage1/rootfs" 2>/dev/null) &&
                        [ -e "/run/systemd/nspawn/locks/inode-$i" ]; then
                        flock -n "/run/systemd/nspawn/locks/inode-$i" rm -f -- "/run/systemd/nspawn/locks/inode-$i"
                fi
        done < <(_harness_np_pod_dirs)
        # 4. nspawn's per-machine propagation directories: it cannot remove
        #    them itself where /run is not a tmpfs ("Attempted to remove disk
        #    file system under /run/systemd/nspawn/propagate/…"). Empty ones only.
        while read -r uuid; do
                rmdir "/run/systemd/nspawn/propagate/nspawn-pod-$uuid" "/run/systemd/nspawn/propagate/rkt-$uuid" \
                        2>/dev/null
        done < <(harness_np_uuids)
        # 5. Mounts under the data dir (private first, deepest first).
        [ -d "$HARNESS_NP_DATA" ] && _harness_unmount_all "$HARNESS_NP_DATA"
        # 6. The host's links to the pods' journals (nspawn --link-journal),
        #    which gc removes: those of pods a test did not gc.
        while IFS= read -r c; do
                rm -f -- "$c"
        done < <(_harness_np_journal_links)
        # 7. The pods' network namespaces (their veths and rules are in the
        #    test's, which goes after this).
        while read -r uuid; do
                if [ -e "/run/netns/nspawn-pod-$uuid" ]; then
                        umount -l "/run/netns/nspawn-pod-$uuid" 2>/dev/null
                        rm -f -- "/run/netns/nspawn-pod-$uuid"
                fi
        done < <(harness_np_uuids)
        return 0
}

# The host's /var/log/journal/<machine id> links into the data dir.
_harness_np_journal_links() {
        local l t
        [ -n "$HARNESS_NP_DATA" ] || return 0
        for l in /var/log/journal/*; do
                [ -L "$l" ] || continue
                t=$(readlink "$l") || continue
                case $t in "$HARNESS_NP_DATA"/*) printf '%s\n' "$l" ;; *) ;; esac
        done
}

harness_np_leftovers() {
        local n=0 mp line uuid c
        [ -n "$HARNESS_NP_DATA" ] || return 0
        while IFS= read -r -d '' mp; do
                printf 'mount %s\n' "$mp"
                n=$((n + 1))
        done < <(_harness_mounts_under "$HARNESS_NP_DATA")
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                printf 'process %s (%s)\n' "$line" "$(cat "/proc/${line%% *}/comm" 2>/dev/null)"
                n=$((n + 1))
        done < <(_harness_np_procs)
        while read -r uuid; do
                while IFS= read -r c; do
                        [ -n "$c" ] || continue
                        printf 'cgroup %s\n' "$c"
                        n=$((n + 1))
                done < <(_harness_np_pod_cgroups "$uuid")
                if [ -e "/run/netns/nspawn-pod-$uuid" ]; then
                        printf 'netns /run/netns/nspawn-pod-%s\n' "$uuid"
                        n=$((n + 1))
                fi
                # Rules that name the pod (our masquerading's comment, ptp's and
                # portmap's "id: <uuid>").
                if [ -n "$HARNESS_NETNS" ]; then
                        while IFS= read -r line; do
                                printf 'iptables %s\n' "$line"
                                n=$((n + 1))
                        done < <(harness_in_net iptables-save -t nat 2>/dev/null | grep -F -- "$uuid")
                fi
        done < <(harness_np_uuids)
        # The pods' veths and leases (in the test's network namespace and
        # the data dir's IPAM state).
        if [ -n "$HARNESS_NETNS" ]; then
                while IFS= read -r line; do
                        printf 'link %s\n' "$line"
                        n=$((n + 1))
                done < <(ip -n "$HARNESS_NETNS" -o link show type veth 2>/dev/null)
        fi
        while IFS= read -r -d '' c; do
                printf 'lease %s\n' "$c"
                n=$((n + 1))
        done < <(find "$HARNESS_NP_DATA/cni-networks" -type f ! -name lock ! -name 'last_reserved_ip.*' -print0 2>/dev/null)
        [ "$n" = 0 ]
}

# --- pod lifecycle helpers (status, stop, gc, rm tests) ------------------------------
#
#   harness_np_wait_for PATH [SECS]   polls (0.1 s) until PATH exists, at most SECS (30);
#                                     returns 1 on timeout
#   harness_np_pod_procs UUID         prints the PIDs of every live process in the pod's
#                                     cgroups (all hierarchies, every sub-cgroup), one per line
#   harness_np_uuid_leftovers UUID... prints what is left of these pods: their directory,
#                                     mounts under it, their cgroups, processes in them, nspawn's
#                                     /run/systemd/nspawn/propagate/nspawn-pod-<uuid>, the host's
#                                     journal link /var/log/journal/<id>; returns 0 when there
#                                     is nothing

harness_np_wait_for() {
        local path=$1 secs=${2:-30} i
        for ((i = 0; i < secs * 10; i++)); do
                [ -e "$path" ] && return 0
                sleep 0.1
        done
        [ -e "$path" ]
}

harness_np_pod_procs() {
        local uuid=$1 c f pid
        while IFS= read -r c; do
                [ -n "$c" ] || continue
                while IFS= read -r -d '' f; do
                        while read -r pid; do
                                harness_pid_alive "$pid" && printf '%s\n' "$pid"
                        done 2>/dev/null <"$f"
                done < <(find "$c" -name cgroup.procs -print0 2>/dev/null)
        done < <(_harness_np_pod_cgroups "$uuid")
}

harness_np_uuid_leftovers() {
        local uuid d mp c n=0 pid m
        for uuid in "$@"; do
                if d=$(harness_np_pod_dir "$uuid"); then
                        printf 'pod dir %s\n' "$d"
                        n=$((n + 1))
                        while IFS= read -r -d '' mp; do
                                printf 'mount %s\n' "$mp"
                                n=$((n + 1))
                        done < <(_harness_mounts_under "$d")
                fi
                while IFS= read -r c; do
                        [ -n "$c" ] || continue
                        printf 'cgroup %s\n' "$c"
                        n=$((n + 1))
                done < <(_harness_np_pod_cgroups "$uuid")
                while IFS= read -r pid; do
                        [ -n "$pid" ] || continue
                        printf 'process %s (%s)\n' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
                        n=$((n + 1))
                done < <(harness_np_pod_procs "$uuid")
                for m in "nspawn-pod-$uuid" "rkt-$uuid"; do
                        if [ -e "/run/systemd/nspawn/propagate/$m" ]; then
                                printf 'propagate dir /run/systemd/nspawn/propagate/%s\n' "$m"
                                n=$((n + 1))
                        fi
                done
                if [ -L "/var/log/journal/${uuid//-/}" ]; then
                        printf 'journal link /var/log/journal/%s\n' "${uuid//-/}"
                        n=$((n + 1))
                fi
        done
        [ "$n" = 0 ]
}
