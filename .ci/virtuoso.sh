#!/usr/bin/env bash
# Install Virtuoso Open Source (Debian's virtuoso-opensource) for the remote-store tests, when it is missing.
# Idempotent; needs root (CI runs as root). The package's own service is not started here (and in a
# container policy-rc.d keeps it from starting): the tests start throw-away servers on loopback
# (tests/virtuoso.py) with their own database directory and stop them afterwards.
set -euo pipefail

if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "virtuoso.sh: Virtuoso is missing and installing it needs root (apt-get install virtuoso-opensource)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The package asks for a dba password through debconf; the tests use their own databases (dba/dba).
apt-get install -y -qq virtuoso-opensource >/dev/null
# Debian's post-install may start the system-wide server on 1111/8890; it is not used, stop it if it runs.
if command -v service >/dev/null 2>&1; then
  service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null
