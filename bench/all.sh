#!/usr/bin/env bash
# Every load driver at a small size, one after the other, and one table of what each printed: a
# regression shows in one command, in a few minutes. The figures are not the documented ones (those
# are in docs/BENCHMARKS.md, at full size); compare a run of this with an earlier run of this.
#
#   bench/all.sh
#
# Needs: ./mvnw -B package -DskipTests first; PostgreSQL and Redis on loopback for the cluster and
# Redis rows; sshd for the ssh comparisons and hyperfine for hubctl's start-up (each skipped with a
# note when absent). .ci/run does not run it. Loopback only; every driver stops by itself.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
[ -x packaging/target/hub/bin/hubd ] || { echo "build first: ./mvnw -B package -DskipTests" >&2; exit 2; }
[ -f bench/target/benchmarks.jar ] || { echo "build first: ./mvnw -B package -DskipTests" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rows=()
failed=0

# row NAME SIZE COMMAND...: runs it (5 minutes at most), keeps its last result lines.
row() {
  local name=$1 size=$2 t0 t1 rc result
  shift 2
  t0=$(date +%s%N)
  timeout 300 "$@" >"$out/$name.log" 2>&1
  rc=$?
  t1=$(date +%s%N)
  # what a driver prints last is its result; headers, metrics and notes are left out
  result=$(grep -v -E -e '^java:' -e '^kept ' -e '^hub_' -e '^profiles:' -e '^\[' -e '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' \
    -e '^OutOfMemoryError lines: .*:0$' -e '^  [0-9]+s: ' -e '^frames over 50 ms' "$out/$name.log" | tail -4 \
    | tr -s ' ' | paste -sd '|' | sed 's/|/ | /g')
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    result="FAILED (exit $rc): $(tail -2 "$out/$name.log" | paste -sd ' ')"
  fi
  rows+=("$(printf '%s\t%s\t%.1f\t%s' "$name" "$size" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "$result")")
  printf '%-16s done in %5.1f s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" >&2
}

row registry       "1,000 agents, 5 s" bench/registry-load.sh 1000 5 10s
WARMUP=20 row ingest-sqlite "2 × 20 MiB" bench/ingest-load.sh 2 20 sqlite
WARMUP=20 row ingest-redis  "2 × 20 MiB" bench/ingest-load.sh 2 20 redis
HOLLOW=1 row fleet-exec    "200 nodes, 2 runs" bench/fleet-exec.sh 200 2
row restart-storm  "500 agents, 2 s down" bench/restart-storm.sh 500 2
row keystroke      "300 keys" bench/keystroke.sh 300 5
row cp             "32 MiB, 1 round" bench/cp.sh 32 1
row fanout         "100 subscribers × 200/s, 5 s" java -Xmx1g -cp bench/target/benchmarks.jar hub.bench.FanoutDriver 100 200 5
row cluster        "90 agents, 3 hubs, 10 rounds" bench/cluster.sh 90 10
if command -v hyperfine >/dev/null; then
  row hubctl-startup "10 nodes, 5 runs" bench/hubctl-startup.sh 10 5
else
  rows+=("$(printf 'hubctl-startup\t-\t0\tskipped: no hyperfine (apt-get install hyperfine)')")
fi

printf '\n| driver | size | seconds | result |\n|---|---|---:|---|\n'
for r in "${rows[@]}"; do
  IFS=$'\t' read -r name size secs result <<<"$r"
  printf '| %s | %s | %s | %s |\n' "$name" "$size" "$secs" "$result"
done
exit $((failed > 0))
