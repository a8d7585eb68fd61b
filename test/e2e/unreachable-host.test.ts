/**
 * A host unreachable at provisioning time, on real hosts: one master and two agents on a lab bridge, the
 * second agent's host powered off. Run as `pulumi up --continue-on-error` runs it, that agent's step fails
 * with an error naming the step and the address once its dial retries are spent; the apps, which wait for
 * every agent, are not attempted; the rest of the cluster is provisioned all the same. Once the host is
 * back, the next `up` runs only what is missing, and the state holds the SSH key only as a secret. Needs
 * root, openssh-server, zookeeperd and python3.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../infra/config";
import { program } from "../../infra/program";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { marathonAppProvider } from "../../providers/marathon/provider";
import { startProviderHost, type ProviderHost } from "../helpers/provider-host";
import { plainPart } from "../helpers/secrets";
import { readStackConfig } from "../helpers/stack-config";
import { COMMAND_TYPE, EngineLite, opensshRunner } from "./engine-lite";
import {
  APP,
  APP_ID,
  installStandins,
  PROCESS,
  servicesOf,
  setStackConfig,
  type HostExec,
} from "./expectations";
import { createLab, type Lab } from "./lab";

const E2E = readStackConfig("e2e");
const SUBNET = "10.94.0.0/24";
const MASTER = { name: "master1", ip: "10.94.0.11", zkId: 10 };
const REACHABLE = { name: "slave1", ip: "10.94.0.21" };
const UNREACHABLE = { name: "slave2", ip: "10.94.0.22" };
/** The stack's ssh.dialErrorLimit and ssh.perDialTimeout (seconds), kept small here. */
const DIALS = { dialErrorLimit: 2, perDialTimeout: 2 };

jest.setTimeout(180_000);

let lab: Lab | undefined;
let emulator: MarathonEmulator | undefined;
let providerHost: ProviderHost | undefined;
let engine: EngineLite;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-unreachable-"));
const ssh = opensshRunner(path.join(workDir, "ssh"));

function theLab(): Lab {
  if (lab === undefined) throw new Error("lab was not created (see the beforeAll error)");
  return lab;
}

const exec: HostExec = (host, command, opts) => theLab().exec(host, command, opts);

/** `pulumi up --continue-on-error` of the three-host stack; the error of the run, if it failed. */
async function up(): Promise<Error | undefined> {
  setStackConfig(
    E2E,
    {
      masters: [MASTER],
      slaves: [REACHABLE, UNREACHABLE],
      quorum: 0,
      network: SUBNET,
      ssh: { ...(E2E.ssh as object), privateKey: theLab().privateKey, ...DIALS },
    },
    1,
  );
  return engine
    .up(() => program(loadConfig()))
    .then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
}

beforeAll(async () => {
  const hosts = [MASTER, REACHABLE, UNREACHABLE];
  const l = (lab = await createLab({
    hosts: hosts.map(({ name, ip }) => ({ name, ip })),
    bridge: "mce2e2",
    subnet: SUBNET,
  }));
  emulator = await startEmulator({
    host: l.gateway,
    port: 0,
    taskHosts: [REACHABLE.ip, UNREACHABLE.ip],
    deploymentStepMs: 100,
  });
  const backend = `${l.gateway}:${emulator.port}`;
  await installStandins(exec, MASTER.name, "master", backend);
  await Promise.all([REACHABLE, UNREACHABLE].map((s) => installStandins(exec, s.name, "slave", backend)));
  await l.stopHost(UNREACHABLE.name);
  providerHost = await startProviderHost(marathonAppProvider);
  await providerHost.configure({});
  engine = new EngineLite({ ssh, provider: providerHost, stack: "e2e-unreachable", continueOnError: true });
  await engine.install();
}, 120_000);

afterAll(async () => {
  if (lab !== undefined && !lab.isRunning(UNREACHABLE.name)) await lab.startHost(UNREACHABLE.name);
  await engine?.destroy().catch(() => undefined);
  await ssh.close().catch(() => undefined);
  await providerHost?.stop().catch(() => undefined);
  await emulator?.close().catch(() => undefined);
  await lab?.destroy();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("a host unreachable at provisioning time", () => {
  let failedAfterMs = 0;

  test("fails that host's step after its dial retries, names it, and provisions the rest", async () => {
    const start = Date.now();
    const error = await up();
    failedAfterMs = Date.now() - start;
    // One failure: the unreachable agent's step, with its address; nothing else failed.
    expect(error?.message.split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(`^mesos-${UNREACHABLE.name}-mesos-slave: .*${UNREACHABLE.ip.replace(/\./g, "\\.")}`),
      ),
    ]);
    const done = new Map(engine.steps.map((s) => [s.name, s.op]));
    // Every step of the master and of the reachable agent ran; the apps, which wait for every agent, did not.
    const created = [...engine.state.values()].filter((r) => r.type === COMMAND_TYPE).map((r) => r.name);
    expect(created.sort()).toEqual(
      [
        `mesos-${MASTER.name}-packages-install`,
        `mesos-zookeeper-${MASTER.name}-zookeeper`,
        `mesos-zookeeper-${MASTER.name}-zookeeper-ready`,
        `mesos-${MASTER.name}-mesos-master`,
        `mesos-${MASTER.name}-mesos-master-elected`,
        `mesos-${MASTER.name}-marathon`,
        `mesos-${MASTER.name}-marathon-ping`,
        `mesos-${REACHABLE.name}-mesos-slave`,
      ].sort(),
    );
    for (const name of created) expect({ name, op: done.get(name) }).toEqual({ name, op: "create" });
    expect(engine.state.has(APP)).toBe(false);
    expect(emulator?.getApp(`/${APP_ID}`)).toBeUndefined();
    const agent = await servicesOf(exec, REACHABLE.name);
    expect(PROCESS["mesos-slave"].test(agent.processes)).toBe(true);
    const master = await servicesOf(exec, MASTER.name);
    for (const svc of ["zookeeper", "mesos-master", "marathon"] as const) {
      expect({ svc, running: PROCESS[svc].test(master.processes) }).toEqual({ svc, running: true });
    }
  });

  test("once the host is back, the next up runs only what is missing", async () => {
    await theLab().startHost(UNREACHABLE.name);
    await ssh.forget(UNREACHABLE.ip);
    expect(await up()).toBeUndefined();
    expect(engine.steps.filter((s) => s.op !== "same").map((s) => [s.name, s.op])).toEqual([
      [`mesos-${UNREACHABLE.name}-mesos-slave`, "create"],
      [APP, "create"],
    ]);
    expect(emulator?.getApp(`/${APP_ID}`)).toMatchObject({ instances: 1, tasksRunning: 1 });
    const agent = await servicesOf(exec, UNREACHABLE.name);
    expect(PROCESS["mesos-slave"].test(agent.processes)).toBe(true);
    // The stack's state holds the SSH key only inside secrets (which a real state file encrypts).
    const keyBody = theLab().privateKey.split("\n")[1];
    const outputs = [...engine.state.values()].map((r) => r.outputs);
    expect(outputs.filter((o) => JSON.stringify(o).includes(keyBody)).length).toBeGreaterThan(0);
    expect(outputs.filter((o) => JSON.stringify(plainPart(o)).includes(keyBody))).toEqual([]);
    console.log(JSON.stringify({ unreachableHostTimings: { failedUpMs: failedAfterMs } }));
  });
});
