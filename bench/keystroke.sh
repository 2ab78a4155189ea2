#!/usr/bin/env bash
# Keystroke-to-echo latency of hubctl ssh sessions, hub-local: hubd and one real hub-agent on this
# machine (loopback, TLS), then hub.bench.KeystrokeDriver types COUNT single keys into a session
# running `cat` on the node's pseudo-terminal and times each echo.
#
#   bench/keystroke.sh [COUNT] [GAP_MS]
#
# Needs: ./mvnw -B package -DskipTests first. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000}; GAP=${2:-5}
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
token=$("$HUB/bin/hubctl" tokens create --uses 1 --ttl 1h 2>/dev/null)
"$HUB/bin/hub-agent" --hub "127.0.0.1:$grpc" "${agent_trust[@]}" --join-token "$token" --state-dir "$work/agent" \
  --name keys-1 >"$work/agent.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
  [ "$("$HUB/bin/hubctl" nodes ls --status online --no-headers | wc -l)" -ge 1 ] && break; sleep 0.2
done
echo "java: $(java -version 2>&1 | head -1); $(nproc) cores; TLS $TLS"
java -cp bench/target/benchmarks.jar hub.bench.KeystrokeDriver keys-1 "$COUNT" "$GAP"
