/**
 * The product's Vagrant machines for real: `VagrantMachines` (infra/vagrant.ts) with the vagrant-lxc provider,
 * in a program of its own (programs/vagrant-machines) that the real Pulumi engine runs through the
 * Automation API (test/helpers/engine.ts). Its local Commands (write the Vagrantfile, `vagrant up` /
 * `vagrant destroy -f` per machine) run on this machine in the engine's order, independent ones in
 * parallel. The machines are LXC containers from the box scripts/lxc-box.sh builds (scripts/test.sh runs it
 * first; this suite never reaches a mirror), on a bridge the suite creates, which forwards nowhere.
 * Needs root, vagrant, vagrant-lxc, lxc and the Pulumi toolchain (scripts/pulumi-from-source.sh); skipped
 * with a message when not root or without vagrant-lxc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import type { VagrantMachine } from "../../infra/render/vagrantfile";
import { EngineSandbox, nameOf, recorded, type EventRecorder, type StepRecord } from "../helpers/engine";
import { isSecretWrapper } from "../helpers/pulumi";
import { holds, plainPart } from "../helpers/secrets";
import { phaseTimers, printTimings } from "./expectations";
import {
  BOX,
  VAGRANT_ENV,
  addBox,
  containers as containersWith,
  createBridge,
  run,
  sweep,
  vagrantSkipReason as skipReason,
  vagrantStatus as statusIn,
} from "./vagrant-setup";
import { made } from "../helpers/setup";

const PROGRAM = path.join(__dirname, "programs", "vagrant-machines");
const STACK = "vagrant-lxc";
const LOCAL_COMMAND_TYPE = "command:local:Command";
const BRIDGE = "mcvg0";
const GATEWAY = "10.96.0.1";
const PREFIX_LENGTH = 24;
/** Basename of the Vagrant project: vagrant-lxc names containers `<basename>_<machine>_<suffix>`. */
const PROJECT = "mcvge2e";
const CONTAINER_PREFIX = `${PROJECT}_`;

const master1: VagrantMachine = { name: "master1", ip: "10.96.0.11", role: "master" };
const slave1: VagrantMachine = { name: "slave1", ip: "10.96.0.21", role: "slave" };
const slave2: VagrantMachine = { name: "slave2", ip: "10.96.0.22", role: "slave" };

/** A machine's SSH connection as the program exports it. */
interface Connection {
  host: string;
  port: number;
  user: string;
  privateKey: string;
}

/** A resource of `pulumi stack export`. */
interface StateResource {
  urn: string;
  type: string;
  outputs?: Record<string, unknown>;
}

if (skipReason !== undefined) console.warn(`vagrant-lxc suite skipped: ${skipReason}`);
const describeReal = skipReason === undefined ? describe : describe.skip;

jest.setTimeout(300_000);

const containers = (): string[] => containersWith(CONTAINER_PREFIX);

/** The steps of the component's local Commands, as `[name, op]`, sorted. */
const commandSteps = (record: EventRecorder): [string, string][] =>
  record.steps
    .filter((s) => s.type === LOCAL_COMMAND_TYPE)
    .map((s): [string, string] => [s.name, s.op])
    .sort();

/** Whether two steps overlapped: each began before the other ended, in the engine's order of events. */
const overlapped = (a: StepRecord, b: StepRecord): boolean =>
  Math.max(a.startSeq, b.startSeq) < Math.min(a.endSeq!, b.endSeq!);

describeReal("VagrantMachines with the vagrant-lxc provider, for real", () => {
  const timings: Record<string, number> = {};
  // Made in beforeAll, so that a skipped suite leaves nothing behind.
  let suiteStart: number;
  let workDir: string;
  let directory: string;
  let vagrantEnv: NodeJS.ProcessEnv;
  let sandbox: EngineSandbox | undefined;
  let stack: Stack | undefined;
  /** The stack outputs of the last `up`. */
  let connections: Record<string, Connection> = {};
  let vagrantfile = "";

  const { timed } = phaseTimers(timings);

  function theStack(): Stack {
    return made(stack, "stack");
  }

  /** `pulumi up` of the program with these machines; fails when the update does, or warns. */
  async function up(list: VagrantMachine[]): Promise<EventRecorder> {
    await theStack().setConfig("machines", { value: JSON.stringify(list) });
    const { error, record } = await recorded((hooks) => theStack().up(hooks));
    if (error !== undefined) throw error;
    expect(record.problems()).toEqual([]);
    // With the secrets shown: each machine's connection is a secret inside this output (see test a).
    const outputs = await theStack().outputs();
    connections = outputs.connections.value as Record<string, Connection>;
    vagrantfile = outputs.vagrantfile.value as string;
    return record;
  }

  const durationOf = (step: StepRecord): number => step.end! - step.start;
  const keyOf = (m: VagrantMachine): string => connections[m.name].privateKey;
  /** The container Vagrant made for the machine (its id in Vagrant's state). */
  const containerOf = (m: VagrantMachine): string =>
    fs.readFileSync(path.join(directory, ".vagrant/machines", m.name, "lxc/id"), "utf8").trim();
  const initPid = (container: string): string => run("lxc-info", ["-pH", "-n", container]).stdout.trim();

  const vagrantStatus = (): Record<string, string> => statusIn(vagrantEnv);

  /** The resources of the stack's state (the Automation API exports them with secrets shown). */
  async function stateResources(): Promise<StateResource[]> {
    const { deployment } = await theStack().exportStack();
    return (deployment as { resources?: StateResource[] }).resources ?? [];
  }

  /** Logs in with the key and user the program output, at the machine's IP: `hostname` and `id -u`. */
  function login(m: VagrantMachine): string {
    const connection = connections[m.name];
    expect(connection).toMatchObject({ host: m.ip, port: 22, user: "vagrant" });
    const keyFile = path.join(workDir, `${m.name}.key`);
    fs.writeFileSync(keyFile, connection.privateKey, { mode: 0o600 });
    const r = run("ssh", [
      ...["-F", "/dev/null", "-i", keyFile, "-p", String(connection.port)],
      ...["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"],
      // Every container is new: no host key to check against.
      ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
      `${connection.user}@${connection.host}`,
      "hostname; id -u; sudo -n id -u",
    ]);
    expect(r.stderr).toBe("");
    return r.stdout;
  }

  beforeAll(async () => {
    suiteStart = Date.now();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-vagrant-lxc-"));
    directory = path.join(workDir, PROJECT);
    const vagrantHome = path.join(workDir, "vagrant-home");
    vagrantEnv = { ...process.env, ...VAGRANT_ENV, VAGRANT_HOME: vagrantHome, VAGRANT_CWD: directory };
    sweep(CONTAINER_PREFIX, BRIDGE);
    await timed("boxAddMs", () => addBox(vagrantHome));
    createBridge(BRIDGE, GATEWAY, PREFIX_LENGTH);
    sandbox = new EngineSandbox({ programDir: PROGRAM });
    const s = (stack = await sandbox.createStack(STACK));
    // Every `vagrant` run of the component's Commands inherits the CLI's environment.
    s.workspace.envVars.VAGRANT_HOME = vagrantHome;
    await s.setAllConfig({
      settings: {
        value: JSON.stringify({ provider: "lxc", box: BOX, cpus: 1, memory: 512, lxcBridge: BRIDGE }),
      },
      prefixLength: { value: String(PREFIX_LENGTH) },
      directory: { value: directory },
      dialErrorLimit: { value: "10" },
      perDialTimeout: { value: "5" },
    });
  }, 60_000);

  afterAll(async () => {
    // Normally the last test destroyed everything; after a failure this removes what is left.
    if (stack !== undefined && (await stateResources().catch(() => [])).length > 0) {
      await recorded((hooks) => stack!.destroy(hooks));
    }
    sandbox?.dispose();
    sweep(CONTAINER_PREFIX, BRIDGE);
    if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
    timings.suiteMs = Date.now() - suiteStart;
    printTimings("vagrantLxcTimings", timings);
  });

  test("a. two machines come up in parallel; each answers ssh at its IP with the key output as a secret", async () => {
    const record = await timed("upTwoMachinesMs", () => up([master1, slave1]));
    expect(commandSteps(record)).toEqual([
      ["vagrant-master1", "create"],
      ["vagrant-slave1", "create"],
      ["vagrant-vagrantfile", "create"],
    ]);
    const file = record.step("vagrant-vagrantfile");
    const [m, s] = [record.step("vagrant-master1"), record.step("vagrant-slave1")];
    timings.vagrantUpMaster1Ms = durationOf(m);
    timings.vagrantUpSlave1Ms = durationOf(s);
    // The engine's order: the Vagrantfile first, then both machines at once.
    expect(Math.min(m.startSeq, s.startSeq)).toBeGreaterThan(file.endSeq!);
    expect(overlapped(m, s)).toBe(true);

    for (const machine of [master1, slave1]) {
      expect(login(machine)).toBe(`${machine.name}\n1000\n0\n`);
      expect(keyOf(machine)).toMatch(
        /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+-----END [A-Z ]*PRIVATE KEY-----\n?$/,
      );
    }
    // Vagrant replaced its insecure key with one key per machine.
    expect(keyOf(master1)).not.toBe(keyOf(slave1));
    // In the state the key is a secret both in the Command's outputs and in the connection the stack
    // exports, and appears nowhere in plain text.
    const state = await stateResources();
    const stackOutputs = state.find((r) => r.type === "pulumi:pulumi:Stack")!.outputs!;
    for (const machine of [master1, slave1]) {
      const command = state.find((r) => nameOf(r.urn) === `vagrant-${machine.name}`)!;
      expect(command.type).toBe(LOCAL_COMMAND_TYPE);
      expect(isSecretWrapper(command.outputs!.stdout)).toBe(true);
      expect(isSecretWrapper((stackOutputs.connections as Record<string, unknown>)[machine.name])).toBe(true);
      const keyBody = keyOf(machine).split("\n").slice(2, -2);
      expect(holds(plainPart(state), { label: machine.name, value: keyOf(machine), forms: keyBody })).toBe(
        false,
      );
    }
    expect(containers().sort()).toEqual([containerOf(master1), containerOf(slave1)].sort());
  });

  test("b. the rendered Vagrantfile passes `vagrant validate`; `vagrant status` lists exactly its machines", async () => {
    const written = fs.readFileSync(path.join(directory, "Vagrantfile"), "utf8");
    expect(written).toBe(vagrantfile);
    const validate = await timed("vagrantValidateMs", () =>
      run("vagrant", ["validate"], { env: vagrantEnv }),
    );
    expect(validate.stdout).toContain("Vagrantfile validated successfully.");
    expect(await timed("vagrantStatusMs", vagrantStatus)).toEqual({ master1: "running", slave1: "running" });
  });

  test("c. adding a third machine brings up that machine only", async () => {
    const before = Object.fromEntries(
      [master1, slave1].map((m) => [m.name, { container: containerOf(m), key: keyOf(m) }]),
    );
    const pids = Object.fromEntries([master1, slave1].map((m) => [m.name, initPid(containerOf(m))]));
    const record = await timed("addMachineMs", () => up([master1, slave1, slave2]));
    const added = record.step("vagrant-slave2");
    timings.vagrantUpSlave2Ms = durationOf(added);
    // The Vagrantfile is rewritten (the new machine in it), the two running machines stay as they are.
    expect(commandSteps(record)).toEqual([
      ["vagrant-master1", "same"],
      ["vagrant-slave1", "same"],
      ["vagrant-slave2", "create"],
      ["vagrant-vagrantfile", "update"],
    ]);
    expect(added.startSeq).toBeGreaterThan(record.step("vagrant-vagrantfile").endSeq!);
    for (const m of [master1, slave1]) {
      expect({ container: containerOf(m), key: keyOf(m), pid: initPid(containerOf(m)) }).toEqual({
        ...before[m.name],
        pid: pids[m.name],
      });
    }
    expect(login(slave2)).toBe("slave2\n1000\n0\n");
    expect(vagrantStatus()).toEqual({ master1: "running", slave1: "running", slave2: "running" });
  });

  test("d. removing a machine destroys that machine only; the others keep running", async () => {
    const gone = containerOf(slave1);
    const kept = [master1, slave2].map((m) => [containerOf(m), initPid(containerOf(m))]);
    const record = await timed("removeMachineMs", () => up([master1, slave2]));
    const removed = record.step("vagrant-slave1");
    timings.vagrantDestroySlave1Ms = durationOf(removed);
    // The engine deletes the machine after it rewrote the Vagrantfile without it.
    expect(commandSteps(record)).toEqual([
      ["vagrant-master1", "same"],
      ["vagrant-slave1", "delete"],
      ["vagrant-slave2", "same"],
      ["vagrant-vagrantfile", "update"],
    ]);
    expect(removed.startSeq).toBeGreaterThan(record.step("vagrant-vagrantfile").endSeq!);
    expect(containers()).not.toContain(gone);
    expect(run("lxc-ls", ["-1"]).stdout.split("\n")).not.toContain(gone);
    expect(kept.map(([c]) => [c, initPid(c)])).toEqual(kept);
    expect(vagrantStatus()).toEqual({ master1: "running", slave2: "running" });
    for (const m of [master1, slave2]) expect(login(m)).toBe(`${m.name}\n1000\n0\n`);
    // Vagrant's stand-in Vagrantfile for the destroy is gone again.
    expect(fs.readdirSync(directory).filter((f) => f.startsWith(".Vagrantfile"))).toEqual([]);
  });

  test("e. destroy removes every machine and leaves no container behind", async () => {
    const { error, record } = await timed("destroyMs", () => recorded((hooks) => theStack().destroy(hooks)));
    expect(error).toBeUndefined();
    expect(record.problems()).toEqual([]);
    expect(commandSteps(record)).toEqual([
      ["vagrant-master1", "delete"],
      ["vagrant-slave2", "delete"],
      ["vagrant-vagrantfile", "delete"],
    ]);
    // The machines go first (both at once), the Vagrantfile they were made from last.
    const [m, s] = [record.step("vagrant-master1"), record.step("vagrant-slave2")];
    expect(overlapped(m, s)).toBe(true);
    expect(record.step("vagrant-vagrantfile").startSeq).toBeGreaterThan(Math.max(m.endSeq!, s.endSeq!));
    expect(await stateResources()).toEqual([]);
    expect(containers()).toEqual([]);
    expect(
      run("lxc-ls", ["-1"])
        .stdout.split("\n")
        .filter((n) => n.startsWith(CONTAINER_PREFIX)),
    ).toEqual([]);
    expect(vagrantStatus()).toEqual({ master1: "not_created", slave2: "not_created" });
  });
});
