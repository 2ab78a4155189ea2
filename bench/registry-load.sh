#!/usr/bin/env bash
# Load driver for the registry: one hubd (the built distribution) and `hub-agent simulate` in a
# separate JVM. Measures the time for COUNT agents to join, then holds them for HOLD seconds at
# the given heartbeat interval and samples hubd's CPU, live heap and RSS. TLS=off (bench/lib.sh) runs
# both in plain text, to measure what TLS costs.
#
#   bench/registry-load.sh COUNT [HOLD_SECONDS] [HEARTBEAT] [JOIN_RATE_PER_S]
#
# Needs: ./mvnw -B package -DskipTests first. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:?count}; HOLD=${2:-60}; HEARTBEAT=${3:-10s}; RATE=${4:-5000}
# shellcheck source=bench/lib.sh
. bench/lib.sh

export HUBD_JAVA_OPTS=${HUBD_JAVA_OPTS:--Xms256m -Xmx2g -XX:+UseG1GC}
start_hubd --heartbeat-interval "$HEARTBEAT"
hubd_java=$(pgrep -f "HubdMain.*$grpc" | head -1)
token=$("$HUB/bin/hubctl" tokens create --uses "$COUNT" --ttl 1h 2>/dev/null)

metric() { curl -fsS "$HUB_URL/metrics" | awk -v m="$1" '$1==m {print $2}'; }
heap_mb() { # live heap after a full GC, from the JVM's own accounting
  jcmd "$hubd_java" GC.run >/dev/null
  curl -fsS "$HUB_URL/metrics" | awk '/^jvm_memory_used_bytes\{area="heap"/ {s+=$NF} END {printf "%.0f", s/1048576}'
}
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$hubd_java/status"; }
hub_cpu_ticks() { cpu_ticks "$hubd_java"; }

HUB_AGENT_JAVA_OPTS="${SIM_JAVA_OPTS:--Xms512m -Xmx4g -XX:+UseParallelGC}" "$HUB/bin/hub-agent" simulate --count "$COUNT" \
  --rate "$RATE" --hub "127.0.0.1:$grpc" "${agent_trust[@]}" --join-token "$token" >"$work/sim.log" 2>&1 &
sim_pid=$!
start=$(date +%s%N)
join_t0=$(hub_cpu_ticks)
online=0
for _ in $(seq 1 $((600 * 10))); do
  online=$(metric hub_nodes_online); online=${online%.*}
  [ "${online:-0}" -ge "$COUNT" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "simulator died:" >&2; tail "$work/sim.log" >&2; exit 1; }
  sleep 0.1
done
joined_ms=$(( ($(date +%s%N) - start) / 1000000 ))
join_cpu_ms=$(( ($(hub_cpu_ticks) - join_t0) * 1000 / $(getconf CLK_TCK) ))
[ "${online:-0}" -ge "$COUNT" ] || { echo "only $online of $COUNT online after 600 s" >&2; tail "$work/hubd.log" "$work/sim.log" >&2; exit 1; }

# Hub-side registration window: first to last Welcome, from hubd's own log lines.
ts_ms() { date -d "$1" +%s%3N; }
first=$(grep -m1 'online from' "$work/hubd.log" | cut -d' ' -f1)
last=$(grep 'online from' "$work/hubd.log" | tail -n 1 | cut -d' ' -f1)
hub_window_ms=$(( $(ts_ms "$last") - $(ts_ms "$first") ))
# (the hub counts a node online before its agent has read the Welcome: the simulator's line comes later)
for _ in $(seq 1 100); do grep -q "all $COUNT agents welcomed" "$work/sim.log" && break; sleep 0.1; done
sim_ms=$(sed -n 's/.*all [0-9]* agents welcomed in \([0-9]*\) ms.*/\1/p' "$work/sim.log" | head -1)

t0=$(hub_cpu_ticks); s0=$(date +%s%N)
sleep "$HOLD"
t1=$(hub_cpu_ticks); s1=$(date +%s%N)
hz=$(getconf CLK_TCK)
cpu_pct=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v ns="$((s1 - s0))" 'BEGIN {printf "%.1f", 100 * (t / hz) / (ns / 1e9)}')
refused=$(metric hub_joins_refused_busy_total)
online_after=$(metric hub_nodes_online); expired=$(metric hub_nodes_expired_total)
depth=$(metric hub_writebehind_depth)
flush_p99=$(curl -fsS "$HUB_URL/metrics" | awk '/^hub_writebehind_flush_seconds\{quantile="0.99"/ {printf "%.1f", $2*1000}')
printf 'agents=%s join_rate_limit=%s/s all_online_ms=%s (from simulator launch; simulator own clock %s) ' \
  "$COUNT" "$RATE" "$joined_ms" "${sim_ms:-?}"
printf 'joins_refused_busy=%s hubd_cpu_while_joining=%s ms (%s µs/join) ' "${refused%.*}" "$join_cpu_ms" \
  "$((join_cpu_ms * 1000 / COUNT))"
printf 'hub_first_to_last_welcome_ms=%s online_after_%ss=%s expired=%s hubd_cpu=%s%% ' \
  "$hub_window_ms" "$HOLD" "${online_after%.*}" "${expired%.*}" "$cpu_pct"
printf 'live_heap_mb=%s rss_mb=%s writebehind_depth=%s flush_p99_ms=%s\n' \
  "$(heap_mb)" "$(rss_mb)" "${depth%.*}" "$flush_p99"
