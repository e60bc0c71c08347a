#!/usr/bin/env bash
# Every unit rendered for every golden case that renders must load in
# systemd 252 without a single warning: `systemd-analyze verify` prints a line
# for each setting it would ignore ("…, ignoring"), and any line fails the test.
#
# The verify root is the rendered stage1 root with the stage1 image's static
# units (units/, in etc/systemd/system.control as the image has them) and
# the host's /usr under it, as the host flavor runs it (an overlay, so that
# stand-ins can be added without touching the host); executables the units
# name are stood in for by small executable files, since only loading is
# checked. The static units are verified with every case. Cases render as
# for a unified host (the apps' limits as MemoryMax=, CPUQuota=, CPUWeight=)
# unless their args say --cgroup-layout=v1.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
cmd=$PWD/$BUILD/nspawn-pod
uuid=6f2b0d0e-3a5c-4d8e-9f1a-2b3c4d5e6f70
n=0

if ! command -v systemd-analyze >/dev/null || [ "$(id -u)" != 0 ]; then
        echo "ok 1 - systemd-analyze verify # SKIP needs root and systemd-analyze"
        echo "1..1"
        exit 0
fi

work=$(mktemp -d /tmp/np-verify.XXXXXX)
cleanup() {
        grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        rm -rf "$work"
}
trap cleanup EXIT

for dir in tests/golden/cases/*/; do
        dir=${dir%/}
        name=${dir##*/}
        head -1 "$dir/expected" 2>/dev/null | grep -qx 'exit 0' || continue
        n=$((n + 1))
        pod=$work/$name
        args=()
        [ -f "$dir/args" ] && mapfile -t args <"$dir/args"
        # As the golden output: the unified-host rendering (MemoryMax=,
        # CPUQuota= applied by the pod's systemd) unless the case says v1.
        case " ${args[*]} " in
        *" --cgroup-layout="*) ;;
        *) args+=(--cgroup-layout=unified) ;;
        esac
        if ! (cd "$dir" && "$cmd" render pod.json --uuid=$uuid "${args[@]}" -o "$pod" >/dev/null 2>&1); then
                echo "not ok $n - $name: render -o failed"
                continue
        fi
        root=$pod/stage1/rootfs
        mkdir -p "$root/usr" "$pod/.upper" "$pod/.work" "$root/etc/systemd/system.control"
        cp units/* "$root/etc/systemd/system.control/"
        if ! mount -t overlay overlay -o "lowerdir=/usr,upperdir=$pod/.upper,workdir=$pod/.work" "$root/usr"; then
                echo "not ok $n - $name: cannot mount an overlay of /usr"
                continue
        fi
        # Stand-ins for every absolute executable named on an Exec line.
        grep -rhoE '^Exec[A-Za-z]*=[-+@!:]*"/[^"]*"' "$root/etc/systemd/system" "$root/etc/systemd/system.control" |
                sed -E 's/^[^"]*"//; s/"$//; s/%%/%/g' | sort -u | while read -r exe; do
                [ -e "$root$exe" ] && continue
                mkdir -p "$root$(dirname "$exe")"
                printf '#!/bin/sh\n' >"$root$exe"
                chmod +x "$root$exe"
        done
        units=()
        for u in "$root"/etc/systemd/system/*.service "$root"/etc/systemd/system/*.target "$root"/etc/systemd/system/*.socket \
                "$root"/etc/systemd/system.control/*.service "$root"/etc/systemd/system.control/*.target; do
                [ -f "$u" ] || continue
                b=${u##*/}
                case "$b" in *@.service) continue ;; esac
                units+=("$b")
        done
        # Instances of the prepare-app template, as the app units require them.
        mapfile -t inst < <(grep -rhoE '^Requires=prepare-app@[^ ]*' "$root/etc/systemd/system" | sed 's/^Requires=//' | sort -u)
        out=$(SYSTEMD_LOG_LEVEL=info systemd-analyze verify --root="$root" "${units[@]}" "${inst[@]}" 2>&1)
        rc=$?
        umount "$root/usr"
        if [ $rc = 0 ] && [ -z "$out" ]; then
                echo "ok $n - $name: ${#units[@]} units and ${#inst[@]} instances verify without a warning"
        else
                echo "not ok $n - $name: systemd-analyze verify said (exit $rc):"
                printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
        fi
done
echo "1..$n"
