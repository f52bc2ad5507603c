#!/usr/bin/env bash
# Installs (when missing) and starts what the test suite talks to: PostgreSQL and Redis on loopback,
# and Debian's Chromium for browser tests. Idempotent; safe to run on every test run.
# Needs root (or passwordless sudo) to install packages; skips installs that are already done.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: package installs never start services here (policy-rc.d), so start the cluster ourselves.
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_lsclusters -h | grep -q "^$ver *main" || $SUDO pg_createcluster "$ver" main >/dev/null
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  $SUDO pg_ctlcluster "$ver" main start || true
  for _ in $(seq 60); do pg_isready -h 127.0.0.1 -q && break; sleep 0.5; done
fi
pg_isready -h 127.0.0.1 -q || { echo "services: PostgreSQL did not start" >&2; exit 1; }
# The tests connect over TCP with a password (Debian's pg_hba uses scram-sha-256 there).
$SUDO su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
# Enough connections for the contention tests (8 workers x pools); takes effect on restart.
if [ "$($SUDO su postgres -c "psql -tAc 'show max_connections'")" -lt 300 ]; then
  $SUDO su postgres -c "psql -qc 'ALTER SYSTEM SET max_connections = 300'" >/dev/null
  $SUDO pg_ctlcluster "$ver" main restart
  for _ in $(seq 60); do pg_isready -h 127.0.0.1 -q && break; sleep 0.5; done
fi

# Redis (the scale-out bus and SignalR backplane).
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "services: Redis did not start" >&2; exit 1; }
echo "services: postgresql $ver and redis are up on 127.0.0.1"
