#!/usr/bin/env bash
# Integration test (TAP): the escaping of docs/escaping.md round-trips
# byte-exact through real systemd. A pod manifest whose app has hostile argv
# words and environment values is rendered with `nspawn-pod render -o`, the
# pod directory is completed with a test stage1 (tests/lib/pod-harness.sh)
# and booted with systemd-nspawn and the host's systemd; the app is the static
# probe (tests/probe), which writes what it received into a host volume.
#
# Nothing here re-implements render's output: the units, the environment
# file, the nspawn argv and environment are used exactly as rendered, with
# render's defaults in effect (capability bounding set, seccomp allow list,
# DevicePolicy=closed, MountAPIVFS=no), so a pass also proves that those boot.
# /prepare-app is the real one (build/libexec), which masks the kernel
# interfaces below /proc and /sys or makes them read-only (its
# protected_paths table); /reaper is the harness's TEST-ONLY stand-in, which
# makes the app's exit status the pod's.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "hostile argv and environment round-trip through a booted pod" "$reason"
        tap_done
        exit
fi

harness_init || exit 1

# bail NAME...: the remaining checks cannot run; the trap tears down.
bail() {
        tap_diag "$@"
        tap_done
        exit 1
}

# --- the probe and nspawn-pod ---------------------------------------------------

probe=$(harness_probe)
tap_ok $? "probe builds ($probe)" || bail "cannot build the probe"

src=$HARNESS_SRC_ROOT
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$src/$build ;;
esac
np=$build/nspawn-pod
prepare_app=$build/libexec/prepare-app
# Rebuilt when missing or older than any of its sources (a single test must
# be runnable on its own, right after an edit).
stale=0
if [ ! -x "$np" ] || [ ! -x "$prepare_app" ]; then
        stale=1
elif [ -n "$(find "$src/lib" "$src/nspawn-pod" "$src/prepare-app" "$src/Makefile" -newer "$np" \
        \( -name '*.[ch]' -o -name Makefile \) -print -quit 2>/dev/null)" ]; then
        stale=1
fi
if [ "$stale" = 1 ]; then
        # BUILD as the Makefile is normally given it (relative to the tree).
        make -C "$src" BUILD="${BUILD:-build}" all >"$HARNESS_DIR/make.log" 2>&1
        tap_ok $? "nspawn-pod builds ($np)" || bail "$(tail -n 30 "$HARNESS_DIR/make.log")"
fi

# --- the hostile strings ----------------------------------------------------------

# Every word is both an argv word (after argv0) and an environment value.
# shellcheck disable=SC2016,SC1003 # literal $, ` and \ are the point
hostile=(
        $'new\nline'
        $'carriage\rreturn'
        $'\r'
        $'tab\there'
        '%'
        '%%'
        '%n'
        '%%n'
        '100% %i %U'
        '$HOME'
        '${PATH}'
        '$$'
        '$'
        '"'
        "'"
        '"double" and '"'single'"
        '\'
        'back\slash'
        'trailing\'
        '\\'
        '\n'
        '\x41\t\"'
        ';'
        'semi;colon & pipe | amp'
        ''
        ' '
        '  leading and trailing  '
        '#hash'
        ' #not a comment'
        '`tick` $(subst)'
        'ünïcødé ☃'
        $'\x01'
        $'\x7f'
        $'ctl\x01\x02\x1b[0m\x7fend'
        $'x\nINJECTED=1'
        $'line\\\ncontinued'
        '-'
        '-dash'
        '+plus'
        '@at'
        '!bang'
        ':colon'
        'NAME=value'
)
# shellcheck disable=SC2016 # literal $ is the point
argv0='/opt/p%q$x/probe'

# json_string S: S as a JSON string literal. \ and " escaped, C0 controls
# and DEL as \u00XX, every other byte (UTF-8 included) raw.
json_string() {
        local s=$1 c i
        s=${s//\\/\\\\}
        s=${s//\"/\\\"}
        for i in {1..31} 127; do
                printf -v c '%b' "\\x$(printf '%02x' "$i")"
                case $s in
                *"$c"*) s=${s//"$c"/$(printf '\\u%04x' "$i")} ;;
                *) ;;
                esac
        done
        printf '"%s"' "$s"
}

outdir=$HARNESS_DIR/out
mkdir -p "$outdir"
uuid=$(cat /proc/sys/kernel/random/uuid)
machine=nspawn-pod-$uuid

{
        printf '{\n  "acVersion": "0.8.11",\n  "acKind": "PodManifest",\n  "apps": [{\n'
        printf '    "name": "hostile",\n'
        printf '    "image": {"name": "example.com/hostile", "id": "sha512-%s"},\n' "$(printf 'ab%.0s' {1..32})"
        printf '    "app": {\n      "exec": [%s' "$(json_string "$argv0")"
        for w in "${hostile[@]}"; do
                printf ',\n        %s' "$(json_string "$w")"
        done
        printf '],\n      "user": "0",\n      "group": "0",\n      "environment": [\n'
        for i in "${!hostile[@]}"; do
                printf '        {"name": "V%d", "value": %s},\n' "$i" "$(json_string "${hostile[$i]}")"
        done
        printf '        {"name": "PROBE_OUT", "value": "/out/report"},\n'
        printf '        {"name": "PROBE_PATHS_FILE", "value": "/probe-paths"}\n      ],\n'
        printf '      "mountPoints": [{"name": "out", "path": "/out"}]\n    }\n  }],\n'
        printf '  "volumes": [{"name": "out", "kind": "host", "source": %s}]\n}\n' "$(json_string "$outdir")"
} >"$HARNESS_DIR/pod.json"

# The encoder itself, checked against an independent JSON parser when there is one.
if command -v python3 >/dev/null 2>&1; then
        python3 - "$HARNESS_DIR/pod.json" "$argv0" "${hostile[@]}" <<'EOF'
import json, os, sys
path, *want = [os.fsencode(a) for a in sys.argv[1:]]
with open(path, 'rb') as f:
    m = json.loads(f.read().decode('utf-8'))
app = m['apps'][0]['app']
got = [w.encode('utf-8') for w in app['exec']]
env = [e['value'].encode('utf-8') for e in app['environment'][:-2]]
sys.exit(0 if got == want and env == want[1:] else 1)
EOF
        tap_ok $? "pod manifest JSON encodes every hostile string exactly (checked with python3)" ||
                tap_diag "$(cat "$HARNESS_DIR/pod.json")"
fi

# --- render -------------------------------------------------------------------

pod=$HARNESS_DIR/pod
s1=$pod/stage1/rootfs
# NSPAWN_POD_TEST_DEBUG=1 renders with --debug: nspawn's and systemd's
# messages then reach console.log (and the diagnostics of a failed boot).
"$np" ${NSPAWN_POD_TEST_DEBUG:+--debug} render --nspawn-binds --net=host "$HARNESS_DIR/pod.json" --uuid="$uuid" --pod-dir="$pod" -o "$pod" \
        >"$HARNESS_DIR/render.log" 2>&1
tap_ok $? "render -o writes the pod directory" || bail "$(cat "$HARNESS_DIR/render.log")"

unit=$s1/etc/systemd/system/hostile.service
[ -f "$unit" ] && [ -f "$s1/rkt/env/hostile" ] && [ -s "$pod/nspawn.argv" ] && [ -f "$pod/nspawn.env" ]
tap_ok $? "render wrote the app unit, its environment file, nspawn.argv and nspawn.env" ||
        bail "$(cd "$pod" 2>/dev/null && find . | sort)"

# Render's defaults are what is booted, not something weaker.
missing=""
for d in 'Type=exec' 'RootDirectory=/opt/stage2/hostile/rootfs' 'EnvironmentFile=/rkt/env/hostile' \
        'MountAPIVFS=no' 'DevicePolicy=closed' 'User=0' 'Group=0'; do
        grep -qxF "$d" "$unit" || missing+=" $d"
done
for d in CapabilityBoundingSet SystemCallFilter; do
        grep -q "^$d=." "$unit" || missing+=" $d="
done
[ -z "$missing" ]
tap_ok $? "the app unit has render's default sandboxing" || tap_diag "missing:$missing" "$(cat "$unit")"
# The path protections are prepare-app's (no mount namespace per app):
# render no longer asks systemd for them, nor switches them off.
# prepare-app@.service is a static unit of the stage1 image (units/); a pod
# with --disable-paths would get a drop-in, this one has none.
! grep -qE '^(InaccessiblePaths|ReadOnlyPaths)=' "$unit" &&
        grep -q '^ExecStart=' "$src/units/prepare-app@.service" &&
        ! grep -q -- '^ExecStart=.*--disable-paths' "$src/units/prepare-app@.service" &&
        [ ! -e "$s1/etc/systemd/system/prepare-app@.service.d" ]
tap_ok $? "path protections are left to prepare-app (no InaccessiblePaths=/ReadOnlyPaths=, no --disable-paths)" ||
        tap_diag "$(cat "$unit" "$src/units/prepare-app@.service")"

# The paths prepare-app protects, from its table (one entry a line:
# { "proc/kcore", PATH_INACCESSIBLE },), as the app sees them.
table_paths() {
        sed -n 's|^[[:space:]]*{ "\([^"]*\)", PATH_'"$1"' },$|/\1|p' "$src/prepare-app/prepare-app.c"
}
mapfile -t inaccessible < <(table_paths INACCESSIBLE)
mapfile -t readonly < <(table_paths READ_ONLY)
[ "${#inaccessible[@]}" -ge 11 ] && [ "${#readonly[@]}" -ge 5 ]
tap_ok $? "prepare-app's table of protected paths read (${#inaccessible[@]} inaccessible, ${#readonly[@]} read-only)" ||
        bail "cannot read protected_paths from $src/prepare-app/prepare-app.c"

# --- the rest of the stage1 and the app root ------------------------------------

approot=$s1/opt/stage2/hostile/rootfs
harness_make_stage1 "$s1" && harness_install_units "$s1" && harness_install_test_prepare_app "$s1" &&
        install -m 0755 "$prepare_app" "$s1/prepare-app" &&
        mkdir -p "$approot${argv0%/*}" "$approot/out" &&
        cp "$probe" "$approot$argv0" &&
        printf '%s\n' "${inaccessible[@]}" "${readonly[@]}" >"$approot/probe-paths"
tap_ok $? "stage1 completed around render's output; probe at $argv0 in the app root"
# (harness_install_test_prepare_app's /reaper makes the app's exit status the pod's;
# its /prepare-app is replaced by the real one.)

# --- boot ---------------------------------------------------------------------

rc=0
harness_boot "$pod" "$pod/nspawn.argv" 60 "$pod/nspawn.env" || rc=$?
tap_diag "boot took $HARNESS_BOOT_MS ms (render's pod, one app)"

# Everything that can say why a boot went wrong.
boot_diag() {
        tap_diag "nspawn exit status: $rc"
        tap_diag "console.log:" "$(sed 's/\x1b\[[0-9;]*m//g' "$pod/console.log" 2>&1 | tail -n 60)"
        if [ -d "$s1/var/log/journal" ] && command -v journalctl >/dev/null 2>&1; then
                tap_diag "journal:" "$(journalctl --directory="$s1/var/log/journal" -o short-monotonic \
                        --no-pager 2>&1 | tail -n 80)"
        fi
        tap_diag "hostile.service:" "$(cat "$unit")"
}

[ "$rc" = 0 ]
tap_ok $? "the pod boots and exits with the app's status (0)" || boot_diag

report=$outdir/report
[ -s "$report" ] && [ "$(tail -n 1 "$report")" = end ]
tap_ok $? "the probe's report is complete, in the host volume mounted at /out" || {
        tap_diag "$(ls -la "$outdir" "$approot/out" 2>&1)"
        [ "$rc" = 0 ] && boot_diag
        bail "no report: nothing more to check"
}

decoded() {
        "$probe" --decode "$report" | grep -a "$@"
}

# --- argv ---------------------------------------------------------------------

want=$(
        printf 'argv 0 %s\n' "$(harness_hex "$argv0")"
        for i in "${!hostile[@]}"; do
                printf 'argv %d %s\n' $((i + 1)) "$(harness_hex "${hostile[$i]}")"
        done
)
got=$(grep -a '^argv ' "$report")
[ "$(grep -a '^argv 0 ' <<<"$got")" = "$(head -n 1 <<<"$want")" ]
tap_ok $? "argv0 arrives as $argv0 (% and \$ not expanded)" || tap_diag "$(grep -a '^argv 0 ' <<<"$got")"
bad=0
for i in "${!hostile[@]}"; do
        line="argv $((i + 1)) $(harness_hex "${hostile[$i]}")"
        if ! grep -qxF "$line" <<<"$got"; then
                bad=1
                tap_diag "argv[$((i + 1))] want $(printf '%q' "${hostile[$i]}"): $(grep -a "^argv $((i + 1)) " <<<"$got" || echo missing)"
        fi
done
[ "$bad" = 0 ]
tap_ok $? "every hostile argv word arrives byte-exact (${#hostile[@]} words)"
[ "$(wc -l <<<"$got")" = $((${#hostile[@]} + 1)) ] && [ "$want" = "$got" ]
tap_ok $? "argv has exactly $((${#hostile[@]} + 1)) entries, in order, nothing added" ||
        tap_diag "got $(wc -l <<<"$got") entries" "$(decoded '^argv ')"
bad=0 n=0
for i in "${!hostile[@]}"; do
        case ${hostile[$i]} in
        *$'\r'*)
                n=$((n + 1))
                grep -qxF "argv $((i + 1)) $(harness_hex "${hostile[$i]}")" <<<"$got" || bad=1
                ;;
        *) ;;
        esac
done
[ "$bad" = 0 ] && [ "$n" -gt 0 ]
tap_ok $? "CR survives in argv words ($n words with CR)"

# --- environment ----------------------------------------------------------------

env_records=$(grep -a '^env ' "$report")
bad=0
for i in "${!hostile[@]}"; do
        rec="env $(harness_hex "V$i=${hostile[$i]}")"
        pfx="env $(harness_hex "V$i=")"
        n_exact=$(grep -cxF "$rec" <<<"$env_records")
        n_name=$(grep -c "^$pfx" <<<"$env_records")
        if [ "$n_exact" != 1 ] || [ "$n_name" != 1 ]; then
                bad=1
                tap_diag "V$i want $(printf '%q' "${hostile[$i]}"): exact $n_exact, by name $n_name"
        fi
done
[ "$bad" = 0 ]
tap_ok $? "every hostile environment value arrives byte-exact, once (V0..V$((${#hostile[@]} - 1)))" ||
        tap_diag "$(decoded '^env V')"
grep -qxF "env $(harness_hex "PROBE_OUT=/out/report")" <<<"$env_records" &&
        grep -qxF "env $(harness_hex "AC_APP_NAME=hostile")" <<<"$env_records"
tap_ok $? "AC_APP_NAME=hostile and PROBE_OUT=/out/report are set" || tap_diag "$(decoded '^env ')"
# A newline in a value must not have started a variable of its own.
! grep -q "^env $(harness_hex "INJECTED=")" <<<"$env_records"
tap_ok $? "no variable injected through a newline in a value"

# --- the sandbox render asked for -------------------------------------------------

# CAP_CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6, SETUID 7,
# SETPCAP 8, NET_BIND_SERVICE 10, NET_RAW 13, SYS_CHROOT 18, MKNOD 27,
# AUDIT_WRITE 29, SETFCAP 31.
mask=0
for b in 0 1 3 4 5 6 7 8 10 13 18 27 29 31; do
        mask=$((mask | (1 << b)))
done
printf -v mask '%016x' "$mask"
grep -qxF "cap_bnd $mask" "$report"
tap_ok $? "bounding set is exactly the 14 default capabilities ($mask)" || tap_diag "$(grep -a '^cap_' "$report")"
grep -qx 'seccomp 2' "$report"
tap_ok $? "a seccomp filter is in effect (mode 2)" || tap_diag "$(grep -a '^seccomp' "$report")"
grep -qx 'no_new_privs 0' "$report"
tap_ok $? "no_new_privs is off, as rendered (NoNewPrivileges=no for a root app)" ||
        tap_diag "$(grep -a '^no_new_privs' "$report")"

# The probe reports, for every path of the two lists, its mode and whether
# it is writable, as the app sees them ("path MODE W HEX"): prepare-app's
# masks and read-only binds must be what the app gets through its
# RootDirectory=, in the pod's mount namespace it now shares.
path_record() {
        grep -a " $(harness_hex "$1")\$" "$report" | grep -a '^path ' | head -n 1
}
bad=0 present=0
for p in "${inaccessible[@]}"; do
        read -r _ mode w _ <<<"$(path_record "$p")"
        case $mode in
        !2) ;; # not there: the '-' prefix lets that pass
        [0-7]*)
                present=$((present + 1))
                # systemd's inaccessible nodes: the type bits, no permission bit.
                [ $((8#$mode & 8#7777)) = 0 ] || {
                        bad=1
                        tap_diag "$p is accessible in the app root: mode $mode"
                }
                ;;
        *)
                bad=1
                tap_diag "$p: no usable path record: $(path_record "$p")"
                ;;
        esac
done
[ "$bad" = 0 ] && [ "$present" -gt 0 ]
tap_ok $? "inaccessible paths are masked inside the app root ($present of ${#inaccessible[@]} paths exist there, all masked)" ||
        tap_diag "$(decoded '^path ')"
bad=0 present=0
for p in "${readonly[@]}"; do
        read -r _ mode w _ <<<"$(path_record "$p")"
        case $mode:$w in
        !2:*) ;;
        [0-7]*:!30) present=$((present + 1)) ;; # EROFS
        *)
                bad=1
                tap_diag "$p is not read-only in the app root: mode $mode, access(W_OK) $w"
                ;;
        esac
done
[ "$bad" = 0 ] && [ "$present" -gt 0 ]
tap_ok $? "read-only paths are read-only inside the app root ($present of ${#readonly[@]} paths exist there, all read-only)" ||
        tap_diag "$(decoded '^path ')"

grep -qxF "cwd $(harness_hex /)" "$report"
tap_ok $? "cwd is / of the app root" || tap_diag "$(decoded '^cwd')"
grep -qx 'uid 0 0 0' "$report" && grep -qx 'gid 0 0 0' "$report"
tap_ok $? "runs as uid 0, gid 0" || tap_diag "$(grep -a -E '^(uid|gid)' "$report")"
grep -qxF "hostname $(harness_hex "$machine")" "$report"
tap_ok $? "hostname is the rendered one ($machine)" || tap_diag "$(decoded '^hostname')"

# --- the machine is clean -------------------------------------------------------

left=$(harness_leftovers) && ! grep -qF "$HARNESS_DIR" /proc/self/mountinfo
tap_ok $? "machine clean afterwards (no mount, process or cgroup of the pod left)" ||
        tap_diag "$left" "$(grep -F "$HARNESS_DIR" /proc/self/mountinfo)"
tap_done
