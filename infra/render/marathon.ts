/**
 * Marathon files per config style: `conf-dir` (Marathon < 1.5: one file per flag in /etc/marathon/conf,
 * as in the seed) or `env-file` (Marathon ≥ 1.5: `MARATHON_*` variables in /etc/default/marathon).
 * Both advertise the host's private address and set LIBPROCESS_IP so libmesos binds to it too.
 */
import type { FlagValue, MarathonConfigStyle } from "../config";
import type { ConfigFile } from "./shell";

export const MARATHON_CONF_DIR = "/etc/marathon/conf";
export const MARATHON_DEFAULTS_PATH = "/etc/default/marathon";
export const DEFAULT_MARATHON_PORT = 8080;

export interface MarathonFilesInput {
  readonly style: MarathonConfigStyle;
  /** The host's private address (hostname, LIBPROCESS_IP). */
  readonly ip: string;
  /** `zk://…/mesos`. */
  readonly masterUrl: string;
  /** `zk://…/marathon`. */
  readonly zkUrl: string;
  readonly httpPort: number;
  readonly flags: Record<string, FlagValue>;
}

/** The conf-dir file name of a flag: `?name` for a true toggle, `?disable_name` for a false one. */
export function marathonFlagFileName(name: string, value: FlagValue): string {
  if (value === true) return `?${name}`;
  if (value === false) return `?disable_${name}`;
  return name;
}

/** The environment variable of a flag; a toggle is an empty value (`MARATHON_DISABLE_HA=`). */
export function marathonFlagVariable(name: string, value: FlagValue): [string, string] {
  const flag = value === false ? `disable_${name}` : name;
  return [`MARATHON_${flag.toUpperCase()}`, typeof value === "string" ? value : ""];
}

/** Quote a value for a file read both by sh (`.`) and by systemd's EnvironmentFile. */
function envValue(value: string): string {
  return /^[A-Za-z0-9_./:,@%+=-]*$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, "\\$1")}"`;
}

function confDirFiles(input: MarathonFilesInput): ConfigFile[] {
  const file = (name: string, value: string): ConfigFile => ({
    path: `${MARATHON_CONF_DIR}/${name}`,
    content: `${value}\n`,
  });
  return [
    file("hostname", input.ip),
    file("master", input.masterUrl),
    file("zk", input.zkUrl),
    ...(input.httpPort === DEFAULT_MARATHON_PORT ? [] : [file("http_port", String(input.httpPort))]),
    ...Object.entries(input.flags).map(([name, value]) => ({
      path: `${MARATHON_CONF_DIR}/${marathonFlagFileName(name, value)}`,
      content: typeof value === "string" ? `${value}\n` : "",
    })),
    // The pre-1.5 wrapper sources this file; only exported variables reach the JVM.
    { path: MARATHON_DEFAULTS_PATH, content: `export LIBPROCESS_IP=${input.ip}\n` },
  ];
}

function envFile(input: MarathonFilesInput): ConfigFile {
  const variables: [string, string][] = [
    ["MARATHON_MASTER", input.masterUrl],
    ["MARATHON_ZK", input.zkUrl],
    ["MARATHON_HOSTNAME", input.ip],
    ["MARATHON_HTTP_PORT", String(input.httpPort)],
    ...Object.entries(input.flags).map(([name, value]) => marathonFlagVariable(name, value)),
    ["LIBPROCESS_IP", input.ip],
  ];
  return {
    path: MARATHON_DEFAULTS_PATH,
    content: variables.map(([k, v]) => `${k}=${envValue(v)}\n`).join(""),
  };
}

/** Every file Marathon reads on this host, for the given config style. */
export function marathonFiles(input: MarathonFilesInput): ConfigFile[] {
  return input.style === "conf-dir" ? confDirFiles(input) : [envFile(input)];
}
