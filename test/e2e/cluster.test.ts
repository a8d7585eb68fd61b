/**
 * The whole product end to end on real hosts: the program (stack `e2e`, Pulumi.e2e.yaml) provisions six lab
 * hosts over real ssh through engine-lite, the seed's Rails app goes to the cluster's Marathon endpoints
 * through the dynamic-provider host, and the cluster is checked from outside: files, services, ZooKeeper,
 * scaling, idempotence, losing masters, destroy. Mesos and Marathon are stand-ins (test/e2e/standins/,
 * python3 from /usr/bin/python3): each master's Marathon port forwards to one Marathon emulator on the lab
 * gateway, which models the state real Marathon shares through ZooKeeper. ZooKeeper is Debian's zookeeperd,
 * preinstalled on the machine and so seen installed through each host's overlay root.
 * Needs root, openssh-server, zookeeperd and /usr/bin/python3. E2E_TRACE=<file> dumps the first run's steps.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../infra/config";
import { program, type StackOutputs } from "../../infra/program";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { marathonAppProvider } from "../../providers/marathon/provider";
import { saveResult } from "../../bench/results";
import { startProviderHost, type ProviderHost } from "../helpers/provider-host";
import { readStackConfig, toPulumiConfig } from "../helpers/stack-config";
import { COMMAND_TYPE, EngineLite, opensshRunner, type ResourceState } from "./engine-lite";
import {
  APP,
  APP_ID,
  disabled,
  enabled,
  expectEnsemble,
  expectProvisioned,
  expectScaled,
  installStandins,
  masterFiles,
  phaseTimers,
  printTimings,
  PROCESS,
  provisioning,
  readFiles,
  servicesOf,
  setStackConfig,
  slaveFiles,
  waitForModes,
  zkElection,
  type HostExec,
  type Master,
  type Slave,
} from "./expectations";
import { createLab, type Lab } from "./lab";

const E2E = readStackConfig("e2e");
const MASTERS = E2E.masters as Master[];
const SLAVES = E2E.slaves as Slave[];
/** The machine's own file: what every host's overlay root had before the program ran. */
const original = (file: string): string => fs.readFileSync(file, "utf8");

jest.setTimeout(300_000);

const timings: Record<string, number> = {};
const { timed, cpuTimed } = phaseTimers(timings);
let lab: Lab | undefined;
let soloLab: Lab | undefined;
let emulator: MarathonEmulator | undefined;
let soloEmulator: MarathonEmulator | undefined;
let providerHost: ProviderHost | undefined;
let engine: EngineLite;
/** A master that stayed up, as destroy left it (read before the lab goes away). */
let afterDestroy:
  { zookeeperd: string; files: Record<string, string | null>; myidLinkDelete: string } | undefined;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-e2e-"));
const ssh = opensshRunner(path.join(workDir, "ssh"));

function theLab(): Lab {
  if (lab === undefined) throw new Error("lab was not created (see the beforeAll error)");
  return lab;
}

function theEmulator(): MarathonEmulator {
  if (emulator === undefined) throw new Error("Marathon emulator was not started");
  return emulator;
}

/** A command inside a lab host, through its namespaces. */
const exec: HostExec = (host, command, opts) => theLab().exec(host, command, opts);

/** `pulumi up` of the e2e stack with `instances` of the app, the lab's key as the secret ssh.privateKey. */
async function up(instances: number): Promise<StackOutputs> {
  setStackConfig(E2E, { ssh: { ...(E2E.ssh as object), privateKey: theLab().privateKey } }, instances);
  return engine.up(() => program(loadConfig()));
}

/** Every host's stand-ins, Marathon forwarded to `backend`. */
async function installAll(l: Lab, masters: string[], slaves: string[], backend: string): Promise<void> {
  const run: HostExec = (host, command, opts) => l.exec(host, command, opts);
  await Promise.all([
    ...masters.map((h) => installStandins(run, h, "master", backend)),
    ...slaves.map((h) => installStandins(run, h, "slave", backend)),
  ]);
}

beforeAll(async () => {
  for (const [file, pkg] of [
    ["/etc/init.d/zookeeper", "zookeeperd"],
    ["/usr/bin/python3", "python3"],
    ["/usr/sbin/sshd", "openssh-server"],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: apt-get install -y ${pkg}`);
  }
  const l = (lab = await timed("hostCreationMs", () =>
    createLab({
      hosts: [...MASTERS, ...SLAVES].map((h) => ({ name: h.name, ip: h.ip })),
      bridge: "mce2e",
      subnet: E2E.network as string,
    }),
  ));
  const marathon = (emulator = await startEmulator({
    host: l.gateway,
    port: 0,
    taskHosts: SLAVES.map((s) => s.ip),
    deploymentStepMs: 100,
  }));
  await timed("standinInstallMs", () =>
    installAll(
      l,
      MASTERS.map((m) => m.name),
      SLAVES.map((s) => s.name),
      `${l.gateway}:${marathon.port}`,
    ),
  );
  providerHost = await startProviderHost(marathonAppProvider);
  await providerHost.configure({});
  engine = new EngineLite({ ssh, provider: providerHost, stack: "e2e" });
  await engine.install();
  await timed("firstUpMs", () => cpuTimed("firstUpCpuMs", () => up(1)));
  if (process.env.E2E_TRACE !== undefined)
    fs.writeFileSync(process.env.E2E_TRACE, JSON.stringify(engine.steps));
  timings.provisioningMs = provisioning(engine, MASTERS);
  timings.zkElectionMs = zkElection(engine, MASTERS);
  timings.appDeployMs = engine.step(APP).end - engine.step(APP).start;
}, 420_000);

afterAll(async () => {
  await ssh.close().catch(() => undefined);
  await providerHost?.stop().catch(() => undefined);
  await emulator?.close().catch(() => undefined);
  await soloEmulator?.close().catch(() => undefined);
  await lab?.destroy();
  await soloLab?.destroy();
  fs.rmSync(workDir, { recursive: true, force: true });
  printTimings("e2eTimings", timings);
  if (timings.sixToOneRatioPct !== undefined) saveResult("e2e", timings);
});

describe("the e2e stack on six real hosts", () => {
  test("1. every host has the seed's files with the exact contents, and services per role", async () => {
    await expectProvisioned(engine, exec, MASTERS, SLAVES);
  });

  test("steps ran in Pulumi's dependency order, independent ones concurrently", () => {
    const s = (name: string) => engine.step(name);
    const zkReadyEnd = Math.max(...MASTERS.map((m) => s(`mesos-zookeeper-${m.name}-zookeeper-ready`).end));
    const consumers = [
      ...MASTERS.map((m) => `mesos-${m.name}-mesos-master`),
      ...SLAVES.map((x) => `mesos-${x.name}-mesos-slave`),
    ];
    for (const c of consumers) expect(s(c).start).toBeGreaterThanOrEqual(zkReadyEnd);
    for (const m of MASTERS) {
      expect(s(`mesos-zookeeper-${m.name}-zookeeper`).start).toBeGreaterThanOrEqual(
        s(`mesos-${m.name}-packages-install`).end,
      );
      expect(s(`mesos-${m.name}-marathon`).start).toBeGreaterThanOrEqual(
        s(`mesos-${m.name}-mesos-master-elected`).end,
      );
      expect(s(APP).start).toBeGreaterThanOrEqual(s(`mesos-${m.name}-marathon-ping`).end);
    }
    // At some moment several steps were in flight (hosts in parallel).
    const starts = engine.steps.filter((x) => x.type === COMMAND_TYPE);
    const overlap = Math.max(
      ...starts.map((a) => starts.filter((b) => b.start <= a.start && b.end > a.start).length),
    );
    expect(overlap).toBeGreaterThan(3);
  });

  test("2. ZooKeeper forms a 3-server ensemble from the program's zoo.cfg and myid, with a leader", async () => {
    await expectEnsemble(MASTERS);
  });

  test("3. the Rails app is created through the provider, then scaled 1 -> 3 by the stack config alone", async () => {
    await expectScaled(engine, theEmulator(), MASTERS, SLAVES, () => timed("scaleMs", () => up(3)));
  });

  test("4. a second run plans nothing, and every host script run again by hand changes nothing", async () => {
    await timed("secondUpMs", () => up(3));
    expect(engine.steps.filter((x) => x.op !== "same")).toEqual([]);
    expect(engine.sshCount).toBe(0);

    const byHost = new Map<string, ResourceState[]>();
    for (const r of [...engine.state.values()].filter((x) => x.type === COMMAND_TYPE)) {
      const host = (r.inputs.connection as { host: string }).host;
      byHost.set(host, [...(byHost.get(host) ?? []), r]);
    }
    const outputs = await timed("rerunScriptsMs", async () =>
      (
        await Promise.all(
          [...byHost.values()].map(async (steps) => {
            const out: [string, string][] = [];
            for (const r of steps) out.push([r.name, (await engine.rerunCreate(r.name)).stdout]);
            return out;
          }),
        )
      ).flat(),
    );
    expect(outputs.length).toBe(engine.steps.filter((x) => x.type === COMMAND_TYPE).length);
    for (const [name, stdout] of outputs) {
      const lines = stdout.trim().split("\n");
      const changes = lines.filter((l) =>
        /^(changed|restarted|started|stopped|installed|enabled|disabled|removed|restored)\b/.test(l),
      );
      expect({ name, changes }).toEqual({ name, changes: [] });
      if (!name.endsWith("-ready") && !name.endsWith("-elected") && !name.endsWith("-ping")) {
        expect({ name, noChange: lines.some((l) => /unchanged|already/.test(l)) }).toEqual({
          name,
          noChange: true,
        });
      }
    }
  });

  test("5. losing one master keeps ZooKeeper's quorum and the provider fails over; losing two loses quorum", async () => {
    const l = theLab();
    const [m1, m2, m3] = MASTERS;
    const forwarded = async (host: string): Promise<number> =>
      Number(
        (await l.exec(host, "grep -c 'connection from' /var/log/marathon-standin.log || true")).stdout.trim(),
      );
    const before = (await forwarded(m2.name)) + (await forwarded(m3.name));

    await l.stopHost(m1.name);
    await timed("zkAfterOneLossMs", () =>
      waitForModes([m2.ip, m3.ip], (ms) => ms.includes("leader") && ms.includes("follower"), 40_000),
    );
    await timed("failoverScaleMs", () => up(2));
    expect(engine.steps.filter((x) => x.op !== "same").map((x) => [x.name, x.op])).toEqual([[APP, "update"]]);
    expect(theEmulator().getApp(`/${APP_ID}`)).toMatchObject({ instances: 2, tasksRunning: 2 });
    // The scale went through a surviving master's Marathon endpoint.
    expect((await forwarded(m2.name)) + (await forwarded(m3.name))).toBeGreaterThan(before);

    await l.stopHost(m2.name);
    await timed("zkQuorumLossMs", () => waitForModes([m3.ip], (ms) => ms[0] === "not serving", 40_000));
  });

  test("6. destroy removes the app, then undoes every host step in reverse order, then the machines", async () => {
    const l = theLab();
    const commandCount = [...engine.state.values()].filter((x) => x.type === COMMAND_TYPE).length;
    // The powered-off masters come back first: destroy must reach every host.
    for (const m of MASTERS.slice(0, 2)) {
      await l.startHost(m.name);
      await ssh.forget(m.ip);
    }
    const appNeeds = engine.dependenciesOf(APP).filter((n) => engine.mustGet(n).type === COMMAND_TYPE);
    const steps = await timed("destroyMs", () => engine.destroy());
    expect(theEmulator().getApp(`/${APP_ID}`)).toBeUndefined();
    const appDeleted = steps.find((x) => x.name === APP)!;
    // Every host step the app waited for (all of each master's chain) is undone only after the app is gone.
    expect(appNeeds.length).toBe(commandCount);
    for (const name of appNeeds)
      expect(steps.find((x) => x.name === name)!.start).toBeGreaterThanOrEqual(appDeleted.end);
    expect(steps.filter((x) => x.type === COMMAND_TYPE && x.op === "delete").length).toBe(commandCount);
    const at = (name: string) => steps.find((x) => x.name === name)!;
    for (const m of MASTERS) {
      // Within the ZooKeeper step, the service stops before its files are put back.
      const undone = at(`mesos-zookeeper-${m.name}-zookeeper`).stdout ?? "";
      const service = undone.search(/stopped zookeeper|disabled zookeeper|zookeeper already stopped/);
      expect(service).toBeGreaterThanOrEqual(0);
      expect(service).toBeLessThan(undone.indexOf("/etc/zookeeper/conf/zoo.cfg"));
      expect(at(`mesos-${m.name}-packages-install`).start).toBeGreaterThanOrEqual(
        at(`mesos-zookeeper-${m.name}-zookeeper`).end,
      );
    }
    expect(engine.state.size).toBe(0);

    // master3 and slave1 stayed up all along.
    const master = MASTERS[2];
    const m = await servicesOf(exec, master.name);
    for (const svc of ["zookeeper", "mesos-master", "marathon"] as const) {
      expect({ svc, running: PROCESS[svc].test(m.processes), disabled: disabled(m.links, svc) }).toEqual({
        svc,
        running: false,
        disabled: true,
      });
    }
    expect(enabled(m.links, "mesos-slave")).toBe(true);
    const removed = Object.fromEntries(
      Object.keys(masterFiles(master, MASTERS))
        .filter((f) => !f.startsWith("/etc/zookeeper/"))
        .map((f) => [f, null]),
    );
    const files = await readFiles(exec, master.name, Object.keys(masterFiles(master, MASTERS)));
    expect(Object.fromEntries(Object.keys(removed).map((f) => [f, files[f]]))).toEqual(removed);
    // The ZooKeeper files were put back as the package had them (before the package itself was removed).
    const said = (step: string) => at(`mesos-zookeeper-${master.name}-${step}`).stdout ?? "";
    expect(said("zookeeper")).toContain("restored original /etc/zookeeper/conf/zoo.cfg");
    expect(said("zookeeper")).toContain("restored original /etc/zookeeper/conf/myid");
    afterDestroy = {
      zookeeperd: (await l.exec(master.name, "dpkg-query -W -f='${Status}' zookeeperd 2>/dev/null || true"))
        .stdout,
      files: await readFiles(exec, master.name, [
        "/etc/zookeeper/conf/zoo.cfg",
        "/etc/zookeeper/conf/myid",
        "/var/lib/zookeeper/myid",
      ]),
      myidLinkDelete: said("zookeeper"),
    };
    const s = await servicesOf(exec, SLAVES[0].name);
    expect(PROCESS["mesos-slave"].test(s.processes)).toBe(false);
    expect(disabled(s.links, "mesos-slave")).toBe(true);
    expect(enabled(s.links, "mesos-master") && enabled(s.links, "zookeeper")).toBe(true);
    expect(await readFiles(exec, SLAVES[0].name, Object.keys(slaveFiles(SLAVES[0], MASTERS)))).toEqual(
      Object.fromEntries(Object.keys(slaveFiles(SLAVES[0], MASTERS)).map((f) => [f, null])),
    );

    await l.destroy();
    lab = undefined;
    expect(fs.readdirSync("/run/netns").filter((n) => n.startsWith("mce2e-"))).toEqual([]);
    expect(fs.existsSync("/sys/class/net/mce2e")).toBe(false);
  });

  // The install step found zookeeperd installed, so destroy leaves it (and /etc/zookeeper/conf) alone.
  test("6b. destroy keeps packages that were installed before the program", () => {
    expect(afterDestroy?.zookeeperd).toBe("install ok installed");
    expect(afterDestroy?.files["/etc/zookeeper/conf/zoo.cfg"]).toBe(original("/etc/zookeeper/conf/zoo.cfg"));
    expect(afterDestroy?.files["/etc/zookeeper/conf/myid"]).toBe(original("/etc/zookeeper/conf/myid"));
  });

  // The package's own /var/lib/zookeeper/myid -> /etc/zookeeper/conf/myid link was already as wanted.
  test("6c. destroy keeps a link that was already in place before the program", () => {
    expect(afterDestroy?.myidLinkDelete).not.toMatch(/^removed \/var\/lib\/zookeeper\/myid$/m);
  });

  // A one-master cluster (same program, engine and app) on its own lab: hosts are provisioned in parallel.
  // The ratio (target 1.3) is reported with the other timings, not asserted.
  test("provisions a one-host cluster for the six-to-one comparison", async () => {
    const solo = { name: "master1", ip: "10.97.0.11", zkId: 10 };
    const l = (soloLab = await createLab({ hosts: [solo], bridge: "mce2e1", subnet: "10.97.0.0/24" }));
    soloEmulator = await startEmulator({ host: l.gateway, port: 0, deploymentStepMs: 100 });
    await installAll(l, [solo.name], [], `${l.gateway}:${soloEmulator.port}`);
    const soloEngine = new EngineLite({ ssh, provider: providerHost, stack: "e2e-solo" });
    await soloEngine.install();
    pulumi.runtime.setAllConfig(
      toPulumiConfig({
        ...E2E,
        masters: [solo],
        slaves: [],
        quorum: 0,
        network: "10.97.0.0/24",
        ssh: { ...(E2E.ssh as object), privateKey: l.privateKey },
      }),
      ["mesos-cluster:ssh"],
    );
    await cpuTimed("firstUpOneHostCpuMs", () => soloEngine.up(() => program(loadConfig())));
    timings.provisioningOneHostMs = provisioning(soloEngine, [solo]);
    if (process.env.E2E_TRACE !== undefined) {
      fs.writeFileSync(`${process.env.E2E_TRACE}.solo`, JSON.stringify(soloEngine.steps));
    }
    timings.sixToOneRatioPct = Math.round((100 * timings.provisioningMs) / timings.provisioningOneHostMs);
    await soloEngine.destroy();
    await l.destroy();
    soloLab = undefined;
    expect(soloEngine.steps.length).toBeGreaterThan(0);
  });
});
