#!/usr/bin/env bash
# Bootstrap: make .venv from requirements.lock (only Python 3.11+ and the package index needed),
# then run the `baobei` command in it:   ./bb dev    ./bb test
set -euo pipefail
cd "$(dirname "$0")"
py=""
for c in python3.13 python3.12 python3.11 python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    py="$c"; break
  fi
done
[ -n "$py" ] || { echo "Python 3.11+ is required" >&2; exit 1; }
stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bb: installing dependencies from requirements.lock into .venv ..." >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
exec .venv/bin/baobei "$@"
