#!/usr/bin/env bash
# Provisioning, end to end, from the unpacked distribution, over TLS: hubctl provision prints a
# one-liner that curl runs pinned to the hub's key (the join token in a header, never in the URL),
# the served script passes shellcheck, runs for real with HUB_PREFIX in a temp folder and a
# stand-in systemctl first on PATH (it starts the installed unit's ExecStart under the prefix),
# downloads the agent verifying the hub's CA, and the node joins, pinning that CA, with the token's
# labels; a second run changes nothing; --uninstall removes what it installed; injection attempts
# are refused; every refusal is problem+json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
HUB=$PWD/packaging/target/hub
STANDIN=$PWD/packaging/src/test/systemctl-standin
work=$(mktemp -d)
hubd_pid=""
cleanup() {
  if [ -f "$work/root/hub-agent.pid" ]; then kill -9 "$(cat "$work/root/hub-agent.pid")" 2>/dev/null || true; fi
  if [ -n "$hubd_pid" ]; then kill -9 "$hubd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "provision: FAIL: $*" >&2; for f in "$work"/*.log "$work"/root/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2; exit 1; }
free_port() {
  local p
  while :; do
    p=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
wait_until() { local t=$1; shift; for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
problem() { # expected-status join-token [query]: the script route answers that status, problem+json
  local out auth=()
  [ -n "$2" ] && auth=(-H "Authorization: Bearer $2")
  out=$(curl -s --cacert "$HUB_CA" "${auth[@]}" -o "$work/body" -w '%{http_code} %{content_type}' \
    "$HUB_URL/api/v1/provisioning/script${3:-}")
  [ "${out%% *}" = "$1" ] || fail "script${3:-} with '$2' answered ${out%% *}, expected $1"
  case "$out" in *application/problem+json*) ;; *) fail "script${3:-} answered $out, not problem+json" ;; esac
  grep -q '"errorId"' "$work/body" || fail "script${3:-}: no error id"
  ! grep -q '#!/bin/sh' "$work/body" || fail "script${3:-} served a script"
}

command -v shellcheck >/dev/null || fail "shellcheck is not installed"
command -v curl >/dev/null || fail "curl is not installed"
http_port=$(free_port); grpc_port=$(free_port)
export HUB_URL="https://127.0.0.1:$http_port" HUB_CA="$work/data/tls/ca.crt"
"$HUB/bin/hubd" --data-dir "$work/data" --bind 127.0.0.1 --http-port "$http_port" --grpc-port "$grpc_port" \
  --advertise 127.0.0.1 >>"$work/hubd.log" 2>&1 &
hubd_pid=$!
wait_until 60 curl -fsS --cacert "$HUB_CA" "$HUB_URL/readyz" || fail "hubd did not become ready"
export HUB_TOKEN; HUB_TOKEN=$(cat "$work/data/admin.token")

echo "provision: link and script"
"$HUB/bin/hubctl" provision --uses 1 -l role=web -l zone=eu-1 --hub-address "127.0.0.1:$grpc_port" \
  >"$work/link" 2>"$work/link.err" || fail "hubctl provision"
one=$(head -n 1 "$work/link")
fetch=${one% | sudo sh}
[ "$fetch" != "$one" ] || fail "no one-liner in: $(cat "$work/link")"
case "$fetch" in
  "printf 'Authorization: Bearer %s\n' 'hjt_"*"' | curl -fsS -k --pinnedpubkey 'sha256//"*"' -H @- '$HUB_URL/"*) ;;
  *) fail "the one-liner is not a pinned curl with the token on stdin: $one" ;;
esac
token=$(printf '%s\n' "$fetch" | sed -n "s/^printf 'Authorization: Bearer %s\\\\n' '\(hjt_[A-Za-z0-9_-]*\)' .*/\1/p")
[ -n "$token" ] || fail "no token in the one-liner"
case "${fetch#*| curl}" in *"$token"*) fail "the token is in curl's arguments (ps shows them)" ;; esac
sha=$(sed -n "s/^echo '\([0-9a-f]*\)  hub-agent-install.sh' | sha256sum -c -$/\1/p" "$work/link")
sh -c "$fetch -o '$work/install.sh'" || fail "the printed one-liner cannot fetch the script"
echo "$sha  $work/install.sh" | sha256sum -c - >/dev/null || fail "the script's checksum does not match the printed one"
pin=$("$HUB/bin/hubd" ca show --data-dir "$work/data" --pin) || fail "hubd ca show"
grep -q "^HUB_CA_PIN='$pin'$" "$work/install.sh" || fail "the script does not pin the hub's CA ($pin)"
shellcheck -s sh "$work/install.sh" || fail "shellcheck"

mkdir -p "$work/bin" "$work/root"
cp "$STANDIN" "$work/bin/systemctl"; chmod +x "$work/bin/systemctl"
run_script() { PATH="$work/bin:$PATH" HUB_PREFIX="$work/root" sh "$work/install.sh" "$@" >>"$work/install.log" 2>&1; }
echo "provision: dry run, then install"
HUB_DRY_RUN=1 run_script || fail "the dry run failed"
grep -q "would run: install -m 0600 .* $work/root/etc/hub-agent/agent.env" "$work/install.log" \
  || fail "the dry run did not show the agent.env step"
grep -q "dry run: nothing was changed" "$work/install.log" || fail "the dry run did not say it changed nothing"
[ -z "$(find "$work/root" -type f)" ] || fail "the dry run wrote: $(find "$work/root" -type f)"
run_script || fail "the script failed"
[ "$(stat -c %a "$work/root/etc/hub-agent/agent.env")" = 600 ] || fail "agent.env is not 0600"
grep -q '^HUB_AGENT_CA_PIN=sha256:' "$work/root/etc/hub-agent/agent.env" || fail "agent.env does not pin the CA"
cmp -s "$work/root/etc/systemd/system/hub-agent.service" "$PWD/packaging/src/systemd/hub-agent.service" \
  || fail "the installed unit is not the one packaging ships"
wait_until 30 sh -c "'$HUB/bin/hubctl' nodes ls --status online -l role=web | grep -q ' online '" \
  || fail "the provisioned node is not online with role=web"
"$HUB/bin/hubctl" nodes ls -o json | grep -q '"zone" : "eu-1"' || fail "label zone=eu-1 missing"

echo "provision: a second run changes nothing"
snapshot() { (cd "$work/root" && find etc opt var -type f -print0 | sort -z | xargs -0 sha256sum); }
snapshot >"$work/before"
run_script || fail "the second run failed"
snapshot >"$work/after"
diff "$work/before" "$work/after" >/dev/null || fail "the second run changed files"
[ "$(grep -c 'restart hub-agent.service' "$work/root/systemctl.log")" = 1 ] || fail "the second run restarted the agent"
[ "$("$HUB/bin/hubctl" nodes ls -o json | grep -c '"id"')" = 1 ] || fail "the second run made a second node"

echo "provision: refusals are problem+json"
problem 401 hjt_unknownunknownunknown
problem 401 "$token"                                 # its one use is spent: used up
problem 401 ""                                       # no token
revoked=$("$HUB/bin/hubctl" tokens create 2>/dev/null)
"$HUB/bin/hubctl" tokens revoke "$("$HUB/bin/hubctl" tokens ls -o json | sed -n 's/^    "id" : "\([^"]*\)",$/\1/p' | head -1)" >/dev/null
problem 401 "$revoked"
expiring=$("$HUB/bin/hubctl" tokens create --ttl 1s 2>/dev/null); sleep 2
problem 401 "$expiring"
fresh=$("$HUB/bin/hubctl" tokens create 2>/dev/null)
problem 400 "$fresh" "?hub=%24(touch%20$work/pwned):1"
problem 400 "" "?token=$fresh"                       # never in a URL
grep -q "$fresh" "$work/body" && fail "the refusal echoed the token"
set +e
# shellcheck disable=SC2016 # the label is meant to hold shell code, unexpanded
"$HUB/bin/hubctl" provision -l 'role=$(touch '"$work"'/pwned)' >/dev/null 2>"$work/inj.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "a label with shell code was not refused (exit $rc)"
[ ! -e "$work/pwned" ] || fail "injection ran"

echo "provision: uninstall"
run_script --uninstall || fail "--uninstall failed"
for left in opt/hub-agent etc/hub-agent etc/systemd/system/hub-agent.service var/lib/hub-agent; do
  if [ -e "$work/root/$left" ]; then fail "--uninstall left $left"; fi
done
[ ! -f "$work/root/hub-agent.pid" ] || fail "the agent still runs"
wait_until 10 sh -c "'$HUB/bin/hubctl' nodes ls --status offline | grep -q ' offline '" || fail "node not offline"

kill -TERM "$hubd_pid"; wait "$hubd_pid" || fail "hubd exit"; hubd_pid=""
echo "provision: all checks passed"
