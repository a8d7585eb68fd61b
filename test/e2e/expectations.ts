/**
 * What the end-to-end cluster suites expect of a provisioned cluster, and the probes that look at it from
 * outside: the stand-ins put in place of Mesos and Marathon, the files and services per role, ZooKeeper's
 * modes, the phase timings. Shared by cluster.test.ts (lab hosts) and vagrant-cluster.test.ts (Vagrant
 * machines); each suite says how to run a command inside one of its hosts (a {@link HostExec}).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { StackOutputs } from "../../infra/program";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { filesWritten } from "../cluster/fixtures";
import type { RecordedResource } from "../helpers/pulumi";
import { toPulumiConfig } from "../helpers/stack-config";
import { COMMAND_TYPE, type EngineLite, type RemoteResult, type ResourceState } from "./engine-lite";

export type Master = { name: string; ip: string; zkId: number };
export type Slave = { name: string; ip: string };

/** The seed's Rails app, and its resource's name. */
export const APP_ID = "rails-app-on-mesos-marathon";
export const APP = `apps-${APP_ID}`;
const STANDINS = path.join(__dirname, "standins");

/** Runs a bash command as root inside a host, `input` on its stdin. */
export type HostExec = (host: string, command: string, opts?: { input?: string }) => Promise<RemoteResult>;

/**
 * A stack config (as read from Pulumi.<stack>.yaml) as `pulumi config` hands it over, with `overrides`
 * and the app at `instances`; `ssh` is a secret, as it holds the private key when there is one.
 */
export function setStackConfig(
  base: Record<string, unknown>,
  overrides: Record<string, unknown>,
  instances: number,
): void {
  const apps = structuredClone(base.apps) as Record<string, Record<string, unknown>>;
  apps[APP_ID].instances = instances;
  pulumi.runtime.setAllConfig(toPulumiConfig({ ...base, apps, ...overrides }), ["mesos-cluster:ssh"]);
}

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

/**
 * The ZooKeeper election in the engine's last run: from the last member's ZooKeeper step to the last
 * member's readiness gate. Only the gates run then; every other step waits for them.
 */
export function zkElection(e: EngineLite, masters: readonly { name: string }[]): number {
  const last = (step: string) =>
    Math.max(...masters.map((m) => e.step(`mesos-zookeeper-${m.name}-${step}`).end));
  return last("zookeeper-ready") - last("zookeeper");
}

/**
 * Provisioning in the engine's last run: wall time from the first Command step's start to the last one's
 * end, less the ZooKeeper election, which is a phase of its own.
 */
export function provisioning(e: EngineLite, masters: readonly { name: string }[]): number {
  const steps = e.steps.filter((s) => s.type === COMMAND_TYPE);
  const span = Math.max(...steps.map((s) => s.end)) - Math.min(...steps.map((s) => s.start));
  return span - zkElection(e, masters);
}

/** Puts the stand-ins where the Mesos and Marathon packages would put theirs, enabled at boot. */
function standinInstallScript(role: "master" | "slave", backend: string): string {
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

/** The remote Commands of one host, by its name. */
export const commandsOf = (e: EngineLite, host: string): ResourceState[] =>
  [...e.state.values()].filter((r) => r.type === COMMAND_TYPE && r.name.includes(`-${host}-`));

/**
 * Every host has the seed's files with the exact contents the program's steps wrote, and its role's
 * services enabled and running, the others' disabled and stopped.
 */
export async function expectProvisioned(
  engine: EngineLite,
  exec: HostExec,
  masters: readonly Master[],
  slaves: readonly Slave[],
): Promise<void> {
  for (const m of masters) {
    const expected = masterFiles(m, masters);
    const mine = commandsOf(engine, m.name) as unknown as RecordedResource[];
    expect(filesWritten(mine)).toEqual(expected);
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
    const mine = commandsOf(engine, s.name) as unknown as RecordedResource[];
    expect(filesWritten(mine)).toEqual(expected);
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

/**
 * The app runs once, created on every master's Marathon endpoint; `scale` (a run with 3 instances in the
 * stack config) updates the app and nothing else, and its 3 tasks run on 3 distinct slaves.
 */
export async function expectScaled(
  engine: EngineLite,
  marathon: MarathonEmulator,
  masters: readonly Master[],
  slaves: readonly Slave[],
  scale: () => Promise<StackOutputs>,
): Promise<void> {
  expect(engine.mustGet(APP).inputs.marathonEndpoints).toEqual(masters.map((m) => `http://${m.ip}:8080`));
  expect(marathon.getApp(`/${APP_ID}`)).toMatchObject({ instances: 1, tasksRunning: 1 });

  const outputs = await scale();
  const changed = engine.steps.filter((x) => x.op !== "same");
  expect(changed.map((x) => [x.name, x.op])).toEqual([[APP, "update"]]);
  expect(engine.sshCount).toBe(0);
  expect(marathon.getApp(`/${APP_ID}`)).toMatchObject({ instances: 3, tasksRunning: 3 });
  const endpoints = (await valueOf(outputs.endpoints))[APP_ID];
  expect(endpoints).toHaveLength(3);
  const hosts = endpoints.map((e) => e.split(":")[0]);
  for (const h of hosts) expect(slaves.map((s) => s.ip)).toContain(h);
  expect(new Set(hosts).size).toBe(3);
}
