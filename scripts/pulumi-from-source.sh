#!/usr/bin/env bash
# Builds the Pulumi toolchain this project needs from Go module sources, for
# machines where the Pulumi CLI cannot be downloaded as a release binary.
#
# Output, in <repo>/.tools/bin (git-ignored):
#   pulumi                         CLI, github.com/pulumi/pulumi/pkg/v3 cmd/pulumi
#   pulumi-language-nodejs         Node.js language host (scripts/pulumi-tools/cmd/pulumi-language-nodejs)
#   pulumi-resource-pulumi-nodejs  dynamic-provider launcher (runs @pulumi/pulumi/cmd/dynamic-provider)
#   pulumi-resource-command        command provider, only when its Go module can be fetched (see below)
# and <repo>/.tools/env.sh, to be sourced before running pulumi.
#
# Versions are pinned in scripts/pulumi-tools/go.mod (+ go.sum) and below.
# A second run rebuilds nothing: each binary has a stamp made of its pinned
# version and the hash of the tools module's sources.
#
# Usage: scripts/pulumi-from-source.sh [--force]
#   --force   build even if pulumi is already on PATH, and ignore the stamps
# Environment: GOMODCACHE / GOCACHE are honoured (Go's defaults otherwise).
#   PULUMI_COMMAND_PLUGIN_BIN=/path/to/pulumi-resource-command  use a prebuilt
#   command provider binary instead of trying to build one.
set -euo pipefail

PULUMI_VERSION="3.274.1"            # github.com/pulumi/pulumi/{pkg,sdk}/v3, see go.mod
COMMAND_PLUGIN_VERSION="1.2.1"      # asked for by the npm package @pulumi/command@1.2.1
# Commit of the v1.2.1 tag of github.com/pulumi/pulumi-command; its provider
# module has no tags of its own, so it can only be fetched by commit.
COMMAND_PLUGIN_COMMIT="7f3eb6f3b77cd0fa3895ba437a695dd393f7dd25"

force=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_mod="$repo_root/scripts/pulumi-tools"
tools_dir="$repo_root/.tools"
bin_dir="$tools_dir/bin"
stamp_dir="$tools_dir/stamps"

log() { printf '[pulumi-from-source] %s\n' "$*"; }
die() { printf '[pulumi-from-source] error: %s\n' "$*" >&2; exit 1; }

if [ "$force" = 0 ] && existing="$(command -v pulumi 2>/dev/null)" \
    && [ "$(dirname "$existing")" != "$bin_dir" ]; then
    log "pulumi is already on PATH ($existing, $(PULUMI_SKIP_UPDATE_CHECK=true pulumi version 2>/dev/null || echo '?')); nothing to build (use --force to build anyway)"
    exit 0
fi

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "Go not found (expected /usr/local/go/bin/go)"
command -v node >/dev/null || die "node not found on PATH"
export GOTOOLCHAIN=local            # never download another Go toolchain
export GOFLAGS="-buildvcs=false -mod=readonly"
export CGO_ENABLED=0
mkdir -p "$bin_dir" "$stamp_dir"

log "go: $(go version | cut -d' ' -f3-); GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE)"

# Hash of everything that decides what the Go tools module builds.
tools_hash="$(cd "$tools_mod" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"

up_to_date() { # name expected-stamp
    [ "$force" = 0 ] && [ -x "$bin_dir/$1" ] && [ -f "$stamp_dir/$1" ] && [ "$(cat "$stamp_dir/$1")" = "$2" ]
}

timed_build() { # name package ldflags
    local name="$1" pkg="$2" ldflags="$3" start
    start=$(date +%s)
    log "building $name ($pkg) ..."
    (cd "$tools_mod" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin_dir/$name.tmp" "$pkg")
    mv -f "$bin_dir/$name.tmp" "$bin_dir/$name"
    log "built $name in $(( $(date +%s) - start ))s"
}

# Built binaries are also kept per stamp outside the checkout, so that a fresh clone on a machine that built
# them before (a CI run, a second work tree) copies them instead of compiling again.
cache_dir="${PULUMI_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mesos-cluster/pulumi-tools}"

build_or_restore() { # name stamp package ldflags
    local name="$1" stamp="$2" copy
    copy="$cache_dir/$(printf '%s' "$stamp" | sha256sum | cut -c1-16)/$name"
    if [ "$force" = 0 ] && [ -x "$copy" ]; then
        cp -f "$copy" "$bin_dir/$name"
        log "restored $name from $copy"
    else
        timed_build "$name" "$3" "$4"
        mkdir -p "$(dirname "$copy")"
        cp -f "$bin_dir/$name" "$copy"
    fi
    echo "$stamp" > "$stamp_dir/$name"
}

# 1. The CLI.
stamp="pulumi v$PULUMI_VERSION $tools_hash"
if up_to_date pulumi "$stamp" \
    && [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$bin_dir/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    log "pulumi v$PULUMI_VERSION is up to date"
else
    log "a cold build downloads ~270 MB of Go modules (1.4 GB unpacked), fills ~1.2 GB of build cache and takes 8-22 min on 2 cores"
    build_or_restore pulumi "$stamp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
    got="$(PULUMI_SKIP_UPDATE_CHECK=true "$bin_dir/pulumi" version)"
    [ "$got" = "v$PULUMI_VERSION" ] || die "pulumi reports $got, expected v$PULUMI_VERSION"
fi

# 2. The Node.js language host.
stamp="pulumi-language-nodejs v$PULUMI_VERSION $tools_hash"
if up_to_date pulumi-language-nodejs "$stamp"; then
    log "pulumi-language-nodejs is up to date"
else
    build_or_restore pulumi-language-nodejs "$stamp" ./cmd/pulumi-language-nodejs "-X main.version=$PULUMI_VERSION"
fi

# 3. The dynamic-provider launcher, as shipped with the CLI's release archives.
launcher="$bin_dir/pulumi-resource-pulumi-nodejs"
launcher_text='#!/bin/sh
exec node "$(node -e "console.log(require.resolve('"'"'@pulumi/pulumi/cmd/dynamic-provider'"'"'))")" "$@"'
if [ -x "$launcher" ] && [ "$(cat "$launcher")" = "$launcher_text" ]; then
    log "pulumi-resource-pulumi-nodejs is up to date"
else
    printf '%s\n' "$launcher_text" > "$launcher"
    chmod +x "$launcher"
    log "wrote pulumi-resource-pulumi-nodejs"
fi

# 4. The command provider (@pulumi/command's plugin).
stamp="pulumi-resource-command v$COMMAND_PLUGIN_VERSION $COMMAND_PLUGIN_COMMIT"
command_plugin="$bin_dir/pulumi-resource-command"
if [ -n "${PULUMI_COMMAND_PLUGIN_BIN:-}" ]; then
    [ -x "$PULUMI_COMMAND_PLUGIN_BIN" ] || die "PULUMI_COMMAND_PLUGIN_BIN=$PULUMI_COMMAND_PLUGIN_BIN is not executable"
    install -m 0755 "$PULUMI_COMMAND_PLUGIN_BIN" "$command_plugin"
    echo "$stamp (from $PULUMI_COMMAND_PLUGIN_BIN)" > "$stamp_dir/pulumi-resource-command"
    log "installed pulumi-resource-command from $PULUMI_COMMAND_PLUGIN_BIN"
elif up_to_date pulumi-resource-command "$stamp"; then
    log "pulumi-resource-command v$COMMAND_PLUGIN_VERSION is up to date"
elif [ "$force" = 0 ] && [ -f "$stamp_dir/pulumi-resource-command.unavailable" ]; then
    log "WARNING: pulumi-resource-command v$COMMAND_PLUGIN_VERSION is not available (see $stamp_dir/pulumi-resource-command.unavailable; --force retries)"
else
    log "building pulumi-resource-command v$COMMAND_PLUGIN_VERSION ..."
    gobin_tmp="$(mktemp -d)"
    if out="$(GOBIN="$gobin_tmp" GOFLAGS=-buildvcs=false go install -trimpath \
            -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_PLUGIN_VERSION" \
            "github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command@$COMMAND_PLUGIN_COMMIT" 2>&1)"; then
        mv -f "$gobin_tmp/pulumi-resource-command" "$command_plugin"
        echo "$stamp" > "$stamp_dir/pulumi-resource-command"
        rm -f "$stamp_dir/pulumi-resource-command.unavailable"
        log "built pulumi-resource-command"
    else
        printf '%s\n' "$out" > "$stamp_dir/pulumi-resource-command.unavailable"
        log "WARNING: could not build pulumi-resource-command v$COMMAND_PLUGIN_VERSION:"
        printf '    %s\n' "$out" | tail -n 3
        log "WARNING: programs that create @pulumi/command resources cannot be deployed;"
        log "         a prebuilt binary can be supplied with PULUMI_COMMAND_PLUGIN_BIN=/path/to/pulumi-resource-command"
    fi
    rm -rf "$gobin_tmp"
fi

# 5. Environment for running the built CLI offline.
cat > "$tools_dir/env.sh" <<EOF
# Source this file to run the Pulumi CLI built by scripts/pulumi-from-source.sh.
export PATH="$bin_dir:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
# Plugins come from this directory (on PATH) or from "pulumi plugin install --file"; never download.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
EOF

log "done: $(ls "$bin_dir" | tr '\n' ' ')"
log "to use: source $tools_dir/env.sh (puts $bin_dir first on PATH); also set PULUMI_BACKEND_URL=file://<dir> and PULUMI_CONFIG_PASSPHRASE"
