/** ZooKeeper files, as the Debian/Ubuntu `zookeeper` package lays them out. */
import type { MasterNode, ZooKeeperSettings } from "../config";
import { shellQuote, takeStdin, type ConfigFile, type ScriptPart } from "./shell";

export const ZOOKEEPER_CONF_DIR = "/etc/zookeeper/conf";
export const MYID_PATH = `${ZOOKEEPER_CONF_DIR}/myid`;
export const ZOO_CFG_PATH = `${ZOOKEEPER_CONF_DIR}/zoo.cfg`;

/** Four-letter words the readiness gate and operators use; ZooKeeper ≥ 3.5 allows only `srvr` by default. */
const FOUR_LETTER_WORDS = "srvr,ruok,stat,mntr,conf";

/** `/etc/zookeeper/conf/myid`: the member's id. */
export function myidFile(member: MasterNode): ConfigFile {
  return { path: MYID_PATH, content: `${member.zkId}\n` };
}

/** `/etc/zookeeper/conf/zoo.cfg`: the same on every member, peers in config order. */
export function zooCfgFile(members: readonly MasterNode[], zk: ZooKeeperSettings): ConfigFile {
  const lines = [
    `tickTime=${zk.tickTime}`,
    `initLimit=${zk.initLimit}`,
    `syncLimit=${zk.syncLimit}`,
    `dataDir=${zk.dataDir}`,
    `clientPort=${zk.clientPort}`,
    `4lw.commands.whitelist=${FOUR_LETTER_WORDS}`,
    // The AdminServer would take port 8080 from Marathon on ZooKeeper ≥ 3.5.
    "admin.enableServer=false",
    ...members.map((m) => `server.${m.zkId}=${m.ip}:${zk.peerPort}:${zk.electionPort}`),
  ];
  return { path: ZOO_CFG_PATH, content: `${lines.join("\n")}\n` };
}

/** `10.10.20.11:2181,10.10.20.12:2181,…` in config order. */
export function connectString(members: readonly Pick<MasterNode, "ip">[], clientPort: number): string {
  return members.map((m) => `${m.ip}:${clientPort}`).join(",");
}

/** `zk://<connect string><chroot>`, e.g. chroot `/mesos` or `/marathon`. */
export function zkUrl(
  members: readonly Pick<MasterNode, "ip">[],
  clientPort: number,
  chroot: string,
): string {
  return `zk://${connectString(members, clientPort)}${chroot}`;
}

/**
 * With `reconfigEnabled` (ZooKeeper 3.5 and later), ZooKeeper keeps its members itself: it moves the
 * `server.N` lines of zoo.cfg into a dynamic file of its own on the first election, and rewrites both on
 * every reconfiguration. The program then manages zoo.cfg's settings by value (the lines below, in any
 * order) and the members through ZooKeeper's `reconfig` (see {@link ensembleMembersPart}).
 */
export function zooCfgSettings(zk: ZooKeeperSettings): string[] {
  return [
    `tickTime=${zk.tickTime}`,
    `initLimit=${zk.initLimit}`,
    `syncLimit=${zk.syncLimit}`,
    `dataDir=${zk.dataDir}`,
    `4lw.commands.whitelist=${FOUR_LETTER_WORDS}`,
    "admin.enableServer=false",
    "reconfigEnabled=true",
    // A one-member ensemble then runs as a quorum of one, which can grow by reconfiguration.
    "standaloneEnabled=false",
  ].sort();
}

/** A member as ZooKeeper's dynamic config (and its `conf` command) writes it, client port included. */
export function serverLine(member: Pick<MasterNode, "ip" | "zkId">, zk: ZooKeeperSettings): string {
  return `server.${member.zkId}=${member.ip}:${zk.peerPort}:${zk.electionPort}:participant;0.0.0.0:${zk.clientPort}`;
}

/** The ensemble's members in the order ZooKeeper lists them: by server id. */
export function serverLines(
  members: readonly Pick<MasterNode, "ip" | "zkId">[],
  zk: ZooKeeperSettings,
): string[] {
  return [...members].sort((a, b) => a.zkId - b.zkId).map((m) => serverLine(m, zk));
}

/** Where a member keeps the password of the superuser that may reconfigure it, and its digest. */
const SUPERUSER_DIR = "$STATE/zookeeper";

/** Where the Debian and Ubuntu packages put ZooKeeper's files; tests point them at a scratch directory. */
export interface ZooKeeperPaths {
  /** zoo.cfg. */
  readonly config: string;
  /** The CLI, which runs `reconfig`. */
  readonly cli: string;
  /** The library, which computes a superuser digest. */
  readonly jar: string;
}

export const PACKAGE_PATHS: ZooKeeperPaths = {
  config: ZOO_CFG_PATH,
  cli: "/usr/share/zookeeper/bin/zkCli.sh",
  jar: "/usr/share/java/zookeeper.jar",
};

/**
 * zoo.cfg with `reconfigEnabled`: the settings (stdin, sorted) are compared by value with the file's,
 * ignoring what ZooKeeper itself writes there (the members, `dynamicConfigFile`), and the file is
 * rewritten only when a setting differs, keeping ZooKeeper's own membership; a member that does not run
 * gets the wanted members instead when the file's members lack it (a new or re-added member). Each
 * member has a superuser of its own (a random password in the state dir, its digest in zoo.cfg), whom
 * the ensemble step uses to reconfigure. The config folder is given to the `zookeeper` user, who writes
 * the dynamic config there. Delete removes ZooKeeper's dynamic files and the superuser, gives the folder
 * back, and puts zoo.cfg back.
 */
export function dynamicZooCfgPart(
  member: Pick<MasterNode, "ip" | "zkId">,
  members: readonly Pick<MasterNode, "ip" | "zkId">[],
  zk: ZooKeeperSettings,
  running: string,
  paths: ZooKeeperPaths = PACKAGE_PATHS,
): ScriptPart {
  const settings = `${zooCfgSettings(zk).join("\n")}\n`;
  const servers = `${serverLines(members, zk).join("\n")}\n`;
  const self = `server.${member.zkId}=${member.ip}:`;
  const cfg = shellQuote(paths.config);
  const create = `settings=$(${takeStdin(settings)})
servers=$(${takeStdin(servers)})
dir=$(dirname "$(readlink -f ${cfg})")
mkdir -p "${SUPERUSER_DIR}"
if [ ! -s "${SUPERUSER_DIR}/super.digest" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\\n' > "${SUPERUSER_DIR}/super.password")
  java -cp ${shellQuote(paths.jar)} org.apache.zookeeper.server.auth.DigestAuthenticationProvider "super:$(cat "${SUPERUSER_DIR}/super.password")" 2>/dev/null \\
    | sed -n 's/^.*->super:/super:/p' > "${SUPERUSER_DIR}/super.digest"
  if [ ! -s "${SUPERUSER_DIR}/super.digest" ]; then echo "cannot compute a ZooKeeper superuser digest with ${paths.jar}" >&2; exit 1; fi
fi
want=$(printf '%s\\nDigestAuthenticationProvider.superDigest=%s\\n' "$settings" "$(cat "${SUPERUSER_DIR}/super.digest")" | sort)
have=$(grep -Ev '^(server\\.[0-9]+|dynamicConfigFile)=|^[[:space:]]*(#|$)' ${cfg} 2>/dev/null | sort || true)
dynamic=$(sed -n 's/^dynamicConfigFile=//p' ${cfg} 2>/dev/null | tail -n 1)
if [ -n "$dynamic" ] && [ -f "$dynamic" ]; then on_disk=$(grep '^server\\.' "$dynamic" || true); else dynamic=""; on_disk=$(grep '^server\\.' ${cfg} 2>/dev/null || true); fi
members_ok=yes
if ! ${running} && ! printf '%s\\n' "$on_disk" | grep -qF ${shellQuote(self)}; then members_ok=no; fi
if [ "$have" = "$want" ] && [ "$members_ok" = yes ]; then
  remember_original ${cfg}; own file ${cfg}
  echo "unchanged ${paths.config} (settings)"
else
  if [ "$members_ok" = yes ] && [ -n "$dynamic" ]; then members="dynamicConfigFile=$dynamic"; else members=$servers; fi
  printf '%s\\n%s\\n' "$want" "$members" | write_file ${cfg}
  if [ "$have" != "$want" ]; then mark_pending zookeeper; fi
fi
if id -u zookeeper >/dev/null 2>&1 && [ "$(stat -c %U "$dir")" != zookeeper ]; then
  stat -c %U "$dir" > "${SUPERUSER_DIR}/conf-dir-owner"
  chown zookeeper "$dir"; echo "gave $dir to zookeeper (its dynamic config lives there)"
fi`;
  const remove = `dir=$(dirname "$(readlink -f ${cfg})")
if owned file ${cfg} >/dev/null; then
  for f in ${cfg}.dynamic* ${cfg}.bak; do if [ -e "$f" ]; then rm -f "$f"; echo "removed $f"; fi; done
  if [ -s "${SUPERUSER_DIR}/conf-dir-owner" ]; then chown "$(cat "${SUPERUSER_DIR}/conf-dir-owner")" "$dir"; fi
  rm -f "${SUPERUSER_DIR}/conf-dir-owner" "${SUPERUSER_DIR}/super.password" "${SUPERUSER_DIR}/super.digest"
fi
remove_file ${cfg}`;
  return { create, delete: remove, stdin: settings + servers };
}

/**
 * The ensemble's members, changed with ZooKeeper's dynamic reconfiguration: run on one member, this part
 * reads the members in force (`conf`) and, when they differ from the wanted ones (stdin), runs
 * `reconfig -members` as that member's superuser. Members join and leave without any member restarting:
 * a new member, started beforehand with the wanted members, follows without a vote until the
 * reconfiguration makes it a voter, and a removed one stops serving votes before its own step stops it.
 * ZooKeeper commits a reconfiguration only with a quorum of the old members and of the new ones.
 */
export function ensembleMembersPart(
  member: Pick<MasterNode, "ip">,
  members: readonly Pick<MasterNode, "ip" | "zkId">[],
  zk: ZooKeeperSettings,
  cli: string = PACKAGE_PATHS.cli,
): ScriptPart {
  const servers = `${serverLines(members, zk).join("\n")}\n`;
  const endpoint = `${member.ip}:${zk.clientPort}`;
  const conf = shellQuote(`exec 3<>/dev/tcp/${member.ip}/${zk.clientPort} && printf conf >&3 && cat <&3`);
  const create = `want=$(${takeStdin(servers)})
in_force() { timeout 5 bash -c ${conf} 2>/dev/null | grep '^server\\.' | sort -t. -k2 -n || true; }
have=$(in_force)
if [ -z "$have" ]; then echo "cannot read the members in force from ZooKeeper ${endpoint} (conf)" >&2; exit 1; fi
if [ "$have" = "$want" ]; then echo "ZooKeeper members already as wanted; nothing changed"; exit 0; fi
if [ ! -x ${shellQuote(cli)} ]; then echo "reconfiguring the ensemble needs ${cli} (ZooKeeper 3.5 or later)" >&2; exit 1; fi
out=$(printf 'addauth digest super:%s\\nreconfig -members %s\\nquit\\n' "$(cat "${SUPERUSER_DIR}/super.password")" "$(printf '%s' "$want" | paste -sd, -)" \\
  | timeout 120 ${shellQuote(cli)} -server ${endpoint} 2>&1 || true)
if ! printf '%s\\n' "$out" | grep -q '^Committed new configuration'; then
  echo "ZooKeeper refused the new members: $(printf '%s\\n' "$out" | grep -Ev '^(WATCHER::|WatchedEvent|JLine|SLF4J|$)' | tail -n 3)" >&2
  exit 1
fi
echo "reconfigured ZooKeeper members: $(printf '%s\\n' "$have" | sed 's/=.*//' | paste -sd' ' -) -> $(printf '%s\\n' "$want" | sed 's/=.*//' | paste -sd' ' -)"`;
  return { create, stdin: servers };
}

/**
 * Before zoo.cfg points ZooKeeper at a new `dataDir`: stop the member and copy its data (snapshots and
 * transaction logs) from the old directory, which is kept. A new directory that already holds data is
 * used as it is (the leader brings a member's data up to date when it joins).
 */
export function dataDirMovePart(
  dataDir: string,
  stopIfRunning: string,
  config: string = PACKAGE_PATHS.config,
): ScriptPart {
  return {
    create: `new=${shellQuote(dataDir)}
old=$(sed -n 's/^dataDir=//p' ${shellQuote(config)} 2>/dev/null | tail -n 1)
if [ -z "$old" ] || [ "$old" = "$new" ] || [ ! -d "$old/version-2" ]; then echo "ZooKeeper data stays in $new"; exit 0; fi
${stopIfRunning}
if [ -d "$new/version-2" ]; then
  echo "ZooKeeper data: $new already holds data; kept it (and $old)"
else
  mkdir -p "$new"
  cp -a "$old/version-2" "$new/"
  if id -u zookeeper >/dev/null 2>&1; then chown -R zookeeper: "$new"; fi
  echo "copied ZooKeeper data from $old to $new (the old copy is kept)"
fi
mark_pending zookeeper`,
  };
}
