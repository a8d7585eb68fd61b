/**
 * Mesos files in the Mesosphere packages' convention: `/etc/mesos/zk`, and one file per flag under
 * `/etc/mesos-master` and `/etc/mesos-slave` (`?flag` for a true switch, `?no-flag` for a false one).
 */
import type { FlagValue } from "../config";
import type { ConfigFile } from "./shell";

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
