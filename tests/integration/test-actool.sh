#!/usr/bin/env bash
# Our validator and the appc reference validator (actool, Debian package
# appc-spec) must agree on every manifest of tests/corpus, except the files
# listed in tests/corpus/stricter.txt, where we deliberately reject what
# actool accepts (each listed with its reason, also in docs/manifest.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
cmd=$PWD/$BUILD/nspawn-pod
n=0

if ! command -v actool >/dev/null; then
        echo "ok 1 - actool agreement # SKIP actool (package appc-spec) is not installed"
        echo "1..1"
        exit 0
fi

listed() { # file list
        grep -v '^#' "tests/corpus/$2" | awk '{print $1}' | grep -qxF "$1"
}

for f in tests/corpus/pod/*/*.json tests/corpus/image/*/*.json; do
        [ -f "$f" ] || continue
        rel=${f#tests/corpus/}
        kind=${rel%%/*}
        expect=${rel#*/}
        expect=${expect%%/*}
        n=$((n + 1))
        # --type=manifest: actool sniffs content otherwise, and a file with
        # invalid UTF-8 must still be read as a manifest.
        actool validate --type=manifest "$f" >/dev/null 2>&1
        ac=$?
        ours_msg=$("$cmd" validate --kind="$kind" "$f" 2>&1)
        ours=$?
        if [ "$expect" = valid ]; then
                if [ $ac = 0 ] && [ $ours = 0 ]; then
                        echo "ok $n - $rel: both accept"
                elif [ $ours = 0 ] && [ $ac = 1 ] && listed "$rel" laxer.txt; then
                        echo "ok $n - $rel: we accept, actool rejects; listed in laxer.txt"
                else
                        echo "not ok $n - $rel: expected valid; actool exit $ac, ours exit $ours"
                        echo "#   $ours_msg"
                fi
        else
                if [ $ours = 0 ]; then
                        echo "not ok $n - $rel: expected invalid, but we accept it"
                elif [ $ac != 0 ]; then
                        echo "ok $n - $rel: both reject ($ours_msg)"
                elif listed "$rel" stricter.txt; then
                        echo "ok $n - $rel: we reject, actool accepts; listed as deliberately stricter"
                else
                        echo "not ok $n - $rel: actool accepts but we reject, and it is not listed in stricter.txt"
                        echo "#   $ours_msg"
                fi
        fi
done

# Every line of stricter.txt must name a file that exists and that actool
# accepts: a stale entry would hide a real disagreement.
while read -r file _; do
        case "$file" in ''|'#'*) continue ;; esac
        n=$((n + 1))
        if [ ! -f "tests/corpus/$file" ]; then
                echo "not ok $n - stricter.txt lists $file, which does not exist"
        elif actool validate --type=manifest "tests/corpus/$file" >/dev/null 2>&1; then
                echo "ok $n - stricter.txt: actool accepts $file"
        else
                echo "not ok $n - stricter.txt lists $file, but actool rejects it too: drop it from the list"
        fi
done <tests/corpus/stricter.txt
echo "1..$n"
