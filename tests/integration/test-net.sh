#!/usr/bin/env bash
# Integration test (TAP, root): CNI pod networks (issue 10) on real pods.
# `run --net=LIST` (host, none, default, default-restricted, or named
# networks from --local-config=DIR's net.d), `--port=NAME:[HOSTIP:]HOSTPORT`
# (portmap), `status` (networks=, JSON "networks"), `list` (NETWORKS).
#
# What is asserted: two pods on the default network each get an address of
# their own and serve HTTP to the test's namespace; --net=none leaves only
# lo; a published port answers on 127.0.0.1 and on the host side's address;
# a named bridge network from --local-config; default-restricted has no
# default route but reaches its host side; two networks at once (eth0,
# eth1); a real daemon (Redis) by address and by published port; 20 pods at
# once with distinct addresses, ended three ways (stop --wait, SIGKILL of run
# and nspawn then gc, stop), leaving no veth, network namespace, lease or
# per-pod iptables rule; and failing networks (a missing plugin, a plugin
# chain failing half-way, a bridge with an invalid subnet) failing the run
# with 254 and a message naming the network and the plugin, leaving nothing.
#
# Every pod and client runs in the test's own network namespace
# (HARNESS_NETNS, made by the harness, which plays the host): no packet
# leaves it and nothing of the real host's network is touched. User network
# configurations come from --local-config=H/cfg, never /etc/nspawn-pod.
# Assertions are on output, exit codes and files; a pod is waited for by
# polling (bounded) for a file its app creates or an answer on its port.
# Bridges the bridge plugin leaves behind are removed by the EXIT trap.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "CNI pod networks"
bail() { harness_bail "$@"; }
H=$HARNESS_DIR
D=$HARNESS_NP_DATA
cd "$H" || bail "cannot enter $H"
# A tag unique to this run, for names that must not exist anywhere else.
TAG=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
CFG=$H/cfg
mkdir -p "$CFG/net.d" || bail "cannot make $CFG/net.d"

# --- helpers ----------------------------------------------------------------------

# np NAME ARGS...: nspawn-pod ARGS, output in NAME.out/.err, status in RC.
np() { harness_np_capture "$@"; }
diag() { harness_np_diag "$@"; }
# out NAME: stdout of NAME, without the console's \r.
out() { tr -d '\r' <"$H/$1.out" 2>/dev/null; }
# said NAME LINE: the pod run as NAME had an app print LINE (the console
# shows app output as "APP[PID]: LINE\r\n").
said() {
        tr -d '\r' <"$H/$1.out" 2>/dev/null | sed -E 's/^[^[ ]+\[[0-9]+\]: //' | grep -qxF -- "$2"
}
# app_said NAME PREFIX: the rest of the first line an app of NAME printed
# starting with PREFIX.
app_said() {
        tr -d '\r' <"$H/$1.out" 2>/dev/null | sed -E 's/^[^[ ]+\[[0-9]+\]: //' | grep -m1 -F -- "$2" |
                sed "s|^.*$2||"
}
# run_pod NAME ARGS...: `nspawn-pod run` in the foreground with a UUID file;
# UUID and POD set.
run_pod() { harness_np_run_pod "$@"; }
# app_dir POD APP: where, on the host, the files app APP writes land.
app_dir() {
        if [ -d "$1/overlay/$2/upper" ]; then
                printf '%s\n' "$1/overlay/$2/upper"
        else
                printf '%s\n' "$1/stage1/rootfs/opt/stage2/$2/rootfs"
        fi
}
declare -A UUID_OF=() PID_OF=()
# start_bg NAME ARGS...: `run ARGS` in the background (log NAME.log, UUID
# file NAME.uuid); PID_OF[NAME] is the run process.
start_bg() {
        local name=$1
        shift
        rm -f "$H/$name.uuid"
        harness_np_start "$H/$name.log" run --uuid-file-save="$H/$name.uuid" "$@"
        PID_OF[$name]=$HARNESS_NP_PID
        UUID_OF[$name]=""
}
# is_up NAME APPS: the pod has a UUID and every app of the space-separated
# APPS has created /running ("-": the UUID is enough). Sets UUID_OF.
is_up() {
        local name=$1 apps=$2 a pod
        if [ -z "${UUID_OF[$name]}" ] && [ -s "$H/$name.uuid" ]; then
                UUID_OF[$name]=$(head -n 1 "$H/$name.uuid")
                HARNESS_NP_UUIDS+=("${UUID_OF[$name]}")
        fi
        [ -n "${UUID_OF[$name]}" ] || return 1
        [ "$apps" = - ] && return 0
        pod=$D/pods/run/${UUID_OF[$name]}
        for a in $apps; do
                [ -e "$(app_dir "$pod" "$a")/running" ] || return 1
        done
        return 0
}
# start_pod NAME APPS ARGS...: start_bg, then waits (60 s at most) until
# is_up. Sets UUID, POD and RUNPID; returns 1 if the pod does not come up.
start_pod() {
        local name=$1 apps=$2 i
        shift 2
        start_bg "$name" "$@"
        RUNPID=${PID_OF[$name]}
        UUID="" POD=""
        for ((i = 0; i < 600; i++)); do
                if is_up "$name" "$apps"; then
                        UUID=${UUID_OF[$name]}
                        POD=$D/pods/run/$UUID
                        return 0
                fi
                harness_pid_alive "$RUNPID" || break
                sleep 0.1
        done
        UUID=${UUID_OF[$name]}
        tap_diag "pod $name did not come up:" "$(sed 's/\x1b\[[0-9;]*m//g' "$H/$name.log" 2>&1 | tail -n 30)"
        return 1
}
stop_pod() { harness_np_stop_pod "$@"; }
# kill_pod UUID RUNPID: SIGKILL to the run process and nspawn (the pod's
# payload survives them); waits for both to be gone.
kill_pod() {
        local pod npid i
        pod=$(harness_np_pod_dir "$1") || pod=""
        npid=$(cat "$pod/ppid" 2>/dev/null)
        kill -KILL "$2" ${npid:+"$npid"} 2>/dev/null
        harness_np_wait "$2" 30 2>/dev/null
        for ((i = 0; i < 50; i++)); do
                if [ -z "$npid" ] || ! harness_pid_alive "$npid"; then break; fi
                sleep 0.1
        done
}
# pod_ip UUID [NET]: the IPv4 address `status` gives the pod on NET (default).
pod_ip() {
        harness_np_run status "$1" 2>/dev/null | sed -n 's/^networks=//p' | tr ',' '\n' |
                sed -n "s/^${2:-default}:ip4=//p" | head -n 1
}
# pod_gateway POD NET: the gateway of the pod's NET in its record, POD/net/NN-NET.json.
pod_gateway() {
        jq -r '.result.ips[0].gateway // empty' "$1"/net/*-"$2".json 2>/dev/null | head -n 1
}
# fetch URL EXPECTED: wget from the test's namespace until the body is
# EXPECTED (at most ~20 s: the server may not be listening yet). BODY is
# the last answer. (No -T: Debian's busybox 1.35 wget segfaults on it.)
fetch() {
        local i
        BODY=""
        for ((i = 0; i < 100; i++)); do
                BODY=$(harness_in_net timeout 5 busybox wget -qO- "$1" 2>&1) || BODY="(wget failed: $BODY)"
                [ "$BODY" = "$2" ] && return 0
                sleep 0.2
        done
        return 1
}
# redis_ping HOST PORT: redis-cli PING from the test's namespace until PONG (~20 s).
redis_ping() {
        local i
        PONG=""
        for ((i = 0; i < 100; i++)); do
                PONG=$(harness_in_net timeout 5 redis-cli -h "$1" -p "$2" ping 2>&1) || PONG="(redis-cli failed: $PONG)"
                [ "$PONG" = PONG ] && return 0
                sleep 0.2
        done
        return 1
}
# in_subnet ADDR PREFIX: ADDR starts with PREFIX (e.g. "10.123.0.").
in_subnet() {
        case $1 in "$2"*) return 0 ;; *) return 1 ;; esac
}
# veths: the veths in the test's namespace, one line each.
veths() { harness_in_net ip -o link show type veth 2>/dev/null; }
# test_netns: the /run/netns/nspawn-pod-<uuid> files of this test's pods
# (the host's /run/netns is shared with whatever else runs there).
test_netns() {
        local u
        while read -r u; do
                [ -e "/run/netns/nspawn-pod-$u" ] && echo "/run/netns/nspawn-pod-$u"
        done < <(harness_np_uuids)
        return 0
}
# leases [DIR]: IPAM lease files under DIR (D/cni-networks), without the
# lock and last_reserved_ip.* files host-local keeps.
leases() {
        find "${1:-$D/cni-networks}" -type f ! -name lock ! -name 'last_reserved_ip.*' 2>/dev/null
}
# ipt_all: every iptables rule and chain of the test's namespace, "TABLE RULE".
ipt_all() {
        local t
        for t in nat filter mangle raw; do
                harness_in_net iptables -w -t "$t" -S 2>/dev/null | sed "s/^/$t /"
        done
}
# ipt_pod: ipt_all without the policies and what portmap shares between
# pods once made (the chains CNI-HOSTPORT-DNAT/-MASQ/-SETMARK, the jumps to
# them from the built-in chains, their own mark/masquerade rules): what is
# left belongs to some pod, sorted.
ipt_pod() {
        ipt_all | awk '
                / -P / { next }
                /^[a-z]+ -N CNI-HOSTPORT-(DNAT|MASQ|SETMARK)$/ { next }
                /^[a-z]+ -A (PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD) / && /-j CNI-HOSTPORT-(DNAT|MASQ|SETMARK)$/ { next }
                /^[a-z]+ -A CNI-HOSTPORT-(MASQ|SETMARK) / && !/ id: / { next }
                { print }' | LC_ALL=C sort
}
# net_leftovers UUID [ADDR...]: what is left of the pod's networks: its
# network namespace, its record files, iptables rules naming its UUID or one
# of the addresses, rules of any pod (beyond ipt.start); returns 0 when
# there is nothing.
net_leftovers() {
        local uuid=$1 n=0 a pod line
        local -a pats=()
        shift
        for a in "$@"; do
                [ -n "$a" ] && pats+=(-e "$a/")
        done
        if [ -e "/run/netns/nspawn-pod-$uuid" ]; then
                echo "netns /run/netns/nspawn-pod-$uuid"
                n=$((n + 1))
        fi
        if pod=$(harness_np_pod_dir "$uuid") && [ -n "$(ls -A "$pod/net" 2>/dev/null)" ]; then
                echo "records $(find "$pod/net" -mindepth 1 -printf '%f ')"
                n=$((n + 1))
        fi
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                echo "rule $line"
                n=$((n + 1))
        done < <(ipt_all | grep -F -e "$uuid" "${pats[@]}")
        # Per-pod chains (CNI-<hash>, CNI-DN-<hash>) name neither: every rule
        # not there before the first pod (call this when no pod runs).
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                echo "new rule $line"
                n=$((n + 1))
        done < <(comm -13 "$H/ipt.start" <(ipt_pod))
        [ "$n" = 0 ]
}
# A bridge device the bridge plugin may leave: deleted by the EXIT trap
# (before the test's namespace goes) if still there.
remove_bridge_at_exit() {
        harness_on_exit "harness_in_net ip link show '$1' >/dev/null 2>&1 && harness_in_net ip link delete '$1' 2>/dev/null"
}

# ipt_pod before any pod: portmap's shared chains do not exist yet.
ipt_pod >"$H/ipt.start"

# --- 1. two pods on the default network, each serving HTTP -------------------------

# shellcheck disable=SC2016 # the app shell's $1
WEB='mkdir -p /www && echo "$1" >/www/index.html && touch /running && exec httpd -f -p 80 -h /www'
start_pod web1 app "$bb" --name=app --exec=/bin/sh -- -c "$WEB" sh "body-one-$TAG"
U1=$UUID P1=$RUNPID POD1=$POD
start_pod web2 app "$bb" --name=app --exec=/bin/sh -- -c "$WEB" sh "body-two-$TAG"
U2=$UUID P2=$RUNPID
A1=$(pod_ip "$U1")
A2=$(pod_ip "$U2")
in_subnet "$A1" 172.16.28. && in_subnet "$A2" 172.16.28. && [ "$A1" != "$A2" ]
tap_ok $? "two pods without --net: status gives each an address of the default network 172.16.28.0/24, different ($A1, $A2)" ||
        tap_diag "$(harness_np_run status "$U1" 2>&1)" "$(harness_np_run status "$U2" 2>&1)"
fetch "http://$A1/" "body-one-$TAG"
tap_ok $? "wget http://$A1/ from the test's namespace: the first pod's httpd answers body-one" || tap_diag "got: $BODY"
fetch "http://$A2/" "body-two-$TAG"
tap_ok $? "wget http://$A2/: the second pod's httpd answers body-two" || tap_diag "got: $BODY"
np web1-json status --format=json "$U1"
[ "$RC" = 0 ] && jq -e --arg a "$A1/24" \
        '.networks | length == 1 and .[0].name == "default" and .[0].interface == "eth0" and .[0].addresses == [$a]' \
        "$H/web1-json.out" >/dev/null
tap_ok $? "status --format=json: networks [{name default, interface eth0, addresses [$A1/24]}]" || diag web1-json
np web-list list
[ "$RC" = 0 ] && grep -q NETWORKS "$H/web-list.out" && grep "${U1:0:8}" "$H/web-list.out" | grep -qF "default:ip4=$A1" &&
        grep "${U2:0:8}" "$H/web-list.out" | grep -qF "default:ip4=$A2"
tap_ok $? "list: a NETWORKS column with each pod's default:ip4=ADDR" || diag web-list
[ -e "/run/netns/nspawn-pod-$U1" ] && [ -s "$POD1/net/00-default.json" ] && [ "$(veths | wc -l)" = 2 ] &&
        [ "$(leases | wc -l)" = 2 ] && ipt_all | grep -F "$U1" >/dev/null
tap_ok $? "while it runs: /run/netns/nspawn-pod-<uuid>, POD/net/00-default.json, a veth and a lease per pod, rules naming the pod" ||
        tap_diag "$(ls -l "/run/netns/nspawn-pod-$U1" "$POD1/net" 2>&1)" "$(veths)" "$(leases)"
stop_pod "$U1" "$P1"
stop_pod "$U2" "$P2"
left1=$(net_leftovers "$U1" "$A1")
left2=$(net_leftovers "$U2" "$A2")
[ -z "$left1" ] && [ -z "$left2" ] && [ -z "$(veths)" ] && [ -z "$(leases)" ]
tap_ok $? "both stopped: no network namespace, record, veth, lease or rule of theirs left" ||
        tap_diag "$left1" "$left2" "$(veths)" "$(leases)"

# --- 2. --net=none: loopback only ---------------------------------------------------

# shellcheck disable=SC2016 # the app shell's
run_pod none --net=none "$bb" --name=app --exec=/bin/sh -- -c \
        'echo "LINKS=$(ip -o link | cut -d: -f2 | tr -d " " | tr "\n" ,)"'
links=$(app_said none LINKS=)
[ "$RC" = 0 ] && [ "$links" = "lo," ]
tap_ok $? "--net=none: ip -o link inside shows only lo (\"$links\")" || diag none
[ "$RC" = 0 ] && [ -z "$(veths)" ] && [ ! -e "/run/netns/nspawn-pod-$UUID" ] && [ -z "$(leases)" ]
tap_ok $? "--net=none: no veth, lease or network namespace file made for it" || tap_diag "$(veths)" "$(leases)"

# --- 3. --port: a published port -------------------------------------------------------

cp -a "$images/busybox" "$images/web" &&
        jq '.name = "example.com/busybox-web" | .app.ports = [{"name": "http", "protocol": "tcp", "port": 80}]' \
                "$images/busybox/manifest" >"$images/web/manifest"
tap_ok $? "an image directory declaring the port http/tcp/80" || bail "cannot make the port image"
if start_pod port app --port=http:8080 "$images/web" --name=app --exec=/bin/sh -- -c "$WEB" sh "body-port-$TAG"; then
        UP=$UUID PP=$RUNPID
        AP=$(pod_ip "$UP")
        GW=$(pod_gateway "$POD" default)
        [ -n "$GW" ] || GW=172.16.28.1
        fetch "http://127.0.0.1:8080/" "body-port-$TAG"
        tap_ok $? "--port=http:8080: wget http://127.0.0.1:8080/ in the test's namespace reaches the pod's httpd" ||
                tap_diag "got: $BODY" "$(ipt_all | grep -F -e "$UP" -e CNI-DN)"
        fetch "http://$GW:8080/" "body-port-$TAG"
        tap_ok $? "and so does http://$GW:8080/ (the host side's address on the default network)" || tap_diag "got: $BODY"
        stop_pod "$UP" "$PP"
        left=$(net_leftovers "$UP" "$AP")
        ! harness_in_net timeout 5 busybox wget -qO- "http://127.0.0.1:8080/" >/dev/null 2>&1 && [ -z "$left" ] &&
                ! ipt_all | grep -F -e 'dports 8080' -e 'dport 8080' >/dev/null
        tap_ok $? "stopped: nothing answers on 127.0.0.1:8080, no DNAT rule for 8080, nothing of the pod in iptables" ||
                tap_diag "$left" "$(ipt_all | grep 8080)"
else
        tap_ok 1 "a pod with --port=http:8080"
fi

# --- 4. a named bridge network from --local-config -----------------------------------

BR=npbr-$TAG
remove_bridge_at_exit "$BR"
cat >"$CFG/net.d/10-testbr.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "testbr",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BR",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "subnet": "10.123.0.0/24",
        "dataDir": "$H/ipam-testbr"
      }
    }
  ]
}
EOF
if start_pod br app --local-config="$CFG" --net=testbr "$bb" --name=app --exec=/bin/sh -- -c "$WEB" sh "body-br-$TAG"; then
        UB=$UUID PB=$RUNPID
        AB=$(pod_ip "$UB" testbr)
        in_subnet "$AB" 10.123.0. && [ -s "$POD/net/00-testbr.json" ]
        tap_ok $? "--local-config=DIR --net=testbr (bridge $BR, 10.123.0.0/24): the app has $AB; POD/net/00-testbr.json" ||
                tap_diag "$(harness_np_run status "$UB" 2>&1)"
        harness_in_net ip -o link show dev "$BR" >/dev/null 2>&1 && [ "$(leases "$H/ipam-testbr" | wc -l)" = 1 ]
        tap_ok $? "the bridge $BR exists in the test's namespace; one lease in the network's own dataDir" ||
                tap_diag "$(harness_in_net ip -o link 2>&1)" "$(leases "$H/ipam-testbr")"
        fetch "http://$AB/" "body-br-$TAG"
        tap_ok $? "wget http://$AB/ from the test's namespace: the pod's httpd on the bridge answers" || tap_diag "got: $BODY"
        stop_pod "$UB" "$PB"
        left=$(net_leftovers "$UB" "$AB")
        [ -z "$left" ] && [ -z "$(leases "$H/ipam-testbr")" ] && [ -z "$(veths)" ]
        tap_ok $? "stopped: no network namespace, record, veth, lease or rule of it left" ||
                tap_diag "$left" "$(leases "$H/ipam-testbr")" "$(veths)"
        if harness_in_net ip -o link show dev "$BR" >/dev/null 2>&1; then
                tap_diag "observed: the bridge plugin leaves the bridge $BR after the last pod (removed by the EXIT trap)"
        else
                tap_diag "observed: the bridge $BR is gone after the pod"
        fi
else
        tap_ok 1 "a pod on the bridge network testbr"
fi

# --- 5. default-restricted: no default route ---------------------------------------------

# The host side (172.31.0.1, there while the pod runs) serves a file from
# the test's namespace; the pod fetches it, shows its routes and address.
mkdir -p "$H/www-host" && echo "host-side-$TAG" >"$H/www-host/index.html"
if start_pod restr app --net=default-restricted "$bb" --name=app --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'; then
        UR=$UUID PR=$RUNPID
        AR=$(pod_ip "$UR" default-restricted)
        np restr-route enter "$UR" /bin/sh -c 'ip route; echo; ip -o -4 addr show dev eth0'
        routes=$(out restr-route)
        [ "$RC" = 0 ] && ! grep -q '^default' <<<"$routes" && grep -qE '^172\.31\.' <<<"$routes" &&
                in_subnet "$AR" 172.31. && grep -qF "inet $AR/16" <<<"$routes"
        tap_ok $? "--net=default-restricted: ip route inside has no default route, only 172.31.0.0/16; the app's address $AR/16" ||
                { diag restr-route; tap_diag "status address: $AR"; }
        GWR=$(pod_gateway "$POD" default-restricted)
        [ -n "$GWR" ] || GWR=172.31.0.1
        # nsenter execs busybox: $! is the server itself.
        nsenter --net="/run/netns/$HARNESS_NETNS" busybox httpd -f -p "$GWR:18080" -h "$H/www-host" \
                </dev/null >/dev/null 2>&1 &
        httpd_pid=$!
        harness_on_exit "kill $httpd_pid 2>/dev/null"
        got=""
        for ((i = 0; i < 50; i++)); do
                np restr-get enter "$UR" /bin/timeout 5 /bin/wget -qO- "http://$GWR:18080/"
                got=$(out restr-get)
                [ "$got" = "host-side-$TAG" ] && break
                sleep 0.2
        done
        [ "$got" = "host-side-$TAG" ]
        tap_ok $? "default-restricted: the pod reaches its host side ($GWR:18080, an httpd in the test's namespace)" ||
                diag restr-get
        kill "$httpd_pid" 2>/dev/null
        wait "$httpd_pid" 2>/dev/null
        stop_pod "$UR" "$PR"
        left=$(net_leftovers "$UR" "$AR")
        [ -z "$left" ] && [ -z "$(veths)" ] && [ -z "$(leases)" ]
        tap_ok $? "stopped: nothing of its network left" || tap_diag "$left" "$(veths)" "$(leases)"
else
        tap_ok 1 "a pod on default-restricted"
fi

# --- 6. two networks at once ------------------------------------------------------------

if start_pod two app --net=default,default-restricted "$bb" --name=app --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'; then
        UT=$UUID PT=$RUNPID
        # shellcheck disable=SC2016 # the app shell's
        np two-addr enter "$UT" /bin/sh -c 'for i in eth0 eth1; do echo "$i $(ip -o -4 addr show dev $i | awk "{print \$4}" | tr "\n" " ")"; done'
        e0=$(out two-addr | sed -n 's/^eth0 //p')
        e1=$(out two-addr | sed -n 's/^eth1 //p')
        T0=$(pod_ip "$UT" default)
        T1=$(pod_ip "$UT" default-restricted)
        [ "$RC" = 0 ] && [ "$e0" = "$T0/24 " ] && [ "$e1" = "$T1/16 " ] && in_subnet "$T0" 172.16.28. && in_subnet "$T1" 172.31.
        tap_ok $? "--net=default,default-restricted: eth0 has one address ($e0), eth1 one ($e1)" ||
                { diag two-addr; tap_diag "status: default $T0, default-restricted $T1"; }
        np two-st status "$UT"
        np two-json status --format=json "$UT"
        grep -qxF "networks=default:ip4=$T0,default-restricted:ip4=$T1" "$H/two-st.out" &&
                jq -e '[.networks[] | .name + "@" + .interface] == ["default@eth0", "default-restricted@eth1"]' \
                        "$H/two-json.out" >/dev/null
        tap_ok $? "status shows both: networks=default:ip4=$T0,default-restricted:ip4=$T1 (and JSON, eth0 and eth1)" ||
                { diag two-st; diag two-json; }
        [ -s "$POD/net/00-default.json" ] && [ -s "$POD/net/01-default-restricted.json" ] && [ "$(veths | wc -l)" = 2 ]
        tap_ok $? "two records (net/00-default.json, net/01-default-restricted.json) and two veths" ||
                tap_diag "$(ls -l "$POD/net" 2>&1)" "$(veths)"
        stop_pod "$UT" "$PT"
        left=$(net_leftovers "$UT" "$T0" "$T1")
        [ -z "$left" ] && [ -z "$(veths)" ] && [ -z "$(leases)" ]
        tap_ok $? "stopped: nothing of either network left" || tap_diag "$left" "$(veths)" "$(leases)"
else
        tap_ok 1 "a pod on two networks"
fi

# --- 6b. DNS and hosts reach every app ---------------------------------------------------

# Two apps; the second's image has an /etc/hosts of its own, which
# --hosts-entry goes over.
cp -a "$images/busybox" "$images/ownhosts" &&
        jq '.name = "example.com/busybox-ownhosts"' "$images/busybox/manifest" >"$images/ownhosts/manifest" &&
        printf '127.0.0.1 localhost\n10.0.0.99 image-only\n' >"$images/ownhosts/rootfs/etc/hosts"
DNS_SH='echo "RESOLV $(tr "\n" "|" </etc/resolv.conf)"; echo "HOSTS $(tr "\n" "|" </etc/hosts)"'
run_pod dns --dns=192.0.2.1 --dns=192.0.2.2 --dns-search=example.org --dns-search=corp.test --dns-opt=ndots:2 \
        --dns-domain=example.org --hosts-entry=10.9.8.7=db,10.9.8.6=cache "$bb" --name=one --exec=/bin/sh -- -c "$DNS_SH" \
        --- "$images/ownhosts" --name=two --exec=/bin/sh -- -c "$DNS_SH"
ok=0
for a in one two; do
        r=$(tr -d '\r' <"$H/dns.out" | grep "^$a\[[0-9]*\]: RESOLV " | head -n 1)
        h=$(tr -d '\r' <"$H/dns.out" | grep "^$a\[[0-9]*\]: HOSTS " | head -n 1)
        case $r in *"|nameserver 192.0.2.1|nameserver 192.0.2.2|search example.org corp.test|options ndots:2|domain example.org|"*) ;; *) ok=1 ;; esac
        case $h in *"10.9.8.7	db|10.9.8.6	cache|"*) ;; *) ok=1 ;; esac
done
tr -d '\r' <"$H/dns.out" | grep -q 'image-only' && ok=1
[ "$RC" = 0 ] && [ "$ok" = 0 ]
tap_ok $? "--dns, --dns-search, --dns-opt, --dns-domain and --hosts-entry land in both apps' /etc/resolv.conf and /etc/hosts (over an image's own hosts)" ||
        diag dns

printf '%s\n' '{' '  "cniVersion": "1.0.0",' '  "name": "withdns",' '  "plugins": [' \
        '    { "type": "ptp", "ipMasq": false,' \
        "      \"ipam\": { \"type\": \"host-local\", \"subnet\": \"10.124.0.0/24\", \"dataDir\": \"$H/ipam\" }," \
        '      "dns": { "nameservers": ["198.51.100.53"], "search": ["cni.test"] } }' '  ]' '}' \
        >"$CFG/net.d/20-withdns.conflist"
run_pod cnidns --local-config="$CFG" --net=withdns "$bb" --name=app --exec=/bin/sh -- -c "$DNS_SH"
r=$(tr -d '\r' <"$H/cnidns.out" | grep 'RESOLV ' | head -n 1)
[ "$RC" = 0 ] && case $r in *'from network "withdns"'*"|nameserver 198.51.100.53|search cni.test|"*) true ;; *) false ;; esac
tap_ok $? "without --dns: the network's DNS (its CNI result) is the pods' /etc/resolv.conf" || diag cnidns

run_pod nodns --dns=none "$bb" --name=app --exec=/bin/sh -- -c '[ -e /etc/resolv.conf ] && echo HAS || echo NONE'
[ "$RC" = 0 ] && said nodns NONE
tap_ok $? "--dns=none: the app keeps its image's (none here)" || diag nodns

# --- 7. Redis on the default network -----------------------------------------------------

have_redis=0
if [ -x /usr/bin/redis-check-rdb ] && command -v redis-cli >/dev/null 2>&1; then
        "$HARNESS_SRC_ROOT/tests/images/build-redis" "$images" >>"$H/images.log" 2>&1 &&
                cp -a "$images/redis" "$images/redisp" &&
                jq '.name = "example.com/redis-port" | .app.ports = [{"name": "redis", "protocol": "tcp", "port": 6379}]' \
                        "$images/redis/manifest" >"$images/redisp/manifest"
        if tap_ok $? "a redis image (tests/images/build-redis) declaring the port redis/tcp/6379"; then
                have_redis=1
        else
                tap_diag "$(tail -n 20 "$H/images.log")"
        fi
fi
if [ "$have_redis" = 1 ]; then
        # The image's configuration binds 127.0.0.1 only: on a network of its
        # own the pod must listen on eth0 too.
        if start_pod redis - --port=redis:16379 "$images/redisp" --name=redis -- /etc/redis/redis.conf \
                --bind 0.0.0.0 --protected-mode no; then
                URD=$UUID PRD=$RUNPID
                ARD=""
                for ((i = 0; i < 100; i++)); do
                        ARD=$(pod_ip "$URD")
                        [ -n "$ARD" ] && break
                        harness_pid_alive "$PRD" || break
                        sleep 0.1
                done
                redis_ping "$ARD" 6379
                tap_ok $? "redis-server in a pod on the default network: redis-cli -h $ARD (its address) PING answers PONG" ||
                        tap_diag "got: $PONG" "$(sed 's/\x1b\[[0-9;]*m//g' "$H/redis.log" | tail -n 20)"
                redis_ping 127.0.0.1 16379
                tap_ok $? "--port=redis:16379: redis-cli -h 127.0.0.1 -p 16379 PING answers PONG" || tap_diag "got: $PONG"
                value="np-$TAG"
                set_reply=$(harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p 16379 set nspawn-pod-net "$value" 2>&1)
                get_reply=$(harness_in_net timeout 5 redis-cli -h "$ARD" -p 6379 get nspawn-pod-net 2>&1)
                [ "$set_reply" = OK ] && [ "$get_reply" = "$value" ]
                tap_ok $? "redis: SET through the published port, GET by the pod's address: the same value" ||
                        tap_diag "set: $set_reply" "get: $get_reply"
                stop_pod "$URD" "$PRD"
                left=$(net_leftovers "$URD" "$ARD")
                ! harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p 16379 ping >/dev/null 2>&1 && [ -z "$left" ]
                tap_ok $? "redis stopped: nothing answers on 127.0.0.1:16379, nothing of its network left" || tap_diag "$left"
        else
                tap_ok 1 "a redis pod with --port=redis:16379"
        fi
else
        tap_skip "Redis in a pod on the default network (by address and published port)" \
                "redis-tools (/usr/bin/redis-check-rdb, redis-cli) not installed: run build-aux/install-deps"
fi

# --- 8. 20 pods at once, ended three ways ----------------------------------------------------

N=20
np gc-before gc --grace-period=0
veth0=$(veths | wc -l)
lease0=$(leases | wc -l)
ns0=$(test_netns | wc -l)
ipt_pod >"$H/ipt.before20"
for ((k = 1; k <= N; k++)); do
        start_bg "m$k" "$bb" --name=app --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'
done
# All up within 240 s (boots on a small machine), or whichever ended.
for ((i = 0; i < 2400; i++)); do
        up=0 alive=0
        for ((k = 1; k <= N; k++)); do
                is_up "m$k" app && up=$((up + 1))
                harness_pid_alive "${PID_OF[m$k]}" && alive=$((alive + 1))
        done
        [ "$up" = "$N" ] && break
        [ "$alive" -lt "$N" ] && break
        sleep 0.1
done
[ "$up" = "$N" ]
tap_ok $? "$N pods started at once on the default network: all up ($up)" ||
        for ((k = 1; k <= N; k++)); do
                is_up "m$k" app ||
                        tap_diag "m$k:" "$(sed 's/\x1b\[[0-9;]*m//g' "$H/m$k.log" 2>&1 | tail -n 10)"
        done
declare -A ADDR_OF=()
for ((k = 1; k <= N; k++)); do
        [ -n "${UUID_OF[m$k]}" ] && ADDR_OF[m$k]=$(pod_ip "${UUID_OF[m$k]}")
done
addrs=$(for ((k = 1; k <= N; k++)); do echo "${ADDR_OF[m$k]:-}"; done | grep -c '^172\.16\.28\.')
distinct=$(for ((k = 1; k <= N; k++)); do echo "${ADDR_OF[m$k]:-}"; done | grep '^172\.16\.28\.' | sort -u | wc -l)
[ "$addrs" = "$N" ] && [ "$distinct" = "$N" ] && [ "$(veths | wc -l)" = $((veth0 + N)) ] &&
        [ "$(leases | wc -l)" = $((lease0 + N)) ]
tap_ok $? "$N addresses in 172.16.28.0/24, $distinct distinct; $N more veths and leases" ||
        tap_diag "$(for ((k = 1; k <= N; k++)); do echo "m$k ${UUID_OF[m$k]} ${ADDR_OF[m$k]:-}"; done)" \
                "veths: $(veths | wc -l) (before $veth0), leases: $(leases | wc -l) (before $lease0)"
# 1-7: stop --wait; 8-14: SIGKILL of run and nspawn; 15-20: stop, then wait for run.
for ((k = 1; k <= 7; k++)); do
        stop_pod "${UUID_OF[m$k]}" "${PID_OF[m$k]}"
done
for ((k = 8; k <= 14; k++)); do
        [ -n "${UUID_OF[m$k]}" ] && kill_pod "${UUID_OF[m$k]}" "${PID_OF[m$k]}"
done
for ((k = 15; k <= N; k++)); do
        [ -n "${UUID_OF[m$k]}" ] && harness_np_run stop "${UUID_OF[m$k]}" >/dev/null 2>&1
done
for ((k = 15; k <= N; k++)); do
        harness_np_wait "${PID_OF[m$k]}" 60 >/dev/null 2>&1
done
killed_ns=0
for ((k = 8; k <= 14; k++)); do
        [ -e "/run/netns/nspawn-pod-${UUID_OF[m$k]}" ] && killed_ns=$((killed_ns + 1))
done
tap_diag "observed: before gc, $killed_ns of the 7 SIGKILLed pods still have their network namespace; veths: $(veths | wc -l)"
np gc-20 gc --grace-period=0
rc_gc=$RC
ns_left=0 uuid_rules=0
for ((k = 1; k <= N; k++)); do
        u=${UUID_OF[m$k]}
        [ -n "$u" ] || continue
        [ -e "/run/netns/nspawn-pod-$u" ] && ns_left=$((ns_left + 1))
        ipt_all | grep -F "$u" >/dev/null && uuid_rules=$((uuid_rules + 1))
done
veth1=$(veths | wc -l)
lease1=$(leases | wc -l)
ns1=$(test_netns | wc -l)
rules_diff=$(diff "$H/ipt.before20" <(ipt_pod))
[ "$rc_gc" = 0 ] && [ "$veth1" = "$veth0" ] && [ "$lease1" = "$lease0" ] && [ "$ns1" = "$ns0" ] && [ "$ns_left" = 0 ] &&
        [ "$uuid_rules" = 0 ] && [ -z "$rules_diff" ]
tap_ok $? "7 stopped, 7 SIGKILLed (run + nspawn), 6 stopped, then gc: veths $veth1 (before $veth0), leases $lease1 ($lease0), netns files $ns1 ($ns0), per-pod rules as before" ||
        { diag gc-20; tap_diag "netns files of these pods: $ns_left, pods with rules naming them: $uuid_rules" \
                "$(veths)" "$(leases)" "rules diff:" "$rules_diff"; }
mapfile -t u20 < <(for ((k = 1; k <= N; k++)); do [ -z "${UUID_OF[m$k]}" ] || echo "${UUID_OF[m$k]}"; done)
left=$(harness_np_uuid_leftovers "${u20[@]}")
[ -z "$left" ] && harness_np_leftovers >/dev/null
tap_ok $? "and nothing else of the $N pods is left (pod dirs, mounts, processes, cgroups; harness_np_leftovers clean)" ||
        tap_diag "$left" "$(harness_np_leftovers)"

# --- 9. failing networks leave nothing -----------------------------------------------------

# failed_run NAME NET: `run --local-config=CFG --net=NET` of a pod whose
# network must fail; sets RC, UUID and POD (found among the new pod
# directories if the UUID file is not written).
failed_run() {
        local name=$1 net=$2 before
        before=$(harness_np_uuids)
        run_pod "$name" --local-config="$CFG" --net="$net" "$bb" --name=app --exec=/bin/true
        if [ -z "$UUID" ]; then
                UUID=$(comm -13 <(printf '%s\n' "$before") <(harness_np_uuids) | head -n 1)
                [ -n "$UUID" ] && HARNESS_NP_UUIDS+=("$UUID")
        fi
        POD=""
        [ -n "$UUID" ] && POD=$(harness_np_pod_dir "$UUID")
        return 0
}
# nothing_left NAME IPAMDIR: after a failed run: no network namespace file,
# no record in POD/net, no veth, no lease (in D/cni-networks nor IPAMDIR),
# no rule naming the pod, no per-pod rule at all beyond ipt.start's.
nothing_left() {
        local left
        left=$(net_leftovers "$UUID")
        [ -n "$UUID" ] && [ -z "$left" ] && [ -z "$(veths)" ] && [ -z "$(leases)" ] && [ -z "$(leases "$2")" ] &&
                [ -z "$(comm -13 "$H/ipt.start" <(ipt_pod))" ] && return 0
        tap_diag "uuid: ${UUID:-none}" "left of the pod: $left" "veths: $(veths)" "leases: $(leases) $(leases "$2")" \
                "$(ls -la "$POD/net" 2>&1)"
        return 1
}
# gc_removes NAME: gc --grace-period=0 removes the failed pod's directory.
gc_removes() {
        np "$1-gc" gc --grace-period=0
        [ "$RC" = 0 ] && [ -n "$UUID" ] && ! harness_np_pod_dir "$UUID" >/dev/null
}

# (a) a plugin that does not exist.
cat >"$CFG/net.d/20-nosuch.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "nosuch", "plugins": [{"type": "nosuchplugin"}]}
EOF
failed_run nosuch nosuch
[ "$RC" = 254 ] && grep -q nosuch "$H/nosuch.err" && grep -q nosuchplugin "$H/nosuch.err"
tap_ok $? "--net=nosuch (plugin type nosuchplugin): run fails with 254, naming the network and the plugin" ||
        diag nosuch
tap_diag "message: $(grep -m1 nosuchplugin "$H/nosuch.err")"
nothing_left nosuch "$H/ipam-nosuch"
tap_ok $? "and leaves nothing: no netns file, record, veth, lease or rule"
gc_removes nosuch
tap_ok $? "gc --grace-period=0 then removes the pod" || diag nosuch-gc

# (b) a chain failing half-way: ptp and host-local succeed, then the missing
# plugin: what the first made must go (veth, lease, rules).
cat >"$CFG/net.d/30-halfway.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "halfway",
  "plugins": [
    {"type": "ptp", "ipMasq": true,
     "ipam": {"type": "host-local", "subnet": "10.124.0.0/24", "dataDir": "$H/ipam-halfway"}},
    {"type": "nosuchplugin"}
  ]
}
EOF
failed_run halfway halfway
[ "$RC" = 254 ] && grep -q halfway "$H/halfway.err" && grep -q nosuchplugin "$H/halfway.err"
tap_ok $? "--net=halfway (ptp + host-local, then nosuchplugin): 254, naming the network and the plugin" || diag halfway
tap_diag "message: $(grep -m1 nosuchplugin "$H/halfway.err")"
nothing_left halfway "$H/ipam-halfway"
tap_ok $? "and what ptp and host-local had made is undone: no veth, lease (10.124.0.x), masquerade rule, netns or record"
gc_removes halfway
tap_ok $? "gc --grace-period=0 then removes the pod" || diag halfway-gc

# (c) a bridge network with an invalid subnet.
BRX=npbx-$TAG
remove_bridge_at_exit "$BRX"
cat >"$CFG/net.d/40-badsubnet.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "badsubnet",
  "plugins": [
    {"type": "bridge", "bridge": "$BRX", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "subnet": "10.300.0.0/24", "dataDir": "$H/ipam-badsubnet"}}
  ]
}
EOF
failed_run badsubnet badsubnet
[ "$RC" = 254 ] && grep -q badsubnet "$H/badsubnet.err" && grep -qE 'bridge|host-local' "$H/badsubnet.err"
tap_ok $? "--net=badsubnet (bridge, subnet 10.300.0.0/24): 254, naming the network and the plugin" || diag badsubnet
tap_diag "message: $(grep -m1 badsubnet "$H/badsubnet.err")"
nothing_left badsubnet "$H/ipam-badsubnet"
tap_ok $? "and leaves nothing: no netns file, record, veth, lease or rule"
if harness_in_net ip -o link show dev "$BRX" >/dev/null 2>&1; then
        tap_diag "observed: the failed bridge ADD left the bridge $BRX (removed by the EXIT trap)"
else
        tap_diag "observed: no bridge $BRX after the failed ADD"
fi
gc_removes badsubnet
tap_ok $? "gc --grace-period=0 then removes the pod" || diag badsubnet-gc

# A good network afterwards still works.
# shellcheck disable=SC2016 # the app shell's
run_pod after-fail "$bb" --name=app --exec=/bin/sh -- -c 'echo "ADDR=$(ip -o -4 addr show dev eth0 | awk "{print \$4}")"'
addr=$(app_said after-fail ADDR=)
[ "$RC" = 0 ] && in_subnet "$addr" 172.16.28.
tap_ok $? "after the failures a pod on the default network runs and gets $addr" || diag after-fail

# --- the end: nothing at all left ------------------------------------------------------------

np gc-all gc --grace-period=0
left=$(harness_np_uuid_leftovers "${HARNESS_NP_UUIDS[@]}")
[ "$RC" = 0 ] && [ -z "$left" ] && harness_np_leftovers >/dev/null && [ -z "$(comm -13 "$H/ipt.start" <(ipt_pod))" ]
tap_ok $? "gc of every pod: no pod, mount, process, cgroup, netns, veth, lease or per-pod rule left" ||
        { diag gc-all; tap_diag "$left" "$(harness_np_leftovers)" "$(comm -13 "$H/ipt.start" <(ipt_pod))"; }
shared=$(ipt_all | grep -c 'CNI-HOSTPORT-')
tap_diag "observed: $shared iptables lines of portmap's shared CNI-HOSTPORT-* chains remain in the test's namespace (it goes with them)"

tap_done
