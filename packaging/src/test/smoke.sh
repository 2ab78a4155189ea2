#!/usr/bin/env bash
# Smoke test of the unpacked distribution (packaging/target/hub), as a new user would run it, as
# the README's quick start says: hubd on its embedded defaults (TLS on, its CA made in the data
# dir), hubctl login trusting that CA, a join token from hubctl, a hub-agent that joins pinning the
# CA, kill -9 of the agent (offline at once), SIGTERM of hubd (exit 0), restart (node still listed,
# agent rejoins with its certificate and keeps its id). Also: the tarball's and the agent
# artifact's units start a program that their archive holds at the path they name.
set -euo pipefail
cd "$(dirname "$0")/../../.."
HUB=$PWD/packaging/target/hub
work=$(mktemp -d)
hubd_pid=""; agent_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null || true
  [ -n "$hubd_pid" ] && kill -9 "$hubd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "smoke: FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done >&2; exit 1; }

free_port() {
  local p
  while :; do
    p=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
wait_until() { # seconds, command...
  local t=$1; shift
  for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

http_port=$(free_port); grpc_port=$(free_port)
url="https://127.0.0.1:$http_port"
export HUBCTL_CONFIG="$work/hubctl-config"
start_hubd() {
  "$HUB/bin/hubd" --data-dir "$work/data" --bind 127.0.0.1 --http-port "$http_port" \
    --grpc-port "$grpc_port" --heartbeat-interval 1s >>"$work/hubd.log" 2>&1 &
  hubd_pid=$!
  wait_until 60 curl -fsS --cacert "$work/data/tls/ca.crt" "$url/readyz" || fail "hubd did not become ready"
}
node_field() { # node, jq-less field extraction from hubctl -o json
  "$HUB/bin/hubctl" nodes show "$1" -o json | sed -n "s/^  \"$2\" : \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p"
}

echo "smoke: version"
"$HUB/bin/hubd" --version | grep -q '^hubd ' || fail "hubd --version"
"$HUB/bin/hubctl" --version | grep -q '^hubctl ' || fail "hubctl --version"
# hubctl's start-up archive, made at package time for this path and Java, maps (-Xshare:on fails
# rather than falling back); a copy of hubctl moved elsewhere ignores it, silently.
java -Xshare:on -XX:SharedArchiveFile="$HUB/lib/hubctl.jsa" -cp "$HUB/lib/hubctl/*" hub.hubctl.HubctlMain \
  --version >/dev/null || fail "hubctl's CDS archive does not map"
mkdir -p "$work/moved/lib"
cp -r "$HUB/bin" "$work/moved/"
cp -r "$HUB/lib/hubctl" "$HUB/lib/hubctl.jsa" "$HUB/lib/hubctl.jsa.key" "$work/moved/lib/"
moved=$("$work/moved/bin/hubctl" --version 2>&1)
[ "$moved" = "$("$HUB/bin/hubctl" --version)" ] || fail "moved hubctl printed: $moved"
"$HUB/bin/hub-agent" --version | grep -q '^hub-agent ' || fail "hub-agent --version"

echo "smoke: the units start what their archives hold"
unit_exec() { sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1"; }
tarball=$(ls "$PWD"/packaging/target/hub-[0-9]*.tar.gz)
# The tarball unpacks to hub-VERSION/, which the README has the user move to /opt/hub.
exe=$(tar -xzOf "$tarball" --wildcards '*/systemd/hub-agent.service' | sed -n 's/^ExecStart=\([^ ]*\).*/\1/p')
[ "$exe" = /opt/hub/bin/hub-agent ] || fail "the tarball's hub-agent.service starts $exe, not /opt/hub/bin/hub-agent"
tar -tzf "$tarball" >"$work/tarball.list"
grep -qx 'hub-[^/]*/bin/hub-agent' "$work/tarball.list" || fail "the tarball has no bin/hub-agent"
grep -qx 'hub-[^/]*/LICENSE' "$work/tarball.list" || fail "the tarball has no LICENSE"
[ "$(unit_exec "$HUB/systemd/hubd.service")" = /opt/hub/bin/hubd ] || fail "hubd.service ExecStart"
[ -x "$HUB/bin/hubd" ] || fail "no bin/hubd"
agent_exe=$(tar -xzOf "$HUB/lib/hub-agent.tar.gz" systemd/hub-agent.service | sed -n 's/^ExecStart=\([^ ]*\).*/\1/p')
[ "$agent_exe" = /opt/hub-agent/bin/hub-agent ] || fail "the agent artifact's unit starts $agent_exe"
tar -tzf "$HUB/lib/hub-agent.tar.gz" >"$work/agent.list"
grep -qx 'bin/hub-agent' "$work/agent.list" || fail "the agent artifact has no bin/hub-agent"
[ -f "$HUB/LICENSE" ] || fail "no LICENSE in the distribution"

echo "smoke: start hubd (TLS on by default)"
start_hubd
[ "$(stat -c %a "$work/data/admin.token")" = 600 ] || fail "admin.token is not 0600"
[ "$(stat -c %a "$work/data/tls/ca.key")" = 600 ] || fail "ca.key is not 0600"
[ "$(stat -c %a "$work/data/tls/hub.key")" = 600 ] || fail "hub.key is not 0600"
grep -q 'ready: agents on 127.0.0.1:[0-9]*, HTTPS on' "$work/hubd.log" || fail "hubd did not say it serves HTTPS"
if curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1; then fail "the API answered plain HTTP"; fi
pin=$("$HUB/bin/hubd" ca show --data-dir "$work/data" --pin) || fail "hubd ca show"
case "$pin" in sha256:????????????????????????????????????????????????????????????????) ;; *) fail "pin: $pin" ;; esac

echo "smoke: hubctl login (trusting the CA from the data dir), join an agent pinning it"
"$HUB/bin/hubctl" login --hub "$url" --token-file "$work/data/admin.token" --ca-file "$work/data/tls/ca.crt" \
  >/dev/null || fail "hubctl login"
"$HUB/bin/hubctl" status | grep -q "CA pin $pin" || fail "hubctl status does not show the CA pin"
token=$("$HUB/bin/hubctl" tokens create --ttl 15m --uses 1 -l role=smoke 2>"$work/token.err")
grep -q -- "--ca-pin $pin --join-token $token" "$work/token.err" || fail "tokens create did not print the join command"
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc_port" --join-token "$token" --state-dir "$work/agent" \
  --name nopin >>"$work/nopin.log" 2>&1 && fail "an agent without a pin started"
grep -q "no way to verify the hub" "$work/nopin.log" || fail "the agent without a pin did not say why"
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc_port" --ca-pin "$pin" --join-token "$token" --state-dir "$work/agent" \
  --name smoke-1 >>"$work/agent.log" 2>&1 &
agent_pid=$!
wait_until 30 sh -c "'$HUB/bin/hubctl' nodes ls --status online | grep -q '^smoke-1 '" || fail "agent not online"
id=$(node_field smoke-1 id)
[ -n "$id" ] || fail "no node id"
[ "$(stat -c %a "$work/agent/node.pem")" = 600 ] || fail "node.pem is not 0600"
[ ! -e "$work/agent/credential" ] || fail "the agent got a bearer credential"
[ "$("$HUB/bin/hubctl" exec smoke-1 -- echo over tls)" = "over tls" ] || fail "exec over TLS"

echo "smoke: kill -9 the agent"
kill -9 "$agent_pid"; agent_pid=""
wait_until 3 sh -c "[ \"\$('$HUB/bin/hubctl' nodes show smoke-1 -o json | grep -c '\"stream closed\"')\" = 1 ]" \
  || fail "node not offline with reason 'stream closed' after kill -9"

echo "smoke: SIGTERM hubd"
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc_port" --ca-pin "$pin" --state-dir "$work/agent" --name smoke-1 \
  >>"$work/agent.log" 2>&1 &
agent_pid=$!
wait_until 30 sh -c "'$HUB/bin/hubctl' nodes ls --status online | grep -q '^smoke-1 '" || fail "agent did not reconnect"
kill -TERM "$hubd_pid"
set +e; wait "$hubd_pid"; rc=$?; set -e
hubd_pid=""
[ "$rc" = 0 ] || fail "hubd exited $rc on SIGTERM, expected 0"
grep -q "asked 1 agents to drain" "$work/hubd.log" || fail "hubd did not drain the agent"

echo "smoke: restart hubd"
start_hubd
"$HUB/bin/hubctl" nodes ls | grep -q '^smoke-1 ' || fail "node not listed after restart"
wait_until 90 sh -c "'$HUB/bin/hubctl' nodes ls --status online | grep -q '^smoke-1 '" || fail "agent did not rejoin"
[ "$(node_field smoke-1 id)" = "$id" ] || fail "node id changed across restart"

echo "smoke: errors"
set +e
"$HUB/bin/hubctl" nodes show no-such-node 2>"$work/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "hubctl error exit $rc, expected 1"
grep -q "error id" "$work/err" || fail "hubctl error without error id"

kill -TERM "$hubd_pid"; wait "$hubd_pid" || fail "hubd exit on second SIGTERM"; hubd_pid=""
echo "smoke: all checks passed"
