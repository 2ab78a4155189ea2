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
metric() { local o; o=$(curl -fsS "$HUB_URL/metrics" 2>/dev/null | awk -v m="$1" '$1==m {print $2}') || o=0; o=${o%.*}; echo "${o:-0}"; }
online() { metric hub_nodes_online; }
HUB_AGENT_JAVA_OPTS="${SIM_JAVA_OPTS:--Xms512m -Xmx4g -XX:+UseParallelGC}" "$HUB/bin/hub-agent" simulate --count "$COUNT" \
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
# PROFILE_SIM=FILE: async-profiler (ASPROF_LIB=.../libasyncProfiler.so) samples the simulator's CPU
# from the restart on, collapsed stacks written to FILE when it exits.
if [ -n "${PROFILE_SIM:-}" ]; then
  # (the options quoted once more: jcmd would take their "=" for its own)
  jcmd "$sim_pid" JVMTI.agent_load "$ASPROF_LIB" "\"start,event=cpu,interval=1ms,collapsed,file=$PROFILE_SIM\"" >/dev/null
fi
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
ready=$(date +%s%N)
# A line a second on stderr: online, handshakes in progress, connections refused so far.
last=0
for _ in $(seq 1 1500); do
  [ "$(online)" = "$COUNT" ] && break
  now=$(( ($(date +%s%N) - ready) / 1000000000 ))
  if [ "$now" != "$last" ]; then
    last=$now
    echo "  ${now}s: $(online) online, $(metric hub_agent_handshakes_in_progress) handshaking, $(metric hub_agent_handshakes_refused_total) refused" >&2
  fi
  sleep 0.2
done
back_ms=$(( ($(date +%s%N) - ready) / 1000000 ))
n=$(online)
printf 'down=%ss all_back=%s/%s in %s ms after ready (%s reconnects/s; %s connections refused while busy)\n' \
  "$DOWN" "$n" "$COUNT" "$back_ms" "$(awk -v c="$COUNT" -v ms="$back_ms" 'BEGIN { printf "%.0f", c / (ms / 1000) }')" \
  "$(metric hub_agent_handshakes_refused_total)"
