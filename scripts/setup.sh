#!/usr/bin/env bash
# Creates/updates .venv and installs everything deepasmr needs, Debian packages included.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES="espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts fortunes fortunes-zh sox chromium"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.deepasmr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ] \
   || [ requirements-nodeps.txt -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  .venv/bin/pip install -q -e ".[dev]"
  .venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
  touch "$stamp"
fi
