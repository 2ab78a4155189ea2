#!/usr/bin/env bash
# Provisioning, end to end, from the unpacked distribution: hubctl provision makes a link, the
# served script passes shellcheck, runs for real with HUB_PREFIX in a temp folder and a stand-in
# systemctl first on PATH (it starts the installed unit's ExecStart under the prefix), and the node
# joins with the token's labels; a second run changes nothing; --uninstall removes what it
# installed; injection attempts are refused; every refusal is problem+json.
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
problem() { # url expected-status: the answer is that status and problem+json with an error id
  local out; out=$(curl -s -o "$work/body" -w '%{http_code} %{content_type}' "$1")
  [ "${out%% *}" = "$2" ] || fail "$1 answered ${out%% *}, expected $2"
  case "$out" in *application/problem+json*) ;; *) fail "$1 answered $out, not problem+json" ;; esac
  grep -q '"errorId"' "$work/body" || fail "$1: no error id"
  ! grep -q '#!/bin/sh' "$work/body" || fail "$1 served a script"
}

command -v shellcheck >/dev/null || fail "shellcheck is not installed"
http_port=$(free_port); grpc_port=$(free_port)
export HUB_URL="http://127.0.0.1:$http_port"
"$HUB/bin/hubd" --data-dir "$work/data" --bind 127.0.0.1 --http-port "$http_port" --grpc-port "$grpc_port" \
  >>"$work/hubd.log" 2>&1 &
hubd_pid=$!
wait_until 60 curl -fsS "$HUB_URL/readyz" || fail "hubd did not become ready"
export HUB_TOKEN; HUB_TOKEN=$(cat "$work/data/admin.token")

echo "provision: link and script"
"$HUB/bin/hubctl" provision --uses 1 -l role=web -l zone=eu-1 --hub-address "127.0.0.1:$grpc_port" \
  >"$work/link" 2>"$work/link.err" || fail "hubctl provision"
url=$(sed -n "1s/^curl -fsSL '\([^']*\)' | sudo sh$/\1/p" "$work/link")
[ -n "$url" ] || fail "no one-liner in: $(cat "$work/link")"
sha=$(sed -n "s/^echo '\([0-9a-f]*\)  hub-agent-install.sh' | sha256sum -c -$/\1/p" "$work/link")
curl -fsS -o "$work/install.sh" "$url" || fail "cannot fetch the script"
echo "$sha  $work/install.sh" | sha256sum -c - >/dev/null || fail "the script's checksum does not match the printed one"
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
problem "$HUB_URL/api/v1/provisioning/script?token=hjt_unknownunknownunknown" 401
problem "$url" 401                                   # its one use is spent: used up
problem "$HUB_URL/api/v1/provisioning/script" 401    # no token
revoked=$("$HUB/bin/hubctl" tokens create 2>/dev/null)
"$HUB/bin/hubctl" tokens revoke "$("$HUB/bin/hubctl" tokens ls -o json | sed -n 's/^    "id" : "\([^"]*\)",$/\1/p' | head -1)" >/dev/null
problem "$HUB_URL/api/v1/provisioning/script?token=$revoked" 401
expiring=$("$HUB/bin/hubctl" tokens create --ttl 1s 2>/dev/null); sleep 2
problem "$HUB_URL/api/v1/provisioning/script?token=$expiring" 401
fresh=$("$HUB/bin/hubctl" tokens create 2>/dev/null)
problem "$HUB_URL/api/v1/provisioning/script?token=$fresh&hub=%24(touch%20$work/pwned):1" 400
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
