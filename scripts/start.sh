#!/usr/bin/env bash
# Install the project into ./.venv and start the main job: the bundled sample corpus, ready to search.
# Each phase prints a line when it starts and how long it took; pip's own lines are shortened to
# one per package it fetches or installs (a first install takes a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=0
phase() {  # phase N/TOTAL "what"
  phase_start=$SECONDS
  echo "[$1] $2" >&2
}
done_phase() {
  echo "      done in $((SECONDS - phase_start)) s" >&2
}
# pip's lines, one per package collected/installed, prefixed; everything else (already satisfied...) dropped
pip_lines() {
  awk '/^(Collecting|Downloading|Processing|Building|Installing collected|Successfully|ERROR|error|WARNING: (Retrying|There was))/ { print "      " $0; fflush() }' >&2
}

if [ ! -x .venv/bin/python ]; then
  phase 1/4 "creating the virtual environment .venv"
  python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
  done_phase
else
  echo "[1/4] .venv exists" >&2
fi
phase 2/4 "updating pip"
.venv/bin/python -m pip install --upgrade pip 2>&1 | pip_lines
done_phase
phase 3/4 "installing corpus and its dependencies (first time: a few minutes; each package is listed)"
.venv/bin/python -m pip install --progress-bar off -e . 2>&1 | pip_lines
done_phase
phase 4/4 "corpus demo: ingest and index the bundled sample (the embedding model is built once per machine user, about 1.5 min, steps shown), then serve"
exec .venv/bin/corpus demo "$@"
