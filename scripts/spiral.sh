#!/usr/bin/env bash
# Set-up, build and the main job: the paper's spiral experiment (results in out/spiral).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target endd_bin
build/endd experiment spiral --out out/spiral "$@"
