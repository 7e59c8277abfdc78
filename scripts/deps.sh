#!/usr/bin/env bash
# Installs the system programs the tests use, from Debian's packages, when they are missing:
# Java + Maven (the Kafka rig), openssl (its certificates), kcat (a Kafka client we did not write),
# mosquitto (MQTT interop), PostgreSQL (the multi-replica store), Chromium (the web UI tests),
# redis-server (the split deployment's shared broker persistence).
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have java || need+=(openjdk-17-jre-headless)
have mvn || need+=(maven)
have openssl || need+=(openssl)
have kcat || need+=(kcat)
have mosquitto || need+=(mosquitto)
have mosquitto_pub || need+=(mosquitto-clients)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
have chromium || need+=(chromium)
have redis-server || need+=(redis-server)

if [ ${#need[@]} -eq 0 ]; then
  echo "deps: all system programs present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "deps: missing ${need[*]} — install them with your package manager (Debian: apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "deps: installing ${need[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian services would take ports 1883, 5432 and 6379 for themselves; tests start their own instances.
(systemctl disable --now mosquitto postgresql redis-server >/dev/null 2>&1 || { service mosquitto stop; service redis-server stop; } >/dev/null 2>&1 || true)
echo "deps: done"
