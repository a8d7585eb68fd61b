/**
 * A host unreachable at provisioning time, on real hosts and the real Pulumi engine: one master and two
 * agents on a lab bridge, the second agent's host powered off. The project's program, on a stack made from
 * Pulumi.e2e.yaml, runs on the Pulumi CLI through the Automation API (test/helpers/engine.ts) as
 * `pulumi up --continue-on-error`: that agent's step fails once its dial retries are spent, with an error
 * naming the step and the address; the apps, which wait for every agent, are not attempted; the rest of
 * the cluster is provisioned all the same. Once the host is back, the next `up` runs only what is missing,
 * and the stack's state holds the SSH key only inside secrets. Marathon is the emulator in this process on
 * the lab gateway, which the masters' stand-ins forward to; the engine's dynamic-provider process reaches
 * it through them. Needs root, openssh-server, zookeeperd, python3 and the Pulumi toolchain
 * (scripts/pulumi-from-source.sh).
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { EngineSandbox, nameOf, recorded } from "../helpers/engine";
import { holds, plainPart, type Canary } from "../helpers/secrets";
import {
  APP,
  APP_ID,
  installStandins,
  PROCESS,
  printTimings,
  servicesOf,
  type HostExec,
} from "./expectations";
import { createLab, type Lab } from "./lab";
import { made } from "../helpers/setup";

const STACK = "e2e-unreachable";
const COMMAND_TYPE = "command:remote:Command";
const SUBNET = "10.94.0.0/24";
const MASTER = { name: "master1", ip: "10.94.0.11", zkId: 10 };
const REACHABLE = { name: "slave1", ip: "10.94.0.21" };
const UNREACHABLE = { name: "slave2", ip: "10.94.0.22" };
/** The stack's ssh.dialErrorLimit and ssh.perDialTimeout (seconds), kept small here. */
const DIALS = { dialErrorLimit: 2, perDialTimeout: 2 };
const UNREACHABLE_STEP = `mesos-${UNREACHABLE.name}-mesos-slave`;

jest.setTimeout(300_000);

let lab: Lab | undefined;
let emulator: MarathonEmulator | undefined;
let sandbox: EngineSandbox | undefined;
let stack: Stack | undefined;
const timings: Record<string, number> = {};

function theLab(): Lab {
  return made(lab, "lab");
}

function theStack(): Stack {
  return made(stack, "stack");
}

const exec: HostExec = (host, command, opts) => theLab().exec(host, command, opts);

/** The lab's private key as a canary: its body lines but the first (the same in every ed25519 key). */
function keyCanary(): Canary {
  const { privateKey } = theLab();
  const body = privateKey.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
  return {
    label: "ssh private key",
    value: privateKey,
    forms: [...body.slice(1), Buffer.from(privateKey).toString("base64")],
  };
}

/**
 * The e2e stack's config (Pulumi.e2e.yaml) cut down to the three hosts, with the lab's key as a secret and
 * short dial retries, set as a user sets it: `pulumi config set [--secret] --path`.
 */
async function configure(s: Stack): Promise<void> {
  await s.removeAllConfig(["masters", "slaves"]);
  const hosts = (key: string, list: Record<string, string | number>[]) =>
    list.flatMap((host, i) =>
      Object.entries(host).map(([k, v]) => [`${key}[${i}].${k}`, { value: String(v) }]),
    );
  await s.setAllConfig(
    Object.fromEntries([
      ...hosts("masters", [MASTER]),
      ...hosts("slaves", [REACHABLE, UNREACHABLE]),
      ["quorum", { value: "0" }],
      ["network", { value: SUBNET }],
      ["ssh.privateKey", { value: theLab().privateKey, secret: true }],
      ["ssh.dialErrorLimit", { value: String(DIALS.dialErrorLimit) }],
      ["ssh.perDialTimeout", { value: String(DIALS.perDialTimeout) }],
    ]),
    true,
  );
}

/** `pulumi up --continue-on-error`, recorded. */
const up = () => recorded((hooks) => theStack().up({ ...hooks, continueOnError: true }));

/** The resources of the stack's state (the Automation API exports them with secrets shown). */
async function stateResources(): Promise<{ urn: string; type: string }[]> {
  const { deployment } = await theStack().exportStack();
  return (deployment as { resources?: { urn: string; type: string }[] }).resources ?? [];
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
  sandbox = new EngineSandbox();
  stack = await sandbox.createStack(STACK, "e2e");
  await configure(stack);
}, 120_000);

afterAll(async () => {
  if (lab !== undefined && !lab.isRunning(UNREACHABLE.name)) await lab.startHost(UNREACHABLE.name);
  if (stack !== undefined) {
    const destroyed = await recorded((hooks) => stack!.destroy(hooks));
    if (destroyed.error !== undefined) console.warn(`destroy failed: ${destroyed.error.message}`);
  }
  sandbox?.dispose();
  await emulator?.close().catch(() => undefined);
  await lab?.destroy();
  printTimings("unreachableHostTimings", timings);
});

describe("a host unreachable at provisioning time", () => {
  test("fails that host's step after its dial retries, names it, and provisions the rest", async () => {
    const { error, record, ms } = await up();
    timings.failedUpMs = ms;
    expect(error).toBeDefined();
    // One failed step: the unreachable agent's.
    expect(record.steps.filter((s) => s.failed).map((s) => s.name)).toEqual([UNREACHABLE_STEP]);
    const failed = record.step(UNREACHABLE_STEP, "create");
    timings.unreachableStepMs = failed.end! - failed.start;
    // Two errors: the step's own, on that resource, naming the address once the dial retries are spent; and
    // the program's, since what waits for that step (the apps' dependsOn) rejects, as Pulumi's Node.js SDK
    // does under --continue-on-error. No other step or host is named.
    const errors = record.events.flatMap((e) =>
      e.diagnosticEvent?.severity === "error" ? [e.diagnosticEvent] : [],
    );
    expect(errors.map((d) => ({ step: d.urn && nameOf(d.urn), message: d.message }))).toEqual([
      {
        step: UNREACHABLE_STEP,
        message: expect.stringMatching(
          new RegExp(
            `^after ${DIALS.dialErrorLimit} failed attempts: dial tcp ${UNREACHABLE.ip.replace(/\./g, "\\.")}:22: `,
          ),
        ),
      },
      {
        step: undefined,
        message: expect.stringContaining(
          `Error: resource ${UNREACHABLE_STEP} [${COMMAND_TYPE}] failed to register\n`,
        ),
      },
    ]);
    console.log(`the unreachable step's error: ${errors[0].message.trim()}`);

    // Every step of the master and of the reachable agent ran; the apps (their component and the app),
    // which wait for every agent, did not.
    const provisioned = [
      `mesos-${MASTER.name}-packages-install`,
      `mesos-zookeeper-${MASTER.name}-zookeeper`,
      `mesos-zookeeper-${MASTER.name}-zookeeper-ready`,
      `mesos-${MASTER.name}-mesos-master`,
      `mesos-${MASTER.name}-mesos-master-elected`,
      `mesos-${MASTER.name}-marathon`,
      `mesos-${MASTER.name}-marathon-ping`,
      `mesos-${REACHABLE.name}-mesos-slave`,
    ].sort();
    const state = await stateResources();
    expect(
      state
        .filter((r) => r.type === COMMAND_TYPE)
        .map((r) => nameOf(r.urn))
        .sort(),
    ).toEqual(provisioned);
    for (const name of provisioned) {
      const { op, failed: stepFailed } = record.step(name);
      expect({ name, op, failed: stepFailed }).toEqual({ name, op: "create", failed: false });
    }
    expect(record.steps.filter((s) => s.name === APP || s.name === "apps")).toEqual([]);
    expect(state.filter((r) => nameOf(r.urn) === APP || nameOf(r.urn) === "apps")).toEqual([]);
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
    const { error, record, ms } = await up();
    timings.secondUpMs = ms;
    expect(error).toBeUndefined();
    expect(record.problems()).toEqual([]);
    expect(
      record.steps
        .filter((s) => s.op !== "same")
        .sort((a, b) => a.startSeq - b.startSeq)
        .map((s) => [s.name, s.type, s.op]),
    ).toEqual([
      [UNREACHABLE_STEP, COMMAND_TYPE, "create"],
      // The apps' component and the app: nothing of the apps existed yet. (The dynamic provider they run
      // on exists since the first up: the change guard, which every host step waits for, runs on it.)
      ["apps", "mesos-cluster:marathon:MarathonApps", "create"],
      [APP, "pulumi-nodejs:dynamic/marathon:App", "create"],
    ]);
    expect(emulator?.getApp(`/${APP_ID}`)).toMatchObject({ instances: 1, tasksRunning: 1 });
    const agent = await servicesOf(exec, UNREACHABLE.name);
    expect(PROCESS["mesos-slave"].test(agent.processes)).toBe(true);
    // Nothing of the key in the events either (they show secrets as "[secret]").
    expect(holds(record.events, keyCanary())).toBe(false);
  });

  test("the state holds the SSH key only inside secrets", async () => {
    const canary = keyCanary();
    // `pulumi stack export`: the key nowhere, its secrets encrypted.
    const exported = await sandbox!.cli(["stack", "export", "--stack", STACK]);
    expect(exported.code).toBe(0);
    expect(holds(exported.stdout, canary)).toBe(false);
    // The Automation API's export shows the secrets (`--show-secrets`): the key is there, but only inside
    // the secrets: every step's connection, and the stack config the engine hands the dynamic provider.
    const { deployment } = await theStack().exportStack();
    const resources = (deployment as { resources: { urn: string; type: string }[] }).resources;
    const commands = resources.filter((r) => r.type === COMMAND_TYPE).map((r) => nameOf(r.urn));
    expect(commands).toHaveLength(9);
    expect(
      resources
        .filter((r) => holds(r, canary))
        .map((r) => nameOf(r.urn))
        .sort(),
    ).toEqual([...commands, "default"].sort());
    expect(holds(plainPart(deployment), canary)).toBe(false);
  });
});
