#!/usr/bin/env bash
# Restart storm: COUNT agents (`hub-agent simulate`, one JVM) on one hubd; hubd is stopped (SIGTERM:
# it sends every agent a Drain with its reconnect window), stays down DOWN seconds, and starts again
# on the same data dir and ports. Prints how long after the new hubd was ready all COUNT were online
# again (and after it was started: agents reconnect as soon as its agent port is open, before its
# HTTP API answers), the reconnect rate, and the CPU hubd and the simulator used over the storm.
# PROFILE_HUB=FILE / PROFILE_SIM=FILE with ASPROF_LIB=.../libasyncProfiler.so: CPU profiles of the
# restarted hubd / the simulator from the restart on (collapsed stacks).
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
sim_cpu0=$(cpu_ticks "$sim_pid")
# PROFILE_SIM=FILE: async-profiler (ASPROF_LIB=.../libasyncProfiler.so) samples the simulator's CPU
# from the restart on, collapsed stacks written to FILE when it exits.
if [ -n "${PROFILE_SIM:-}" ]; then
  # (the options quoted once more: jcmd would take their "=" for its own)
  jcmd "$sim_pid" JVMTI.agent_load "$ASPROF_LIB" "\"start,event=cpu,interval=1ms,collapsed,file=$PROFILE_SIM\"" >/dev/null
fi
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
ready=$hubd_ready_ns
# PROFILE_HUB=FILE: the same for the restarted hubd, from ready on.
if [ -n "${PROFILE_HUB:-}" ]; then
  jcmd "$hubd_pid" JVMTI.agent_load "$ASPROF_LIB" "\"start,event=cpu,interval=1ms,collapsed,file=$PROFILE_HUB\"" >/dev/null
fi
# Polls /metrics every 100 ms over one kept-alive connection until COUNT are online (a curl, and a
# TLS handshake on the hub, per poll was 5 % of the restarted hub's CPU); a line a second on stderr:
# online, handshakes in progress and waiting, connections refused so far.
python3 - "$HUB_URL" "${HUB_CA:-}" "$COUNT" "$DOWN" "$ready" "$hubd_started_ns" <<'PY'
import http.client, ssl, sys, time, urllib.parse
url, ca, count, down = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ready, started = int(sys.argv[5]) / 1e9, int(sys.argv[6]) / 1e9
u = urllib.parse.urlsplit(url)
def connect():
    return (http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ssl.create_default_context(cafile=ca))
            if u.scheme == "https" else http.client.HTTPConnection(u.hostname, u.port, timeout=10))
conn = connect()
def metrics():
    global conn
    for _ in range(3):
        try:
            conn.request("GET", "/metrics")
            body = conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            conn.close(); conn = connect()
            continue
        m = {}
        for line in body.splitlines():
            name, _, value = line.partition(" ")
            if name.startswith("hub_"):
                try:
                    m[name] = float(value)
                except ValueError:
                    pass
        return m
    return {}
last, deadline = -1, ready + 300
while True:
    m = metrics(); now = time.time()
    online = int(m.get("hub_nodes_online", 0))
    if online >= count or now > deadline:
        break
    if int(now - ready) != last:
        last = int(now - ready)
        print(f"  {last}s: {online} online, {int(m.get('hub_agent_handshakes_in_progress', 0))} handshaking, "
              f"{int(m.get('hub_agent_handshakes_waiting', 0))} waiting, "
              f"{int(m.get('hub_agent_handshakes_refused_total', 0))} refused", file=sys.stderr, flush=True)
    time.sleep(0.1)
ms = (now - ready) * 1000
print(f"down={down}s all_back={online}/{count} in {ms:.0f} ms after ready ({(now - started) * 1000:.0f} ms after "
      f"hubd was started; {count / (ms / 1000):.0f} reconnects/s; "
      f"{int(m.get('hub_agent_handshakes_refused_total', 0))} connections refused while busy)")
sys.exit(0 if online >= count else 1)
PY
# The CPU of the storm, from the new hubd's start to all back: hubd's all its own.
hub_cpu=$(cpu_ticks "$hubd_pid"); sim_cpu=$(( $(cpu_ticks "$sim_pid") - sim_cpu0 )); tck=$(getconf CLK_TCK)
wall_ms=$(( ($(date +%s%N) - hubd_started_ns) / 1000000 ))
awk -v h="$hub_cpu" -v s="$sim_cpu" -v t="$tck" -v c="$COUNT" -v w="$wall_ms" -v n="$(nproc)" 'BEGIN {
  printf "CPU from hubd started to all back: hubd %.1f s, simulator %.1f s (%.2f and %.2f ms per reconnect); the %d cores %.0f %% busy with the two\n",
    h / t, s / t, h / t * 1000 / c, s / t * 1000 / c, n, 100 * (h + s) / t / (w / 1000) / n }'