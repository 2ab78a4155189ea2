#!/usr/bin/env bash
# hubctl's cold start, measured as a user runs it: `hubctl --version` and `hubctl nodes ls` (against a
# local hubd with NODES simulated agents) through the launcher, with and without its
# class-data-sharing archive (HUBCTL_CDS=off). Medians from hyperfine.
#
#   bench/hubctl-startup.sh [NODES] [RUNS]
#
# Needs: ./mvnw -B package -DskipTests first (it also makes the archive), and hyperfine
# (apt-get install hyperfine). Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-50}; RUNS=${2:-40}
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck disable=SC2119 # no extra hubd arguments
start_hubd
token=$("$HUB/bin/hubctl" tokens create --uses "$NODES" --ttl 1h 2>/dev/null)
"$HUB/bin/hub-agent" simulate --count "$NODES" --hub "127.0.0.1:$grpc" "${agent_trust[@]}" --join-token "$token" \
  >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 600); do
  [ "$("$HUB/bin/hubctl" nodes ls --status online | tail -n +2 | wc -l)" -ge "$NODES" ] && break; sleep 0.2
done
[ -r "$HUB/lib/hubctl.jsa" ] || HUBCTL_CDS_DUMP=1 "$HUB/bin/hubctl"

echo "java: $(java -version 2>&1 | head -1); $(nproc) cores; $NODES nodes; $RUNS runs each"
hyperfine -N -w 5 -r "$RUNS" --export-json "$work/h.json" \
  -n "hubctl --version, archive" "$HUB/bin/hubctl --version" \
  -n "hubctl nodes ls, archive" "$HUB/bin/hubctl nodes ls" \
  -n "hubctl --version, no archive" "env HUBCTL_CDS=off $HUB/bin/hubctl --version" \
  -n "hubctl nodes ls, no archive" "env HUBCTL_CDS=off $HUB/bin/hubctl nodes ls" >/dev/null
python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["command"]:30} median {r["median"]*1000:6.1f} ms   mean {r["mean"]*1000:6.1f} ± {r["stddev"]*1000:4.1f} ms'
          f'   min {r["min"]*1000:6.1f}   max {r["max"]*1000:6.1f}')
PY
