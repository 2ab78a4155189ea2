#!/usr/bin/env bash
# Three hubs of one cluster on this machine (the packaged hubd, a fresh PostgreSQL database on
# 127.0.0.1:5432, the machine's Redis on 127.0.0.1:6379 under a key prefix of its own), NODES
# simulated agents spread over them (one simulator per hub), then:
#   - how long until every hub lists every node online, and how many each hub holds;
#   - the latency of one command on a node of hub 1, sent to hub 1 (local) and to hub 2 (routed:
#     hub 2 stores the task, hub 1 sends it), ROUNDS times each, interleaved: from the POST to the
#     client seeing the task exited (polled every 2 ms), and the hub's own createdAt -> finishedAt.
#
#   bench/cluster.sh [NODES] [ROUNDS]
#
# HOLLOW=1 (the default) makes the simulated agents answer each task at once without running it,
# so what is measured is the hubs' path, not a fork. Needs: ./mvnw -B package -DskipTests first,
# PostgreSQL and Redis. Loopback only; stops by itself, and drops its database and keys.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-900}; ROUNDS=${2:-200}; HOLLOW=${HOLLOW:-1}
HUB=$PWD/packaging/target/hub
work=$(mktemp -d)
name="bench$(date +%s)"
db="hub_$name"
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres >/dev/null 2>&1 || true
  redis-cli --scan --pattern "hub:$name:*" | xargs -r redis-cli del >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Below Linux's ephemeral range (32768-60999): an agent retrying a stopped hub's port in that range
# can connect to itself (TCP simultaneous open) and hold the port the restarting hub needs.
free_port() { local p; while :; do p=$(( (RANDOM % 12000) + 20000 )); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" postgres

declare -a http grpc
start_hub() { # start_hub N
  local i=$1
  http[i]=$(free_port); grpc[i]=$(free_port)
  HUBD_JAVA_OPTS="-Xms128m -Xmx512m -XX:+UseG1GC" "$HUB/bin/hubd" --data-dir "$work/h$i" --bind 127.0.0.1 \
    --advertise 127.0.0.1 --http-port "${http[i]}" --grpc-port "${grpc[i]}" --cluster-name "$name" \
    --db-url "jdbc:postgresql://127.0.0.1:5432/$db?user=postgres" --redis-url redis://127.0.0.1:6379 \
    --history-store redis >"$work/h$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do curl -fsS --cacert "$work/h1/tls/ca.crt" "https://127.0.0.1:${http[i]}/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "hub $i did not start: $(tail -5 "$work/h$i.log")" >&2; exit 1
}
start_hub 1
for i in 2 3; do
  mkdir -p "$work/h$i"; mkdir -m 700 "$work/h$i/tls"; cp -p "$work/h1/tls/ca.crt" "$work/h1/tls/ca.key" "$work/h$i/tls/"
  start_hub "$i"
done
export HUB_CA="$work/h1/tls/ca.crt" HUB_TOKEN; HUB_TOKEN=$(cat "$work/h1/admin.token")
pin=$(HUBD_JAVA_OPTS="" "$HUB/bin/hubd" ca show --data-dir "$work/h1" --pin)
token=$(HUB_URL=https://127.0.0.1:${http[1]} "$HUB/bin/hubctl" tokens create --uses "$NODES" --ttl 1h 2>/dev/null)
per=$(( NODES / 3 ))
start=$(date +%s%N)
for i in 1 2 3; do
  count=$per; [ "$i" = 3 ] && count=$(( NODES - 2 * per ))
  HUB_AGENT_JAVA_OPTS="-Xmx512m" "$HUB/bin/hub-agent" simulate --count "$count" --name-prefix "h$i-" \
    --hub "127.0.0.1:${grpc[i]}" --ca-pin "$pin" --join-token "$token" ${HOLLOW:+--hollow-tasks} \
    >"$work/sim$i.log" 2>&1 &
  pids+=($!)
done
python3 - "$NODES" "$ROUNDS" "$HUB_CA" "$HUB_TOKEN" "$start" "${http[1]}" "${http[2]}" "${http[3]}" "$HOLLOW" <<'PY'
import json, ssl, sys, time, urllib.request
from datetime import datetime
nodes, rounds, ca, token, start_ns = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
ports, hollow = sys.argv[6:9], sys.argv[9]
ctx = ssl.create_default_context(cafile=ca)
def call(port, method, path, body=None):
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, context=ctx, timeout=30))
ids = [call(p, "GET", "/api/v1/status")["hubId"] for p in ports]
deadline = time.time() + 300
while True:
    items = [call(p, "GET", "/api/v1/nodes")["items"] for p in ports]
    online = [sum(1 for n in it if n["status"] == "online") for it in items]
    if min(online) >= nodes or time.time() > deadline:
        break
    time.sleep(0.5)
held = [sum(1 for n in items[0] if n.get("hub") == h) for h in ids]
print(f"{nodes} agents across 3 hubs: every hub lists {min(online)} online after "
      f"{(time.time_ns() - start_ns) / 1e9:.1f} s (from starting the simulators); held per hub {held}")
node = next(n["name"] for n in items[0] if n.get("hub") == ids[0])
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def one(port):
    t0 = time.perf_counter()
    t = call(port, "POST", f"/api/v1/nodes/{node}/tasks", {"command": "true"})
    while t["state"] not in ("exited", "failed", "timed_out", "cancelled"):
        time.sleep(0.002)
        t = call(port, "GET", "/api/v1/tasks/" + t["id"])
    return (time.perf_counter() - t0) * 1000, (ts(t["finishedAt"]) - ts(t["createdAt"])) * 1000, t["state"]
res = {"local": [], "routed": []}
for i in range(20):  # warm both paths
    one(ports[0]); one(ports[1])
for i in range(rounds):
    res["local"].append(one(ports[0]))
    res["routed"].append(one(ports[1]))
def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]
print(f"exec 'true' on {node} (held by hub 1){' (hollow agents)' if hollow else ''}, {rounds} rounds each:")
for k, v in res.items():
    wall = [x[0] for x in v]; hub = [x[1] for x in v]
    bad = sum(1 for x in v if x[2] != "exited")
    print(f"  {k:6} via hub {'1' if k == 'local' else '2'}: client p50 {q(wall, .5):.1f} ms, p99 {q(wall, .99):.1f} ms; "
          f"hub createdAt->finishedAt p50 {q(hub, .5):.0f} ms, p99 {q(hub, .99):.0f} ms; not exited: {bad}")
PY
