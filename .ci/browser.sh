#!/usr/bin/env bash
# Installs what tests/test_browser.py needs: Debian's headless Chromium with its WebDriver, and the
# axe-core accessibility engine from npm into tests/.axe (git-ignored). Idempotent: what is already
# there is left alone. No browser downloads of its own: Chromium comes from Debian, axe-core from npm.
#
#   .ci/browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION="4.14.1"
AXE_DIR="tests/.axe"
AXE_FILE="$AXE_DIR/node_modules/axe-core/axe.min.js"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "browser.sh: chromium missing; install Debian's chromium and chromium-driver and run again" >&2
    exit 1
  fi
fi
echo "browser.sh: $(chromium --version 2>/dev/null | head -1)"

installed=""
if [[ -f "$AXE_DIR/node_modules/axe-core/package.json" ]]; then
  installed="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$AXE_DIR/node_modules/axe-core/package.json" | head -1)"
fi
if [[ -f "$AXE_FILE" && "$installed" == "$AXE_VERSION" ]]; then
  echo "browser.sh: axe-core $AXE_VERSION is up to date"
  exit 0
fi
if ! command -v npm >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "browser.sh: npm missing; install Debian's npm and run again" >&2
    exit 1
  fi
fi
mkdir -p "$AXE_DIR"
# Keep git and ruff away from the installed package even without a root .gitignore entry.
printf '*\n' >"$AXE_DIR/.gitignore"
npm install --silent --no-audit --no-fund --no-save --prefix "$AXE_DIR" "axe-core@$AXE_VERSION" >/dev/null
test -f "$AXE_FILE"
echo "browser.sh: axe-core $AXE_VERSION installed in $AXE_DIR"
