#!/usr/bin/env bash
# Set up a fresh Debian machine and run every test suite: types, lint, format, the unit and integration
# tests, the real Pulumi engine, and the end-to-end run on real hosts. Run as root or with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the suites use: a real Marathon client to hold the emulator honest, Vagrant with the lxc
# provider (and debootstrap for its box) to validate the rendered Vagrantfiles and boot machines, and for
# the end-to-end hosts sshd, ZooKeeper (with its init script) and nc.
apt_packages=(python3-marathon vagrant vagrant-lxc lxc debootstrap openssh-server zookeeperd netcat-openbsd)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# The Pulumi toolchain, built from source where no CLI is installed (cached between runs): its Go modules
# download and compile while the static checks and the unit tests run.
if ! command -v pulumi >/dev/null 2>&1; then
  bash scripts/pulumi-from-source.sh > "$results/toolchain.log" 2>&1 &
  toolchain=$!
fi
# Likewise the vagrant-lxc box the Vagrant end-to-end suites boot (built once with debootstrap, then cached).
sudo_if_needed bash scripts/lxc-box.sh > "$results/lxc-box.log" 2>&1 &
box=$!

npm ci --no-audit --no-fund
npm run build
npm run lint
npm run format:check
npm test -- --json --outputFile="$results/unit.json"

if [ -n "${toolchain:-}" ]; then
  wait "$toolchain" || { cat "$results/toolchain.log"; exit 1; }
  cat "$results/toolchain.log"
fi
npm run test:engine -- --json --outputFile="$results/engine.json"
wait "$box" || { cat "$results/lxc-box.log"; exit 1; }
cat "$results/lxc-box.log"
npm run test:e2e -- --json --outputFile="$results/e2e.json"

# One closing line for every suite together.
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results"
