#!/usr/bin/env bash
# Integration test (TAP, root): pods with a user namespace of their own,
# `run --private-users` (docs/security.md, "User namespaces"). Real pods of
# the busybox image on this host. Checked: the apps' processes have shifted
# uids on the host (root as SHIFT, user 1000 as SHIFT+1000) and see the map
# "0 SHIFT 65536"; inside, the image's files are root's and writable by the
# pod's root; the image store is neither chowned nor changed, and what the
# app writes is stored with the pod's own ids (0), not shifted ones; a host
# volume keeps its owners as the host has them (not idmapped: the host's
# 1234 is "nobody" inside, a file the pod's root makes there is the host's
# SHIFT, and a directory the host gives SHIFT+1000 is user 1000's inside),
# an empty volume gets the manifest's uid; the pod reaches its CNI network and binds a port below
# 1024 as a non-root user; a memory limit still bites (OOM kill with its
# reason); two pods get different ranges; an explicit range another pod
# holds is refused with nothing left; bad values are refused before a pod
# exists; prepare refuses the option, run-prepared takes it; the range's
# lock is gone when the pod ends; nothing is left. (enter's parity in such
# a pod: test-enter-userns.sh.)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "user namespaces"

# A range unlikely to be used by anything else on a test machine (the "pick"
# ranges start lower and are random).
fixed=1879048192

out_of() { # the app's lines of a captured run, without the "app[pid]: " prefix
        sed -E 's/^[a-z0-9-]+\[[0-9]+\]: //; s/\r$//' "$HARNESS_DIR/$1.out"
}
status_of() { # status_of UUID APP: the app's "CODE END" from `status`
        harness_np_run status "$1" | awk -F= -v a="app-$2" '$1 == a {c = $2} $1 == a ".end" {e = $2} END {print c " " e}'
}
store_state() { # owners, modes and sums of every file of the stored images (not the index of ACI files)
        (cd "$HARNESS_NP_DATA/images" && find . -path ./.by-file -prune -o -printf '%U:%G %m %p\n' | LC_ALL=C sort &&
                find . -path ./.by-file -prune -o -type f -exec sha256sum {} + | LC_ALL=C sort)
}

# --- a long-running pod: ids on the host, inside, and enter ----------------------------

hostvol=$HARNESS_DIR/hostvol
mkdir -p "$hostvol"
echo from-host >"$hostvol/f"
chown -R 1234:1234 "$hostvol"
chmod 0777 "$hostvol"
shared=$HARNESS_DIR/shared
mkdir -p "$shared" && chown "$((fixed + 1000)):$((fixed + 1000))" "$shared"
# A lock file nobody holds, as a run killed with SIGKILL leaves it: taken over.
mkdir -p /run/nspawn-pod/userns && : >"/run/nspawn-pod/userns/$fixed-65536"
harness_np_start "$HARNESS_DIR/long.log" run --uuid-file-save="$HARNESS_DIR/long.uuid" --private-users="$fixed" \
        --volume=hv,kind=host,source="$hostvol" --volume=ev,kind=empty,uid=7,gid=8,mode=0750 \
        --volume=sh,kind=host,source="$shared" \
        "$bb" --name=root --mount=volume=hv,target=/hv --mount=volume=ev,target=/ev --mount=volume=sh,target=/sh \
        --exec=/bin/sh -- -c '
                cat /proc/self/uid_map >/tmp/uid_map
                stat -c "%u:%g %n" / /bin/busybox /etc/passwd /hv /hv/f /ev /sh >/tmp/owners
                echo pod-root >/etc/written-by-pod && echo ok >/tmp/etc-write
                echo x >/hv/made-in-pod
                exec sleep 100000' \
        --- "$bb" --name=user --user=1000 --group=1000 --exec=/bin/sh -- -c '
                nc -l -p 80 -e /bin/echo low-port </dev/null >/tmp/nc.out 2>&1 &
                exec sleep 100000'
long_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/long.uuid" 60
UUID=$(head -n 1 "$HARNESS_DIR/long.uuid" 2>/dev/null)
[ -n "$UUID" ] && HARNESS_NP_UUIDS+=("$UUID")
POD=$HARNESS_NP_DATA/pods/run/$UUID
upper=$POD/overlay/root/upper
ok=0
for ((i = 0; i < 600; i++)); do
        [ -s "$upper/tmp/etc-write" ] && [ "$(harness_np_pod_procs "$UUID" | wc -l)" -ge 2 ] && ok=1 && break
        harness_pid_alive "$long_pid" || break
        sleep 0.1
done
[ "$ok" = 1 ]
tap_ok $? "a pod with --private-users=$fixed and two apps runs (over a stale lock file of that range)" ||
        tap_diag "$(sed 's/\x1b\[[0-9;]*m//g' "$HARNESS_DIR/long.log" | tail -n 20)"

# The apps' main processes as the host sees them.
uids=""
for p in $(harness_np_pod_procs "$UUID" | sort -un); do
        [ "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" = "sleep 100000 " ] &&
                uids+="$(awk '/^Uid:/{print $2}' "/proc/$p/status") "
done
uids=$(tr ' ' '\n' <<<"$uids" | grep . | sort -un | tr '\n' ' ')
[ "$uids" = "$fixed $((fixed + 1000)) " ]
tap_ok $? "on the host the apps run shifted: root as $fixed, user 1000 as $((fixed + 1000))" || tap_diag "uids: $uids"
[ "$(tr -s ' ' <"$upper/tmp/uid_map" | sed 's/^ //')" = "0 $fixed 65536" ]
tap_ok $? "inside, the app's uid map is \"0 $fixed 65536\"" || tap_diag "$(cat "$upper/tmp/uid_map" 2>&1)"
owners=$(cat "$upper/tmp/owners" 2>&1)
grep -qx '0:0 /' <<<"$owners" && grep -qx '0:0 /bin/busybox' <<<"$owners" && grep -qx '0:0 /etc/passwd' <<<"$owners"
tap_ok $? "inside, the image's files are root's (idmapped, not \"nobody\")" || tap_diag "$owners"
[ "$(cat "$upper/tmp/etc-write" 2>/dev/null)" = ok ] && [ "$(stat -c %u:%g "$upper/etc/written-by-pod")" = 0:0 ]
tap_ok $? "the pod's root writes into its root; the file is stored as 0:0 on disk (the pod's ids, not shifted ones)" ||
        tap_diag "$(stat -c '%u:%g %n' "$upper/etc/written-by-pod" 2>&1)"
grep -qx '65534:65534 /hv' <<<"$owners" && grep -qx '65534:65534 /hv/f' <<<"$owners" &&
        [ "$(stat -c %u:%g "$hostvol/made-in-pod" 2>/dev/null)" = "$fixed:$fixed" ] &&
        [ "$(stat -c %u:%g "$hostvol/f")" = 1234:1234 ] && grep -qx '1000:1000 /sh' <<<"$owners"
tap_ok $? "a host volume keeps its owners as the host has them (not idmapped): the host's 1234 is nobody inside, the pod's root's file is the host's $fixed, the host's $((fixed + 1000)) is user 1000 inside" ||
        tap_diag "$owners" "$(ls -ln "$hostvol")"
grep -qx '7:8 /ev' <<<"$owners"
tap_ok $? "an empty volume with uid=7,gid=8 is 7:8 inside" || tap_diag "$owners"

# A non-root app binds port 80 in the pod's CNI network; a client on the
# host side of it connects.
ip=$(harness_np_run status "$UUID" | grep '^networks=' | grep -oE '[0-9]+(\.[0-9]+){3}' | head -n 1)
got=""
for ((i = 0; i < 100; i++)); do
        [ -n "$ip" ] || break
        got=$(harness_in_net timeout 5 busybox nc -w 2 "$ip" 80 </dev/null 2>/dev/null) && [ "$got" = low-port ] && break
        sleep 0.2
done
[ "$got" = low-port ]
tap_ok $? "user 1000 listens on port 80 in the pod's CNI network, and a client reaches it ($ip)" ||
        tap_diag "status: $(harness_np_run status "$UUID")" "nc: $(cat "$POD/overlay/user/upper/tmp/nc.out" 2>&1)"

harness_np_capture st status "$UUID"
grep -qx "private-users=$fixed:65536" "$HARNESS_DIR/st.out"
tap_ok $? "status says private-users=$fixed:65536" || harness_np_diag st

# The lock of the range, held while the pod runs; the same range refused.
[ -e "/run/nspawn-pod/userns/$fixed-65536" ]
tap_ok $? "the range's lock file exists while the pod runs (/run/nspawn-pod/userns/$fixed-65536)"
busy_ok=1
for range in "$fixed:65536" "$((fixed - 65536)):131072"; do
        harness_np_capture busy run --uuid-file-save="$HARNESS_DIR/busy.uuid" --net=none --private-users="$range" \
                "$bb" --exec=/bin/true
        busy=$(head -n 1 "$HARNESS_DIR/busy.uuid" 2>/dev/null)
        [ -n "$busy" ] && HARNESS_NP_UUIDS+=("$busy")
        left=$(harness_np_uuid_leftovers "$busy" | grep -v '^pod dir ')
        if ! { [ "$RC" != 0 ] && grep -q "another pod runs in that range" "$HARNESS_DIR/busy.err" && [ -z "$left" ]; }; then
                busy_ok=0
                harness_np_diag busy
                tap_diag "$range: $left"
        fi
        rm -f "$HARNESS_DIR/busy.uuid"
done
[ "$busy_ok" = 1 ]
tap_ok $? "a second pod in the same range, or in one overlapping it, is refused ('another pod runs in that range'), leaving no mount, cgroup or process"

# A runtime bind (nspawn-pod bind) is idmapped as the volumes are.
rtvol=$HARNESS_DIR/rtvol
mkdir -p "$rtvol" && echo rt >"$rtvol/f" && chown -R 4321:4321 "$rtvol" && chmod 0777 "$rtvol"
harness_np_capture rtbind bind --mkdir --app=root "$UUID" "$rtvol" /mnt/deep/rt
en_out=$(timeout -k 5 60 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=root "$UUID" /bin/sh -c \
        'stat -c "%u:%g" /mnt/deep/rt/f /mnt/deep; touch /mnt/deep/rt/from-pod && echo touched' </dev/null 2>&1)
[ "$RC" = 0 ] && [ "$en_out" = $'65534:65534\n0:0\ntouched' ] &&
        [ "$(stat -c %u:%g "$rtvol/from-pod" 2>/dev/null)" = "$fixed:$fixed" ] &&
        [ "$(stat -c %u:%g "$upper/mnt/deep" 2>/dev/null)" = 0:0 ]
tap_ok $? "bind --mkdir into the running pod: the source keeps its owners (the host's 4321 is nobody inside, the pod's root's file the host's $fixed), the directory it made is the pod's root's" ||
        { harness_np_diag rtbind; tap_diag "$en_out" "$(ls -ln "$rtvol" "$upper/mnt" 2>&1)"; }
harness_np_capture rtunbind unbind --app=root "$UUID" /mnt/deep/rt
[ "$RC" = 0 ]
tap_ok $? "unbind takes it away again" || harness_np_diag rtunbind

# enter in such a pod, then stop it.
en_out=$(timeout -k 5 60 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=user "$UUID" /bin/sh -c 'id -u; cat /proc/self/uid_map' </dev/null 2>&1)
[ "$(head -n 1 <<<"$en_out")" = 1000 ] && [ "$(sed -n 2p <<<"$en_out" | tr -s ' ' | sed 's/^ //')" = "0 $fixed 65536" ]
tap_ok $? "enter --app=user runs a command as the app's user 1000 in its user namespace" || tap_diag "$en_out"
harness_np_stop_pod "$UUID" "$long_pid"
[ ! -e "/run/nspawn-pod/userns/$fixed-65536" ] &&
        [ -z "$(harness_np_uuid_leftovers "$UUID" | grep -v -e '^pod dir ' -e '^journal link ')" ]
tap_ok $? "enter, then stop: the pod ends, its range's lock file is gone, nothing of it is left (but its directory and journal, until gc)" ||
        tap_diag "$(ls -la /run/nspawn-pod/userns 2>&1)" "$(harness_np_uuid_leftovers "$UUID")"

# --- the image store, before and after ------------------------------------------------------

store_before=$(store_state)
harness_np_run_pod pick --net=none --private-users "$bb" --exec=/bin/sh -- -c \
        'cat /proc/self/uid_map; touch /bin/new-in-bin; chown 1000:1000 /etc/passwd; echo done'
a=$(out_of pick | awk 'NF == 3 && $1 == 0 {print $2}')
pod_a=$POD
harness_np_run_pod pick2 --net=none --private-users=pick "$bb" --exec=/bin/sh -- -c 'cat /proc/self/uid_map'
b=$(out_of pick2 | awk 'NF == 3 && $1 == 0 {print $2}')
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -ge 524288 ] && [ "$b" -ge 524288 ] && [ $((a % 65536)) = 0 ] &&
        grep -qx done <(out_of pick)
tap_ok $? "--private-users and --private-users=pick pick free ranges of 65536 ($a, $b)" ||
        { harness_np_diag pick; harness_np_diag pick2; }
store_after=$(store_state)
[ -n "$store_before" ] && [ "$store_before" = "$store_after" ] &&
        [ "$(stat -c %u:%g "$pod_a/overlay/busybox/upper/etc/passwd" 2>/dev/null)" = 1000:1000 ]
tap_ok $? "the image store is unchanged (owners, modes, contents): the pod's chown landed in its own layer, as 1000:1000" ||
        tap_diag "$(diff <(echo "$store_before") <(echo "$store_after") | head -n 10)"

# --- limits still bite ------------------------------------------------------------------------

if awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {f = 1} END {exit !f}' /proc/self/mountinfo; then
        harness_np_run_pod hog --net=none --private-users "$bb" --name=hog --user=1000 --group=1000 --memory=50M \
                --exec=/bin/sh -- -c 'exec dd if=/dev/zero of=/dev/null bs=100M count=1'
        st=$(status_of "$UUID" hog)
        [ "$RC" = 137 ] && [ "$st" = "137 killed 9 oom-kill" ]
        tap_ok $? "--memory=50M in a user namespace: the app (user 1000) is OOM-killed, status 'killed 9 oom-kill'" ||
                { tap_diag "status: $st"; harness_np_diag hog; }
else
        tap_skip "a memory limit in a user namespace" "no v1 memory hierarchy here (unified hosts: test-resources.sh's render checks)"
fi

# --- prepare, run-prepared ----------------------------------------------------------------------

harness_np_capture prep prepare --private-users "$bb"
[ "$RC" != 0 ] && grep -q -- '--private-users' "$HARNESS_DIR/prep.err"
tap_ok $? "prepare --private-users: refused, it is an option of run-prepared" || harness_np_diag prep
prepared=$(harness_np_run prepare "$bb" --exec=/bin/sh -- -c 'cat /proc/self/uid_map' 2>/dev/null)
[ -n "$prepared" ] && HARNESS_NP_UUIDS+=("$prepared")
harness_np_capture rp run-prepared --net=none --private-users="$((fixed + 65536)):65536" "$prepared"
[ "$RC" = 0 ] && grep -qE "^[a-z0-9-]+\[[0-9]+\]: +0 +$((fixed + 65536)) +65536"$'\r''?$' "$HARNESS_DIR/rp.out"
tap_ok $? "run-prepared --private-users=SHIFT:RANGE runs the prepared pod in that range" || harness_np_diag rp

# --- bad values ---------------------------------------------------------------------------------

n_before=$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)
bad_ok=1
for v in 0 0:65536 abc 65536:0 -5 4294901760 1:x 524289 65536:131072; do
        harness_np_capture bad run --net=none --private-users="$v" "$bb" --exec=/bin/true
        if [ "$RC" = 0 ] || ! grep -q -- "--private-users=$v" "$HARNESS_DIR/bad.err"; then
                bad_ok=0
                tap_diag "$v: exit $RC: $(cat "$HARNESS_DIR/bad.err")"
        fi
done
n_after=$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)
[ "$bad_ok" = 1 ] && [ "$n_after" = "$n_before" ]
tap_ok $? "bad --private-users values (0, abc, a zero range, beyond the id space, not whole blocks of 65536, more ids than the shift): refused with the value named, no pod made" ||
        tap_diag "pods before $n_before, after $n_after"

left=$(harness_np_leftovers)
locks=$(find /run/nspawn-pod/userns -mindepth 1 2>/dev/null | while read -r f; do flock -n "$f" true || echo "held $f"; done)
[ -z "$left" ] && [ -z "$(find /run/nspawn-pod/userns -mindepth 1 -name "$fixed-*" 2>/dev/null)" ]
tap_ok $? "nothing left: no process, mount, cgroup, netns of the test's pods, no lock of their ranges" ||
        tap_diag "$left" "$locks"
tap_done
