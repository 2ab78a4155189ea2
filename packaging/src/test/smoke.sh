#!/usr/bin/env bash
# Smoke test of the unpacked distribution (packaging/target/hub), as a new user would run it:
# hubd on its embedded defaults, a join token from hubctl, a hub-agent that joins, kill -9 of the
# agent (offline at once), SIGTERM of hubd (exit 0), restart (node still listed, agent rejoins
# with its credential and keeps its id).
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
export HUB_URL="http://127.0.0.1:$http_port"
start_hubd() {
  "$HUB/bin/hubd" --data-dir "$work/data" --bind 127.0.0.1 --http-port "$http_port" \
    --grpc-port "$grpc_port" --heartbeat-interval 1s >>"$work/hubd.log" 2>&1 &
  hubd_pid=$!
  wait_until 60 curl -fsS "$HUB_URL/readyz" || fail "hubd did not become ready"
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

echo "smoke: start hubd"
start_hubd
[ "$(stat -c %a "$work/data/admin.token")" = 600 ] || fail "admin.token is not 0600"
export HUB_TOKEN; HUB_TOKEN=$(cat "$work/data/admin.token")

echo "smoke: join an agent"
token=$("$HUB/bin/hubctl" tokens create --ttl 15m --uses 1 -l role=smoke 2>/dev/null)
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc_port" --join-token "$token" --state-dir "$work/agent" \
  --name smoke-1 >>"$work/agent.log" 2>&1 &
agent_pid=$!
wait_until 30 sh -c "'$HUB/bin/hubctl' nodes ls --status online | grep -q '^smoke-1 '" || fail "agent not online"
id=$(node_field smoke-1 id)
[ -n "$id" ] || fail "no node id"
[ "$(stat -c %a "$work/agent/credential")" = 600 ] || fail "credential is not 0600"

echo "smoke: kill -9 the agent"
kill -9 "$agent_pid"; agent_pid=""
wait_until 3 sh -c "[ \"\$('$HUB/bin/hubctl' nodes show smoke-1 -o json | grep -c '\"stream closed\"')\" = 1 ]" \
  || fail "node not offline with reason 'stream closed' after kill -9"

echo "smoke: SIGTERM hubd"
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc_port" --state-dir "$work/agent" --name smoke-1 >>"$work/agent.log" 2>&1 &
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
