#!/usr/bin/env bash
# Integration test (TAP, root): rkt's run command line (docs/run.md), each
# option seen by a real app of a real pod (the busybox image reports what it
# sees on stdout, which `run` copies from the pod's console): environment
# precedence (--inherit-env < --set-env-file < --set-env < --environment),
# --readonly-rootfs, --supplementary-gids, --caps-retain/--caps-remove,
# --seccomp (remove with an errno, rkt's and Docker's allow lists),
# --oom-score-adj, --ipc, --stdout/--stderr=null, --annotation,
# --user-annotation/--user-label (in the pod manifest), rkt's fetch-time
# --insecure-options accepted, a stored image run by name, and the help of
# prepare and run-prepared. Bad values are refused with the option named.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "run flags"

out_of() { # the app's console lines of the last pod, without the "app[pid]: " prefix
        sed -E 's/^[a-z0-9-]+\[[0-9]+\]: //; s/\r$//' "$HARNESS_DIR/$1.out"
}

# --- environment ------------------------------------------------------------------

printf '# a comment\n\nFROM_FILE=file\nSHARED=file\n' >"$HARNESS_DIR/env"
NP_TEST_INHERITED=host SHARED=host harness_np_run_pod env --net=none --inherit-env --set-env-file="$HARNESS_DIR/env" \
        --set-env=SHARED=set-env --set-env=LAST=set-env "$bb" --name=env --environment=LAST=environment \
        --exec=/bin/sh -- -c 'echo "inh=$NP_TEST_INHERITED file=$FROM_FILE shared=$SHARED last=$LAST"'
[ "$RC" = 0 ] && out_of env | grep -qx 'inh=host file=file shared=set-env last=environment'
tap_ok $? "--inherit-env < --set-env-file < --set-env < --environment" || harness_np_diag env

harness_np_capture badenv run --net=none --set-env-file="$HARNESS_DIR/no-such-file" "$bb" --exec=/bin/true
[ "$RC" != 0 ] && grep -q -- '--set-env-file=' "$HARNESS_DIR/badenv.err"
tap_ok $? "--set-env-file of a missing file is refused, naming it" || harness_np_diag badenv

# --- the app's root, groups, capabilities, system calls ---------------------------------

harness_np_run_pod ro --net=none "$bb" --name=ro --readonly-rootfs --supplementary-gids=2000,3000 \
        --caps-retain=CAP_NET_BIND_SERVICE,CAP_KILL --exec=/bin/sh -- -c \
        'touch /x 2>/dev/null && echo writable || echo read-only; id -G; grep CapBnd /proc/self/status'
[ "$RC" = 0 ] && out_of ro | grep -qx read-only && out_of ro | grep -qx '0 2000 3000' &&
        out_of ro | grep -qxE 'CapBnd:[[:space:]]+0000000000000420'
tap_ok $? "--readonly-rootfs, --supplementary-gids=2000,3000, --caps-retain=CAP_NET_BIND_SERVICE,CAP_KILL reach the app" ||
        harness_np_diag ro

harness_np_run_pod rm --net=none "$bb" --name=rm --caps-remove=CAP_CHOWN,CAP_KILL \
        --seccomp=mode=remove,errno=EPERM,mkdir,mkdirat --exec=/bin/sh -- -c \
        'mkdir /tmp/d 2>&1; grep CapBnd /proc/self/status'
# rkt's default set (14) without CAP_CHOWN (0) and CAP_KILL (5).
[ "$RC" = 0 ] && out_of rm | grep -q 'Operation not permitted' &&
        out_of rm | grep -qxE 'CapBnd:[[:space:]]+00000000a80425da'
tap_ok $? "--seccomp=mode=remove,errno=EPERM,mkdir,mkdirat makes mkdir fail with EPERM; --caps-remove drops CAP_CHOWN, CAP_KILL" ||
        harness_np_diag rm

ok=1
for set in @rkt/default-whitelist @docker/default-whitelist; do
        harness_np_run_pod wl --net=none "$bb" --name=wl --seccomp=mode=retain,$set --exec=/bin/sh -- -c 'echo allowed'
        { [ "$RC" = 0 ] && out_of wl | grep -qx allowed; } || { ok=0; harness_np_diag wl; }
done
tap_ok $((1 - ok)) "--seccomp=mode=retain,@rkt/default-whitelist and @docker/default-whitelist run a shell"

# --- OOM score ----------------------------------------------------------------------------

harness_np_run_pod oom --net=none "$bb" --name=oom --oom-score-adj=300 --exec=/bin/cat -- /proc/self/oom_score_adj
[ "$RC" = 0 ] && out_of oom | grep -qx 300
tap_ok $? "--oom-score-adj=300 reaches the app" || harness_np_diag oom

eff=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
harness_np_run_pod oomneg --net=none "$bb" --name=oomneg --oom-score-adj=-100 --exec=/bin/cat -- /proc/self/oom_score_adj
if (((0x$eff >> 24) & 1)); then
        [ "$RC" = 0 ] && out_of oomneg | grep -qx -- -100
        tap_ok $? "--oom-score-adj=-100 reaches the app (the pod's systemd gets CAP_SYS_RESOURCE for it)" ||
                harness_np_diag oomneg
else
        [ "$RC" != 0 ] && grep -q 'negative oom-score-adj cannot be applied: lowering an OOM score takes CAP_SYS_RESOURCE' \
                "$HARNESS_DIR/oomneg.err"
        tap_ok $? "--oom-score-adj=-100 without CAP_SYS_RESOURCE (this host's root lacks it): refused, not silently dropped" ||
                harness_np_diag oomneg
fi

# --- IPC, I/O ----------------------------------------------------------------------------------

host_ipc=$(readlink /proc/self/ns/ipc)
harness_np_run_pod ipcp --net=none --ipc=parent "$bb" --name=ipc --exec=/bin/readlink -- /proc/self/ns/ipc
parent=$(out_of ipcp | grep '^ipc:')
harness_np_run_pod ipcd --net=none "$bb" --name=ipc --exec=/bin/readlink -- /proc/self/ns/ipc
private=$(out_of ipcd | grep '^ipc:')
[ "$parent" = "$host_ipc" ] && [ -n "$private" ] && [ "$private" != "$host_ipc" ]
tap_ok $? "--ipc=parent shares the host's IPC namespace; the default is the pod's own" ||
        tap_diag "host $host_ipc parent $parent private $private"

harness_np_run_pod io --net=none "$bb" --name=io --stdout=null --exec=/bin/sh -- -c 'echo to-stdout; echo to-stderr >&2'
[ "$RC" = 0 ] && ! out_of io | grep -q to-stdout && out_of io | grep -qx to-stderr
tap_ok $? "--stdout=null: the app's stdout goes nowhere, its stderr still to the journal and console" || harness_np_diag io

harness_np_capture tty run --net=none "$bb" --name=tty --stdin=tty --exec=/bin/true
[ "$RC" != 0 ] && grep -q "attachable I/O, which needs rkt attach" "$HARNESS_DIR/tty.err"
tap_ok $? "--stdin=tty (rkt attach) is refused with the reason, not dropped" || harness_np_diag tty

harness_np_capture badio run --net=none "$bb" --stdin=log --exec=/bin/true
[ "$RC" != 0 ] && grep -q -- '--stdin=log' "$HARNESS_DIR/badio.err"
tap_ok $? "--stdin=log is refused" || harness_np_diag badio

# --- manifest metadata ----------------------------------------------------------------------

harness_np_run_pod meta --net=none --annotation=team=blue "$bb" --name=meta --user-annotation=owner=me \
        --user-label=tier=web --exec=/bin/true
harness_np_run cat-manifest "$UUID" >"$HARNESS_DIR/meta.json" 2>&1
python3 - "$HARNESS_DIR/meta.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
a = m["apps"][0]["app"]
ok = {"name": "team", "value": "blue"} in m.get("annotations", []) and \
     a.get("userAnnotations") == {"owner": "me"} and a.get("userLabels") == {"tier": "web"}
sys.exit(0 if ok else 1)
EOF
tap_ok $? "--annotation, --user-annotation, --user-label are in the pod manifest" || tap_diag "$(cat "$HARNESS_DIR/meta.json")"

# --- insecure options, images by name, help ------------------------------------------------

harness_np_run_pod insecure --net=none --insecure-options=none,image,tls,ondisk,http,pubkey,all-fetch "$bb" --exec=/bin/true
[ "$RC" = 0 ]
tap_ok $? "rkt's fetch-time --insecure-options (image, tls, ondisk, http, pubkey, all-fetch, none) are accepted" ||
        harness_np_diag insecure
harness_np_capture insecure-bad run --net=none --insecure-options=everything "$bb" --exec=/bin/true
[ "$RC" != 0 ] && grep -q 'unknown --insecure-options value "everything"' "$HARNESS_DIR/insecure-bad.err"
tap_ok $? "an unknown --insecure-options value is refused" || harness_np_diag insecure-bad

harness_np_run_pod byname --net=none example.com/busybox --name=byname --exec=/bin/sh -- -c 'echo by-name'
r1=$RC
harness_np_run_pod byver --net=none example.com/busybox:1.0.0 --name=byver --exec=/bin/sh -- -c 'echo by-version'
[ "$r1" = 0 ] && [ "$RC" = 0 ] && out_of byname | grep -qx by-name && out_of byver | grep -qx by-version
tap_ok $? "run example.com/busybox and example.com/busybox:1.0.0: the image already in the store" || harness_np_diag byver
harness_np_capture noname run --net=none example.com/no-such-image --exec=/bin/true
[ "$RC" != 0 ] && grep -q '"example.com/no-such-image" is neither a file nor an image in the store' "$HARNESS_DIR/noname.err"
tap_ok $? "an image name not in the store is refused, saying so" || harness_np_diag noname

harness_np_run prepare --help >"$HARNESS_DIR/ph" 2>&1 && harness_np_run run-prepared --help >"$HARNESS_DIR/rph" 2>&1 &&
        grep -q '^Usage: nspawn-pod \[--dir=DIR\] prepare ' "$HARNESS_DIR/ph" && ! grep -q -- '--hostname=NAME' "$HARNESS_DIR/ph" &&
        grep -q '^Usage: nspawn-pod \[--dir=DIR\] run-prepared ' "$HARNESS_DIR/rph" && ! grep -q -- '--memory' "$HARNESS_DIR/rph"
tap_ok $? "prepare --help and run-prepared --help print their own help" || tap_diag "$(head -3 "$HARNESS_DIR/ph" "$HARNESS_DIR/rph")"
harness_np_capture prepipc prepare --ipc=parent "$bb" --exec=/bin/true
[ "$RC" != 0 ] && grep -q -- '--ipc' "$HARNESS_DIR/prepipc.err"
tap_ok $? "prepare refuses --ipc (an option of the start), rather than drop it" || harness_np_diag prepipc

# --private-users reaches the pod (the rest of it: test-userns.sh).
harness_np_capture userns run --net=none --private-users=pick "$bb" --exec=/bin/sh -- -c 'cat /proc/self/uid_map'
[ "$RC" = 0 ] && grep -qE '^[a-z0-9-]+\[[0-9]+\]: +0 +[1-9][0-9]* +65536'$'\r''?$' "$HARNESS_DIR/userns.out"
tap_ok $? "--private-users=pick: the app runs in a user namespace of 65536 ids, its root not the host's" ||
        harness_np_diag userns

left=$(harness_np_leftovers)
[ -z "$left" ]
tap_ok $? "nothing left: no process, mount, cgroup of the test's pods" || tap_diag "$left"
tap_done
