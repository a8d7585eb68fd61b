/**
 * Mesos files in the Mesosphere packages' convention: `/etc/mesos/zk`, and one file per flag under
 * `/etc/mesos-master` and `/etc/mesos-slave` (`?flag` for a true switch, `?no-flag` for a false one).
 */
import type { FlagValue } from "../config";
import { shellQuote, type ConfigFile, type ScriptPart } from "./shell";

export const MESOS_ZK_PATH = "/etc/mesos/zk";
export const MASTER_DIR = "/etc/mesos-master";
export const AGENT_DIR = "/etc/mesos-slave";
export const DEFAULT_MASTER_PORT = 5050;
export const DEFAULT_AGENT_PORT = 5051;

/** `/etc/mesos/zk`: where both daemons find ZooKeeper (`zk://…/mesos`). */
export function mesosZkFile(mesosZkUrl: string): ConfigFile {
  return { path: MESOS_ZK_PATH, content: `${mesosZkUrl}\n` };
}

/** The file name a Mesos flag is written to. */
export function mesosFlagFileName(name: string, value: FlagValue): string {
  if (value === true) return `?${name}`;
  if (value === false) return `?no-${name}`;
  return name;
}

function flagFiles(dir: string, flags: Record<string, FlagValue>): ConfigFile[] {
  return Object.entries(flags).map(([name, value]) => ({
    path: `${dir}/${mesosFlagFileName(name, value)}`,
    content: typeof value === "string" ? `${value}\n` : "",
  }));
}

function valueFile(dir: string, name: string, value: string | number): ConfigFile {
  return { path: `${dir}/${name}`, content: `${value}\n` };
}

export interface MasterFilesInput {
  /** The host's private address: advertised as ip and hostname (never Vagrant's NAT 10.0.2.15). */
  readonly ip: string;
  readonly quorum: number;
  readonly port: number;
  readonly flags: Record<string, FlagValue>;
}

/** `/etc/mesos-master/{ip,hostname,quorum}`, `port` when not 5050, then one file per extra flag. */
export function masterFiles(input: MasterFilesInput): ConfigFile[] {
  return [
    valueFile(MASTER_DIR, "ip", input.ip),
    valueFile(MASTER_DIR, "hostname", input.ip),
    valueFile(MASTER_DIR, "quorum", input.quorum),
    ...(input.port === DEFAULT_MASTER_PORT ? [] : [valueFile(MASTER_DIR, "port", input.port)]),
    ...flagFiles(MASTER_DIR, input.flags),
  ];
}

export interface AgentFilesInput {
  readonly ip: string;
  readonly port: number;
  readonly flags: Record<string, FlagValue>;
  readonly attributes: Record<string, string>;
  readonly resources: Record<string, string>;
}

/**
 * `/etc/mesos-slave/{ip,hostname}`, `port` when not 5051, `attributes/<k>` and `resources/<k>` (joined by
 * the package's wrapper into `--attributes` / `--resources`), then one file per extra flag.
 */
export function agentFiles(input: AgentFilesInput): ConfigFile[] {
  const keyed = (kind: "attribute" | "resource", entries: Record<string, string>) =>
    Object.entries(entries).map(([key, value]) => ({
      path: `${AGENT_DIR}/${kind}s/${key}`,
      content: `${value}\n`,
    }));
  return [
    valueFile(AGENT_DIR, "ip", input.ip),
    valueFile(AGENT_DIR, "hostname", input.ip),
    ...(input.port === DEFAULT_AGENT_PORT ? [] : [valueFile(AGENT_DIR, "port", input.port)]),
    ...keyed("attribute", input.attributes),
    ...keyed("resource", input.resources),
    ...flagFiles(AGENT_DIR, input.flags),
  ];
}

/** The agent's work_dir when no flag sets it: what the Mesosphere packages write to /etc/mesos-slave/work_dir. */
export const DEFAULT_AGENT_WORK_DIR = "/var/lib/mesos";

/** The agent files that make its agent info: what a restarted agent must find unchanged to recover. */
export function agentInfoFiles(files: readonly ConfigFile[]): ConfigFile[] {
  const info = ["ip", "hostname", "port"].map((name) => `${AGENT_DIR}/${name}`);
  return files.filter(
    (f) =>
      info.includes(f.path) ||
      f.path.startsWith(`${AGENT_DIR}/attributes/`) ||
      f.path.startsWith(`${AGENT_DIR}/resources/`),
  );
}

/**
 * Mesos refuses to recover an agent whose agent info (attributes, resources, address) changed since it
 * checkpointed it. When the digest of those files differs from the one recorded at the last run, this
 * part stops mesos-slave and removes `<work_dir>/meta/slaves/latest`, so that the agent registers anew
 * (its tasks are killed, and their frameworks start them again); the service part then starts it. The
 * work_dir is the one the agent runs with: its flag file, or the packages' default.
 */
export function agentInfoPart(infoDigest: string, stopIfRunning: string, flagDir = AGENT_DIR): ScriptPart {
  const recorded = `"$STATE/services/mesos-slave.agent-info"`;
  return {
    create: `before=$(cat ${recorded} 2>/dev/null || true)
if [ -n "$before" ] && [ "$before" != ${infoDigest} ]; then
  ${stopIfRunning}
  work_dir=$(head -n 1 ${shellQuote(`${flagDir}/work_dir`)} 2>/dev/null || true)
  if [ -z "$work_dir" ]; then work_dir=${DEFAULT_AGENT_WORK_DIR}; fi
  rm -f "$work_dir/meta/slaves/latest"
  echo "agent info changed (attributes, resources or address): removed $work_dir/meta/slaves/latest; the agent registers anew and its tasks are restarted"
  mark_pending mesos-slave
fi
mkdir -p "$STATE/services"
printf '%s\\n' ${infoDigest} > ${recorded}`,
  };
}
