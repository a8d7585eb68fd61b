/**
 * Changing a running cluster, end to end: one stack (3 masters, then 5, then 3 again, and an agent) on
 * lab hosts (network namespaces with sshd, test/e2e/lab.ts), real ZooKeeper (Debian's zookeeperd), the
 * Mesos and Marathon stand-ins, driven on the real Pulumi engine (test/helpers/engine.ts). The changes
 * run in sequence on the same cluster:
 * - master1 renamed master1b (same address): its services keep running (same processes), nothing is
 *   uninstalled, the old steps' deletes leave the host to the new ones;
 * - the Mesos quorum 2 -> 3: mesos-master restarts on one master at a time, in the order the preview
 *   shows, while ZooKeeper keeps a quorum (every member sampled every 100 ms);
 * - more masters without ZooKeeper's dynamic reconfiguration are refused; turning it on restarts
 *   ZooKeeper on one master at a time;
 * - 3 -> 5 -> 3 masters: the ensemble is reconfigured with a quorum serving in every sample, and no
 *   running member restarts;
 * - a ZooKeeper id change is refused before anything runs;
 * - an agent's attributes change: mesos-slave runs with the new attributes (the stand-in, like Mesos,
 *   refuses to start on a stale checkpointed agent info), and the preview warns that its tasks restart;
 * - zookeeper.dataDir moves: the data is copied, one member at a time, and a znode survives;
 * - converge: a file edited and a service stopped by hand are back, and no other service restarted;
 * - then a second up changes nothing, and every host script run again by hand changes nothing.
 * Packages are real: dummy `mesos` and `marathon` packages from a local apt repository (no network).
 * Needs root, openssh-server, zookeeperd, dpkg-dev, /usr/bin/python3 and the Pulumi toolchain.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { EngineSandbox, recorded, type EventRecorder } from "../helpers/engine";
import {
  COMMAND_TYPE,
  endSeqOf,
  expectNoChanges,
  fourLetter,
  installStandins,
  operate,
  printedBy,
  printTimings,
  readFiles,
  rerunHostScripts,
  revealedStateOf,
  type Operation,
} from "./expectations";
import { createLab, type Lab } from "./lab";
import { made } from "../helpers/setup";

const STACK = "changes";
const SUBNET = "10.93.0.0/24";
const master = (n: number) => ({ name: `master${n}`, ip: `10.93.0.1${n}`, zkId: n });
const MASTERS = [1, 2, 3, 4, 5].map(master);
const SLAVE = { name: "slave1", ip: "10.93.0.21" };
const SERVICES = ["zookeeper", "mesos-master", "marathon", "mesos-slave"] as const;
type Service = (typeof SERVICES)[number];
const PIDFILE: Record<Service, string> = {
  zookeeper: "/run/zookeeper/zookeeper.pid",
  "mesos-master": "/run/mesos-master.pid",
  marathon: "/run/marathon.pid",
  "mesos-slave": "/run/mesos-slave.pid",
};

jest.setTimeout(600_000);

const timings: Record<string, number> = {};
const operations: Operation[] = [];
let repo: string | undefined;
let lab: Lab | undefined;
let emulator: MarathonEmulator | undefined;
let sandbox: EngineSandbox | undefined;
let stack: Stack | undefined;

function theLab(): Lab {
  return made(lab, "lab");
}
function theStack(): Stack {
  return made(stack, "stack");
}

/** A command inside a host, as readFiles takes it. */
const hostExec = (host: string, command: string, opts?: { input?: string }) =>
  theLab().exec(host, command, opts);

/** A command inside a host; its stdout, or an error with its stderr. */
async function exec(host: string, command: string): Promise<string> {
  const r = await theLab().exec(host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`);
  return r.stdout;
}

const up = async (label: string): Promise<EventRecorder> =>
  (await operate(operations, label, (hooks) => theStack().up(hooks))).op.record;
const preview = async (label: string): Promise<EventRecorder> =>
  (await operate(operations, label, (hooks) => theStack().preview({ ...hooks, diff: true }))).op.record;
const setConfig = (values: Record<string, string>): Promise<void> =>
  theStack().setAllConfig(
    Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value }])),
    true,
  );

/** The process id of each service running on a host. */
async function pidsOf(host: string): Promise<Partial<Record<Service, number>>> {
  const out = await exec(
    host,
    SERVICES.map(
      (s) =>
        `p=$(cat ${PIDFILE[s]} 2>/dev/null || true); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo ${s} $p; fi`,
    ).join("\n"),
  );
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.split(" ")[0], Number(l.split(" ")[1])]),
  );
}

/** Every host's service processes. */
async function allPids(hosts: string[]): Promise<Record<string, Partial<Record<Service, number>>>> {
  return Object.fromEntries(await Promise.all(hosts.map(async (h) => [h, await pidsOf(h)] as const)));
}

/** The stand-in's starts and stops of `svc` on `host` since `since` (ms since the epoch). */
async function standinEvents(
  host: string,
  svc: string,
  since: number,
): Promise<{ what: string; at: number }[]> {
  const out = await exec(host, `cat /var/log/${svc}-standin.events 2>/dev/null || true`);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ what: l.split(" ")[0], at: Number(l.split(" ")[1]) }))
    .filter((e) => e.at >= since);
}

/** The ensemble's members in force, as server ids, read from `ip`'s `conf`. */
async function membersInForce(ip: string): Promise<number[]> {
  const conf = await fourLetter(ip, "conf");
  return [...conf.matchAll(/^server\.(\d+)=/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

interface Sample {
  at: number;
  modes: string[];
  /** Server ids in force (the leader's view); empty without a leader. */
  voters: number[];
  quorum: boolean;
}

/**
 * Samples every member every 100 ms, each sample started on time whatever the previous one waits for: its
 * `srvr` mode, and the members in force as the leader sees them. A sample has a quorum when a leader serves
 * and a strict majority of the members in force serve.
 */
class QuorumSampler {
  private readonly pending: Promise<Sample>[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly members: { ip: string; zkId: number }[]) {
    this.timer = setInterval(() => this.pending.push(this.sample(Date.now())), 100);
  }

  private async sample(at: number): Promise<Sample> {
    const modes = await Promise.all(
      this.members.map(
        async (m) => /^Mode: (\w+)/m.exec(await fourLetter(m.ip, "srvr", 1000))?.[1] ?? "down",
      ),
    );
    const leader = this.members[modes.indexOf("leader")];
    const voters = leader === undefined ? [] : await membersInForce(leader.ip);
    const serving = this.members.filter(
      (m, i) => voters.includes(m.zkId) && (modes[i] === "leader" || modes[i] === "follower"),
    );
    return { at, modes, voters, quorum: voters.length > 0 && serving.length > voters.length / 2 };
  }

  async stop(): Promise<Sample[]> {
    clearInterval(this.timer);
    return (await Promise.all(this.pending)).sort((a, b) => a.at - b.at);
  }

  /** The longest time between the starts of two samples, in ms. */
  static longestGap(samples: Sample[]): number {
    return Math.max(...samples.slice(1).map((s, i) => s.at - samples[i].at));
  }
}

/** Runs `change` while sampling the members; returns the samples. */
async function sampled(
  members: { ip: string; zkId: number }[],
  change: () => Promise<unknown>,
): Promise<Sample[]> {
  const sampler = new QuorumSampler(members);
  try {
    await change();
  } catch (e) {
    await sampler.stop();
    throw e;
  }
  return sampler.stop();
}

function expectQuorumThroughout(label: string, samples: Sample[]): void {
  timings[`${label}Samples`] = samples.length;
  timings[`${label}SamplesWithoutQuorum`] = samples.filter((s) => !s.quorum).length;
  timings[`${label}LongestSampleGapMs`] = QuorumSampler.longestGap(samples);
  expect(samples.length).toBeGreaterThan(20);
  expect(samples.filter((s) => !s.quorum)).toEqual([]);
}

/** Dummy `mesos` and `marathon` packages in a local apt repository, readable by every lab host. */
function buildRepository(): string {
  const dir = fs.mkdtempSync("/var/tmp/mcchg-repo-");
  for (const name of ["mesos", "marathon"]) {
    const root = path.join(dir, "build", name);
    fs.mkdirSync(path.join(root, "DEBIAN"), { recursive: true });
    fs.writeFileSync(
      path.join(root, "DEBIAN", "control"),
      `Package: ${name}\nVersion: 1.0-standin\nArchitecture: all\nMaintainer: test <test@localhost>\nDescription: stand-in for ${name} (end-to-end tests)\n`,
    );
    execFileSync("dpkg-deb", ["--build", root, path.join(dir, `${name}_1.0-standin_all.deb`)], {
      stdio: "ignore",
    });
  }
  fs.rmSync(path.join(dir, "build"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "Packages"),
    execFileSync("dpkg-scanpackages", ["."], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** apt on a host knows the local repository (and only it is fetched). */
function aptSourceScript(dir: string): string {
  return [
    "set -e",
    `echo 'deb [trusted=yes] file:${dir} ./' > /etc/apt/sources.list.d/mcchg.list`,
    "apt-get update -qq -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/mcchg.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0",
  ].join("\n");
}

/** The stack's config file: three masters, one agent, real packages. */
function stackConfig(): Record<string, unknown> {
  const ns = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [`mesos-cluster:${k}`, v]));
  return {
    config: ns({
      masters: MASTERS.slice(0, 3),
      slaves: [SLAVE],
      hosts: "existing",
      network: SUBNET,
      quorum: 0,
      initSystem: "sysv",
      ssh: { user: "root", port: 22 },
      packages: {
        manageSource: false,
        mesos: { install: true },
        marathon: { install: true },
        zookeeper: { install: true },
      },
      marathon: { configStyle: "conf-dir", httpPort: 8080 },
      readinessTimeoutSeconds: 60,
    }),
  };
}

beforeAll(async () => {
  for (const [file, pkg] of [
    ["/etc/init.d/zookeeper", "zookeeperd"],
    ["/usr/bin/python3", "python3"],
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/dpkg-scanpackages", "dpkg-dev"],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: apt-get install -y ${pkg}`);
  }
  const dir = (repo = buildRepository());
  const l = (lab = await createLab({
    hosts: [...MASTERS, SLAVE].map((h) => ({ name: h.name, ip: h.ip })),
    bridge: "mcchg",
    subnet: SUBNET,
  }));
  const marathon = (emulator = await startEmulator({ host: l.gateway, port: 0, taskHosts: [SLAVE.ip] }));
  const run = (host: string, command: string, opts?: { input?: string }) => l.exec(host, command, opts);
  await Promise.all([
    ...MASTERS.map((m) => installStandins(run, m.name, "master", `${l.gateway}:${marathon.port}`)),
    installStandins(run, SLAVE.name, "slave", `${l.gateway}:${marathon.port}`),
    ...[...MASTERS, SLAVE].map((h) => exec(h.name, aptSourceScript(dir))),
  ]);
  sandbox = new EngineSandbox();
  fs.writeFileSync(sandbox.stackFile(STACK), yaml.dump(stackConfig()));
  const s = (stack = await sandbox.createStack(STACK));
  await s.setConfig("ssh.privateKey", { value: l.privateKey, secret: true }, true);
  const started = Date.now();
  const first = await up("first up");
  timings.firstUpMs = Date.now() - started;
  expect(first.steps.filter((x) => x.failed)).toEqual([]);
}, 600_000);

afterAll(async () => {
  sandbox?.dispose();
  await emulator?.close().catch(() => undefined);
  await lab?.destroy();
  if (repo !== undefined) fs.rmSync(repo, { recursive: true, force: true });
  printTimings("changesTimings", timings);
});

describe("changing a running cluster, on real hosts and the real Pulumi engine", () => {
  test("the first up: a 3-member ensemble, the packages installed", async () => {
    expect(await membersInForce(MASTERS[0].ip)).toEqual([1, 2, 3]);
    const status = await exec(MASTERS[0].name, "dpkg-query -W -f='${Package} ${Status}\\n' mesos marathon");
    expect(status.trim().split("\n").sort()).toEqual([
      "marathon install ok installed",
      "mesos install ok installed",
    ]);
  });

  test("renaming a master (same address) keeps its services running and its packages installed", async () => {
    const host = MASTERS[0].name;
    const before = await pidsOf(host);
    expect(Object.keys(before).sort()).toEqual(["marathon", "mesos-master", "zookeeper"]);
    await setConfig({ "masters[0].name": "master1b" });

    const planned = await preview("preview of the rename");
    expect(planned.problems()).toEqual([
      expect.stringContaining("warning: master1 is renamed master1b (same address 10.93.0.11)"),
    ]);
    const renamed = await up("up of the rename");
    // The host's components and steps under the new name are created, those under the old one deleted;
    // besides, the guard records the layout and the dynamic provider takes the new stack config.
    const named = (m: string) => [
      `mesos-${m}`,
      `mesos-${m}-packages`,
      `mesos-${m}-packages-install`,
      `mesos-zookeeper-${m}-zookeeper`,
      `mesos-zookeeper-${m}-zookeeper-ready`,
      `mesos-${m}-mesos-master`,
      `mesos-${m}-mesos-master-elected`,
      `mesos-${m}-marathon`,
      `mesos-${m}-marathon-ping`,
    ];
    expect(renamed.changes()).toEqual(
      [
        ...named("master1").map((n) => `delete ${n}`),
        ...named("master1b").map((n) => `create ${n}`),
        "update cluster-changes",
        "update default",
      ].sort(),
    );

    // Same processes: nothing stopped, restarted or uninstalled.
    expect(await pidsOf(host)).toEqual(before);
    const status = await exec(host, "dpkg-query -W -f='${Package} ${Status}\\n' mesos marathon");
    expect(status.trim().split("\n").sort()).toEqual([
      "marathon install ok installed",
      "mesos install ok installed",
    ]);
    const files = await readFiles(hostExec, host, [
      "/etc/zookeeper/conf/myid",
      "/etc/mesos-master/quorum",
      "/etc/marathon/conf/hostname",
    ]);
    expect(files).toEqual({
      "/etc/zookeeper/conf/myid": "1\n",
      "/etc/mesos-master/quorum": "2\n",
      "/etc/marathon/conf/hostname": "10.93.0.11\n",
    });
    expect(printedBy(renamed, "mesos-master1-packages-install")).toContain(
      "left package mesos to mesos-master1b-packages-install",
    );
    expect(printedBy(renamed, "mesos-zookeeper-master1-zookeeper")).toContain(
      "left service zookeeper to mesos-zookeeper-master1b-zookeeper",
    );
    expect(await membersInForce(MASTERS[0].ip)).toEqual([1, 2, 3]);
  });

  test("a Mesos quorum change restarts mesos-master on one master at a time, in the previewed order, ZooKeeper keeping its quorum", async () => {
    // master1 is named master1b in the config since the rename; the lab knows the host as master1.
    const names = ["master1b", "master2", "master3"];
    const hosts = ["master1", "master2", "master3"];
    const zkBefore = await allPids(hosts);
    await setConfig({ quorum: "3" });
    const planned = await preview("preview of the quorum change");
    const order = names.map((n) => planned.step(`mesos-${n}-mesos-master`, "update").startSeq);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    const since = Date.now();
    let record: EventRecorder | undefined;
    const samples = await sampled(
      MASTERS.slice(0, 3),
      async () => (record = await up("up of the quorum change")),
    );
    expectQuorumThroughout("quorumChange", samples);
    const steps = names.map((n) => record!.step(`mesos-${n}-mesos-master`, "update"));
    for (let i = 1; i < steps.length; i++) expect(steps[i].startSeq).toBeGreaterThan(endSeqOf(steps[i - 1]));

    // Each master stopped and started its mesos-master once; no two were down at the same time.
    const windows = await Promise.all(
      hosts.map(async (h) => {
        const events = await standinEvents(h, "mesos-master", since);
        expect(events.map((e) => e.what)).toEqual(["stopping", "started"]);
        return { host: h, from: events[0].at, to: events[1].at };
      }),
    );
    for (let i = 1; i < windows.length; i++) expect(windows[i].from).toBeGreaterThan(windows[i - 1].to);
    timings.rollingRestartMs = windows[2].to - windows[0].from;
    timings.longestMesosMasterDownMs = Math.max(...windows.map((w) => w.to - w.from));
    for (const h of hosts)
      expect((await readFiles(hostExec, h, ["/etc/mesos-master/quorum"]))["/etc/mesos-master/quorum"]).toBe(
        "3\n",
      );
    // ZooKeeper did not restart.
    const zkAfter = await allPids(hosts);
    for (const h of hosts) expect(zkAfter[h].zookeeper).toBe(zkBefore[h].zookeeper);
  });

  test("more masters without reconfiguration are refused; turning it on restarts ZooKeeper on one master at a time", async () => {
    await setConfig({ "masters[3].name": "master4", "masters[3].ip": MASTERS[3].ip, "masters[3].zkId": "4" });
    const refused = await recorded((hooks) => theStack().preview(hooks));
    expect(refused.error).toBeDefined();
    expect(refused.record.problems().join("\n")).toContain(
      "Set zookeeper.reconfigEnabled to true in an up of its own first (one member restarts at a time), then change the masters",
    );
    await theStack().removeConfig("masters[3]", true);

    const names = ["master1b", "master2", "master3"];
    const hosts = ["master1", "master2", "master3"];
    const before = await allPids(hosts);
    await setConfig({ "zookeeper.reconfigEnabled": "true" });
    let record: EventRecorder | undefined;
    const samples = await sampled(
      MASTERS.slice(0, 3),
      async () => (record = await up("up turning reconfiguration on")),
    );
    // When the leader restarts, the others elect a new one: recorded, not asserted.
    timings.reconfigOnSamples = samples.length;
    timings.reconfigOnSamplesWithoutQuorum = samples.filter((s) => !s.quorum).length;
    const steps = names.map((n) => record!.step(`mesos-zookeeper-${n}-zookeeper`, "update"));
    for (let i = 1; i < steps.length; i++) expect(steps[i].startSeq).toBeGreaterThan(endSeqOf(steps[i - 1]));
    for (const [i, n] of names.entries()) {
      // Each member restarted, and its step ended only once it served again.
      const printed = printedBy(record!, `mesos-zookeeper-${n}-zookeeper`);
      const restarted = printed.indexOf("restarted zookeeper");
      expect(restarted).toBeGreaterThanOrEqual(0);
      expect(printed.indexOf(`ZooKeeper ${MASTERS[i].ip}:2181 ready: Mode:`)).toBeGreaterThan(restarted);
    }
    const after = await allPids(hosts);
    for (const h of hosts) expect(after[h].zookeeper).not.toBe(before[h].zookeeper);
    expect(await membersInForce(MASTERS[0].ip)).toEqual([1, 2, 3]);
  });

  test("3 -> 5 masters: the new members join by reconfiguration, a quorum serving in every sample, no member restarting", async () => {
    const running = ["master1", "master2", "master3"];
    const before = await allPids(running);
    await setConfig({
      "masters[3].name": "master4",
      "masters[3].ip": MASTERS[3].ip,
      "masters[3].zkId": "4",
      "masters[4].name": "master5",
      "masters[4].ip": MASTERS[4].ip,
      "masters[4].zkId": "5",
    });
    const samples = await sampled(MASTERS, () => up("up of 3 -> 5 masters"));
    expectQuorumThroughout("grow", samples);
    expect(samples[samples.length - 1].voters).toEqual([1, 2, 3, 4, 5]);
    expect(await membersInForce(MASTERS[4].ip)).toEqual([1, 2, 3, 4, 5]);
    const after = await allPids(running);
    for (const n of running) expect(after[n].zookeeper).toBe(before[n].zookeeper);
  });

  test("5 -> 3 masters: the removed members leave by reconfiguration, then stop; a quorum serving in every sample", async () => {
    await theStack().removeConfig("masters[4]", true);
    await theStack().removeConfig("masters[3]", true);
    const samples = await sampled(MASTERS, () => up("up of 5 -> 3 masters"));
    expectQuorumThroughout("shrink", samples);
    expect(await membersInForce(MASTERS[0].ip)).toEqual([1, 2, 3]);
    for (const m of MASTERS.slice(3)) expect(await pidsOf(m.name)).toEqual({});
  });

  test("a ZooKeeper id change is refused before any host step runs, naming the key and the sequence", async () => {
    const hosts = ["master1", "master2", "master3", "slave1"];
    const before = await allPids(hosts);
    await setConfig({ "masters[1].zkId": "9" });
    const refused = await recorded((hooks) => theStack().up(hooks));
    expect(refused.error).toBeDefined();
    expect(refused.record.problems().join("\n")).toContain(
      "Remove master2 from masters in one up (the ensemble drops server 2), then add it back with zkId 9 in the next",
    );
    expect(refused.record.steps.filter((s) => s.type === COMMAND_TYPE && s.op !== "same")).toEqual([]);
    expect(await allPids(hosts)).toEqual(before);
    expect(
      (await readFiles(hostExec, "master2", ["/etc/zookeeper/conf/myid"]))["/etc/zookeeper/conf/myid"],
    ).toBe("2\n");
    await setConfig({ "masters[1].zkId": "2" });
  });

  test("an agent's attributes change: the preview says its tasks restart, and mesos-slave runs with the new attributes", async () => {
    const stateOf = async () =>
      (await (await fetch(`http://${SLAVE.ip}:5051/state`)).json()) as {
        id: string;
        attributes: Record<string, string>;
      };
    const before = await stateOf();
    expect(before.attributes).toEqual({});
    await setConfig({ "mesos.attributes.rack": "r2" });
    const planned = await preview("preview of the attributes");
    expect(planned.problems().join("\n")).toContain(
      "mesos.attributes changes: mesos-slave restarts on slave1 without its checkpointed agent info",
    );
    expect(planned.problems().join("\n")).toContain("the tasks running there are restarted");
    const changed = await up("up of the attributes");
    expect(printedBy(changed, "mesos-slave1-mesos-slave")).toContain(
      "removed /var/lib/mesos/meta/slaves/latest",
    );
    const after = await stateOf();
    expect(after.attributes).toEqual({ rack: "r2" });
    expect(after.id).not.toBe(before.id);
  });

  test("a dataDir change copies ZooKeeper's data to the new directory, one member at a time; the data survives", async () => {
    const zkCli = (command: string) =>
      exec("master2", `/usr/share/zookeeper/bin/zkCli.sh -server ${MASTERS[1].ip}:2181 ${command} 2>&1`);
    await zkCli("create /changes-e2e kept");
    await setConfig({ "zookeeper.dataDir": "/var/lib/zookeeper-moved" });
    const since = Date.now();
    // Every member restarts once; when the leader does, the others elect a new one: recorded, not asserted.
    const samples = await sampled(MASTERS.slice(0, 3), () => up("up of the dataDir"));
    timings.dataDirMoveMs = Date.now() - since;
    timings.dataDirSamplesWithoutQuorum = samples.filter((s) => !s.quorum).length;
    timings.dataDirSamples = samples.length;
    for (const m of ["master1", "master2", "master3"]) {
      expect(
        await exec(
          m,
          "ls /var/lib/zookeeper-moved/version-2 /var/lib/zookeeper/version-2 | grep -c '^snapshot'",
        ),
      ).not.toBe("0\n");
      expect(
        await exec(
          m,
          "test -d /var/lib/zookeeper/version-2 && test -d /var/lib/zookeeper-moved/version-2 && echo both",
        ),
      ).toBe("both\n");
    }
    for (const m of MASTERS.slice(0, 3)) {
      expect(await fourLetter(m.ip, "conf")).toContain("dataDir=/var/lib/zookeeper-moved/version-2");
    }
    expect(await zkCli("get /changes-e2e")).toMatch(/^kept$/m);
  });

  test("converge: a file edited and a service stopped by hand are back, and no other service restarted", async () => {
    const hosts = ["master1", "master2", "master3", "slave1"];
    await exec("master2", "echo 9 > /etc/mesos-master/quorum");
    await exec("master3", "service marathon stop");
    const before = await allPids(hosts);
    expect(before.master3.marathon).toBeUndefined();
    await setConfig({ converge: "2024-05-01T10.00" });

    const planned = await preview("preview of converge");
    const ops = new Set(planned.steps.filter((s) => s.type === COMMAND_TYPE).map((s) => s.op));
    expect([...ops]).toEqual(["update"]);
    const converged = await up("up of converge");
    expect(converged.steps.filter((s) => s.type === COMMAND_TYPE && s.op !== "update")).toEqual([]);

    expect(
      (await readFiles(hostExec, "master2", ["/etc/mesos-master/quorum"]))["/etc/mesos-master/quorum"],
    ).toBe("3\n");
    const after = await allPids(hosts);
    expect(after.master3.marathon).toBeDefined();
    const restarted = hosts.flatMap((h) =>
      SERVICES.filter((s) => after[h][s] !== before[h][s]).map((s) => `${h} ${s}`),
    );
    // mesos-master on master2 restarted because its config file was put back; marathon on master3 started.
    expect(restarted.sort()).toEqual(["master2 mesos-master", "master3 marathon"]);
  });

  test("after all of it, a second up changes nothing, and every host script run again by hand changes nothing", async () => {
    await expectNoChanges(theStack(), operations);
    const hostOf = new Map([...MASTERS, SLAVE].map((h) => [h.ip, h.name]));
    const outputs = await rerunHostScripts(made(sandbox, "engine sandbox"), STACK, theLab(), hostOf);
    const steps = (await revealedStateOf(made(sandbox, "engine sandbox"), STACK)).filter(
      (r) => r.type === COMMAND_TYPE,
    );
    expect(outputs.length).toBe(steps.length);
    for (const { name, code, stdout } of outputs) {
      const changes = stdout
        .split("\n")
        .filter((l) =>
          /^(changed|restarted|started|stopped|installed|removed|restored|took|reconfigured|copied)\b/.test(
            l,
          ),
        );
      expect({ name, code, changes }).toEqual({ name, code: 0, changes: [] });
    }
  });
});
