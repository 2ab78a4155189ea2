#!/usr/bin/env bash
# The .deb under a real systemd: a Debian bookworm root (debootstrap, cached in
# /var/tmp/mesh-hub-bookworm-base; each run works on a fresh copy) booted with systemd-nspawn on a
# private network. Inside it: dpkg -i mesh-hub, systemd starts hubd as its user with the hardened
# unit, serving TLS with the CA it made (postinst prints its pin); the node is provisioned as a user
# would, with the one-liner 'hubctl provision' prints (curl pinned to the hub's key, the script
# pinning the CA for the agent); the agent joins and, as root, does an administrator's work through
# hubctl exec (dpkg -i, systemctl restart, a file in /etc), and runs --user tasks within the node's
# allowlist (agent.conf) and no others; systemctl stop
# ends hubd cleanly (Result=success), and it comes back with the node.
# Run by .ci/run as root after deb.sh; needs Debian's debootstrap and systemd-container.
# The commands given to `inside` are expanded in the container, hence in single quotes.
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/../../.."
TARGET=$PWD/packaging/target
BASE=/var/tmp/mesh-hub-bookworm-base
fail() { echo "systemd-boot: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root"

if [ ! -x "$BASE/usr/lib/systemd/systemd" ]; then
  echo "systemd-boot: debootstrap bookworm into $BASE (once)"
  rm -rf "$BASE.tmp"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openjdk-17-jre-headless,curl,man-db,procps \
    bookworm "$BASE.tmp" http://deb.debian.org/debian >/tmp/mesh-hub-debootstrap.log 2>&1 \
    || { tail -20 /tmp/mesh-hub-debootstrap.log >&2; fail "debootstrap"; }
  mv "$BASE.tmp" "$BASE"
fi

root=$(mktemp -d /var/tmp/mesh-hub-nspawn.XXXXXX)
nspawn_pid=""
cleanup() {
  if [ -n "$nspawn_pid" ]; then
    kill "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$root" "$root.log"
}
trap cleanup EXIT
cp -a "$BASE/." "$root/"
cp "$TARGET"/mesh-hub_*_all.deb "$root/root/"

echo "systemd-boot: boot the container"
systemd-nspawn -q -D "$root" --boot --register=no --keep-unit --private-network \
  --machine="meshhub$$" >"$root.log" 2>&1 &
nspawn_pid=$!
# The container's init: the process under nspawn that is PID 1 in its own PID namespace (nspawn
# also runs short-lived helper children, so "its first child" is not it).
container_init() {
  local p kids
  kids=$(pgrep -P "$nspawn_pid" || true)
  for p in $kids $(for k in $kids; do pgrep -P "$k" || true; done); do
    if awk '/^NSpid:/ { found = 1; ok = (NF > 2 && $NF == 1) } END { exit !(found && ok) }' \
        "/proc/$p/status" 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}
init=""
for _ in $(seq 1 150); do
  init=$(container_init || true)
  [ -n "$init" ] && break
  sleep 0.1
done
[ -n "$init" ] || { cat "$root.log" >&2; fail "the container did not start"; }
inside() { nsenter -t "$init" -a /bin/bash -c "$1"; }
# until_inside TRIES COMMAND: true once COMMAND succeeds in the container (every 0.2 s).
until_inside() {
  for _ in $(seq 1 "$1"); do
    if inside "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}
hubctl='HUB_URL=https://127.0.0.1:8080 HUB_CA=/var/lib/hubd/tls/ca.crt HUB_TOKEN=$(cat /var/lib/hubd/admin.token) hubctl'
online="$hubctl"' nodes ls --status online -l role=box | grep -q " online "'
ready='curl -fsS --cacert /var/lib/hubd/tls/ca.crt https://127.0.0.1:8080/readyz'
state=""
for _ in $(seq 1 150); do
  state=$(inside 'systemctl is-system-running 2>/dev/null' || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
case "$state" in running|degraded) ;; *) cat "$root.log" >&2; fail "systemd in the container: '$state'" ;; esac

echo "systemd-boot: dpkg -i, hubd started by systemd, serving TLS"
inside 'DEBIAN_FRONTEND=noninteractive dpkg -i /root/mesh-hub_*.deb >/root/install.log 2>&1' \
  || { inside 'cat /root/install.log' >&2; fail "dpkg -i"; }
until_inside 150 "$ready" || { inside 'systemctl status hubd --no-pager; journalctl -u hubd --no-pager | tail -30' >&2; fail "hubd not ready"; }
pin=$(inside 'hubd ca show --data-dir /var/lib/hubd --pin') || fail "hubd ca show"
inside 'cat /root/install.log' | grep -q "its CA pin is $pin" || fail "postinst did not print the CA pin"
[ "$(inside 'stat -c "%U %a" /var/lib/hubd/tls/ca.key')" = "hubd 600" ] || fail "ca.key owner/mode"
inside 'curl -fsS http://127.0.0.1:8080/readyz' >/dev/null 2>&1 && fail "hubd answered plain HTTP"
# This machine's private network has only loopback: agents reach the hub there, as --advertise says.
inside 'echo HUB_ADVERTISE=127.0.0.1 >>/etc/hubd/hubd.env && systemctl restart hubd'
until_inside 150 "$ready" || fail "hubd not ready after setting HUB_ADVERTISE"
[ "$(inside 'systemctl show hubd -p User --value')" = hubd ] || fail "hubd does not run as hubd"
[ "$(inside 'stat -c "%U %a" /var/lib/hubd/admin.token')" = "hubd 600" ] || fail "admin.token owner/mode"
inside 'journalctl -u hubd --no-pager' | grep -q 'ready: agents on' || fail "no ready line in hubd's journal"

echo "systemd-boot: provisioned with the pinned one-liner; the agent joins and runs a command"
inside "one=\$($hubctl provision -l role=box | head -n 1)"'
  case "$one" in *"--pinnedpubkey"*"| sudo sh") ;; *) echo "not a pinned one-liner: $one" >&2; exit 1 ;; esac
  sh -c "${one% | sudo sh} | sh" >/root/provision.log 2>&1' \
  || { inside 'cat /root/provision.log; journalctl -u hub-agent --no-pager | tail -20' >&2; fail "provisioning"; }
until_inside 150 "$online" || { inside 'journalctl -u hub-agent --no-pager | tail -20' >&2; fail "agent did not join"; }
inside "grep -q '^HUB_AGENT_CA_PIN=$pin\$' /etc/hub-agent/agent.env" || fail "the agent does not pin the hub's CA"
[ "$(inside 'stat -c "%U %a" /var/lib/hub-agent/node.pem')" = "root 600" ] || fail "node.pem owner/mode"
node=$(inside "$hubctl"' nodes ls -l role=box -o json' | sed -n 's/^    "name" : "\([^"]*\)",$/\1/p' | head -n 1)
[ -n "$node" ] || fail "no provisioned node listed"
who=$(inside "$hubctl exec $node -- id -un")
[ "$who" = root ] || fail "command ran as '$who', not root"

echo "systemd-boot: an administrator's work through hubctl exec: dpkg -i, systemctl restart, /etc"
# A local package with a service, built here (dpkg-deb is in every Debian), installed by the hub.
inside 'set -e; d=/root/hub-demo; mkdir -p $d/DEBIAN $d/lib/systemd/system
  printf "Package: hub-demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: demo\n" >$d/DEBIAN/control
  printf "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n" \
    >$d/lib/systemd/system/hub-demo.service
  dpkg-deb --build $d /root/hub-demo.deb >/dev/null'
inside "$hubctl exec $node -- dpkg -i /root/hub-demo.deb" >/dev/null || fail "dpkg -i through hubctl exec"
inside 'dpkg-query -W -f="\${Status}" hub-demo' | grep -q "install ok installed" || fail "hub-demo not installed"
inside "$hubctl exec $node -- 'systemctl daemon-reload && systemctl restart hub-demo'" \
  || fail "systemctl restart through hubctl exec"
[ "$(inside 'systemctl is-active hub-demo')" = active ] || fail "hub-demo is not active after its restart"
inside "$hubctl exec $node -- 'echo managed-by-hub > /etc/hub-demo.conf'" || fail "writing /etc through hubctl exec"
[ "$(inside 'cat /etc/hub-demo.conf; stat -c %a /etc/hub-demo.conf' | tr '\n' ' ')" = "managed-by-hub 644 " ] \
  || fail "/etc/hub-demo.conf: $(inside 'ls -l /etc/hub-demo.conf')"
inside "$hubctl audit --node $node" | grep -q "task.create" || fail "the tasks are not in the audit log"

echo "systemd-boot: --user within the node's allowlist (/etc/hub-agent/agent.conf)"
inside 'printf "allow-users=nobody\n" >/etc/hub-agent/agent.conf'
[ "$(inside "$hubctl exec --user nobody $node -- id -un")" = nobody ] || fail "exec --user nobody"
out=$(inside "$hubctl exec --user daemon $node -- id -un 2>&1" || true)
case "$out" in *"does not allow tasks as daemon"*) ;; *) fail "--user daemon was not refused: $out" ;; esac
out=$(inside "$hubctl exec $node -- id -un 2>&1" || true)
case "$out" in *"does not allow tasks as root"*) ;; *) fail "root was not refused by allow-users: $out" ;; esac
inside 'printf "deny-root=true\n" >/etc/hub-agent/agent.conf'
out=$(inside "$hubctl exec $node -- touch /etc/should-not-exist 2>&1" || true)
case "$out" in *"deny-root"*) ;; *) fail "deny-root did not refuse: $out" ;; esac
inside 'test ! -e /etc/should-not-exist' || fail "a refused task ran"
inside 'rm /etc/hub-agent/agent.conf'

echo "systemd-boot: systemctl stop and start"
inside 'systemctl stop hubd'
[ "$(inside 'systemctl show hubd -p Result --value')" = success ] || fail "hubd did not stop cleanly"
inside 'systemctl start hubd'
until_inside 300 "$online" || fail "the agent did not rejoin after hubd restarted"
inside 'systemctl --failed --no-legend' | grep -q . && fail "failed units: $(inside 'systemctl --failed --no-legend')"
echo "systemd-boot: ok"
