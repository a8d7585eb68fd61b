#!/usr/bin/env bash
# Deploy a stack (default: dev) with a local file backend: no Pulumi Cloud login.
#   scripts/deploy.sh [stack] [extra `pulumi up` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true

# Machines that cannot download the Pulumi CLI build it from Go modules (scripts/pulumi-from-source.sh).
if ! command -v pulumi >/dev/null 2>&1 && [ -x .tools/bin/pulumi ]; then
  export PATH="$PWD/.tools/bin:$PATH"
fi
command -v pulumi >/dev/null 2>&1 || {
  echo "the Pulumi CLI is not installed: see https://www.pulumi.com/docs/install/" >&2
  exit 1
}

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
mkdir -p .pulumi-state

[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select "$stack" --create
pulumi up "$@"
