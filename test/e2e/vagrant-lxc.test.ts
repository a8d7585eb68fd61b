/**
 * The product's Vagrant machines for real: `VagrantMachines` (infra/vagrant.ts) with the vagrant-lxc provider,
 * run through engine-lite, so its local Commands (write the Vagrantfile, `vagrant up` / `vagrant destroy -f`
 * per machine) run on this machine in Pulumi's order, independent ones in parallel. The machines are LXC
 * containers from the box scripts/lxc-box.sh builds (scripts/test.sh runs it first; this suite never
 * reaches a mirror), on a bridge the suite creates, which forwards nowhere.
 * Needs root, vagrant, vagrant-lxc and lxc; skipped with a message when not root or without vagrant-lxc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { VagrantMachine } from "../../infra/render/vagrantfile";
import { VagrantMachines } from "../../infra/vagrant";
import { isSecretWrapper } from "../helpers/pulumi";
import { EngineLite, LOCAL_COMMAND_TYPE, opensshRunner, sshTargetOf, unwrapSecrets } from "./engine-lite";
import { phaseTimers, printTimings, valueOf } from "./expectations";
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

const BRIDGE = "mcvg0";
const GATEWAY = "10.96.0.1";
const PREFIX_LENGTH = 24;
/** Basename of the Vagrant project: vagrant-lxc names containers `<basename>_<machine>_<suffix>`. */
const PROJECT = "mcvge2e";
const CONTAINER_PREFIX = `${PROJECT}_`;

const master1: VagrantMachine = { name: "master1", ip: "10.96.0.11", role: "master" };
const slave1: VagrantMachine = { name: "slave1", ip: "10.96.0.21", role: "slave" };
const slave2: VagrantMachine = { name: "slave2", ip: "10.96.0.22", role: "slave" };

if (skipReason !== undefined) console.warn(`vagrant-lxc suite skipped: ${skipReason}`);
const describeReal = skipReason === undefined ? describe : describe.skip;

jest.setTimeout(180_000);

const containers = (): string[] => containersWith(CONTAINER_PREFIX);

describeReal("VagrantMachines with the vagrant-lxc provider, for real", () => {
  const timings: Record<string, number> = {};
  const savedHome = process.env.VAGRANT_HOME;
  // Made in beforeAll, so that a skipped suite leaves nothing behind.
  let suiteStart: number;
  let workDir: string;
  let directory: string;
  let vagrantHome: string;
  let vagrantEnv: NodeJS.ProcessEnv;
  let ssh: ReturnType<typeof opensshRunner> | undefined;
  let engine: EngineLite;
  /** The component of the last `up`. */
  let machines: VagrantMachines | undefined;

  const { timed } = phaseTimers(timings);

  /** `pulumi up` of the component with these machines. */
  async function up(list: VagrantMachine[]): Promise<VagrantMachines> {
    machines = await engine.up(
      () =>
        new VagrantMachines("vagrant", {
          machines: list,
          settings: { provider: "lxc", box: BOX, cpus: 1, memory: 512, lxcBridge: BRIDGE },
          prefixLength: PREFIX_LENGTH,
          directory,
          dialErrorLimit: 10,
          perDialTimeout: 5,
        }),
    );
    return machines;
  }

  const machineStep = (m: VagrantMachine) => engine.steps.find((s) => s.name === `vagrant-${m.name}`);
  const keyOf = (m: VagrantMachine): string =>
    String((unwrapSecrets(engine.mustGet(`vagrant-${m.name}`).outputs) as { stdout: string }).stdout);
  /** The container Vagrant made for the machine (its id in Vagrant's state). */
  const containerOf = (m: VagrantMachine): string =>
    fs.readFileSync(path.join(directory, ".vagrant/machines", m.name, "lxc/id"), "utf8").trim();
  const initPid = (container: string): string => run("lxc-info", ["-pH", "-n", container]).stdout.trim();

  const vagrantStatus = (): Record<string, string> => statusIn(vagrantEnv);

  /** Logs in with the key and user the component output, at the machine's IP: `hostname` and `id -u`. */
  async function login(m: VagrantMachine): Promise<string> {
    const connection = await valueOf(machines!.connections[m.name]);
    expect(connection).toMatchObject({ host: m.ip, port: 22, user: "vagrant" });
    const r = await ssh!(sshTargetOf(connection), "hostname; id -u; sudo -n id -u");
    expect(r.stderr).toBe("");
    return r.stdout;
  }

  beforeAll(async () => {
    suiteStart = Date.now();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-vagrant-lxc-"));
    directory = path.join(workDir, PROJECT);
    vagrantHome = path.join(workDir, "vagrant-home");
    vagrantEnv = { ...process.env, ...VAGRANT_ENV, VAGRANT_HOME: vagrantHome, VAGRANT_CWD: directory };
    ssh = opensshRunner(path.join(workDir, "ssh"));
    engine = new EngineLite({ ssh, stack: "vagrant-lxc" });
    sweep(CONTAINER_PREFIX, BRIDGE);
    await timed("boxAddMs", () => addBox(vagrantHome));
    createBridge(BRIDGE, GATEWAY, PREFIX_LENGTH);
    // Every `vagrant` run of the component's Commands inherits this process's environment.
    process.env.VAGRANT_HOME = vagrantHome;
    await engine.install();
  }, 60_000);

  afterAll(async () => {
    await ssh?.close().catch(() => undefined);
    sweep(CONTAINER_PREFIX, BRIDGE);
    if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
    if (savedHome === undefined) delete process.env.VAGRANT_HOME;
    else process.env.VAGRANT_HOME = savedHome;
    timings.suiteMs = Date.now() - suiteStart;
    printTimings("vagrantLxcTimings", timings);
  });

  test("a. two machines come up in parallel; each answers ssh at its IP with the key output as a secret", async () => {
    const component = await timed("upTwoMachinesMs", () => up([master1, slave1]));
    const file = engine.step("vagrant-vagrantfile");
    const [m, s] = [machineStep(master1)!, machineStep(slave1)!];
    timings.vagrantUpMaster1Ms = m.end - m.start;
    timings.vagrantUpSlave1Ms = s.end - s.start;
    expect([m.op, s.op, file.op]).toEqual(["create", "create", "create"]);
    // Pulumi's order: the Vagrantfile first, then both machines at once.
    expect(Math.min(m.start, s.start)).toBeGreaterThanOrEqual(file.end);
    expect(Math.max(m.start, s.start)).toBeLessThan(Math.min(m.end, s.end));

    for (const machine of [master1, slave1]) {
      expect(await login(machine)).toBe(`${machine.name}\n1000\n0\n`);
      // The key is a secret both in the Command's outputs and in the connection the component hands on.
      expect(isSecretWrapper(engine.mustGet(`vagrant-${machine.name}`).outputs.stdout)).toBe(true);
      expect(await pulumi.isSecret(component.connections[machine.name])).toBe(true);
      expect(keyOf(machine)).toMatch(
        /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+-----END [A-Z ]*PRIVATE KEY-----\n?$/,
      );
    }
    // Vagrant replaced its insecure key with one key per machine.
    expect(keyOf(master1)).not.toBe(keyOf(slave1));
    expect(engine.mustGet("vagrant-master1").type).toBe(LOCAL_COMMAND_TYPE);
    expect(containers().sort()).toEqual([containerOf(master1), containerOf(slave1)].sort());
  });

  test("b. the rendered Vagrantfile passes `vagrant validate`; `vagrant status` lists exactly its machines", async () => {
    const written = fs.readFileSync(path.join(directory, "Vagrantfile"), "utf8");
    expect(written).toBe(machines!.vagrantfile);
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
    await timed("addMachineMs", () => up([master1, slave1, slave2]));
    const added = machineStep(slave2)!;
    timings.vagrantUpSlave2Ms = added.end - added.start;
    // The Vagrantfile is rewritten (the new machine in it), the two running machines have no step.
    expect(engine.steps.map((x) => [x.name, x.op]).sort()).toEqual([
      ["vagrant-master1", "same"],
      ["vagrant-slave1", "same"],
      ["vagrant-slave2", "create"],
      ["vagrant-vagrantfile", "update"],
    ]);
    expect(added.start).toBeGreaterThanOrEqual(engine.step("vagrant-vagrantfile").end);
    for (const m of [master1, slave1]) {
      expect({ container: containerOf(m), key: keyOf(m), pid: initPid(containerOf(m)) }).toEqual({
        ...before[m.name],
        pid: pids[m.name],
      });
    }
    expect(await login(slave2)).toBe("slave2\n1000\n0\n");
    expect(vagrantStatus()).toEqual({ master1: "running", slave1: "running", slave2: "running" });
  });

  test("d. removing a machine destroys that machine only; the others keep running", async () => {
    const gone = containerOf(slave1);
    const kept = [master1, slave2].map((m) => [containerOf(m), initPid(containerOf(m))]);
    await timed("removeMachineMs", () => up([master1, slave2]));
    const removed = machineStep(slave1)!;
    timings.vagrantDestroySlave1Ms = removed.end - removed.start;
    // Pulumi deletes the machine after it rewrote the Vagrantfile without it.
    expect(engine.steps.map((x) => [x.name, x.op]).sort()).toEqual([
      ["vagrant-master1", "same"],
      ["vagrant-slave1", "delete"],
      ["vagrant-slave2", "same"],
      ["vagrant-vagrantfile", "update"],
    ]);
    expect(removed.start).toBeGreaterThanOrEqual(engine.step("vagrant-vagrantfile").end);
    expect(containers()).not.toContain(gone);
    expect(run("lxc-ls", ["-1"]).stdout.split("\n")).not.toContain(gone);
    expect(kept.map(([c]) => [c, initPid(c)])).toEqual(kept);
    expect(vagrantStatus()).toEqual({ master1: "running", slave2: "running" });
    for (const m of [master1, slave2]) expect(await login(m)).toBe(`${m.name}\n1000\n0\n`);
    // Vagrant's stand-in Vagrantfile for the destroy is gone again.
    expect(fs.readdirSync(directory).filter((f) => f.startsWith(".Vagrantfile"))).toEqual([]);
  });

  test("e. destroy removes every machine and leaves no container behind", async () => {
    await ssh!.close();
    const steps = await timed("destroyMs", () => engine.destroy());
    expect(
      steps
        .filter((x) => x.type === LOCAL_COMMAND_TYPE)
        .map((x) => [x.name, x.op])
        .sort(),
    ).toEqual([
      ["vagrant-master1", "delete"],
      ["vagrant-slave2", "delete"],
      ["vagrant-vagrantfile", "delete"],
    ]);
    const at = (name: string) => steps.find((x) => x.name === name)!;
    // The machines go first (both at once), the Vagrantfile they were made from last.
    const [m, s] = [at("vagrant-master1"), at("vagrant-slave2")];
    expect(Math.max(m.start, s.start)).toBeLessThan(Math.min(m.end, s.end));
    expect(at("vagrant-vagrantfile").start).toBeGreaterThanOrEqual(Math.max(m.end, s.end));
    expect(engine.state.size).toBe(0);
    expect(containers()).toEqual([]);
    expect(
      run("lxc-ls", ["-1"])
        .stdout.split("\n")
        .filter((n) => n.startsWith(CONTAINER_PREFIX)),
    ).toEqual([]);
    expect(vagrantStatus()).toEqual({ master1: "not_created", slave2: "not_created" });
  });
});
