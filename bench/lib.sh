# Shared by the load drivers (sourced, from the repository root): a hubd from the built
# distribution on free loopback ports, a work dir, and cleanup of both on exit (KEEP=1 keeps the
# work dir and its logs). Sets HUB, work, http, grpc, HUB_URL; start_hubd sets hubd_pid,
# HUB_TOKEN, and agent_trust (the simulator's --ca-pin, or --insecure-plaintext); a driver that
# starts a simulator puts its pid in sim_pid. TLS is on, as by default; TLS=off runs hubd and the
# agents in plain text, to measure what TLS costs.
# shellcheck shell=bash
# shellcheck disable=SC2034 # agent_trust is read by the drivers that source this file
HUB=$PWD/packaging/target/hub
work=$(mktemp -d)
hubd_pid=""; sim_pid=""
cleanup() {
  kill "$sim_pid" "$hubd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Below Linux's ephemeral range (32768-60999): an agent retrying a stopped hub's port in that range
# can connect to itself (TCP simultaneous open) and hold the port the restarting hub needs.
free_port() { local p; while :; do p=$(( (RANDOM % 12000) + 20000 )); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
http=$(free_port); grpc=$(free_port)
TLS=${TLS:-on}
if [ "$TLS" = off ]; then export HUB_URL=http://127.0.0.1:$http; else export HUB_URL=https://127.0.0.1:$http; fi
agent_trust=()

# cpu_ticks PID: the user and system CPU PID has used so far, in clock ticks (1/100 s).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# start_hubd [HUBD_ARG...]: starts hubd (JVM options from HUBD_JAVA_OPTS) and waits until ready;
# sets hubd_started_ns and hubd_ready_ns (date +%s%N when launched, when /readyz first answered).
start_hubd() {
  local plain=()
  [ "$TLS" = off ] && plain=(--insecure-plaintext)
  hubd_started_ns=$(date +%s%N)
  "$HUB/bin/hubd" --data-dir "$work/data" --bind 127.0.0.1 --http-port "$http" --grpc-port "$grpc" \
    --advertise 127.0.0.1 "${plain[@]}" "$@" >"$work/hubd.log" 2>&1 &
  hubd_pid=$!
  if [ "$TLS" = off ]; then
    agent_trust=(--insecure-plaintext)
  elif [ "${#agent_trust[@]}" -eq 0 ]; then # (a restart on the same data dir keeps its CA)
    for _ in $(seq 1 600); do [ -f "$work/data/tls/ca.crt" ] && break; sleep 0.1; done
    # curl and hubctl trust the hub's CA from its data dir; agents pin it.
    export CURL_CA_BUNDLE="$work/data/tls/ca.crt" HUB_CA="$work/data/tls/ca.crt"
    agent_trust=(--ca-pin "$(HUBD_JAVA_OPTS="" "$HUB/bin/hubd" ca show --data-dir "$work/data" --pin)")
  fi
  for _ in $(seq 1 1200); do curl -fsS "$HUB_URL/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  hubd_ready_ns=$(date +%s%N)
  export HUB_TOKEN; HUB_TOKEN=$(cat "$work/data/admin.token")
}

# start_sshd: an sshd on a free loopback port with throwaway host and user keys, for the drivers
# that compare with ssh/scp. Sets ssh_port, ssh_key and sshd_ok=1; without /usr/sbin/sshd (Debian:
# openssh-server) it says so on stderr and leaves sshd_ok empty. Stopped with the rest on exit.
sshd_ok=""
start_sshd() {
  if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
    echo "no sshd here (apt-get install openssh-server): the ssh comparison is skipped" >&2
    return 0
  fi
  ssh_port=$(free_port); ssh_key=$work/id
  ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
  ssh-keygen -q -t ed25519 -N '' -f "$ssh_key"
  cp "$ssh_key.pub" "$work/authorized_keys"
  cat >"$work/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $work/hostkey
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
EOF
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$work/sshd_config" -E "$work/sshd.log"
  for _ in $(seq 1 50); do [ -s "$work/sshd.pid" ] && break; sleep 0.1; done
  sshd_ok=1
  # shellcheck disable=SC2064 # the pid file path is known now
  trap "kill \$(cat '$work/sshd.pid' 2>/dev/null) 2>/dev/null || true; cleanup" EXIT
}
