#!/usr/bin/env bash
# The .deb packages and man pages, checked on this machine as root (run by .ci/run after the build):
#   - every rendered man page formats without warnings (man -l);
#   - mesh-hub and hub-agent install with dpkg -i; hubd, hubctl and hub-agent --version run from
#     /usr/bin; system users exist; conffiles are in place with their modes; man finds the pages;
#   - the installed units pass systemd-analyze verify (their ExecStart and man pages now exist);
#   - the agent unit is the one the provisioning artifact installs;
#   - each package has its copyright and changelog, mesh-hub hubctl's bash completion;
#   - the packaged hubd serves TLS with a CA it made, and 'hubd ca show' prints its pin;
#   - both purge cleanly, leaving the machine as it was.
set -euo pipefail
cd "$(dirname "$0")/../../.."
TARGET=$PWD/packaging/target
fail() { echo "deb: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (it installs packages)"

mesh=$(ls "$TARGET"/mesh-hub_*_all.deb)
agent=$(ls "$TARGET"/hub-agent_*_all.deb)

echo "deb: man -l on every page"
pages=0
for page in "$TARGET"/hub/man/*; do
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man -l $page failed: $out"
  [ -z "$out" ] || fail "man -l $page warned: $out"
  MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q '^NAME' || fail "$page has no NAME section"
  pages=$((pages + 1))
done
[ "$pages" -ge 3 ] || fail "only $pages man pages in $TARGET/hub/man"
for p in hubctl.1 hubctl-nodes-ls.1 hubctl-shell.1 hubd.8 hub-agent.8; do
  [ -f "$TARGET/hub/man/$p" ] || fail "missing man page $p"
done

# It installs, runs and purges the packages: never on a machine where they are really in use.
if dpkg-query -W -f='${Status}' mesh-hub 2>/dev/null | grep -q installed \
  || dpkg-query -W -f='${Status}' hub-agent 2>/dev/null | grep -q installed \
  || [ -n "$(ls -A /var/lib/hubd 2>/dev/null)" ]; then
  fail "mesh-hub or hub-agent is installed here, or /var/lib/hubd has data: not touching them"
fi
cleanup() { dpkg --purge mesh-hub hub-agent >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

echo "deb: dpkg -i $(basename "$mesh") $(basename "$agent")"
export DEBIAN_FRONTEND=noninteractive
dpkg -i "$mesh" "$agent" >/tmp/deb-install.log 2>&1 || { cat /tmp/deb-install.log >&2; fail "dpkg -i"; }

v=$(hubd --version) || fail "hubd --version"
echo "deb: $v"; [[ "$v" == hubd\ * ]] || fail "hubd --version said '$v'"
v=$(hubctl --version) || fail "hubctl --version"
echo "deb: $v"; [[ "$v" == hubctl\ * ]] || fail "hubctl --version said '$v'"
v=$(hub-agent --version) || fail "hub-agent --version"
echo "deb: $v"; [[ "$v" == hub-agent\ * ]] || fail "hub-agent --version said '$v'"

# postinst made hubctl's start-up archive for /opt/hub and this Java; -Xshare:on fails if it
# cannot be used, rather than falling back.
if ! [ -r /opt/hub/lib/hubctl.jsa ] || ! [ -r /opt/hub/lib/hubctl.jsa.key ]; then
  fail "no hubctl CDS archive"
fi
java -Xshare:on -XX:SharedArchiveFile=/opt/hub/lib/hubctl.jsa -cp '/opt/hub/lib/hubctl/*' \
  hub.hubctl.HubctlMain --version >/dev/null || fail "the installed hubctl CDS archive does not map"

getent passwd hubd >/dev/null || fail "no hubd user"
[ "$(stat -c '%U %a' /var/lib/hub-agent)" = "root 700" ] || fail "/var/lib/hub-agent: $(stat -c '%U %a' /var/lib/hub-agent)"
[ -z "$(systemctl show hub-agent -p User --value 2>/dev/null)" ] || fail "hub-agent.service names a User= (it runs as root)"
[ "$(stat -c '%U %a' /var/lib/hubd)" = "hubd 750" ] || fail "/var/lib/hubd: $(stat -c '%U %a' /var/lib/hubd)"
[ "$(stat -c '%U %G %a' /etc/hubd/hubd.conf)" = "root hubd 640" ] || fail "/etc/hubd/hubd.conf mode"
[ "$(stat -c '%U %a' /etc/hub-agent/agent.env)" = "root 600" ] || fail "/etc/hub-agent/agent.env mode"
dpkg-query -W -f='${Conffiles}\n' mesh-hub | grep -q /etc/hubd/hubd.conf || fail "hubd.conf is not a conffile"
dpkg-query -W -f='${Conffiles}\n' mesh-hub | grep -q /etc/hubd/hubd.env || fail "hubd.env is not a conffile"
dpkg-query -W -f='${Conffiles}\n' hub-agent | grep -q /etc/hub-agent/agent.env || fail "agent.env is not a conffile"
[ "$(man -w hubctl)" = /usr/share/man/man1/hubctl.1.gz ] || fail "man -w hubctl: $(man -w hubctl)"
[ "$(man -w 8 hubd)" = /usr/share/man/man8/hubd.8.gz ] || fail "man -w 8 hubd"
[ "$(man -w 8 hub-agent)" = /usr/share/man/man8/hub-agent.8.gz ] || fail "man -w 8 hub-agent"
man hubctl-nodes-ls 2>/dev/null | grep -q 'hubctl-nodes-ls' || fail "man hubctl-nodes-ls shows nothing"
man -w hubctl-nodes-ls >/dev/null || fail "man -w hubctl-nodes-ls"

for p in mesh-hub hub-agent; do
  grep -q '^License: Apache-2.0' "/usr/share/doc/$p/copyright" || fail "$p has no copyright file"
  zcat "/usr/share/doc/$p/changelog.gz" | head -n 1 | grep -q "^$p (" || fail "$p has no changelog.gz"
done
grep -q 'complete .*hubctl' /usr/share/bash-completion/completions/hubctl || fail "no bash completion for hubctl"
bash -c 'source /usr/share/bash-completion/completions/hubctl && complete -p hubctl' >/dev/null \
  || fail "the bash completion does not load"

echo "deb: systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/hubd.service /lib/systemd/system/hub-agent.service \
  || fail "systemd-analyze verify"

# What the unit runs, run as the unit would (no systemd here): the hubd user, the packaged config,
# state in /var/lib/hubd. It must come up, write its admin token there, and stop on SIGTERM.
echo "deb: hubd as the hubd user on the packaged config"
port=$(( (RANDOM % 20000) + 30000 ))
runuser -u hubd -- env HUB_DATA_DIR=/var/lib/hubd HUB_HTTP_PORT=$port HUB_GRPC_PORT=$((port + 1)) \
  HUB_BIND=127.0.0.1 /opt/hub/bin/hubd --config /etc/hubd/hubd.conf >/tmp/deb-hubd.log 2>&1 &
hubd_pid=$!
up=""
for _ in $(seq 1 300); do
  if curl -fsS --cacert /var/lib/hubd/tls/ca.crt "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] || { cat /tmp/deb-hubd.log >&2; fail "hubd from the package did not become ready over HTTPS"; }
[ "$(stat -c '%U %a' /var/lib/hubd/admin.token)" = "hubd 600" ] || fail "admin.token: $(stat -c '%U %a' /var/lib/hubd/admin.token)"
[ "$(stat -c '%U %a' /var/lib/hubd/tls/ca.key)" = "hubd 600" ] || fail "ca.key: $(stat -c '%U %a' /var/lib/hubd/tls/ca.key)"
pin=$(hubd ca show --data-dir /var/lib/hubd --pin) || fail "hubd ca show"
HUB_URL=https://127.0.0.1:$port HUB_CA=/var/lib/hubd/tls/ca.crt hubctl --token "$(cat /var/lib/hubd/admin.token)" \
  status | grep -q "CA pin $pin" || fail "hubctl status against the packaged hubd"
kill -TERM "$hubd_pid"
wait "$hubd_pid" || { code=$?; [ "$code" = 143 ] || fail "hubd exited $code on SIGTERM"; }
rm -rf /var/lib/hubd/*

# Provisioning installs the unit from the agent artifact hubd serves: it must be this one.
tmp=$(mktemp -d)
tar -xzf /opt/hub/lib/hub-agent.tar.gz -C "$tmp"
cmp "$tmp/systemd/hub-agent.service" /lib/systemd/system/hub-agent.service \
  || fail "the agent unit in the provisioning artifact differs from the packaged one"
rm -rf "$tmp"

echo "deb: dpkg --purge"
dpkg --purge mesh-hub hub-agent >/tmp/deb-purge.log 2>&1 || { cat /tmp/deb-purge.log >&2; fail "dpkg --purge"; }
for f in /usr/bin/hubd /usr/bin/hubctl /usr/bin/hub-agent /opt/hub /opt/hub-agent /lib/systemd/system/hubd.service \
  /etc/hubd/hubd.conf /etc/hub-agent/agent.env; do
  [ ! -e "$f" ] || fail "$f is left after purge"
done
trap - EXIT
echo "deb: ok"
