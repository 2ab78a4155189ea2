#!/usr/bin/env bash
# Restart storm: COUNT agents (`hub-agent simulate`, one JVM) on one hubd; hubd is stopped (SIGTERM:
# it sends every agent a Drain with its reconnect window), stays down DOWN seconds, and starts again
# on the same data dir and ports. Prints how long after the new hubd was ready all COUNT were online
# again, and the reconnect rate over that time.
#
#   bench/restart-storm.sh [COUNT] [DOWN_SECONDS]
#
# Needs: ./mvnw -B package -DskipTests first. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-10000}; DOWN=${2:-5}
# shellcheck source=bench/lib.sh
. bench/lib.sh
export HUBD_JAVA_OPTS=${HUBD_JAVA_OPTS:--Xms256m -Xmx2g -XX:+UseG1GC}
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
token=$("$HUB/bin/hubctl" tokens create --uses "$COUNT" --ttl 1h 2>/dev/null)
online() { local o; o=$(curl -fsS "$HUB_URL/metrics" 2>/dev/null | awk '$1=="hub_nodes_online" {print $2}') || o=0; echo "${o%.*}"; }
HUB_AGENT_JAVA_OPTS="-Xms512m -Xmx4g -XX:+UseParallelGC" "$HUB/bin/hub-agent" simulate --count "$COUNT" \
  --rate 5000 --hub "127.0.0.1:$grpc" "${agent_trust[@]}" --join-token "$token" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 3000); do [ "$(online)" = "$COUNT" ] && break; sleep 0.1; done
[ "$(online)" = "$COUNT" ] || { echo "only $(online) of $COUNT joined" >&2; exit 1; }
# The hub counts a node online before its agent has read the Welcome (and stored its certificate):
# a stop before that leaves the agent without a certificate and its one-use token spent.
for _ in $(seq 1 3000); do grep -q "all $COUNT agents welcomed" "$work/sim.log" && break; sleep 0.1; done
echo "java: $(java -version 2>&1 | head -1); $(nproc) cores; TLS $TLS; $COUNT agents joined; stopping hubd"
kill "$hubd_pid"; wait "$hubd_pid" 2>/dev/null || true
sleep "$DOWN"
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
ready=$(date +%s%N)
for _ in $(seq 1 6000); do [ "$(online)" = "$COUNT" ] && break; sleep 0.05; done
back_ms=$(( ($(date +%s%N) - ready) / 1000000 ))
n=$(online)
printf 'down=%ss all_back=%s/%s in %s ms after ready (%s reconnects/s)\n' "$DOWN" "$n" "$COUNT" "$back_ms" \
  "$(awk -v c="$COUNT" -v ms="$back_ms" 'BEGIN { printf "%.0f", c / (ms / 1000) }')"
