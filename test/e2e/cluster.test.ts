/**
 * The whole product end to end on real hosts and the real Pulumi engine: `pulumi up` of the program
 * (infra/index.ts, stack `e2e` from Pulumi.e2e.yaml) through the Automation API (test/helpers/engine.ts),
 * the lab's SSH key and a Marathon password set with `--secret`. The command plugin provisions six lab hosts
 * over ssh, the engine's dynamic-provider host deploys the seed's Rails app to the cluster's Marathon
 * endpoints, and the cluster is checked from outside: files and services (against the steps in the stack's
 * state), the engine's order of the steps (event sequence numbers), ZooKeeper, scaling by stack config
 * alone (the preview's diff), idempotence (a second up, and every host script run again by hand), losing
 * masters, destroy, and no secret in plain text in the state, the engine's events or the CLI's output.
 * Mesos and Marathon are stand-ins (test/e2e/standins/, python3 from /usr/bin/python3): each master's
 * Marathon port forwards to one Marathon emulator that this process serves on the lab gateway, which models
 * the state real Marathon shares through ZooKeeper. ZooKeeper is Debian's zookeeperd, preinstalled on the
 * machine and so seen installed through each host's overlay root. A one-master stack on a lab of its own
 * gives the figures the six hosts are compared with.
 * Needs root, openssh-server, zookeeperd, /usr/bin/python3 and the Pulumi toolchain
 * (scripts/pulumi-from-source.sh). E2E_TRACE=<file> dumps the first up's steps.
 */
import * as fs from "fs";
import * as os from "os";
import type { Stack } from "@pulumi/pulumi/automation";
import { saveResult } from "../../bench/results";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { EngineSandbox } from "../helpers/engine";
import { LeakAudit, holds, marathonCredentialsCanary, type Canary } from "../helpers/secrets";
import { readStackConfig } from "../helpers/stack-config";
import {
  APP,
  APP_ID,
  APP_UPDATE,
  changesOf,
  COMMAND_TYPE,
  dependenciesOf,
  disabled,
  enabled,
  endOf,
  endSeqOf,
  expectEnsemble,
  expectNoChanges,
  expectProvisioned,
  expectScaled,
  installStandins,
  masterFiles,
  mostInFlight,
  operate,
  phaseTimers,
  printedBy,
  printTimings,
  PROCESS,
  provisioning,
  readFiles,
  rerunHostScripts,
  servicesOf,
  setInstances,
  slaveFiles,
  spanMs,
  stateOf,
  waitForModes,
  zkElection,
  type HostExec,
  type Master,
  type Operation,
  type Slave,
} from "./expectations";
import { createLab, type Lab } from "./lab";
import { made } from "../helpers/setup";

const STACK = "e2e";
const SOLO_STACK = "e2e-solo";
const E2E = readStackConfig(STACK);
const MASTERS = E2E.masters as Master[];
const SLAVES = E2E.slaves as Slave[];
/** The machine's own file: what every host's overlay root had before the program ran. */
const original = (file: string): string => fs.readFileSync(file, "utf8");
const credentials = marathonCredentialsCanary();

jest.setTimeout(300_000);

const timings: Record<string, number> = {};
const { timed, cpuTimed } = phaseTimers(timings);
/** Every operation on the e2e stack, in order: what the secrets audit searches. */
const operations: Operation[] = [];
/** `pulumi stack export` (secrets encrypted) after each up. */
const stateExports: string[] = [];
let lab: Lab | undefined;
let soloLab: Lab | undefined;
let emulator: MarathonEmulator | undefined;
let soloEmulator: MarathonEmulator | undefined;
let sandbox: EngineSandbox | undefined;
let stack: Stack | undefined;
let firstUp: Operation;
/** The lab's key, as it was before the lab went away. */
let sshKey: Canary | undefined;
/** `pulumi stack export --show-secrets` after the first up: where the audit must find the key. */
let revealedExport = "";
/** A master that stayed up, as destroy left it (read before the lab goes away). */
let afterDestroy:
  { zookeeperd: string; files: Record<string, string | null>; zookeeperDelete: string } | undefined;

function theLab(): Lab {
  return made(lab, "lab");
}

function theEmulator(): MarathonEmulator {
  return made(emulator, "Marathon emulator");
}

function theStack(): Stack {
  return made(stack, "stack");
}

function theSandbox(): EngineSandbox {
  return made(sandbox, "engine sandbox");
}

/** A command inside a lab host, through its namespaces. */
const exec: HostExec = (host, command, opts) => theLab().exec(host, command, opts);

/** `pulumi up` of the e2e stack, recorded. */
const up = (label: string) => operate(operations, label, (hooks) => theStack().up(hooks));

/** `pulumi stack export` of the e2e stack, as the CLI prints it. */
async function exportText(...flags: string[]): Promise<string> {
  const r = await theSandbox().cli(["stack", "export", "--stack", STACK, ...flags]);
  if (r.code !== 0) throw new Error(`pulumi stack export: ${r.stderr}`);
  return r.stdout;
}

/** A private key as a canary: its lines after the first (the same in every ed25519 key), and its base64. */
function keyCanary(privateKey: string): Canary {
  const body = privateKey.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
  return {
    label: "ssh private key",
    value: privateKey,
    forms: [...body.slice(1), Buffer.from(privateKey).toString("base64")],
  };
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
  sshKey = keyCanary(l.privateKey);
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
  sandbox = new EngineSandbox();
  const s = (stack = await sandbox.createStack(STACK, STACK));
  // As a user sets them: pulumi config set --secret [--path] <key> <value>.
  await s.setAllConfig(
    {
      "ssh.privateKey": { value: l.privateKey, secret: true },
      marathonCredentials: { value: credentials.value, secret: true },
    },
    true,
  );
  // A user's first command: it also compiles the program (once per checkout), which no timed up should pay.
  await operate(operations, "first preview", (hooks) => s.preview(hooks));
  ({ op: firstUp } = await timed("firstUpMs", () => cpuTimed("firstUpCpuMs", () => up("first up"))));
  if (process.env.E2E_TRACE !== undefined) {
    fs.writeFileSync(process.env.E2E_TRACE, JSON.stringify(firstUp.record.steps));
  }
  timings.provisioningMs = provisioning(firstUp.record, MASTERS);
  timings.zkElectionMs = zkElection(firstUp.record, MASTERS);
  const app = firstUp.record.step(APP, "create");
  timings.appDeployMs = endOf(app) - app.start;
  stateExports.push(await exportText());
  revealedExport = await exportText("--show-secrets");
}, 600_000);

afterAll(async () => {
  sandbox?.dispose();
  await emulator?.close().catch(() => undefined);
  await soloEmulator?.close().catch(() => undefined);
  await lab?.destroy();
  await soloLab?.destroy();
  printTimings("e2eTimings", timings);
  if (timings.parallelEfficiencyPct !== undefined) saveResult("e2e", timings);
});

describe("the e2e stack on six real hosts, on the real Pulumi engine", () => {
  test("1. every host has the files the program's steps write, with the exact contents, and services per role", async () => {
    expect(firstUp.record.steps.filter((s) => s.failed)).toEqual([]);
    expect(firstUp.record.problems()).toEqual([]);
    await expectProvisioned(await stateOf(theStack()), exec, MASTERS, SLAVES);
  });

  test("steps ran in Pulumi's dependency order, independent ones concurrently", () => {
    const s = (name: string) => firstUp.record.step(name, "create");
    const zkReadyEnd = Math.max(
      ...MASTERS.map((m) => endSeqOf(s(`mesos-zookeeper-${m.name}-zookeeper-ready`))),
    );
    const consumers = [
      ...MASTERS.map((m) => `mesos-${m.name}-mesos-master`),
      ...SLAVES.map((x) => `mesos-${x.name}-mesos-slave`),
    ];
    for (const c of consumers) expect(s(c).startSeq).toBeGreaterThan(zkReadyEnd);
    for (const m of MASTERS) {
      expect(s(`mesos-zookeeper-${m.name}-zookeeper`).startSeq).toBeGreaterThan(
        endSeqOf(s(`mesos-${m.name}-packages-install`)),
      );
      expect(s(`mesos-${m.name}-marathon`).startSeq).toBeGreaterThan(
        endSeqOf(s(`mesos-${m.name}-mesos-master-elected`)),
      );
      expect(s(APP).startSeq).toBeGreaterThan(endSeqOf(s(`mesos-${m.name}-marathon-ping`)));
    }
    // At some moment several host steps were in flight (hosts in parallel).
    expect(mostInFlight(firstUp.record.steps.filter((x) => x.type === COMMAND_TYPE))).toBeGreaterThan(3);
  });

  test("2. ZooKeeper forms a 3-server ensemble from the program's zoo.cfg and myid, with a leader", async () => {
    await expectEnsemble(MASTERS);
  });

  test("3. the Rails app is created through the provider, then scaled 1 -> 3 by the stack config alone", async () => {
    const scale = await expectScaled(theStack(), operations, theEmulator(), MASTERS, SLAVES);
    const app = scale.record.step(APP, "update");
    timings.scaleMs = endOf(app) - app.start;
    stateExports.push(await exportText());
  });

  test("4. a second up changes nothing, and every host script run again by hand changes nothing", async () => {
    const second = await expectNoChanges(theStack(), operations);
    timings.secondUpMs = spanMs(second.record.steps);

    const hostOf = new Map([...MASTERS, ...SLAVES].map((h) => [h.ip, h.name]));
    const outputs = await timed("rerunScriptsMs", () =>
      rerunHostScripts(theSandbox(), STACK, theLab(), hostOf),
    );
    expect([...new Set(outputs.map((o) => o.host))].sort()).toEqual([...hostOf.values()].sort());
    expect(outputs.length).toBe(firstUp.record.steps.filter((x) => x.type === COMMAND_TYPE).length);
    for (const { name, code, stdout } of outputs) {
      const lines = stdout.trim().split("\n");
      const changes = lines.filter((l) =>
        /^(changed|restarted|started|stopped|installed|enabled|disabled|removed|restored)\b/.test(l),
      );
      expect({ name, code, changes }).toEqual({ name, code: 0, changes: [] });
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
    await setInstances(theStack(), 2);
    const { op } = await up("up with one master lost");
    expect(changesOf(op.record)).toEqual(APP_UPDATE);
    const app = op.record.step(APP, "update");
    timings.failoverScaleMs = endOf(app) - app.start;
    expect(theEmulator().getApp(`/${APP_ID}`)).toMatchObject({ instances: 2, tasksRunning: 2 });
    // The scale went through a surviving master's Marathon endpoint.
    expect((await forwarded(m2.name)) + (await forwarded(m3.name))).toBeGreaterThan(before);
    stateExports.push(await exportText());

    await l.stopHost(m2.name);
    await timed("zkQuorumLossMs", () => waitForModes([m3.ip], (ms) => ms[0] === "not serving", 40_000));
  });

  test("6. destroy removes the app, then undoes every host step in reverse order, then the lab goes", async () => {
    const l = theLab();
    // The powered-off masters come back first: destroy must reach every host.
    for (const m of MASTERS.slice(0, 2)) await l.startHost(m.name);
    const state = await stateOf(theStack());
    const commandCount = state.filter((x) => x.type === COMMAND_TYPE).length;
    const appNeeds = dependenciesOf(state, APP).filter(
      (n) => state.find((r) => r.name === n)!.type === COMMAND_TYPE,
    );

    const { op } = await operate(operations, "destroy", (hooks) => theStack().destroy(hooks));
    const { record } = op;
    timings.destroyMs = spanMs(record.steps);
    expect(record.problems()).toEqual([]);
    expect(theEmulator().getApp(`/${APP_ID}`)).toBeUndefined();
    const at = (name: string) => record.step(name, "delete");
    // Every host step the app waited for (all of each master's chain) is undone only after the app is gone.
    expect(appNeeds.length).toBe(commandCount);
    for (const name of appNeeds) expect(at(name).startSeq).toBeGreaterThan(endSeqOf(at(APP)));
    expect(record.steps.filter((x) => x.type === COMMAND_TYPE && x.op === "delete").length).toBe(
      commandCount,
    );
    for (const m of MASTERS) {
      // Within the ZooKeeper step, the service stops before its files are put back.
      const undone = printedBy(record, `mesos-zookeeper-${m.name}-zookeeper`);
      const service = undone.search(/stopped zookeeper|disabled zookeeper|zookeeper already stopped/);
      expect(service).toBeGreaterThanOrEqual(0);
      expect(service).toBeLessThan(undone.indexOf("/etc/zookeeper/conf/zoo.cfg"));
      expect(at(`mesos-${m.name}-packages-install`).startSeq).toBeGreaterThan(
        endSeqOf(at(`mesos-zookeeper-${m.name}-zookeeper`)),
      );
    }
    expect(await stateOf(theStack())).toEqual([]);

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
    const zookeeperDelete = printedBy(record, `mesos-zookeeper-${master.name}-zookeeper`);
    expect(zookeeperDelete).toContain("restored original /etc/zookeeper/conf/zoo.cfg");
    expect(zookeeperDelete).toContain("restored original /etc/zookeeper/conf/myid");
    afterDestroy = {
      zookeeperd: (await l.exec(master.name, "dpkg-query -W -f='${Status}' zookeeperd 2>/dev/null || true"))
        .stdout,
      files: await readFiles(exec, master.name, [
        "/etc/zookeeper/conf/zoo.cfg",
        "/etc/zookeeper/conf/myid",
        "/var/lib/zookeeper/myid",
      ]),
      zookeeperDelete,
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
    expect(afterDestroy?.zookeeperDelete).not.toMatch(/^removed \/var\/lib\/zookeeper\/myid$/m);
    expect(afterDestroy?.files["/var/lib/zookeeper/myid"]).toBe("-> /etc/zookeeper/conf/myid");
  });

  test("7. neither the SSH key nor the Marathon password is in plain text in the state, the events or the CLI's output", () => {
    if (sshKey === undefined) throw new Error("no lab key (see the beforeAll error)");
    // The audit sees both where they are in plain text: the state with secrets shown (the key in each
    // step's connection, the password in the dynamic provider's config).
    expect(holds(revealedExport, sshKey)).toBe(true);
    expect(holds(revealedExport, credentials)).toBe(true);
    const audit = new LeakAudit([sshKey, credentials]);
    stateExports.forEach((text, i) => audit.scan(`pulumi stack export ${i + 1}`, text));
    for (const op of operations) {
      op.record.events.forEach((e, i) => audit.scan(`${op.label}: event ${i}`, JSON.stringify(e)));
      audit.scan(`${op.label}: output`, op.record.stdout);
      audit.scan(`${op.label}: stderr`, op.stderr);
    }
    expect(operations.map((op) => op.label)).toEqual(
      expect.arrayContaining(["first up", "up of the scale", "second up", "destroy"]),
    );
    expect(audit.leaks).toEqual([]);
    timings.secretChecks = audit.checks;
  });

  // A one-master cluster (same program, engine and app) on its own lab: what one host's first up takes.
  // The six-to-one ratio and the parallel efficiency are reported with the other timings, not asserted.
  test("provisions a one-host cluster for the six-to-one comparison", async () => {
    const solo = { name: "master1", ip: "10.97.0.11", zkId: 10 };
    const subnet = "10.97.0.0/24";
    const l = (soloLab = await createLab({ hosts: [solo], bridge: "mce2e1", subnet }));
    soloEmulator = await startEmulator({ host: l.gateway, port: 0, deploymentStepMs: 100 });
    await installAll(l, [solo.name], [], `${l.gateway}:${soloEmulator.port}`);
    const s = await theSandbox().createStack(SOLO_STACK, STACK);
    await s.removeAllConfig(["masters", "slaves"]);
    await s.setAllConfig(
      {
        "masters[0].name": { value: solo.name },
        "masters[0].ip": { value: solo.ip },
        "masters[0].zkId": { value: String(solo.zkId) },
        quorum: { value: "0" },
        network: { value: subnet },
        "ssh.privateKey": { value: l.privateKey, secret: true },
      },
      true,
    );
    const soloOps: Operation[] = [];
    const { op } = await timed("firstUpOneHostMs", () =>
      cpuTimed("firstUpOneHostCpuMs", () => operate(soloOps, "one-host first up", (hooks) => s.up(hooks))),
    );
    timings.provisioningOneHostMs = provisioning(op.record, [solo]);
    if (process.env.E2E_TRACE !== undefined) {
      fs.writeFileSync(`${process.env.E2E_TRACE}.solo`, JSON.stringify(op.record.steps));
    }
    timings.sixToOneRatioPct = Math.round((100 * timings.provisioningMs) / timings.provisioningOneHostMs);
    // Wall time over the least it could be: one host's own wall time, or all the CPU time spread on every core.
    timings.cores = os.cpus().length;
    const floorMs = Math.max(timings.firstUpOneHostMs, timings.firstUpCpuMs / timings.cores);
    timings.parallelEfficiencyPct = Math.round((100 * timings.firstUpMs) / floorMs);
    await operate(soloOps, "one-host destroy", (hooks) => s.destroy(hooks));
    await l.destroy();
    soloLab = undefined;
    expect(op.record.steps.filter((x) => x.failed)).toEqual([]);
    expect(op.record.steps.filter((x) => x.type === COMMAND_TYPE).map((x) => x.op)).toEqual(
      Array(7).fill("create"),
    );
  });
});
