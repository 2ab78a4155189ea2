#!/usr/bin/env bash
# End-to-end ingest: AGENTS simulated agents (one JVM, separate from hubd) each run one task that
# prints MB megabytes of log-like text; the hub strips, stores and acknowledges every chunk. Reports
# the bytes of output per second from the first task created to the last task finished, after a
# warm-up of WARMUP MiB per agent (default 100; 0 for a cold hub) in WARMUP_ROUNDS rounds of tasks
# (default 1), and the CPU hubd, the simulator and (for redis) redis-server used over the measured
# run. Then the same bytes of the same text through ssh to a file, three times (an sshd on loopback
# with throwaway keys, see start_sshd in bench/lib.sh; skipped with a message when sshd is absent),
# and our share of ssh's median rate.
#
#   bench/ingest-load.sh AGENTS MB [sqlite|redis]
#
# Needs: ./mvnw -B package -DskipTests first; Redis on 127.0.0.1:6379 for redis (the run's keys
# are removed at the end). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
AGENTS=${1:?agents}; MB=${2:?megabytes per agent}; STORE=${3:-sqlite}
# shellcheck source=bench/lib.sh
. bench/lib.sh
extra=()
[ "$STORE" = redis ] && extra=(--history-store redis --redis-url redis://127.0.0.1:6379)
export HUBD_JAVA_OPTS="${HUBD_JAVA_OPTS:--Xms256m -Xmx2g -XX:+UseG1GC}"
start_hubd "${extra[@]}"
token=$("$HUB/bin/hubctl" tokens create --uses "$AGENTS" --ttl 1h 2>/dev/null)
HUB_AGENT_JAVA_OPTS="${HUB_AGENT_JAVA_OPTS:-}" "$HUB/bin/hub-agent" simulate --count "$AGENTS" --name-prefix ing --hub "127.0.0.1:$grpc" \
  "${agent_trust[@]}" --join-token "$token" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 600); do
  [ "$(curl -fsS "$HUB_URL/metrics" | awk '$1=="hub_nodes_online" {print int($2)}')" = "$AGENTS" ] && break; sleep 0.1
done
# run_tasks MIB: one task per agent printing MIB MiB; sets ids and ms (first created to last exited).
run_tasks() {
  local cmd i id state start
  cmd="yes '2026-11-27T12:00:00Z INFO worker-7 request id=4f1c path=/api/v1/nodes status=200 in 12ms' | head -c $(($1 * 1024 * 1024))"
  ids=()
  start=$(date +%s%N)
  for i in $(seq 0 $((AGENTS - 1))); do
    ids+=("$(curl -fsS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/json' \
      -d "{\"command\": \"$cmd\"}" "$HUB_URL/api/v1/nodes/ing-$i/tasks" | sed 's/.*"id":"\([^"]*\)".*/\1/')")
  done
  # Every 20 ms over one kept-alive connection: a new curl (and TLS handshake) per poll cost the hub
  # 5 % of its CPU over the measured run.
  python3 - "$HUB_URL" "$HUB_TOKEN" "${HUB_CA:-}" "${ids[@]}" <<'PY' || exit 1
import http.client, json, ssl, sys, time, urllib.parse
url, token, ca, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
u = urllib.parse.urlsplit(url)
conn = (http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
        if u.scheme == "https" else http.client.HTTPConnection(u.hostname, u.port))
for task in ids:
    while True:
        conn.request("GET", "/api/v1/tasks/" + task, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        state = json.loads(r.read())["state"]
        if state == "exited":
            break
        if state in ("failed", "timed_out", "cancelled"):
            sys.exit(f"task {task} {state}")
        time.sleep(0.02)
PY
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
}
# A daemon runs warm: WARMUP MiB per agent first (not measured; WARMUP=0 measures a cold hub).
# In WARMUP_ROUNDS rounds of tasks (default 1): a hub that has seen tasks start and end before
# compiles no first-time paths during the measured run.
WARMUP=${WARMUP:-100}; WARMUP_ROUNDS=${WARMUP_ROUNDS:-1}
if [ "$WARMUP" -gt 0 ]; then
  for _ in $(seq 1 "$WARMUP_ROUNDS"); do run_tasks $(( (WARMUP + WARMUP_ROUNDS - 1) / WARMUP_ROUNDS )); done
fi
bytes=$((MB * 1024 * 1024))
# ASPROF=/path/to/asprof (async-profiler 3) profiles hubd and the simulator over the measured run
# only: CPU samples (ASPROF_EVENT=wall: wall clock) every 1 ms, per thread, collapsed stacks in $work/hubd.collapsed and $work/sim.collapsed.
if [ -n "${ASPROF:-}" ]; then
  "$ASPROF" start -e "${ASPROF_EVENT:-cpu}" -t -i 1ms "$(pgrep -f "HubdMain.*$grpc" | head -1)" >/dev/null
  "$ASPROF" start -e cpu -i 1ms "$(pgrep -f "simulate.*$grpc" | grep -v "^$$\$" | tail -1)" >/dev/null
fi
# CPU seconds each process spent over the measured run (utime + stime from /proc, in clock ticks).
hub_cpu0=$(cpu_ticks "$hubd_pid"); sim_cpu0=$(cpu_ticks "$sim_pid")
# Output chunks the hub stored so far (its histogram of chunks per stored batch), whatever the store.
stored_chunks() { curl -fsS "$HUB_URL/metrics" | awk '$1=="hub_ingest_batch_chunks_sum" {printf "%d", $2}'; }
chunks0=$(stored_chunks)
redis_pid=""; [ "$STORE" = redis ] && redis_pid=$(pgrep -x redis-server | head -1 || true)
redis_cpu0=$([ -n "$redis_pid" ] && cpu_ticks "$redis_pid" || echo 0)
# PROFILE_HUB=FILE (with ASPROF_LIB=.../libasyncProfiler.so, no asprof binary needed): hubd's CPU
# from here on, collapsed stacks written to FILE when it exits.
if [ -n "${PROFILE_HUB:-}" ]; then
  # (the options quoted once more: jcmd would take their "=" for its own)
  jcmd "$hubd_pid" JVMTI.agent_load "$ASPROF_LIB" "\"start,event=cpu,interval=1ms,collapsed,file=$PROFILE_HUB\"" >/dev/null
fi
run_tasks "$MB"
hub_cpu=$(( $(cpu_ticks "$hubd_pid") - hub_cpu0 )); sim_cpu=$(( $(cpu_ticks "$sim_pid") - sim_cpu0 ))
redis_cpu=$([ -n "$redis_pid" ] && echo $(( $(cpu_ticks "$redis_pid") - redis_cpu0 )) || echo 0)
if [ -n "${ASPROF:-}" ]; then
  "$ASPROF" stop -o collapsed -f "$work/hubd.collapsed" "$(pgrep -f "HubdMain.*$grpc" | head -1)" >/dev/null
  "$ASPROF" stop -o collapsed -f "$work/sim.collapsed" "$(pgrep -f "simulate.*$grpc" | grep -v "^$$\$" | tail -1)" >/dev/null
  echo "profiles: $work/hubd.collapsed $work/sim.collapsed (KEEP=1 keeps them)" >&2
fi
total=$((bytes * AGENTS))
chunks=$(( $(stored_chunks) - chunks0 ))
curl -fsS "$HUB_URL/metrics" | grep -E '^hub_ingest_(chunk_queued_seconds|batch_stored_seconds|batch_chunks)_(count|sum|max)' >&2 || true
avg=$(( chunks > 0 ? total / chunks : 0 ))
awk -v b="$total" -v ms="$ms" -v a="$AGENTS" -v s="$STORE" -v c="$chunks" -v avg="$avg" \
  'BEGIN {printf "store=%s agents=%d output=%.0f MiB in %d ms = %.1f MiB/s; chunks=%d (%d bytes each)\n", s, a, b/1048576, ms, b/1048576/(ms/1000), c, avg}'
tck=$(getconf CLK_TCK)
awk -v h="$hub_cpu" -v s="$sim_cpu" -v t="$tck" -v b="$total" \
  'BEGIN {printf "CPU over the run: hubd %.1f s, simulator %.1f s (%.1f and %.1f ms per MiB)\n", h/t, s/t, 1000*h/t/(b/1048576), 1000*s/t/(b/1048576)}'
[ -n "$redis_pid" ] && awk -v r="$redis_cpu" -v t="$tck" -v b="$total" \
  'BEGIN {printf "redis-server over the run: %.1f s CPU (%.1f ms per MiB)\n", r/t, 1000*r/t/(b/1048576)}'
if [ "$STORE" = redis ]; then # this run's history out of the shared Redis (its nodes' keys only)
  for id in $(curl -fsS -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/api/v1/nodes" | grep -o '"id":"[^"]*"' | cut -d'"' -f4); do
    redis-cli --scan --pattern "hub:hist:{$id}:*" | xargs -r redis-cli unlink >/dev/null
  done
fi
start_sshd
if [ -n "$sshd_ok" ]; then
  line='2026-11-27T12:00:00Z INFO worker-7 request id=4f1c path=/api/v1/nodes status=200 in 12ms'
  # Three times (ssh's own rate moves by half between runs here): the median is compared.
  ssh_runs=()
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    ssh -q -i "$ssh_key" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o BatchMode=yes root@127.0.0.1 "yes '$line' | head -c $total" >"$work/ssh.out"
    ssh_runs+=($(( ($(date +%s%N) - t0) / 1000000 )))
    [ "$(stat -c %s "$work/ssh.out")" = "$total" ] || { echo "ssh moved $(stat -c %s "$work/ssh.out") bytes" >&2; exit 1; }
    rm -f "$work/ssh.out"
  done
  ssh_ms=$(printf '%s\n' "${ssh_runs[@]}" | sort -n | sed -n 2p)
  awk -v b="$total" -v ms="$ssh_ms" -v hub="$ms" -v runs="${ssh_runs[*]}" \
    'BEGIN {printf "ssh to a file: %.0f MiB in %s ms (median %d ms = %.1f MiB/s); the hub moved it at %.0f %% of that\n", b/1048576, runs, ms, b/1048576/(ms/1000), 100*ms/hub}'
fi
