#!/usr/bin/env bash
# File copy throughput, hub-local: hubd and one real hub-agent on this machine (loopback, TLS),
# hubctl cp of a random file to the node and back, beside scp to and from an sshd on loopback
# (started here on a free port with its own keys; OpenSSH's default cipher). Each copy's hash is
# checked. hubd runs with a 256 MiB heap and the agent with its packaged 128 MiB, to show a file
# larger than either passes through.
#
#   bench/cp.sh [SIZE_MIB] [ROUNDS]
#
# Needs: ./mvnw -B package -DskipTests first, and sshd (Debian: openssh-server) for the scp side.
# Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}; ROUNDS=${2:-3}
# shellcheck source=bench/lib.sh
. bench/lib.sh
HUBD_JAVA_OPTS="-Xms64m -Xmx256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError"
export HUBD_JAVA_OPTS
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
token=$("$HUB/bin/hubctl" tokens create --uses 1 --ttl 1h 2>/dev/null)
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc" "${agent_trust[@]}" --join-token "$token" --state-dir "$work/agent" \
  --name cp-1 >"$work/agent.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
  [ "$("$HUB/bin/hubctl" nodes ls --status online --no-headers | wc -l)" -ge 1 ] && break; sleep 0.2
done
mkdir -p "$work/node" "$work/back" "$work/scp"
head -c "$((SIZE * 1024 * 1024))" /dev/urandom >"$work/src.bin"
want=$(sha256sum "$work/src.bin" | cut -d' ' -f1)

# rate LABEL SECONDS: MiB/s
rate() { awk -v s="$2" -v m="$SIZE" -v l="$1" 'BEGIN { printf "%-22s %7.1f MiB/s  (%.2f s)\n", l, m / s, s }'; }
timed() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; }
check() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ] || { echo "hash mismatch: $1" >&2; exit 1; }; }

start_sshd
[ -n "$sshd_ok" ] && ssh_opts=(-q -i "$ssh_key" -P "$ssh_port" -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o BatchMode=yes)

echo "java: $(java -version 2>&1 | head -1); $(nproc) cores; TLS $TLS; $SIZE MiB file; hubd -Xmx256m, agent -Xmx128m"
for r in $(seq 1 "$ROUNDS"); do
  rm -f "$work/node/src.bin" "$work/back/src.bin" "$work/scp/"*
  s=$(timed "$HUB/bin/hubctl" cp -q "$work/src.bin" "cp-1:$work/node/"); check "$work/node/src.bin"
  rate "hubctl cp push #$r" "$s"
  s=$(timed "$HUB/bin/hubctl" cp -q "cp-1:$work/node/src.bin" "$work/back/"); check "$work/back/src.bin"
  rate "hubctl cp pull #$r" "$s"
  if [ -n "$sshd_ok" ]; then
    s=$(timed scp "${ssh_opts[@]}" "$work/src.bin" "root@127.0.0.1:$work/scp/up.bin"); check "$work/scp/up.bin"
    rate "scp push #$r" "$s"
    s=$(timed scp "${ssh_opts[@]}" "root@127.0.0.1:$work/src.bin" "$work/scp/down.bin"); check "$work/scp/down.bin"
    rate "scp pull #$r" "$s"
  fi
done
grep -c OutOfMemoryError "$work/hubd.log" "$work/agent.log" 2>/dev/null | sed 's/^/OutOfMemoryError lines: /' || true
