/**
 * What the end-to-end cluster suites expect of a provisioned cluster, and the probes that look at it from
 * outside: the stand-ins put in place of Mesos and Marathon, the files and services per role, ZooKeeper's
 * modes, the phase timings. Shared by cluster.test.ts (lab hosts) and vagrant-cluster.test.ts (Vagrant
 * machines), which run the program on the real Pulumi engine (test/helpers/engine.ts): what the program's
 * steps did is read from the stack's state (`pulumi stack export`) and from the engine's events. Each suite
 * says how to run a command inside one of its hosts (a {@link HostExec}).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { filesWritten } from "../cluster/fixtures";
import {
  nameOf,
  recorded,
  type EngineSandbox,
  type EventRecorder,
  type ExportedResource,
  type StepRecord,
} from "../helpers/engine";
import type { RecordedResource } from "../helpers/pulumi";
import type { Lab } from "./lab";

export type Master = { name: string; ip: string; zkId: number };
export type Slave = { name: string; ip: string };

/** The seed's Rails app, and its resource's name. */
export const APP_ID = "rails-app-on-mesos-marathon";
export const APP = `apps-${APP_ID}`;
export const APP_TYPE = "pulumi-nodejs:dynamic/marathon:App";
export const COMMAND_TYPE = "command:remote:Command";
export const LOCAL_COMMAND_TYPE = "command:local:Command";
/**
 * The dynamic provider's default provider. The engine hands it the whole stack config, so a config change
 * (the app's instances) updates it too; the CLI shows no such step, and its change summary counts none.
 */
export const DYNAMIC_PROVIDER = "default";
const DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";
const STANDINS = path.join(__dirname, "standins");

/** What a command run inside a host left. */
export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a bash command as root inside a host, `input` on its stdin. */
export type HostExec = (host: string, command: string, opts?: { input?: string }) => Promise<HostResult>;

export const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/** CPU time the whole machine spent busy (all cores, every process), in ms. */
function machineBusyMs(): number {
  return os.cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
}

/** Phase timers that record into `timings`: wall time (`timed`) or the machine's busy CPU time (`cpuTimed`). */
export function phaseTimers(timings: Record<string, number>) {
  const measure =
    (clock: () => number) =>
    async <T>(label: string, f: () => Promise<T> | T): Promise<T> => {
      const start = clock();
      try {
        return await f();
      } finally {
        timings[label] = Math.round(clock() - start);
      }
    };
  return { timed: measure(Date.now), cpuTimed: measure(machineBusyMs) };
}

/** The timings as a table and as one JSON line under `key`. */
export function printTimings(key: string, timings: Record<string, number>): void {
  const rows = Object.entries(timings).map(([k, v]) => `${k.padEnd(24)} ${String(v).padStart(8)}`);
  console.log(["phase                    value (ms)", ...rows].join("\n"));
  console.log(JSON.stringify({ [key]: timings }));
}

/** One engine operation as it ran: its events (and the steps read from them), the CLI's output, its wall time. */
export interface Operation {
  label: string;
  record: EventRecorder;
  /** What the CLI wrote on stderr. */
  stderr: string;
  ms: number;
}

/**
 * Runs one engine operation (`run` gets the hooks to pass to the Automation API), adds it to `log`, and
 * fails with the engine's warnings and errors when it fails.
 */
export async function operate<T>(
  log: Operation[],
  label: string,
  run: (hooks: {
    onEvent: EventRecorder["onEvent"];
    onOutput: EventRecorder["onOutput"];
    onError: (text: string) => void;
  }) => Promise<T>,
): Promise<{ result: T; op: Operation }> {
  let stderr = "";
  const onError = (text: string): void => void (stderr += text);
  const { result, error, record, ms } = await recorded((hooks) => run({ ...hooks, onError }));
  const op = { label, record, stderr, ms };
  log.push(op);
  if (error !== undefined) {
    throw new Error(`${label} failed: ${error.message}\n${record.problems().join("\n")}`);
  }
  return { result: result as T, op };
}

/** When a step's last event came. */
export function endOf(s: StepRecord): number {
  if (s.end === undefined) throw new Error(`step ${s.op} ${s.name} never finished`);
  return s.end;
}

/** The sequence number of a step's last event. */
export function endSeqOf(s: StepRecord): number {
  if (s.endSeq === undefined) throw new Error(`step ${s.op} ${s.name} never finished`);
  return s.endSeq;
}

/** Wall time from the first of `steps` starting to the last one ending, by the times their events came. */
export function spanMs(steps: readonly StepRecord[]): number {
  return Math.max(...steps.map(endOf)) - Math.min(...steps.map((s) => s.start));
}

/**
 * The ZooKeeper election in an operation: from the last member's ZooKeeper step to the last member's
 * readiness gate. Only the gates run then; every other step waits for them.
 */
export function zkElection(record: EventRecorder, masters: readonly { name: string }[]): number {
  const last = (step: string) =>
    Math.max(...masters.map((m) => endOf(record.step(`mesos-zookeeper-${m.name}-${step}`, "create"))));
  return last("zookeeper-ready") - last("zookeeper");
}

/**
 * Provisioning in an operation: wall time from the first remote Command step's start to the last one's
 * end, less the ZooKeeper election, which is a phase of its own.
 */
export function provisioning(record: EventRecorder, masters: readonly { name: string }[]): number {
  return spanMs(record.steps.filter((s) => s.type === COMMAND_TYPE)) - zkElection(record, masters);
}

/**
 * The most steps in flight at one moment, by the engine's own order: a step is in flight from its first
 * event to its last, so two overlap when each started before the other ended.
 */
export function mostInFlight(steps: readonly StepRecord[]): number {
  return Math.max(
    ...steps.map((a) => steps.filter((b) => b.startSeq <= a.startSeq && endSeqOf(b) > a.startSeq).length),
  );
}

/**
 * What a step printed while it ran, from the engine's events: the command provider logs each line of a
 * command's output as an info diagnostic on the resource (how a delete's output can be seen at all).
 */
export function printedBy(record: EventRecorder, name: string): string {
  return record.events
    .map((e) => e.diagnosticEvent)
    .filter((d) => d !== undefined && d.severity === "info" && d.urn !== undefined && nameOf(d.urn) === name)
    .map((d) => d!.message.replace(/\n$/, ""))
    .join("\n");
}

/** One resource of a stack's state, as `pulumi stack export` holds it. */
export interface StateResource {
  urn: string;
  name: string;
  type: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** The parent's URN. */
  parent?: string;
  /** URNs of the resources it depends on (explicit and through its inputs). */
  dependencies: string[];
}

const asStateResource = (r: ExportedResource): StateResource => ({
  urn: r.urn,
  name: nameOf(r.urn),
  type: r.type,
  custom: r.custom ?? false,
  inputs: r.inputs ?? {},
  outputs: r.outputs ?? {},
  parent: r.parent,
  dependencies: r.dependencies ?? [],
});

/**
 * The stack's resources as the Automation API exports them (it adds `--show-secrets`: a secret input is a
 * wrapper holding its plain value), for what the steps' plain inputs and the resources' order say.
 */
export async function stateOf(stack: Stack): Promise<StateResource[]> {
  const { deployment } = await stack.exportStack();
  return ((deployment as { resources?: ExportedResource[] }).resources ?? []).map(asStateResource);
}

/** A value of an export with `--show-secrets`: every secret replaced by its plain value. */
function revealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealed);
  if (typeof value !== "object" || value === null) return value;
  const o = value as Record<string, unknown>;
  if (
    o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig &&
    typeof o.plaintext === "string"
  ) {
    return revealed(JSON.parse(o.plaintext));
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revealed(v)]));
}

/** The stack's resources with every secret in plain text (`pulumi stack export --show-secrets`). */
export async function revealedStateOf(sandbox: EngineSandbox, stack: string): Promise<StateResource[]> {
  const r = await sandbox.cli(["stack", "export", "--show-secrets", "--stack", stack]);
  if (r.code !== 0) throw new Error(`pulumi stack export --show-secrets: ${r.stderr}`);
  const { deployment } = JSON.parse(r.stdout) as { deployment: { resources?: ExportedResource[] } };
  return (deployment.resources ?? []).map((x) => asStateResource(revealed(x) as ExportedResource));
}

/** What a host script printed when run again by hand. */
export interface Rerun {
  name: string;
  host: string;
  code: number;
  stdout: string;
}

/**
 * Every host step's script and stdin as the state holds them (`pulumi stack export --show-secrets`), run
 * again over ssh on its host: each host's scripts one after another, as its steps ran; hosts in parallel.
 * `hostOf` maps each address to its host's name in `lab`.
 */
export async function rerunHostScripts(
  sandbox: EngineSandbox,
  stack: string,
  lab: Lab,
  hostOf: ReadonlyMap<string, string>,
): Promise<Rerun[]> {
  const commands = (await revealedStateOf(sandbox, stack)).filter((r) => r.type === COMMAND_TYPE);
  const byHost = new Map<string, StateResource[]>();
  for (const r of commands) {
    const address = (r.inputs.connection as { host: string }).host;
    const host = hostOf.get(address);
    if (host === undefined) throw new Error(`${r.name} connects to ${address}, no host of the lab`);
    byHost.set(host, [...(byHost.get(host) ?? []), r]);
  }
  const reruns = await Promise.all(
    [...byHost].map(async ([host, steps]) => {
      const out: Rerun[] = [];
      for (const r of steps) {
        const input = typeof r.inputs.stdin === "string" ? r.inputs.stdin : "";
        const { code, stdout } = await lab.ssh(host, String(r.inputs.create), { input });
        out.push({ name: r.name, host, code, stdout });
      }
      return out;
    }),
  );
  return reruns.flat();
}

/** The one resource of the state named `name`. */
export function resourceNamed(state: readonly StateResource[], name: string): StateResource {
  const found = state.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`${found.length} resources named ${name} in the state`);
  return found[0];
}

/** Names of every resource `name` waits for, directly or not (dependencies and parents). */
export function dependenciesOf(state: readonly StateResource[], name: string): string[] {
  const byUrn = new Map(state.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const todo = [resourceNamed(state, name).urn];
  while (todo.length > 0) {
    const r = byUrn.get(todo.pop()!);
    if (r === undefined) continue;
    for (const dep of [...r.dependencies, ...(r.parent !== undefined ? [r.parent] : [])]) {
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return [...seen].filter((urn) => byUrn.has(urn)).map(nameOf);
}

/** The remote Commands of one host, by its name. */
export const commandsOf = (state: readonly StateResource[], host: string): StateResource[] =>
  state.filter((r) => r.type === COMMAND_TYPE && r.name.includes(`-${host}-`));

/** The files a host's steps write, with their contents, read from the steps' `create` and `stdin` inputs. */
const filesOf = (state: readonly StateResource[], host: string): Record<string, string> =>
  filesWritten(commandsOf(state, host) as unknown as RecordedResource[]);

/**
 * The script that puts the stand-ins where the Mesos and Marathon packages would put theirs, enabled at
 * boot, Marathon forwarding to `backend` (host:port); bash, run as root on the host.
 */
export function standinInstallScript(role: "master" | "slave", backend: string): string {
  const put = (file: string, dest: string, mode: string): string =>
    `mkdir -p ${path.dirname(dest)} && echo ${fs.readFileSync(path.join(STANDINS, file)).toString("base64")} | base64 -d > ${dest} && chmod ${mode} ${dest}`;
  const services =
    role === "master" ? ["mesos-master", "mesos-slave", "marathon"] : ["mesos-master", "mesos-slave"];
  return [
    "set -e",
    put("standin.py", "/usr/lib/mesos-standins/standin.py", "0755"),
    put("init-common.sh", "/usr/lib/mesos-standins/init-common.sh", "0644"),
    `echo ${backend} > /usr/lib/mesos-standins/marathon-backend`,
    ...services.map((s) => `${put(s, `/etc/init.d/${s}`, "0755")} && update-rc.d ${s} defaults`),
    // Host image tuning, not the program's business: three JVMs must start quickly on two cores.
    `echo 'JAVA_OPTS="-Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"' >> /etc/default/zookeeper`,
  ].join("\n");
}

/** The stand-ins on one host of `role`, forwarding Marathon to `backend` (host:port). */
export async function installStandins(
  exec: HostExec,
  host: string,
  role: "master" | "slave",
  backend: string,
): Promise<void> {
  const r = await exec(host, standinInstallScript(role, backend));
  if (r.code !== 0) throw new Error(`stand-ins on ${host}: ${r.stderr}`);
}

/** A four-letter word sent to a ZooKeeper server; the answer read to EOF ("" when nothing answers). */
export function fourLetter(ip: string, word: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let answer = "";
    const sock = net.connect({ host: ip, port: 2181 });
    const done = (): void => {
      sock.destroy();
      resolve(answer);
    };
    sock.setTimeout(timeoutMs, done);
    sock.on("connect", () => sock.write(word));
    sock.on("data", (d) => (answer += d.toString()));
    sock.on("end", done);
    sock.on("error", done);
  });
}

export type Mode = "leader" | "follower" | "standalone" | "not serving" | "down";

async function zkMode(ip: string): Promise<Mode> {
  const answer = await fourLetter(ip, "srvr");
  const m = /^Mode: (\w+)/m.exec(answer);
  if (m !== null) return m[1] as Mode;
  return answer.includes("not currently serving") ? "not serving" : "down";
}

export async function waitForModes(
  ips: string[],
  ok: (modes: Mode[]) => boolean,
  limitMs: number,
): Promise<Mode[]> {
  const deadline = Date.now() + limitMs;
  let modes: Mode[] = [];
  while (Date.now() < deadline) {
    modes = await Promise.all(ips.map(zkMode));
    if (ok(modes)) return modes;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`ZooKeeper on ${ips.join(",")} did not settle in ${limitMs} ms: ${modes.join(",")}`);
}

/** Files and links read on a host: content, or `-> target` for a symlink, or null when absent. */
export async function readFiles(
  exec: HostExec,
  host: string,
  paths: string[],
): Promise<Record<string, string | null>> {
  const py = [
    "import json, os, sys",
    "def read(p):",
    "    if os.path.islink(p): return '-> ' + os.readlink(p)",
    "    return open(p).read() if os.path.exists(p) else None",
    "print(json.dumps({p: read(p) for p in sys.argv[1:]}))",
  ].join("\n");
  const r = await exec(host, `/usr/bin/python3 - ${paths.join(" ")}`, { input: py });
  if (r.code !== 0) throw new Error(`reading files on ${host}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string | null>;
}

/** Boot links in /etc/rc2.d (`S01zookeeper`, …) and the command lines of running processes. */
export async function servicesOf(
  exec: HostExec,
  host: string,
): Promise<{ links: string[]; processes: string }> {
  const r = await exec(host, "ls /etc/rc2.d; echo ---; ps -eo args");
  const [links, processes] = r.stdout.split("---\n");
  return { links: links.trim().split("\n"), processes };
}

export const enabled = (links: string[], svc: string): boolean =>
  links.some((l) => new RegExp(`^S\\d\\d${svc}$`).test(l));
export const disabled = (links: string[], svc: string): boolean =>
  !enabled(links, svc) && links.some((l) => new RegExp(`^K\\d\\d${svc}$`).test(l));
export const PROCESS = {
  zookeeper: /QuorumPeerMain/,
  "mesos-master": /standin\.py mesos-master/,
  "mesos-slave": /standin\.py mesos-slave/,
  marathon: /standin\.py marathon-forwarder/,
};

const zk = (masters: readonly Master[]): string => masters.map((m) => `${m.ip}:2181`).join(",");

/** The seed's files on master `m` of `masters`, as the program writes them. */
export function masterFiles(m: Master, masters: readonly Master[]): Record<string, string> {
  return {
    "/etc/zookeeper/conf/myid": `${m.zkId}\n`,
    "/etc/zookeeper/conf/zoo.cfg": [
      "tickTime=2000",
      "initLimit=10",
      "syncLimit=5",
      "dataDir=/var/lib/zookeeper",
      "clientPort=2181",
      "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf",
      "admin.enableServer=false",
      ...masters.map((x) => `server.${x.zkId}=${x.ip}:2888:3888`),
      "",
    ].join("\n"),
    "/etc/mesos/zk": `zk://${zk(masters)}/mesos\n`,
    "/etc/mesos-master/ip": `${m.ip}\n`,
    "/etc/mesos-master/hostname": `${m.ip}\n`,
    "/etc/mesos-master/quorum": "2\n",
    "/etc/marathon/conf/hostname": `${m.ip}\n`,
    "/etc/marathon/conf/master": `zk://${zk(masters)}/mesos\n`,
    "/etc/marathon/conf/zk": `zk://${zk(masters)}/marathon\n`,
    "/etc/default/marathon": `export LIBPROCESS_IP=${m.ip}\n`,
  };
}

/** The seed's files on slave `s` of a cluster with `masters`. */
export function slaveFiles(s: Slave, masters: readonly Master[]): Record<string, string> {
  return {
    "/etc/mesos/zk": `zk://${zk(masters)}/mesos\n`,
    "/etc/mesos-slave/ip": `${s.ip}\n`,
    "/etc/mesos-slave/hostname": `${s.ip}\n`,
  };
}

/**
 * Every host has the seed's files with the exact contents the program's steps wrote (as the stack's state
 * holds the steps), and its role's services enabled and running, the others' disabled and stopped.
 */
export async function expectProvisioned(
  state: readonly StateResource[],
  exec: HostExec,
  masters: readonly Master[],
  slaves: readonly Slave[],
): Promise<void> {
  for (const m of masters) {
    const expected = masterFiles(m, masters);
    expect(filesOf(state, m.name)).toEqual(expected);
    const onHost = await readFiles(exec, m.name, [...Object.keys(expected), "/var/lib/zookeeper/myid"]);
    expect(onHost).toEqual({ ...expected, "/var/lib/zookeeper/myid": "-> /etc/zookeeper/conf/myid" });
    const { links, processes } = await servicesOf(exec, m.name);
    for (const svc of ["zookeeper", "mesos-master", "marathon"] as const) {
      expect({
        host: m.name,
        svc,
        enabled: enabled(links, svc),
        running: PROCESS[svc].test(processes),
      }).toEqual({ host: m.name, svc, enabled: true, running: true });
    }
    expect(disabled(links, "mesos-slave")).toBe(true);
    expect(processes).not.toMatch(PROCESS["mesos-slave"]);
  }
  for (const s of slaves) {
    const expected = slaveFiles(s, masters);
    expect(filesOf(state, s.name)).toEqual(expected);
    expect(
      await readFiles(exec, s.name, [
        ...Object.keys(expected),
        "/etc/marathon/conf/zk",
        "/etc/mesos-master/ip",
      ]),
    ).toEqual({ ...expected, "/etc/marathon/conf/zk": null, "/etc/mesos-master/ip": null });
    const { links, processes } = await servicesOf(exec, s.name);
    expect(enabled(links, "mesos-slave")).toBe(true);
    expect(processes).toMatch(PROCESS["mesos-slave"]);
    for (const svc of ["mesos-master", "zookeeper"] as const) {
      expect({
        host: s.name,
        svc,
        disabled: disabled(links, svc),
        running: PROCESS[svc].test(processes),
      }).toEqual({ host: s.name, svc, disabled: true, running: false });
    }
  }
}

/** The masters' ZooKeeper servers settle as one leader and two followers, each with its id from myid. */
export async function expectEnsemble(masters: readonly Master[]): Promise<void> {
  const modes = await waitForModes(
    masters.map((m) => m.ip),
    (ms) => ms.filter((x) => x === "leader").length === 1 && ms.filter((x) => x === "follower").length === 2,
    30_000,
  );
  expect(modes.sort()).toEqual(["follower", "follower", "leader"]);
  for (const m of masters) {
    const conf = await fourLetter(m.ip, "conf");
    expect(conf).toMatch(new RegExp(`^serverId=${m.zkId}$`, "m"));
    expect(conf).toContain("dataDir=/var/lib/zookeeper");
  }
}

/** `pulumi config set --path 'apps["<app>"].instances' <n>`: how a user scales the app. */
export const setInstances = (stack: Stack, instances: number): Promise<void> =>
  stack.setConfig(`apps["${APP_ID}"].instances`, { value: String(instances) }, true);

/** Steps of an operation that change something: op and name, in the engine's order. */
export const changesOf = (record: EventRecorder): [string, string][] =>
  record.steps
    .filter((s) => s.op !== "same")
    .sort((a, b) => a.startSeq - b.startSeq)
    .map((s) => [s.name, s.op]);

/** What a scale does: the dynamic provider takes the new config, then the app is updated; nothing else. */
export const APP_UPDATE: [string, string][] = [
  [DYNAMIC_PROVIDER, "update"],
  [APP, "update"],
];

/** Top-level keys whose values differ between two objects. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/**
 * The app runs once, created on every master's Marathon endpoint. Setting 3 instances in the stack config
 * previews (`pulumi preview --diff`) as exactly one update, of the app, `instances: 1 => 3` and nothing else;
 * the `up` then updates the app and nothing else, and its 3 tasks run on 3 distinct slaves. Returns the up.
 */
export async function expectScaled(
  stack: Stack,
  log: Operation[],
  marathon: MarathonEmulator,
  masters: readonly Master[],
  slaves: readonly Slave[],
): Promise<Operation> {
  const created = resourceNamed(await stateOf(stack), APP);
  expect(created.inputs.marathonEndpoints).toEqual(masters.map((m) => `http://${m.ip}:8080`));
  expect(created.inputs.instances).toBe(1);
  expect(marathon.getApp(`/${APP_ID}`)).toMatchObject({ instances: 1, tasksRunning: 1 });

  await setInstances(stack, 3);
  const preview = await operate(log, "preview of the scale", (hooks) =>
    stack.preview({ ...hooks, diff: true }),
  );
  const planned = preview.op.record.events
    .map((e: EngineEvent) => e.resourcePreEvent?.metadata)
    .filter((m) => m !== undefined && m.op !== "same")
    .map((m) => ({ name: nameOf(m!.urn), step: m! }));
  expect(planned.map(({ name, step }) => [name, step.type, step.op])).toEqual([
    [DYNAMIC_PROVIDER, DYNAMIC_PROVIDER_TYPE, "update"],
    [APP, APP_TYPE, "update"],
  ]);
  // The dynamic provider takes the new config: the apps, with the app's instances alone changed.
  const provider = planned[0].step;
  const appsKey = "mesos-cluster:apps";
  expect(changedKeys(provider.old?.inputs ?? {}, provider.new?.inputs ?? {})).toEqual([appsKey]);
  const [oldApps, newApps] = [provider.old, provider.new].map(
    (s) => JSON.parse(String(s?.inputs[appsKey])) as Record<string, Record<string, unknown>>,
  );
  expect(oldApps[APP_ID].instances).toBe(1);
  expect(newApps).toEqual({ ...oldApps, [APP_ID]: { ...oldApps[APP_ID], instances: 3 } });
  // The app: instances 1 => 3, and nothing else, in its inputs and in whatever the engine reports of its diff.
  const app = planned[1].step;
  const olds = app.old?.inputs ?? {};
  const news = app.new?.inputs ?? {};
  expect(changedKeys(olds, news)).toEqual(["instances"]);
  expect([olds.instances, news.instances]).toEqual([1, 3]);
  const named = [...(app.diffs ?? []), ...Object.keys(app.detailedDiff ?? {})];
  expect(named.filter((k) => k !== "instances")).toEqual([]);
  // The change summary counts resources, not providers; the diff the user reads names the one change.
  expect(preview.result.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
  expect(preview.result.stdout).toMatch(/~ *instances *: *1 => 3/);

  const { result, op } = await operate(log, "up of the scale", (hooks) => stack.up(hooks));
  expect(changesOf(op.record)).toEqual(APP_UPDATE);
  expect(marathon.getApp(`/${APP_ID}`)).toMatchObject({ instances: 3, tasksRunning: 3 });
  const endpoints = (result.outputs.endpoints.value as Record<string, string[]>)[APP_ID];
  expect(endpoints).toHaveLength(3);
  const hosts = endpoints.map((e) => e.split(":")[0]);
  for (const h of hosts) expect(slaves.map((s) => s.ip)).toContain(h);
  expect(new Set(hosts).size).toBe(3);
  return op;
}

/**
 * A second `up` with no change: its preview expects none (`--expect-no-changes`), and the up leaves every
 * resource the same. Returns the up.
 */
export async function expectNoChanges(stack: Stack, log: Operation[]): Promise<Operation> {
  await operate(log, "preview of the second up", (hooks) =>
    stack.preview({ ...hooks, expectNoChanges: true }),
  );
  const { result, op } = await operate(log, "second up", (hooks) => stack.up(hooks));
  const resources = (await stateOf(stack)).filter((r) => !r.type.startsWith("pulumi:providers:"));
  expect(result.summary.resourceChanges).toEqual({ same: resources.length });
  expect(changesOf(op.record)).toEqual([]);
  return op;
}
