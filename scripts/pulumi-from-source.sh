#!/usr/bin/env bash
# Builds the Pulumi toolchain this project needs from source, for machines that cannot download the Pulumi
# CLI or its plugins. A machine with the Pulumi CLI installed the usual way needs none of this: the CLI
# downloads the plugins itself.
#
# Output, in <repo>/.tools (git-ignored):
#   bin/pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi (scripts/pulumi-cli)
#   bin/pulumi-language-nodejs          the official Node.js language host, from its published source
#   bin/pulumi-resource-pulumi-nodejs   the dynamic-provider launcher, as the CLI's release archives ship it
#   plugins/pulumi-resource-command     the plugin of npm @pulumi/command, from its published source
#   plugins/pulumi-resource-random      the plugin of npm @pulumi/random, from its published source
#   env.sh                              to be sourced before running pulumi
# The two resource plugins are then installed into $PULUMI_HOME (default ~/.pulumi) with
# `pulumi plugin install --file`, where the CLI would have put downloaded ones.
#
# Versions: the CLI is v3.274.1 (scripts/pulumi-cli/go.mod), the newest the module proxy serves whose plugin
# protocol still works with the 3.259.0 language host: the engine only calls what that host implements, and
# npm @pulumi/pulumi 3.270+ needs a CLI at least that new. The language host itself must be built against
# pkg/sdk v3.259.0 (against v3.274.1 it does not compile).
#
# Plugin sources (published releases, Apache-2.0) are taken from these folders, each settable by option or
# environment variable, defaulting to ../shared/vendor/<folder> beside the repository when it exists:
#   --command-src DIR          PULUMI_COMMAND_SRC          pulumi-command v1.2.1, its provider/ folder
#   --random-src DIR           PULUMI_RANDOM_SRC           pulumi-random v4.21.1 (the repository root)
#   --yaml-src DIR             PULUMI_YAML_SRC             pulumi-yaml at 294c561f (the random bridge needs it)
#   --dotnet-src DIR           PULUMI_DOTNET_SRC           pulumi-dotnet at 6a2eb258 (likewise)
#   --language-nodejs-src DIR  PULUMI_LANGUAGE_NODEJS_SRC  pulumi v3.259.0, sdk/nodejs/cmd/pulumi-language-nodejs
# Sources are copied before building (go generate and go mod tidy write files; the folders may be read-only).
#
# A second run rebuilds nothing: each binary has a stamp (its version and the hash of its sources), and
# built binaries are also kept per stamp in ${XDG_CACHE_HOME:-~/.cache}/mesos-cluster/pulumi-tools, so a
# fresh clone on a machine that built them once restores them in a second.
#
# Usage: scripts/pulumi-from-source.sh [--force] [--<name>-src DIR ...]
#   --force   build even if pulumi is already on PATH, and ignore the stamps and the cache
# Environment: GOMODCACHE / GOCACHE / PULUMI_HOME are honoured.
set -euo pipefail

PULUMI_VERSION="3.274.1"
LANGUAGE_HOST_VERSION="3.259.0"
COMMAND_PLUGIN_VERSION="1.2.1" # npm @pulumi/command 1.2.x asks for this plugin version
RANDOM_PLUGIN_VERSION="4.21.1" # npm @pulumi/random is pinned to exactly this version

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor_dir="$repo_root/../shared/vendor"
default_src() { [ -d "$vendor_dir/$1" ] && (cd "$vendor_dir/$1" && pwd) || true; }

force=0
command_src="${PULUMI_COMMAND_SRC:-$(default_src pulumi-command-v1.2.1/provider)}"
random_src="${PULUMI_RANDOM_SRC:-$(default_src pulumi-random-v4.21.1)}"
yaml_src="${PULUMI_YAML_SRC:-$(default_src pulumi-yaml-294c561f)}"
dotnet_src="${PULUMI_DOTNET_SRC:-$(default_src pulumi-dotnet-6a2eb258)}"
language_src="${PULUMI_LANGUAGE_NODEJS_SRC:-$(default_src pulumi-language-nodejs-v3.259.0)}"
while [ $# -gt 0 ]; do
    case "$1" in
        --force) force=1 ;;
        --command-src) command_src="$2"; shift ;;
        --random-src) random_src="$2"; shift ;;
        --yaml-src) yaml_src="$2"; shift ;;
        --dotnet-src) dotnet_src="$2"; shift ;;
        --language-nodejs-src) language_src="$2"; shift ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

cli_mod="$repo_root/scripts/pulumi-cli"
tools_dir="$repo_root/.tools"
bin_dir="$tools_dir/bin"
plugin_dir="$tools_dir/plugins"
stamp_dir="$tools_dir/stamps"
build_dir="$tools_dir/build"
cache_dir="${PULUMI_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mesos-cluster/pulumi-tools}"

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
export GOTOOLCHAIN=local # never download another Go toolchain
export GOFLAGS="-buildvcs=false -mod=readonly"
export CGO_ENABLED=0
mkdir -p "$bin_dir" "$plugin_dir" "$stamp_dir" "$build_dir"
log "go: $(go version | cut -d' ' -f3-); GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE)"

# Hash of every file below the given folders (names and contents).
tree_hash() {
    local dir
    for dir in "$@"; do
        (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    done | sha256sum | cut -c1-16
}

need_src() { # option folder
    [ -n "$2" ] && [ -d "$2" ] \
        || die "no source for $1: pass $1 DIR (or its environment variable); see --help"
}

# Runs `build_fn` unless the binary's stamp is current, or restores it from the per-stamp cache.
build_once() { # name output-dir stamp build_fn
    local name="$1" out="$2" stamp="$3" fn="$4" copy start
    copy="$cache_dir/$(printf '%s' "$stamp" | sha256sum | cut -c1-16)/$name"
    if [ "$force" = 0 ] && [ -x "$out/$name" ] && [ "$(cat "$stamp_dir/$name" 2>/dev/null)" = "$stamp" ]; then
        log "$name is up to date"
        return
    fi
    if [ "$force" = 0 ] && [ -x "$copy" ]; then
        cp -f "$copy" "$out/$name"
        log "restored $name from $copy"
    else
        start=$(date +%s)
        log "building $name ..."
        "$fn" "$out/$name.tmp"
        mv -f "$out/$name.tmp" "$out/$name"
        mkdir -p "$(dirname "$copy")"
        cp -f "$out/$name" "$copy"
        log "built $name in $(( $(date +%s) - start ))s"
    fi
    echo "$stamp" > "$stamp_dir/$name"
}

# A fresh copy of a source folder in the build folder; prints its path.
fresh_copy() { # name source
    rm -rf "${build_dir:?}/$1"
    cp -r "$2" "$build_dir/$1"
    chmod -R u+w "$build_dir/$1"
    echo "$build_dir/$1"
}

# 1. The CLI.
build_cli() {
    log "a cold build downloads ~270 MB of Go modules and takes 8-20 min on 2 cores"
    (cd "$cli_mod" && go build -trimpath -o "$1" \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}
build_once pulumi "$bin_dir" "pulumi v$PULUMI_VERSION $(tree_hash "$cli_mod")" build_cli
got="$(PULUMI_SKIP_UPDATE_CHECK=true "$bin_dir/pulumi" version)"
[ "$got" = "v$PULUMI_VERSION" ] || die "pulumi reports $got, expected v$PULUMI_VERSION"

# 2. The official Node.js language host. Its go.mod points pkg/v3 and sdk/v3 at the monorepo; outside it
# both are required at the host's own release, and go.sum is completed by `go mod tidy`.
build_language_host() {
    local src
    src="$(fresh_copy language-nodejs "$language_src")"
    (cd "$src" \
        && sed -i '/=> \.\.\/\.\.\/\.\.\/\.\.\/pkg/d; /=> \.\.\/\.\.\/\.\./d' go.mod \
        && go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$LANGUAGE_HOST_VERSION" \
            -require="github.com/pulumi/pulumi/sdk/v3@v$LANGUAGE_HOST_VERSION" \
        && GOFLAGS="-buildvcs=false -mod=mod" go mod tidy \
        && go build -trimpath -o "$1" -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANGUAGE_HOST_VERSION" .)
}
need_src --language-nodejs-src "$language_src"
build_once pulumi-language-nodejs "$bin_dir" \
    "pulumi-language-nodejs v$LANGUAGE_HOST_VERSION $(tree_hash "$language_src")" build_language_host

# 3. The dynamic-provider launcher: runs the SDK's provider host from the project's node_modules.
launcher="$bin_dir/pulumi-resource-pulumi-nodejs"
launcher_text='#!/bin/sh
exec node "$(node -e "console.log(require.resolve('"'"'@pulumi/pulumi/cmd/dynamic-provider'"'"'))")" "$@"'
if [ ! -x "$launcher" ] || [ "$(cat "$launcher")" != "$launcher_text" ]; then
    printf '%s\n' "$launcher_text" > "$launcher"
    chmod +x "$launcher"
    log "wrote pulumi-resource-pulumi-nodejs"
fi

# 4. The command provider.
build_command() {
    local src
    src="$(fresh_copy command "$command_src")"
    (cd "$src" && go build -trimpath -o "$1" \
        -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_PLUGIN_VERSION" \
        ./cmd/pulumi-resource-command)
}
need_src --command-src "$command_src"
build_once pulumi-resource-command "$plugin_dir" \
    "pulumi-resource-command v$COMMAND_PLUGIN_VERSION $(tree_hash "$command_src")" build_command

# 5. The random provider (a Terraform bridge): two modules it needs at pseudo-versions the proxy refuses
# come from their own folders; schema-embed.json is generated as upstream's Makefile does.
build_random() {
    local src yaml dotnet
    src="$(fresh_copy random "$random_src")"
    yaml="$(fresh_copy random-yaml "$yaml_src")"
    dotnet="$(fresh_copy random-dotnet "$dotnet_src")"
    (cd "$src/provider" \
        && go mod edit -replace "github.com/pulumi/pulumi-yaml=$yaml" \
            -replace "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=$dotnet/pulumi-language-dotnet" \
        && VERSION="$RANDOM_PLUGIN_VERSION" GOFLAGS="-buildvcs=false -mod=mod" go generate cmd/pulumi-resource-random/main.go \
        && go build -trimpath -o "$1" \
            -ldflags "-s -w -X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$RANDOM_PLUGIN_VERSION" \
            github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random)
}
need_src --random-src "$random_src"
need_src --yaml-src "$yaml_src"
need_src --dotnet-src "$dotnet_src"
build_once pulumi-resource-random "$plugin_dir" \
    "pulumi-resource-random v$RANDOM_PLUGIN_VERSION $(tree_hash "$random_src" "$yaml_src" "$dotnet_src")" build_random
rm -rf "$build_dir"

# 6. The plugins go where the CLI keeps downloaded ones, so that it finds them without downloading and
# without the "using ... from \$PATH" warning.
plugin_home="${PULUMI_HOME:-$HOME/.pulumi}/plugins"
install_plugin() { # name version
    local installed="$plugin_home/resource-$1-v$2/pulumi-resource-$1"
    if [ -x "$installed" ] && cmp -s "$installed" "$plugin_dir/pulumi-resource-$1"; then
        log "plugin $1 v$2 is installed"
    else
        PULUMI_SKIP_UPDATE_CHECK=true "$bin_dir/pulumi" plugin install resource "$1" "$2" \
            --file "$plugin_dir/pulumi-resource-$1" --reinstall >/dev/null
        log "installed plugin $1 v$2 into $plugin_home"
    fi
}
install_plugin command "$COMMAND_PLUGIN_VERSION"
install_plugin random "$RANDOM_PLUGIN_VERSION"

# 7. Environment for running the built CLI offline.
cat > "$tools_dir/env.sh" <<EOF
# Source this file to run the Pulumi CLI built by scripts/pulumi-from-source.sh.
export PATH="$bin_dir:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
# Plugins are installed in \$PULUMI_HOME/plugins by the build; never download.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
EOF

log "done: $(ls "$bin_dir" | tr '\n' ' ') and plugins $(ls "$plugin_dir" | tr '\n' ' ')"
log "to use: source $tools_dir/env.sh; with a local state, also set PULUMI_BACKEND_URL=file://<dir> and PULUMI_CONFIG_PASSPHRASE"
