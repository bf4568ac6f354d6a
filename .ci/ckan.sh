#!/usr/bin/env bash
# Installs a real harvester client, ckanext-dcat with CKAN 2.12.0, into its own virtual environment for
# tests/test_harvester.py. Separate from .venv because CKAN pins many packages (SQLAlchemy, Flask, rdflib …)
# that must not decide our versions. Idempotent: a complete environment with the same pins is left alone.
#
#   .ci/ckan.sh                        # → ./.venv-ckan
#   QUERSCHNITT_CKAN_VENV=/opt/ckan .ci/ckan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${QUERSCHNITT_CKAN_VENV:-.venv-ckan}"
PYTHON="${PYTHON:-python3}"
PINS=("ckan[requirements]==2.12.0" "ckanext-dcat==2.4.4")
MARKER="$VENV/querschnitt-ckan.txt"

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "${PINS[*]}" ]] \
  && "$VENV/bin/python" -c "from ckanext.dcat.processors import RDFParser" 2>/dev/null; then
  echo "ckan.sh: $VENV is up to date (${PINS[*]})"
  exit 0
fi

# psycopg2 (a CKAN requirement) builds against libpq: Debian's libpq-dev provides headers and pg_config.
if ! command -v pg_config >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpq-dev >/dev/null
  else
    echo "ckan.sh: pg_config missing; install Debian's libpq-dev (apt-get install libpq-dev) and run again" >&2
    exit 1
  fi
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# Keep git and ruff (which honours .gitignore files) out of the environment even without a root entry.
printf '*\n' >"$VENV/.gitignore"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "${PINS[@]}"
"$VENV/bin/python" -c "from ckanext.dcat.processors import RDFParser"
printf '%s' "${PINS[*]}" >"$MARKER"
echo "ckan.sh: installed ${PINS[*]} into $VENV"
