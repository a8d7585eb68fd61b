/**
 * The apt source and package install parts of a host's packages step, bounded with `timeout` so a dead
 * mirror fails the step.
 */
import type { PackageSettings } from "../config";
import { shellQuote, takeStdin, type ScriptPart } from "./shell";

export const APT_SOURCE_LIST = "/etc/apt/sources.list.d/mesosphere.list";

/** Seconds `apt-get update` and a key import may take. */
const APT_UPDATE_TIMEOUT = 600;
/** Seconds `apt-get install` / `remove` may take (a JDK and Marathon are large). */
const APT_INSTALL_TIMEOUT = 1800;

export interface AptSource {
  /** The `deb …` line. */
  readonly line: string;
  /** The repository key id. */
  readonly key: string;
  readonly keyserver: string;
}

/** One package, pinned with `name=version` when `version` is set. */
export interface PackagePin {
  readonly name: string;
  readonly version?: string;
}

/**
 * Write the source line (stdin) to {@link APT_SOURCE_LIST}, import the key only when apt lacks it, and run
 * `apt-get update` only when the source changed. The key, when this step imported it, is recorded as owned
 * by the step; delete removes the list and the key, when this step still owns them.
 */
export function aptSourcePart(source: AptSource): ScriptPart {
  const line = `${source.line}\n`;
  const key = shellQuote(source.key);
  // Earlier versions of this step recorded an imported key in a marker of their own.
  const legacyMarker = `"$STATE/apt-key-imported"`;
  // `apt-key list` prints fingerprints in groups of four on newer apt: drop spaces before matching the id.
  const create = `if [ -f ${legacyMarker} ]; then own apt-key ${key} >/dev/null; rm -f ${legacyMarker}; fi
if apt-key list 2>/dev/null | tr -d ' ' | grep -qi ${key}; then
  echo "apt key ${source.key} already present"
  if [ -s "$(owner_file apt-key ${key})" ]; then own apt-key ${key}; fi
else
  timeout ${APT_UPDATE_TIMEOUT} apt-key adv --keyserver ${shellQuote(source.keyserver)} --recv ${key}
  own apt-key ${key}
  changed=$((changed + 1)); echo "imported apt key ${source.key}"
fi
${takeStdin(line)} | write_file ${shellQuote(APT_SOURCE_LIST)}
if [ "$changed" -gt 0 ]; then
  timeout ${APT_UPDATE_TIMEOUT} apt-get update -y -qq; echo "ran apt-get update"
else
  echo "apt source unchanged; skipped apt-get update"
fi`;
  const remove = `remove_file ${shellQuote(APT_SOURCE_LIST)}
if [ -s "$(owner_file apt-key ${key})" ] && owned apt-key ${key}; then
  apt-key del ${key} >/dev/null 2>&1 || true; disown apt-key ${key}; echo "removed apt key ${source.key}"
fi`;
  return { create, delete: remove, stdin: line };
}

/** Where earlier versions of the install step listed the packages they installed. */
const LEGACY_INSTALLED_LIST = "$STATE/installed-packages";

/** `name` or `name=version`, as apt-get takes it. */
export function packageSpec(pin: PackagePin): string {
  return pin.version === undefined ? pin.name : `${pin.name}=${pin.version}`;
}

/**
 * Install the packages in one apt transaction, skipping those already at the wanted version (or at any
 * version when unpinned). Config files the program manages are kept on upgrades (`--force-confold`).
 * A package the program installed is recorded as owned by the step (a later step that finds it installed
 * takes it over, as after a rename); one found installed before the program is never recorded. Delete
 * removes the packages this step still owns and leaves every other one alone.
 */
export function installPart(pins: readonly PackagePin[]): ScriptPart {
  const specs = pins.map((p) => shellQuote(packageSpec(p))).join(" ");
  const names = pins.map((p) => shellQuote(p.name)).join(" ");
  const create = `export DEBIAN_FRONTEND=noninteractive
if [ -f "${LEGACY_INSTALLED_LIST}" ]; then
  for name in $(sort -u "${LEGACY_INSTALLED_LIST}"); do own package "$name" >/dev/null; done
  rm -f "${LEGACY_INSTALLED_LIST}"
fi
todo=""
for spec in ${specs}; do
  name=\${spec%%=*}
  pin=""; case "$spec" in *=*) pin=\${spec#*=} ;; esac
  have=$(dpkg-query -W -f='\${Status} \${Version}' "$name" 2>/dev/null || true)
  case "$have" in
    "install ok installed "*)
      version=\${have#install ok installed }
      if [ -z "$pin" ] || [ "$version" = "$pin" ]; then
        echo "$name $version already installed"
        if [ -s "$(owner_file package "$name")" ]; then own package "$name"; fi
        continue
      fi ;;
  esac
  todo="$todo $spec"
done
if [ -z "$todo" ]; then echo "all packages already installed; nothing changed"; exit 0; fi
timeout ${APT_INSTALL_TIMEOUT} apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $todo
for spec in $todo; do own package "\${spec%%=*}" >/dev/null; done
echo "installed$todo"`;
  const remove = `export DEBIAN_FRONTEND=noninteractive
mine=""
for name in ${names}; do
  if [ -s "$(owner_file package "$name")" ] && owned package "$name"; then mine="$mine $name"; fi
done
if [ -z "$mine" ]; then echo "installed no packages; nothing to remove"; exit 0; fi
timeout ${APT_INSTALL_TIMEOUT} apt-get remove -y -q $mine
for name in $mine; do disown package "$name"; done
echo "removed$mine"`;
  return { create, delete: remove };
}

/** The apt source (when managed), then the install, as parts of a host's step; none when nothing is to do. */
export function packageParts(pins: readonly PackagePin[], source?: AptSource): ScriptPart[] {
  return [...(source ? [aptSourcePart(source)] : []), ...(pins.length > 0 ? [installPart(pins)] : [])];
}

/** The packages a host of `role` needs, each only when `settings.<x>.install` is true. */
export function rolePackages(role: "master" | "slave", settings: PackageSettings): PackagePin[] {
  const pins: PackagePin[] = [];
  const add = (install: boolean, version: string | undefined, ...names: string[]) => {
    if (install) for (const name of names) pins.push({ name, version });
  };
  if (role === "master") {
    // zookeeperd brings the init script (service `zookeeper`); pin the library package along with it.
    add(settings.zookeeper.install, settings.zookeeper.version, "zookeeper", "zookeeperd");
    add(settings.mesos.install, settings.mesos.version, "mesos");
    add(settings.marathon.install, settings.marathon.version, "marathon");
  } else {
    add(settings.mesos.install, settings.mesos.version, "mesos");
  }
  return pins.map((p) => (p.version === undefined ? { name: p.name } : p));
}
