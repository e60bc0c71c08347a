#!/usr/bin/env bash
# Integration test (TAP, no root): what the Makefile's targets build, read
# from `make -n` into a scratch BUILD directory (nothing is compiled). Plain
# `make` once built only the first helper (build/libexec/enter): the default
# goal was whatever rule came first.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
cd "$here/../.." || exit 1

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# builds TARGET...: what `make -n TARGET` would link into $scratch, one path a line.
builds() {
        make -n --no-print-directory BUILD="$scratch" "$@" 2>/dev/null |
                grep -oE -- "-o $scratch/[^ ]+|(ar rcs|cp|mv|tar) [^ ]* ?$scratch/[^ ]+|mkaci $scratch .* $scratch/[^ ]+" |
                grep -oE "$scratch/[^ ]+" | sed "s|^$scratch/||" | grep -v "^obj/" | sort -u
}

default=$(builds)
all=$(builds all)
tap_diag "make builds:" "$default"
[ -n "$all" ] && [ "$default" = "$all" ]
tap_ok $? "plain 'make' builds exactly what 'make all' builds" || tap_diag "make all builds:" "$all"

ok=0
for f in nspawn-pod libnspawnpod.a libexec/enter libexec/prepare-app libexec/reaper libexec/gc libexec/init libexec/stop \
        stage1-host.aci; do
        grep -qxF "$f" <<<"$default" || {
                ok=1
                tap_diag "missing: $f"
        }
done
tap_ok "$ok" "plain 'make' builds the command, the library, every helper and entrypoint and the stage1 image"

stage1=$(builds stage1)
grep -qxF stage1-host.aci <<<"$stage1"
tap_ok $? "'make stage1' builds stage1-host.aci" || tap_diag "$stage1"

# The version: one definition in the Makefile, what --version prints and the
# stage1 image's version label. (Once empty: set after the flags that used it.)
build=${BUILD:-build}
want=$(sed -n 's/^VERSION := //p' Makefile)
if [ -x "$build/nspawn-pod" ] && [ -f "$build/stage1-host.aci" ]; then
        got=$("$build/nspawn-pod" --version 2>&1)
        label=$(tar -xOf "$build/stage1-host.aci" manifest | grep -o '"name": "version", "value": "[^"]*"')
        [ -n "$want" ] && [ "$got" = "nspawn-pod $want" ] && [ "$label" = "\"name\": \"version\", \"value\": \"$want\"" ]
        tap_ok $? "--version prints the Makefile's VERSION ($want), the stage1 image's label says it too" ||
                tap_diag "--version: '$got'" "label: $label"
else
        tap_skip "--version and the stage1 label" "not built in $build"
fi

# app-stdio's two builds (Makefile, flavors/host/app-stdio.c): the one
# without a C library (this architecture's) and the static C-library one
# other architectures get. Both pass an exit status on and say 203 when the
# program cannot be executed. (The C-library one once recursed in its own
# memset.)
if [ -x "$build/libexec/app-stdio" ] && ${CC:-cc} -std=gnu17 -O2 -static -DAPP_STDIO_LIBC -o "$scratch/app-stdio-libc" \
        flavors/host/app-stdio.c 2>"$scratch/cc.err"; then
        ok=0
        for b in "$build/libexec/app-stdio" "$scratch/app-stdio-libc"; do
                rc=0
                "$b" t /bin/sh -c 'exit 7' 2>/dev/null || rc=$?
                [ "$rc" = 7 ] || { ok=1; tap_diag "$b: exit $rc, want 7"; }
                rc=0
                msg=$("$b" t /nonexistent 2>&1) || rc=$?
                [ "$rc" = 203 ] && [ "$msg" = "t: cannot execute /nonexistent: No such file or directory" ] ||
                        { ok=1; tap_diag "$b: exit $rc ($msg), want 203"; }
        done
        tap_ok "$ok" "app-stdio (without and with a C library): the program's exit status, 203 when it cannot be executed"
else
        tap_skip "app-stdio builds" "not built, or no static C library ($(cat "$scratch/cc.err" 2>/dev/null))"
fi

tap_done
