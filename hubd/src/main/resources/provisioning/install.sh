#!/bin/sh
# Mesh Hub agent installer, made by the hub for one join token. Installs hub-agent as a systemd
# service that joins the hub, or removes it (--uninstall). Idempotent: running it again changes
# nothing. --dry-run (or HUB_DRY_RUN=1) prints every step without doing it. HUB_PREFIX (default /)
# roots every path it writes. HUB_INSTALL_JRE=1 installs a Java runtime with apt when none is found.
# The agent verifies the hub by the CA pin below; this script's own downloads verify it with the
# CA certificate below (the one with that pin).
set -eu

# --- filled in by the hub (validated, shell-quoted) ---
HUB_ADDRESSES=@HUB_ADDRESSES@
JOIN_TOKEN=@JOIN_TOKEN@
NODE_LABELS=@NODE_LABELS@
AGENT_URL=@AGENT_URL@
AGENT_SHA256=@AGENT_SHA256@
HUB_CA_PIN=@HUB_CA_PIN@
HUB_CA_PEM=@HUB_CA_PEM@
# --- end of what the hub filled in ---

PREFIX=${HUB_PREFIX:-/}
PREFIX=${PREFIX%/}
DRY_RUN=${HUB_DRY_RUN:-0}
UNINSTALL=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    --uninstall) UNINSTALL=1 ;;
    *) echo "hub-agent install: unknown option $arg (use --dry-run, --uninstall)" >&2; exit 2 ;;
  esac
done

OPT_DIR="$PREFIX/opt/hub-agent"
ETC_DIR="$PREFIX/etc/hub-agent"
STATE_DIR="$PREFIX/var/lib/hub-agent"
UNIT_FILE="$PREFIX/etc/systemd/system/hub-agent.service"

say() { printf 'hub-agent install: %s\n' "$*"; }
die() { printf 'hub-agent install: %s\n' "$*" >&2; exit 1; }
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would run:'
    printf ' %s' "$@"
    printf '\n'
  else
    "$@"
  fi
}

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  die "run me as root (sudo sh), or set HUB_PREFIX to install into a folder"
fi
command -v systemctl >/dev/null 2>&1 || die "systemd (systemctl) is required"

if [ "$UNINSTALL" = 1 ]; then
  if [ -f "$UNIT_FILE" ]; then
    run systemctl disable --now hub-agent.service || true
    run rm -f "$UNIT_FILE"
    run systemctl daemon-reload
  fi
  run rm -rf "$OPT_DIR" "$ETC_DIR" "$STATE_DIR"
  say "removed hub-agent"
  exit 0
fi

java_ok() {
  command -v java >/dev/null 2>&1 || return 1
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  [ -n "$v" ] && [ "$v" -ge 17 ]
}
if ! java_ok; then
  if [ "${HUB_INSTALL_JRE:-0}" = 1 ]; then
    command -v apt-get >/dev/null 2>&1 || die "Java 17+ is missing and apt-get is not available to install it"
    run apt-get install -y openjdk-17-jre-headless
  else
    die "Java 17 or newer is required (set HUB_INSTALL_JRE=1 to install it with apt)"
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say "downloading the agent from $AGENT_URL"
if [ -n "$HUB_CA_PEM" ]; then
  printf '%s\n' "$HUB_CA_PEM" > "$tmp/hub-ca.pem"
fi
if command -v curl >/dev/null 2>&1; then
  if [ -n "$HUB_CA_PEM" ]; then
    curl -fsSL --cacert "$tmp/hub-ca.pem" -o "$tmp/hub-agent.tar.gz" "$AGENT_URL" || die "cannot download $AGENT_URL"
  else
    curl -fsSL -o "$tmp/hub-agent.tar.gz" "$AGENT_URL" || die "cannot download $AGENT_URL"
  fi
elif command -v wget >/dev/null 2>&1; then
  if [ -n "$HUB_CA_PEM" ]; then
    wget -q --ca-certificate="$tmp/hub-ca.pem" -O "$tmp/hub-agent.tar.gz" "$AGENT_URL" \
      || die "cannot download $AGENT_URL"
  else
    wget -q -O "$tmp/hub-agent.tar.gz" "$AGENT_URL" || die "cannot download $AGENT_URL"
  fi
else
  die "curl or wget is required"
fi
echo "$AGENT_SHA256  $tmp/hub-agent.tar.gz" | sha256sum -c - >/dev/null 2>&1 \
  || die "the downloaded agent does not match the checksum pinned in this script; not installing it"
mkdir -p "$tmp/agent"
tar -xzf "$tmp/hub-agent.tar.gz" -C "$tmp/agent"

changed=0
if ! diff -r "$tmp/agent" "$OPT_DIR" >/dev/null 2>&1; then
  run mkdir -p "$OPT_DIR"
  run cp -R "$tmp/agent/." "$OPT_DIR/"
  changed=1
fi

joined() { [ -f "$STATE_DIR/node.pem" ] || [ -f "$STATE_DIR/credential" ]; }
if joined; then
  say "this machine has joined already; keeping its configuration"
else
  {
    echo "HUB_AGENT_HUB=$HUB_ADDRESSES"
    echo "HUB_AGENT_JOIN_TOKEN=$JOIN_TOKEN"
    if [ -n "$HUB_CA_PIN" ]; then
      echo "HUB_AGENT_CA_PIN=$HUB_CA_PIN"
    else
      echo "HUB_AGENT_INSECURE_PLAINTEXT=true"
    fi
  } > "$tmp/agent.env"
  if ! cmp -s "$tmp/agent.env" "$ETC_DIR/agent.env"; then
    run mkdir -p "$ETC_DIR"
    run install -m 0600 "$tmp/agent.env" "$ETC_DIR/agent.env"
    changed=1
  fi
fi

if ! cmp -s "$OPT_DIR/systemd/hub-agent.service" "$UNIT_FILE" 2>/dev/null; then
  run mkdir -p "$PREFIX/etc/systemd/system"
  run install -m 0644 "$OPT_DIR/systemd/hub-agent.service" "$UNIT_FILE"
  run systemctl daemon-reload
  changed=1
fi
run systemctl enable hub-agent.service
if [ "$changed" = 1 ]; then
  run systemctl restart hub-agent.service
else
  run systemctl start hub-agent.service
fi

if [ "$DRY_RUN" = 1 ]; then
  say "dry run: nothing was changed"
  exit 0
fi
say "waiting for the agent to join the hub (labels from the join token: $NODE_LABELS)"
i=0
while ! joined; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then
    die "the agent has not joined after 60s; see: journalctl -u hub-agent"
  fi
  sleep 1
done
say "joined: hub-agent is running and enabled"
