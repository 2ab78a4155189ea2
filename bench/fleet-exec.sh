#!/usr/bin/env bash
# One command on a whole fleet, as a user runs it: NODES simulated agents (one JVM, beside hubd on
# this machine), then `hubctl exec --all --parallel 100% -o json -- CMD` through the launcher, timed
# from start to its last result, RUNS times. Per node: the time from the run's creation to the end
# of that node's task (p50, p99, max), from the hub's own timestamps.
#
#   bench/fleet-exec.sh [NODES] [RUNS] [CMD]
#
# HOLLOW=1 makes the simulated agents answer each task at once (exit 0) without running it: what
# is left is the hub's and hubctl's own time, not the forks of 1,000 processes on these cores.
#
# Needs: ./mvnw -B package -DskipTests first. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-1000}; RUNS=${2:-3}; CMD=${3:-true}
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
token=$("$HUB/bin/hubctl" tokens create --uses "$NODES" --ttl 1h 2>/dev/null)
"$HUB/bin/hub-agent" simulate --count "$NODES" --name-prefix fleet --hub "127.0.0.1:$grpc" "${agent_trust[@]}" \
  --join-token "$token" ${HOLLOW:+--hollow-tasks} >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 1200); do
  [ "$("$HUB/bin/hubctl" nodes ls --status online --no-headers | wc -l)" -ge "$NODES" ] && break; sleep 0.5
done
echo "java: $(java -version 2>&1 | head -1); $(nproc) cores; $NODES nodes online; command: $CMD${HOLLOW:+ (hollow agents: run nothing)}"
for i in $(seq 1 "$RUNS"); do
  start=$(date +%s%N)
  "$HUB/bin/hubctl" exec --all --parallel 100% -o json -- "$CMD" >"$work/run-$i.json" 2>"$work/run-$i.err" || true
  end=$(date +%s%N)
  id=$(grep -o 'run [0-9a-z]\{16\}' "$work/run-$i.err" | head -1 | cut -d' ' -f2)
  python3 - "$HUB_URL" "$HUB_TOKEN" "${HUB_CA:-}" "$id" "$(( (end - start) / 1000000 ))" "$work/run-$i.json" <<'PY'
import json, ssl, sys, urllib.request
from datetime import datetime
url, token, ca, run_id, wall_ms, out = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca) if ca else None
def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, context=ctx))
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
run = get("/api/v1/runs/" + run_id)
created = ts(run["createdAt"])
tasks = [get("/api/v1/tasks/" + n["taskId"]) for n in run["nodes"] if n.get("taskId")]
lat = sorted((ts(t["finishedAt"]) - created) * 1000 for t in tasks)
launched = max(ts(t["createdAt"]) for t in tasks) - created
started = sorted((ts(t["startedAt"]) - created) * 1000 for t in tasks if t.get("startedAt"))
results = sum(1 for _ in open(out))
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"run {run_id}: {run['state']} {run['counts']['ok']} ok of {len(run['nodes'])}; {results} JSON results; "
      f"hubctl exec {int(wall_ms)} ms start to last result; per node p50 {pick(0.5):.0f} ms, "
      f"p99 {pick(0.99):.0f} ms, max {lat[-1]:.0f} ms; last task created {launched * 1000:.0f} ms in, "
      f"last started {started[-1] if started else -1:.0f} ms in")
PY
done
