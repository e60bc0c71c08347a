#!/usr/bin/env bash
# Integration test (TAP, root): resource limits that hold (docs/resources.md).
# Real pods from the busybox image, limited with rkt's per-app options
# (--memory, --cpu, --cpu-shares) and with pod-level isolators; on this
# host's layout (hybrid: memory and cpu in cgroup v1) the run makes the v1
# cgroups and app-stdio joins them. Checked: an app over its memory limit is
# OOM-killed and its status says "killed 9 oom-kill"; one inside it is not;
# a CPU-quota app is throttled (the kernel's cpu.stat counts it) with its
# shares and quota in place, as a non-root user; a pod over its own memory
# limit is killed; `enter` joins the app's limits; a host without the memory
# controller refuses the pod, naming the limit, and leaves nothing; bad
# option values are refused before anything is made. Nothing is asserted on
# timing: the throttling check waits (bounded) for the counter to move.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "resource limits"

v1_memory=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
v1_cpu=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
if [ -z "$v1_memory" ] || [ -z "$v1_cpu" ]; then
        tap_skip "v1 memory and cpu hierarchies" "this host has no v1 memory/cpu controllers (unified host: the render and systemd-analyze tests cover it)"
        tap_done
        exit 0
fi

status_of() { # status_of UUID APP: the app's "CODE END" from `status`
        harness_np_run status "$1" | awk -F= -v a="app-$2" '$1 == a {c = $2} $1 == a ".end" {e = $2} END {print c " " e}'
}

# --- memory --------------------------------------------------------------------

harness_np_run_pod hog --net=none "$bb" --name=hog --memory=50M --exec=/bin/sh -- -c \
        'cat /proc/self/cgroup; exec dd if=/dev/zero of=/dev/null bs=100M count=1'
st=$(status_of "$UUID" hog)
[ "$RC" = 137 ] && [ "$st" = "137 killed 9 oom-kill" ]
tap_ok $? "--memory=50M: reading 100 MB into memory gets the app OOM-killed; run exits 137, status 'killed 9 oom-kill'" ||
        { tap_diag "status: $st"; harness_np_diag hog; }
grep -qE '^hog\[[0-9]+\]: [0-9]+:memory:/hog'$'\r''?$' "$HARNESS_DIR/hog.out"
tap_ok $? "the app's memory cgroup is its own (memory:/hog), not the host's" || harness_np_diag hog

harness_np_run_pod fits --net=none "$bb" --name=fits --memory=64Mi --exec=/bin/sh -- -c \
        'exec dd if=/dev/zero of=/dev/null bs=16M count=4'
st=$(status_of "$UUID" fits)
[ "$RC" = 0 ] && [ "$st" = "0 exited 0" ]
tap_ok $? "--memory=64Mi: an app using 16 MB at a time runs to its end" || { tap_diag "status: $st"; harness_np_diag fits; }

id_bb="sha512-$(sha512sum "$bb" | cut -c1-128)"
cat >"$HARNESS_DIR/pod-limit.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "big",
      "image": { "name": "example.com/busybox", "id": "$id_bb" },
      "app": { "exec": ["/bin/sh", "-c", "exec dd if=/dev/zero of=/dev/null bs=100M count=1"], "user": "0", "group": "0" }
    }
  ],
  "isolators": [ { "name": "resource/memory", "value": { "limit": "60M" } } ]
}
EOF
harness_np_run_pod podlimit --net=none --pod-manifest="$HARNESS_DIR/pod-limit.json" "$bb"
st=$(status_of "$UUID" big)
[ "$RC" = 137 ] && [ "$st" = "137 killed 9 oom-kill" ]
tap_ok $? "a pod-level resource/memory of 60M: its app reading 100 MB is OOM-killed (137, 'killed 9 oom-kill': accounted in a memory cgroup of its own below the pod's)" ||
        { tap_diag "status: $st"; harness_np_diag podlimit; }

# --- CPU -----------------------------------------------------------------------

harness_np_start "$HARNESS_DIR/spin.log" run --uuid-file-save="$HARNESS_DIR/spin.uuid" --net=none "$bb" --name=spin \
        --cpu=100m --cpu-shares=512 --user=1000 --group=1000 --exec=/bin/sh -- -c 'while :; do :; done'
spin_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/spin.uuid" 60
spin=$(head -n 1 "$HARNESS_DIR/spin.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$spin")
cg=""
throttled=0
for ((i = 0; i < 600; i++)); do
        [ -n "$cg" ] || cg=$(find "$v1_cpu" -maxdepth 5 -type d -path "*/nspawn-pod-$spin/spin" -print -quit 2>/dev/null)
        if [ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ]; then
                throttled=$(awk '$1 == "nr_throttled" {print $2}' "$cg/cpu.stat" 2>/dev/null)
                [ "${throttled:-0}" -gt 0 ] && break
        fi
        sleep 0.1
done
[ "${throttled:-0}" -gt 0 ]
tap_ok $? "--cpu=100m: a busy loop is throttled by the kernel (cpu.stat nr_throttled $throttled)" ||
        tap_diag "cgroup ${cg:-not found}" "$(cat "$cg/cpu.stat" 2>&1)" "$(tail -n 20 "$HARNESS_DIR/spin.log")"
[ "$(cat "$cg/cpu.cfs_quota_us" 2>/dev/null)" = 10000 ] && [ "$(cat "$cg/cpu.cfs_period_us" 2>/dev/null)" = 100000 ] &&
        [ "$(cat "$cg/cpu.shares" 2>/dev/null)" = 512 ]
tap_ok $? "the app's cpu cgroup has quota 10000/100000 us and 512 shares" ||
        tap_diag "$(grep . "$cg"/cpu.cfs_quota_us "$cg"/cpu.cfs_period_us "$cg"/cpu.shares 2>&1)"
main=$(head -n 1 "$cg/cgroup.procs" 2>/dev/null)
[ -n "$main" ] && [ "$(stat -c %u "/proc/$main")" = 1000 ] && [ "$(stat -c %u "$cg/cgroup.procs")" = 1000 ]
tap_ok $? "a non-root app (uid 1000) joins its cgroup itself: its cgroup.procs is its user's" ||
        tap_diag "main ${main:-none}" "$(ls -l "$cg" 2>&1 | head)"

# enter joins the app's limits too.
harness_np_capture enter-spin enter "$spin" cat /proc/self/cgroup
[ "$RC" = 0 ] && grep -qE '^[0-9]+:cpu:/spin$' "$HARNESS_DIR/enter-spin.out"
tap_ok $? "a command run with enter is inside the app's cpu cgroup (cpu:/spin)" || harness_np_diag enter-spin

harness_np_stop_pod "$spin" "$spin_pid"
left=$(find "$v1_cpu" "$v1_memory" -maxdepth 5 -type d -name "nspawn-pod-$spin" 2>/dev/null)
[ -z "$left" ]
tap_ok $? "after stop the pod's v1 cgroups are gone" || tap_diag "$left"

# --- a limit that cannot be enforced --------------------------------------------

# A host without the memory controller: the same host with the v1 memory
# hierarchy unmounted in a mount namespace of the test's own.
rm -f "$HARNESS_DIR/nomem.uuid"
RC=0
unshare -m --propagation private sh -c 'umount "$1" && shift && exec "$@"' sh "$v1_memory" \
        timeout -k 10 120 nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" run \
        --uuid-file-save="$HARNESS_DIR/nomem.uuid" --net=none "$bb" --name=hog --memory=50M --cpu=200m --exec=/bin/true \
        </dev/null >"$HARNESS_DIR/nomem.out" 2>"$HARNESS_DIR/nomem.err" || RC=$?
nomem=$(head -n 1 "$HARNESS_DIR/nomem.uuid" 2>/dev/null)
[ -n "$nomem" ] && HARNESS_NP_UUIDS+=("$nomem")
[ "$RC" != 0 ] && grep -q 'app "hog": its resource/memory limit cannot be enforced on this host' "$HARNESS_DIR/nomem.err"
tap_ok $? "without a memory controller the pod does not start: the error names the app and resource/memory" ||
        harness_np_diag nomem
left=$(harness_np_uuid_leftovers "$nomem" | grep -v '^pod dir ')
[ -z "$left" ]
tap_ok $? "the refused pod left no cgroup (cpu, memory, name=systemd, cgroup2), mount or process" || tap_diag "$left"

# --- bad option values -----------------------------------------------------------

n_before=$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)
bad_ok=1
for opt in --memory=lots --memory=0 --cpu=0 --cpu-shares=1 --cpu-shares=x --oom-score-adj=2000 \
        --caps-retain= --caps-retain=CAP_NOPE --seccomp=read,write --seccomp=mode=retain, \
        --seccomp=mode=keep,read --seccomp=mode=retain,no_such_call; do
        harness_np_capture bad run --net=none "$bb" --name=bad "$opt" --exec=/bin/true
        if [ "$RC" = 0 ] || ! grep -q -- "${opt%%=*}" "$HARNESS_DIR/bad.err"; then
                bad_ok=0
                tap_diag "$opt: exit $RC: $(cat "$HARNESS_DIR/bad.err")"
        fi
done
n_after=$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)
[ "$bad_ok" = 1 ] && [ "$n_after" = "$n_before" ]
tap_ok $? "bad --memory/--cpu/--cpu-shares/--oom-score-adj/--caps-retain/--seccomp values: refused, the message names the option, no pod left" ||
        tap_diag "pods before $n_before, after $n_after"

left=$(harness_np_leftovers)
[ -z "$left" ]
tap_ok $? "nothing left: no process, mount, cgroup of the test's pods" || tap_diag "$left"
tap_done
