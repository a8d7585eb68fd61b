/**
 * The stack config, read and validated once. `parseClusterConfig` is pure (tested alone); `loadConfig`
 * reads the `mesos-cluster:` namespace, validates it before any resource is registered, and keeps
 * secrets as Pulumi secrets.
 */
import * as fs from "fs";
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import flagNames from "./data/flag-names.json";
import { validateAppDefinition, type AppDefinition } from "../providers/marathon/schema";
import { strictMajority } from "./render/layout";

export const CONFIG_NAMESPACE = "mesos-cluster";

export type InitSystem = "upstart" | "systemd" | "sysv";
export type HostsMode = "existing" | "vagrant";
export type MarathonConfigStyle = "conf-dir" | "env-file";
/** A flag value: a string, or a boolean for switches (`true` → `--flag`, `false` → `--no-flag`). */
export type FlagValue = string | boolean;

export interface MasterNode {
  name: string;
  ip: string;
  zkId: number;
}
export interface SlaveNode {
  name: string;
  ip: string;
}

export interface SshSettings {
  user: string;
  port: number;
  /** Path of a private key file, read at run time; its content becomes a secret. */
  privateKeyPath?: string;
  /** Times a failed dial is retried, so hosts that are still booting are waited for. */
  dialErrorLimit: number;
  /** Seconds one dial may take. */
  perDialTimeout: number;
}

export interface PackageSpec {
  install: boolean;
  /** An apt version pin (`apt-get install name=version`); absent for the candidate version. */
  version?: string;
}

export interface PackageSettings {
  /** Write the apt source and import its key; false leaves apt alone (own mirror, preinstalled packages). */
  manageSource: boolean;
  source: string;
  key: string;
  keyserver: string;
  mesos: PackageSpec;
  marathon: PackageSpec;
  zookeeper: PackageSpec;
}

export interface ZooKeeperSettings {
  clientPort: number;
  peerPort: number;
  electionPort: number;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  /**
   * ZooKeeper 3.5 or later: members join and leave by dynamic reconfiguration (no member restarts), and
   * ZooKeeper keeps its member list itself. Required to add or remove masters.
   */
  reconfigEnabled: boolean;
}

export interface MesosSettings {
  /** Release line whose flag names are accepted, e.g. `1.11`. */
  version: string;
  masterPort: number;
  agentPort: number;
  masterFlags: Record<string, FlagValue>;
  agentFlags: Record<string, FlagValue>;
  attributes: Record<string, string>;
  resources: Record<string, string>;
}

export interface MarathonSettings {
  configStyle: MarathonConfigStyle;
  /** Release line whose flag names are accepted, e.g. `1.4`. */
  version: string;
  httpPort: number;
  flags: Record<string, FlagValue>;
  /** Existing Marathon base URLs for the apps; empty means the cluster's own masters. */
  endpoints: string[];
  /** Milliseconds to wait for a Marathon deployment. */
  deploymentTimeoutMs: number;
}

export interface VagrantConfig {
  provider: "virtualbox" | "lxc";
  box: string;
  cpus: number;
  /** MiB per machine. */
  memory: number;
  /** lxc only: the host bridge the containers join. */
  lxcBridge: string;
  /** Folder (relative to the project) holding each stack's Vagrantfile and machine state. */
  directory: string;
}

export interface ClusterConfig {
  hosts: HostsMode;
  /** How machines are made with `hosts: vagrant`. */
  vagrant: VagrantConfig;
  /** The private network every host address must be in (CIDR). */
  network: string;
  masters: MasterNode[];
  slaves: SlaveNode[];
  quorum: number;
  initSystem: InitSystem;
  ssh: SshSettings;
  packages: PackageSettings;
  zookeeper: ZooKeeperSettings;
  mesos: MesosSettings;
  marathon: MarathonSettings;
  /** Seconds a readiness gate waits for a service before failing. */
  readinessTimeoutSeconds: number;
  /**
   * A stamp written into every host step's script: a new value makes `pulumi up` run every host step
   * again, which repairs drift (files edited, services stopped on the hosts). Empty for none.
   */
  converge: string;
  /** Marathon apps keyed by app id. */
  apps: Record<string, AppDefinition>;
  warnings: string[];
}

/** The seed's Mesosphere repository for Ubuntu 14.04. */
export const MESOSPHERE_SOURCE = "deb http://repos.mesosphere.io/ubuntu trusty main";
export const MESOSPHERE_KEY = "E56151BF";

const TOP_LEVEL_KEYS = [
  "hosts",
  "vagrant",
  "network",
  "masters",
  "slaves",
  "quorum",
  "initSystem",
  "ssh",
  "packages",
  "zookeeper",
  "mesos",
  "marathon",
  "readinessTimeoutSeconds",
  "converge",
  "apps",
  "marathonCredentials",
] as const;

// ---------------------------------------------------------------------------------------------------------
// Field builders: each error says what is allowed and what was given.

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value);
}

function intIn(lo: number, hi: number) {
  const error = (iss: { input?: unknown }) =>
    `must be an integer from ${lo} to ${hi}, got ${show(iss.input)}`;
  return z.number({ error }).int({ error }).min(lo, { error }).max(hi, { error });
}

const port = () => intIn(1, 65535);

function text(what: string, pattern?: RegExp) {
  const error = (iss: { input?: unknown }) => `must be ${what}, got ${show(iss.input)}`;
  const base = z.string({ error }).min(1, { error });
  return pattern ? base.regex(pattern, { error }) : base;
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const error = (iss: { input?: unknown }) =>
    `must be one of ${values.map((v) => `"${v}"`).join(", ")}, got ${show(iss.input)}`;
  return z.enum(values, { error });
}

function flag(what: string) {
  const error = (iss: { input?: unknown }) => `must be ${what}, got ${show(iss.input)}`;
  return z.boolean({ error });
}

function object<S extends z.ZodRawShape>(shape: S) {
  const error = (iss: { input?: unknown; code?: string; keys?: string[] }) =>
    iss.code === "unrecognized_keys"
      ? `has unknown key(s) ${(iss.keys ?? []).map((k) => `"${k}"`).join(", ")}; allowed: ${Object.keys(shape).join(", ")}`
      : `must be an object with keys ${Object.keys(shape).join(", ")}, got ${show(iss.input)}`;
  return z.strictObject(shape, { error });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3})\/(\d|[12]\d|3[0-2])$/;
const FLAG_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const VERSION_LINE = /^(\d+\.\d+|HEAD)$/;

const hostName = () => text("a lowercase host name (letters, digits, '-')", HOST_NAME);
const ipv4 = () => text("an IPv4 address like 10.10.20.11", IPV4);

function flagMap() {
  const error = (iss: { input?: unknown }) => `must be a string or a boolean, got ${show(iss.input)}`;
  return z.record(
    text("a flag name (letters, digits, '_')", FLAG_NAME),
    z.union([z.string(), z.boolean()], { error }),
    { error: (iss) => `must be a map of flag name to value, got ${show(iss.input)}` },
  );
}

function stringMap(what: string) {
  return z.record(text(`${what} name`, FLAG_NAME), text(`${what} value`), {
    error: (iss) => `must be a map of ${what} name to value, got ${show(iss.input)}`,
  });
}

function packageSpec() {
  return object({
    install: flag("true or false").default(true),
    version: text("an apt version string", /^[A-Za-z0-9.+~:-]+$/).optional(),
  }).prefault({});
}

function rawSchema() {
  return object({
    hosts: oneOf(["existing", "vagrant"]).default("existing"),
    vagrant: object({
      provider: oneOf(["virtualbox", "lxc"]).default("virtualbox"),
      box: text("a Vagrant box name like ubuntu/trusty64", /^\S+$/).default("ubuntu/trusty64"),
      cpus: intIn(1, 64).default(1),
      memory: intIn(256, 1048576).default(1024),
      lxcBridge: text("a bridge interface name", /^[A-Za-z0-9_.-]{1,15}$/).default("lxcbr0"),
      directory: text("a folder path", /^[^\s'"]+$/).default(".machines"),
    }).prefault({}),
    network: text("an IPv4 network in CIDR form like 10.10.20.0/24", CIDR).default("10.10.20.0/24"),
    masters: z
      .array(object({ name: hostName(), ip: ipv4(), zkId: intIn(1, 255) }), {
        error: (iss) => `must be a list of {name, ip, zkId}, got ${show(iss.input)}`,
      })
      .default([]),
    slaves: z
      .array(object({ name: hostName(), ip: ipv4() }), {
        error: (iss) => `must be a list of {name, ip}, got ${show(iss.input)}`,
      })
      .default([]),
    quorum: intIn(0, 255).default(0),
    initSystem: oneOf(["upstart", "systemd", "sysv"]).default("upstart"),
    ssh: object({
      user: text("a user name").default("vagrant"),
      port: port().default(22),
      privateKey: text("a PEM private key").optional(),
      privateKeyPath: text("a file path").optional(),
      dialErrorLimit: intIn(-1, 1000).default(60),
      perDialTimeout: intIn(1, 600).default(10),
    }).prefault({}),
    packages: object({
      manageSource: flag("true or false").default(true),
      source: text("an apt source line starting with 'deb '", /^deb(-src)? \S+/).default(MESOSPHERE_SOURCE),
      key: text("an apt key id (8 to 40 hex digits)", /^[0-9A-Fa-f]{8,40}$/).default(MESOSPHERE_KEY),
      keyserver: text("a key server host name", /^[A-Za-z0-9.-]+$/).default("keyserver.ubuntu.com"),
      mesos: packageSpec(),
      marathon: packageSpec(),
      zookeeper: packageSpec(),
    }).prefault({}),
    zookeeper: object({
      clientPort: port().default(2181),
      peerPort: port().default(2888),
      electionPort: port().default(3888),
      tickTime: intIn(100, 60000).default(2000),
      initLimit: intIn(1, 1000).default(10),
      syncLimit: intIn(1, 1000).default(5),
      dataDir: text("an absolute path of letters, digits and . _ + - /", /^\/[A-Za-z0-9._+/-]*$/).default(
        "/var/lib/zookeeper",
      ),
      reconfigEnabled: flag("true or false (true needs ZooKeeper 3.5 or later)").default(false),
    }).prefault({}),
    mesos: object({
      version: text("a release line like 1.11, or HEAD", VERSION_LINE).default("1.11"),
      masterPort: port().default(5050),
      agentPort: port().default(5051),
      masterFlags: flagMap().default({}),
      agentFlags: flagMap().default({}),
      attributes: stringMap("attribute").default({}),
      resources: stringMap("resource").default({}),
    }).prefault({}),
    marathon: object({
      configStyle: oneOf(["conf-dir", "env-file"]).default("conf-dir"),
      version: text("a release line like 1.4, or HEAD", VERSION_LINE).optional(),
      httpPort: port().default(8080),
      flags: flagMap().default({}),
      endpoints: z.array(text("an http(s) URL", /^https?:\/\/[^\s/]+(\/\S*)?$/)).default([]),
      deploymentTimeoutSeconds: intIn(1, 86400).default(600),
    }).prefault({}),
    readinessTimeoutSeconds: intIn(1, 3600).default(300),
    converge: z
      .string({ error: (iss) => `must be a text of letters, digits and . _ : + -, got ${show(iss.input)}` })
      .regex(/^[A-Za-z0-9._:+-]{0,64}$/, {
        error: (iss) =>
          `must be at most 64 letters, digits and . _ : + - (e.g. a date like 2024-05-01T10:00), got ${show(iss.input)}`,
      })
      .default(""),
    apps: z
      .record(z.string(), z.record(z.string(), z.unknown()), {
        error: (iss) => `must be a map of app id to app definition, got ${show(iss.input)}`,
      })
      .default({}),
    marathonCredentials: z
      .string({ error: (iss) => `must be 'user:password', got ${show(iss.input)}` })
      .regex(/^(|[^:\s]+:.+)$/, { error: "must be 'user:password' (or empty for none)" })
      .default(""),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Cross-field rules.

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Whether `ip` lies inside `cidr`. */
export function inNetwork(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const value = ipToInt(ip);
  return value >= start && value < start + size;
}

/** The last release line `version` names in a per-version flag list (`1.11` → `1.11.0`). */
function releaseLine(versions: Record<string, string[]>, version: string): string[] | undefined {
  if (version === "HEAD") return versions.HEAD;
  const key = Object.keys(versions).find((k) => k === version || k.startsWith(`${version}.`));
  return key ? versions[key] : undefined;
}

type FlagDaemon = "mesos-master" | "mesos-agent" | "marathon";
type FlagData = Record<FlagDaemon, Record<string, string[]>>;

/** The accepted names of one daemon at one release line, or undefined for an unknown line. */
export function acceptedFlagNames(daemon: FlagDaemon, version: string): Set<string> | undefined {
  const names = releaseLine((flagNames as unknown as FlagData)[daemon], version);
  return names ? new Set(names) : undefined;
}

export function releaseLines(daemon: FlagDaemon): string[] {
  return Object.keys((flagNames as unknown as FlagData)[daemon]).map((k) =>
    k === "HEAD" ? k : k.replace(/\.\d+$/, ""),
  );
}

/** Flags the program writes itself; setting them by hand would fight the program. */
const MANAGED_FLAGS: Record<FlagDaemon, string[]> = {
  "mesos-master": ["ip", "hostname", "quorum", "zk", "port"],
  "mesos-agent": ["ip", "hostname", "master", "port", "attributes", "resources"],
  marathon: ["hostname", "master", "zk", "http_port"],
};

function checkFlags(
  daemon: FlagDaemon,
  version: string,
  versionPath: string,
  flags: Record<string, FlagValue>,
  path: string,
  issues: string[],
) {
  const accepted = acceptedFlagNames(daemon, version);
  if (!accepted) {
    issues.push(`${versionPath} must be one of ${releaseLines(daemon).join(", ")}, got ${show(version)}`);
    return;
  }
  for (const [name, value] of Object.entries(flags)) {
    const known =
      accepted.has(name) ||
      (daemon === "marathon" && typeof value === "boolean" && accepted.has(`disable_${name}`));
    if (!known) {
      issues.push(
        `${path}.${name} is not a ${daemon} ${version} flag; see --help of that release for the accepted flags`,
      );
    } else if (MANAGED_FLAGS[daemon].includes(name)) {
      issues.push(`${path}.${name} is set by the program from the cluster layout; remove it from ${path}`);
    }
  }
}

function checkUnique<T>(items: T[], key: (item: T) => string, path: string, field: string, issues: string[]) {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const value = key(item);
    const first = seen.get(value);
    if (first !== undefined) {
      issues.push(
        `${path}[${i}].${field} must be unique, got ${show(value)} again (first at ${path}[${first}])`,
      );
    } else {
      seen.set(value, i);
    }
  });
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

/** Marathon's numeric top-level app fields. */
const NUMERIC_APP_FIELDS = [
  "instances",
  "cpus",
  "mem",
  "disk",
  "gpus",
  "backoffSeconds",
  "backoffFactor",
  "maxLaunchDelaySeconds",
  "taskKillGracePeriodSeconds",
];

/**
 * `pulumi config set --path 'apps["x"].cpus' 0.25` stores a decimal as text (only whole numbers become
 * numbers), so numeric app fields accept a number written as text.
 */
function numbersFromText(definition: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(definition).map(([key, value]) => [
      key,
      NUMERIC_APP_FIELDS.includes(key) && typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : value,
    ]),
  );
}

/** A stack config that cannot be used; the message lists every problem with its key path. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid stack config (${CONFIG_NAMESPACE}):\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** The validated config with secrets still in plain text; `loadConfig` wraps them. */
export interface ParsedConfig extends Omit<ClusterConfig, "ssh"> {
  ssh: SshSettings & { privateKey?: string };
  marathonCredentials?: string;
}

/**
 * Validate raw stack config values (keys without the namespace, values already JSON-decoded).
 * Throws a ConfigError naming every bad key; returns the config with defaults filled in.
 */
export function parseClusterConfig(raw: Record<string, unknown>): ParsedConfig {
  const issues: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      issues.push(`${key} is not a ${CONFIG_NAMESPACE} config key; allowed: ${TOP_LEVEL_KEYS.join(", ")}`);
    }
  }
  const known = Object.fromEntries(
    Object.entries(raw).filter(([k]) => (TOP_LEVEL_KEYS as readonly string[]).includes(k)),
  );
  const result = rawSchema().safeParse(known);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      issues.push(path ? `${path} ${issue.message}` : issue.message);
    }
    throw new ConfigError(issues);
  }
  const c = result.data;
  const warnings: string[] = [];

  const nodes = [
    ...c.masters.map((m) => ({ ...m, list: "masters" })),
    ...c.slaves.map((s) => ({ ...s, list: "slaves" })),
  ];
  checkUnique(c.masters, (m) => m.name, "masters", "name", issues);
  checkUnique(c.masters, (m) => m.ip, "masters", "ip", issues);
  checkUnique(c.masters, (m) => String(m.zkId), "masters", "zkId", issues);
  checkUnique(c.slaves, (s) => s.name, "slaves", "name", issues);
  checkUnique(c.slaves, (s) => s.ip, "slaves", "ip", issues);
  c.slaves.forEach((s, i) => {
    const master = c.masters.findIndex((m) => m.name === s.name || m.ip === s.ip);
    if (master >= 0) {
      issues.push(
        `slaves[${i}] (${s.name}, ${s.ip}) is also masters[${master}]; a host is either a master or a slave`,
      );
    }
  });
  nodes.forEach((n) => {
    if (!inNetwork(n.ip, c.network)) {
      const i = (n.list === "masters" ? c.masters : c.slaves).findIndex((x) => x.ip === n.ip);
      issues.push(`${n.list}[${i}].ip must be inside network ${c.network}, got ${show(n.ip)}`);
    }
  });

  const cluster = c.masters.length > 0;
  if (!cluster && c.marathon.endpoints.length === 0) {
    issues.push(
      "masters must list at least one master, or marathon.endpoints must name an existing Marathon for the apps",
    );
  }
  if (!cluster && c.slaves.length > 0) issues.push("slaves need masters: list the masters too");

  const majority = strictMajority(c.masters.length);
  // 0 stands for "the strict majority", so that the default can be written in Pulumi.yaml.
  const quorum = c.quorum === 0 ? majority : c.quorum;
  if (cluster && (quorum < majority || quorum > c.masters.length)) {
    issues.push(
      `quorum must be a strict majority of the ${c.masters.length} masters (from ${majority} to ${c.masters.length}), got ${c.quorum}`,
    );
  }
  if (cluster && c.masters.length % 2 === 0) {
    warnings.push(
      `${c.masters.length} masters: an even number tolerates no more failures than ${c.masters.length - 1}; use an odd number`,
    );
  }

  const zkPorts = [c.zookeeper.clientPort, c.zookeeper.peerPort, c.zookeeper.electionPort];
  if (new Set(zkPorts).size !== zkPorts.length) {
    issues.push(`zookeeper.clientPort, peerPort and electionPort must differ, got ${zkPorts.join(", ")}`);
  }
  if (c.zookeeper.syncLimit > c.zookeeper.initLimit) {
    issues.push(
      `zookeeper.syncLimit must not exceed zookeeper.initLimit (${c.zookeeper.initLimit}), got ${c.zookeeper.syncLimit}`,
    );
  }

  checkFlags(
    "mesos-master",
    c.mesos.version,
    "mesos.version",
    c.mesos.masterFlags,
    "mesos.masterFlags",
    issues,
  );
  checkFlags("mesos-agent", c.mesos.version, "mesos.version", c.mesos.agentFlags, "mesos.agentFlags", issues);
  // Marathon < 1.5 reads /etc/marathon/conf; 1.5 and later read only /etc/default/marathon.
  const marathonVersion = c.marathon.version ?? (c.marathon.configStyle === "conf-dir" ? "1.4" : "1.10");
  checkFlags("marathon", marathonVersion, "marathon.version", c.marathon.flags, "marathon.flags", issues);
  if (c.marathon.version !== undefined && /^\d/.test(marathonVersion)) {
    const [major, minor] = marathonVersion.split(".").map(Number);
    const modern = major > 1 || (major === 1 && minor >= 5);
    if (modern && c.marathon.configStyle === "conf-dir") {
      issues.push(
        `marathon.configStyle must be "env-file" for Marathon ${marathonVersion} (1.5 and later ignore /etc/marathon/conf)`,
      );
    }
    if (!modern && c.marathon.configStyle === "env-file") {
      issues.push(`marathon.configStyle must be "conf-dir" for Marathon ${marathonVersion} (before 1.5)`);
    }
  }

  if (c.ssh.privateKey !== undefined && c.ssh.privateKeyPath !== undefined) {
    issues.push("ssh.privateKey and ssh.privateKeyPath are exclusive; set one");
  }
  if (
    cluster &&
    c.hosts === "existing" &&
    c.ssh.privateKey === undefined &&
    c.ssh.privateKeyPath === undefined
  ) {
    issues.push(
      'ssh.privateKey (a secret: pulumi config set --secret --path ssh.privateKey < key) or ssh.privateKeyPath is required with hosts "existing"',
    );
  }

  const apps: Record<string, AppDefinition> = {};
  for (const [appId, definition] of Object.entries(c.apps)) {
    if (definition.id !== undefined && definition.id !== appId && definition.id !== `/${appId}`) {
      issues.push(`apps["${appId}"].id must match its key "${appId}", got ${show(definition.id)}`);
      continue;
    }
    const checked = validateAppDefinition({ ...numbersFromText(definition), id: appId });
    if (checked.ok) {
      apps[appId] = checked.value;
    } else {
      for (const f of checked.failures) issues.push(`apps["${appId}"].${f.property} ${f.reason}`);
    }
  }

  if (issues.length > 0) throw new ConfigError(issues);

  return {
    hosts: c.hosts,
    vagrant: c.vagrant,
    network: c.network,
    masters: c.masters,
    slaves: c.slaves,
    quorum,
    initSystem: c.initSystem,
    ssh: c.ssh,
    packages: c.packages,
    zookeeper: c.zookeeper,
    mesos: c.mesos,
    marathon: {
      configStyle: c.marathon.configStyle,
      version: marathonVersion,
      httpPort: c.marathon.httpPort,
      flags: c.marathon.flags,
      endpoints: c.marathon.endpoints,
      deploymentTimeoutMs: c.marathon.deploymentTimeoutSeconds * 1000,
    },
    readinessTimeoutSeconds: c.readinessTimeoutSeconds,
    converge: c.converge,
    apps,
    marathonCredentials: c.marathonCredentials === "" ? undefined : c.marathonCredentials,
    warnings,
  };
}

/** The stack config as the program uses it, with every secret wrapped as a Pulumi secret. */
export interface LoadedConfig extends Omit<ClusterConfig, "ssh"> {
  ssh: SshSettings & { privateKey?: pulumi.Output<string> };
  marathonCredentials?: pulumi.Output<string>;
}

/** Keys whose values must be stack secrets, with the command that sets them so. */
const SECRET_KEYS: Record<string, string> = {
  ssh: "pulumi config set --secret --path ssh.privateKey < key",
  marathonCredentials: "pulumi config set --secret marathonCredentials user:password",
};

/** Read the `mesos-cluster:` namespace, validate it, and wrap secrets. Throws before any resource exists. */
export function loadConfig(): LoadedConfig {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = decode(value);
  }
  const parsed = parseClusterConfig(raw);

  // Present at run time in every 3.x SDK, though missing from its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  const isSecret = (key: string) => runtime.isConfigSecret(key);
  const plaintext: string[] = [];
  if (parsed.ssh.privateKey !== undefined && !isSecret(`${prefix}ssh`)) plaintext.push("ssh");
  if (parsed.marathonCredentials !== undefined && !isSecret(`${prefix}marathonCredentials`)) {
    plaintext.push("marathonCredentials");
  }
  if (plaintext.length > 0) {
    throw new ConfigError(
      plaintext.map((k) => `${k} holds a secret in plain text; set it with: ${SECRET_KEYS[k]}`),
    );
  }
  for (const warning of parsed.warnings) void pulumi.log.warn(warning);

  const { privateKey, privateKeyPath, ...ssh } = parsed.ssh;
  const keyText = privateKey ?? (privateKeyPath !== undefined ? readKeyFile(privateKeyPath) : undefined);
  return {
    ...parsed,
    ssh: { ...ssh, privateKeyPath, privateKey: keyText === undefined ? undefined : pulumi.secret(keyText) },
    marathonCredentials:
      parsed.marathonCredentials === undefined ? undefined : pulumi.secret(parsed.marathonCredentials),
  };
}

function readKeyFile(path: string): string {
  try {
    return fs.readFileSync(path.replace(/^~(?=\/)/, os.homedir()), "utf8");
  } catch (e) {
    throw new ConfigError([`ssh.privateKeyPath cannot be read: ${(e as Error).message}`]);
  }
}

/** Config values arrive as strings; objects, lists, numbers and booleans as their JSON text. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
