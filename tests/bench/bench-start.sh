#!/usr/bin/env bash
# bench-start: how long a one-app pod takes from `nspawn-pod run` to its exit
# status, against what systemd-nspawn itself costs. Figures, never pass/fail.
#
# Side by side in one run, interleaved (one of each per round, so that they
# share the machine's noise), BENCH_START_N rounds (default 15):
#
#   (a)  nspawn-pod run IMAGE --exec=/bin/true: the busybox test image
#        (tests/images/build-busybox), one app; from the command to its exit
#        status: import, stage1 assembly, render, boot, app, shutdown
#   (a1) the same as prepare (import + stage1 + pod manifest) and
#   (a2) run-prepared (render + boot + app + shutdown), timed separately
#   (at) (a) with the data directory (--dir) on a tmpfs: the same work without
#        the cost of creating the pod's files on the disk (on a VM's ext4 that
#        is 0.3-0.8 ms per file, and an image of busybox applet links has ~300)
#   (b)  the floor: systemd-nspawn --boot of a hand-made minimal root (the
#        host's /usr bound read-only, generators and early-boot units masked
#        as in a stage1, tests/lib/pod-harness.sh harness_make_stage1), whose
#        default.target wants one oneshot unit ExecStart=/bin/true,
#        ExecStartPost=systemctl --no-block exit; nspawn options as
#        nspawn-pod's (--register=no --keep-unit --settings=no
#        --link-journal=no --quiet, systemd --log-target=null --show-status=no)
#   (c)  systemd-nspawn without --boot running /bin/true in a minimal root
#   (an) (a) with --net=none: a network namespace with loopback only
#   (ad) (a) with --net=default: rkt's default CNI network (ptp, host-local
#        IPAM, masquerading, portmap), in the bench's own network namespace
#        (harness_np_init's) like every pod here: what the network costs
#   (av) (a) with three volumes (a host directory, a read-only one at a
#        target that does not exist in the image, an empty one): what
#        mounting volumes costs on the start path (docs/volumes.md)
#
# Each command runs in fresh cgroups of its own (cgroup2, name=systemd and,
# where mounted, the v1 memory hierarchy), created before and removed after
# the timing, the same for all three (nspawn-pod makes its pod's cgroups
# below them). Time: wall clock around the command, in ms; median and min.
#
# Peak memory: the peak of the memory charged to that cgroup while the
# command ran, i.e. of every process it started (nspawn-pod, nspawn, the
# pod's systemd, journald, helpers, the app) together: v1
# memory.max_usage_in_bytes, or cgroup2 memory.peak where the memory
# controller is there. It counts anonymous memory, page cache first touched
# by them (files written in the pod's tmpfs, parts of the image not yet in
# the cache) and kernel memory; it is not a sum of RSS. Shown as a median.
#
# Every pod and boot is torn down (tests/lib/pod-harness.sh). The goal for
# (a)/(b) is <= 1.2; this only measures and prints.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

N=${BENCH_START_N:-15}

if ! reason=$(harness_have_nspawn); then
        echo "bench-start: skipped: $reason"
        exit 0
fi
harness_init || exit 1
harness_np_init || {
        echo "bench-start: cannot build nspawn-pod"
        exit 1
}
W=$HARNESS_DIR

"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$W/images" >"$W/images.log" 2>&1 || {
        echo "bench-start: cannot build the busybox image:"
        cat "$W/images.log"
        exit 1
}
image=$W/images/busybox.aci

# (b): a booted root with one oneshot unit that ends the boot.
rootb=$W/floor/rootfs
harness_make_stage1 "$rootb" || exit 1
cat >"$rootb/etc/systemd/system/default.target" <<'EOF'
[Unit]
Description=bench floor
Wants=bench.service
After=bench.service
EOF
cat >"$rootb/etc/systemd/system/bench.service" <<'EOF'
[Unit]
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/bin/true
ExecStartPost=/usr/bin/systemctl --no-block exit
EOF
argv_b=(systemd-nspawn --boot --register=no --keep-unit --settings=no --link-journal=no --quiet
        --directory="$rootb" --bind-ro=/usr -- --log-target=null --show-status=no)
HARNESS_ROOTS+=("$rootb")

# (c): no boot, /bin/true through the host's /usr.
rootc=$W/plain/rootfs
mkdir -p "$rootc/usr" "$rootc/etc" "$rootc/proc" "$rootc/sys" "$rootc/dev" "$rootc/tmp" "$rootc/run"
for l in bin sbin lib lib64 lib32 libx32; do
        [ -L "/$l" ] && ln -sfn "$(readlink "/$l")" "$rootc/$l"
done
printf 'NAME="bench"\nID=bench\n' >"$rootc/etc/os-release"
argv_c=(systemd-nspawn --register=no --keep-unit --settings=no --link-journal=no --quiet
        --directory="$rootc" --bind-ro=/usr /bin/true)
HARNESS_ROOTS+=("$rootc")

# The v1 memory hierarchy's mount point, when there is one.
memv1=""
while read -r _ _ _ _ mp rest; do
        fstype=${rest#* - }
        super=${fstype#* * }
        case ${fstype%% *}:,$super, in
        cgroup:*,memory,*) memv1=$(printf '%b' "$mp") ;;
        *) ;;
        esac
done </proc/self/mountinfo
mem_own=""
if [ -n "$memv1" ]; then
        mem_own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
fi

# cgroups for one timed command: printed one per line.
make_cgroups() {
        local tag=$1 d
        _harness_make_boot_cgroups "$tag"
        if [ -n "$memv1" ]; then
                d=${memv1%/}${mem_own%/}/$tag
                mkdir "$d" 2>/dev/null && printf '%s\n' "$d"
        fi
}

# peak_of CGROUPS: bytes, or "" when no cgroup there accounts memory.
peak_of() {
        local c
        for c in "$@"; do
                if [ -r "$c/memory.max_usage_in_bytes" ]; then
                        cat "$c/memory.max_usage_in_bytes"
                        return
                fi
                if [ -r "$c/memory.peak" ]; then
                        cat "$c/memory.peak"
                        return
                fi
        done
}

ROUND=0
# timed NAME CMD...: runs CMD in fresh cgroups; appends the wall time (ms,
# 0.1 resolution) to T_NAME and the peak memory to M_NAME; counts failures.
declare -A FAILS=()
timed() {
        local name=$1 tag t0 t1 rc=0 us peak
        shift
        local -a cgs=()
        ROUND=$((ROUND + 1))
        tag=nspawn-pod-bench.$$.$ROUND
        mapfile -t cgs < <(make_cgroups "$tag")
        HARNESS_CGROUPS+=("${cgs[@]}")
        t0=$EPOCHREALTIME
        (
                for c in "${cgs[@]}"; do
                        echo "$BASHPID" >"$c/cgroup.procs" 2>/dev/null || echo "$BASHPID" >"$c/tasks"
                done
                exec timeout --foreground -k 10 120 "$@"
        ) </dev/null >"$W/last.$name.log" 2>&1 || rc=$?
        t1=$EPOCHREALTIME
        # shellcheck disable=SC2034 # read by the eval below
        us=$((${t1/./} - ${t0/./}))
        peak=$(peak_of "${cgs[@]}")
        _harness_remove_cgroups "${cgs[@]}"
        declare -g -a "T_$name" "M_$name"
        eval "T_$name+=(\"\$us\")"
        [ -z "$peak" ] || eval "M_$name+=(\"\$peak\")"
        if [ "$rc" != 0 ]; then
                FAILS[$name]=$((${FAILS[$name]:-0} + 1))
                cp "$W/last.$name.log" "$W/failed.$name.log"
        fi
}

# Removes the exited pods of (a) between rounds: no mount may be under them.
drop_pods() {
        harness_np_cleanup
        find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d -print0 2>/dev/null |
                while IFS= read -r -d '' d; do
                        HARNESS_NP_UUIDS+=("${d##*/}")
                        rm -rf --one-file-system -- "$d"
                done
}

# Every pod in the harness's network namespace (no veth, rule or sysctl of
# the host's is touched); (a) and its variants with the host's network, as
# before networks existed.
inns=(nsenter --net="/run/netns/$HARNESS_NETNS")
np=("${inns[@]}" "$HARNESS_NP" --dir="$HARNESS_NP_DATA")
# (at): a tmpfs for its data dir (unmounted by the teardown, as every mount
# under the work dir).
tdata=$W/tmpfs/data
if ! mkdir -p "$W/tmpfs" || ! mount -t tmpfs -o size=1g,mode=0755 nspawn-pod-bench "$W/tmpfs" ||
        ! mkdir -p "$tdata"; then
        echo "bench-start: cannot mount a tmpfs on $W/tmpfs"
        exit 1
fi
np_t=("${inns[@]}" "$HARNESS_NP" --dir="$tdata")
drop_tmpfs_pods() {
        local saved=$HARNESS_NP_DATA
        HARNESS_NP_DATA=$tdata
        drop_pods
        HARNESS_NP_DATA=$saved
}
mkdir -p "$W/vol/rw" "$W/vol/ro" || exit 1
vols=(--volume=rw,kind=host,source="$W/vol/rw" --volume=ro,kind=host,source="$W/vol/ro",readOnly=true
        --volume=scratch,kind=empty)
mnts=(--mount=volume=rw,target=/data --mount=volume=ro,target=/srv/conf --mount=volume=scratch,target=/scratch)
echo "bench-start: $N rounds of (a) (a1+a2) (at) (an) (ad) (av) (b) (c), interleaved; building and warming up..."
# One warm-up of each, not counted: caches, first-boot costs.
for w in a b c; do
        case $w in
        a) "${np[@]}" run --net=host "$image" --exec=/bin/true </dev/null >/dev/null 2>&1
           "${np[@]}" run --net=default "$image" --exec=/bin/true </dev/null >/dev/null 2>&1 ;;
        b) (cd "$W" && timeout -k 10 120 "${argv_b[@]}" </dev/null >/dev/null 2>&1) ;;
        c) (cd "$W" && timeout -k 10 120 "${argv_c[@]}" </dev/null >/dev/null 2>&1) ;;
        esac
done
drop_pods

for ((i = 1; i <= N; i++)); do
        timed a "${np[@]}" run --net=host "$image" --exec=/bin/true
        drop_pods
        timed at "${np_t[@]}" run --net=host "$image" --exec=/bin/true
        drop_tmpfs_pods
        timed an "${np[@]}" run --net=none "$image" --exec=/bin/true
        drop_pods
        timed ad "${np[@]}" run --net=default "$image" --exec=/bin/true
        drop_pods
        timed av "${np[@]}" run --net=host "${vols[@]}" "$image" "${mnts[@]}" --exec=/bin/true
        drop_pods
        timed a1 "${np[@]}" prepare --uuid-file-save="$W/uuid" "$image" --exec=/bin/true
        uuid=$(head -n 1 "$W/uuid" 2>/dev/null)
        timed a2 "${np[@]}" run-prepared --net=host "$uuid"
        drop_pods
        timed b "${argv_b[@]}"
        timed c "${argv_c[@]}"
done

# stats NAME: "median min" in ms of T_NAME, and the median peak in MiB.
median_of() {
        sort -n | awk '{v[NR] = $1} END {
                if (NR == 0) { print ""; exit }
                m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                print m, v[1]
        }'
}
row() {
        local name=$1 label=$2 t m f
        local -n ts="T_$name" ms="M_$name"
        t=$(printf '%s\n' "${ts[@]}" | median_of)
        read -r tmed tmin <<<"$t"
        m=""
        if [ "${#ms[@]}" -gt 0 ]; then
                m=$(printf '%s\n' "${ms[@]}" | median_of)
                m=$(awk -v b="${m%% *}" 'BEGIN {printf "%.1f MiB", b / 1048576}')
        fi
        f=${FAILS[$name]:-0}
        awk -v l="$label" -v a="$tmed" -v b="$tmin" -v m="${m:-n/a}" -v f="$f" -v n="${#ts[@]}" 'BEGIN {
                printf "  %-52s median %7.1f ms  min %7.1f ms  peak mem %s%s\n", l, a / 1000, b / 1000, m,
                        (f > 0 ? sprintf("  (%d of %d failed)", f, n) : "")
        }'
        declare -g "MED_$name=$tmed"
}
echo "bench-start: wall time from the command to its exit status ($N rounds; peak memory of its cgroup, median)"
row a "(a)  nspawn-pod run, one app /bin/true (busybox ACI)"
row a1 "(a1)   of which: prepare (import, stage1, manifest)"
row a2 "(a2)   and run-prepared (render, boot, app, exit)"
row at "(at) nspawn-pod run as (a), --dir on a tmpfs"
row an "(an) nspawn-pod run as (a), --net=none"
row ad "(ad) nspawn-pod run as (a), --net=default (CNI)"
row av "(av) nspawn-pod run as (a), three volumes"
row b "(b)  nspawn --boot, minimal root, one oneshot unit"
row c "(c)  nspawn /bin/true, no boot"
# shellcheck disable=SC2154 # MED_* are set by row()
awk -v a="$MED_a" -v b="$MED_b" -v c="$MED_c" -v p="$MED_a1" -v r="$MED_a2" -v t="$MED_at" -v v="$MED_av" \
        -v nn="$MED_an" -v nd="$MED_ad" 'BEGIN {
        printf "  ratio a/b %.2f (goal <= 1.2)   at/b %.2f   a/c %.2f   (a1+a2)/b %.2f   a2/b %.2f\n",
                a / b, t / b, a / c, (p + r) / b, r / b
        printf "  three volumes cost %+.1f ms over (a) (av - a, medians)\n", (v - a) / 1000
        printf "  the default network costs %+.1f ms over --net=none (ad - an; goal <= 40), none %+.1f ms over host (an - a)\n",
                (nd - nn) / 1000, (nn - a) / 1000
}'
for k in "${!FAILS[@]}"; do
        echo "  note: ($k) failed ${FAILS[$k]} times; last output:"
        sed 's/^/    /' "$W/failed.$k.log" | tail -n 10
done
harness_np_cleanup
exit 0
