/**
 * The product as users run it with `hosts: vagrant` and the lxc provider, on the real Pulumi engine:
 * `pulumi up` of the program (stack `e2e-vagrant`, Pulumi.e2e-vagrant.yaml) through the Automation API
 * (test/helpers/engine.ts). The program creates six Vagrant machines itself (its local Commands run
 * `vagrant up`: LXC containers from the box scripts/lxc-box.sh builds, on a bridge the suite creates, which
 * forwards nowhere), the command plugin provisions the cluster on them over ssh with the key Vagrant
 * printed, and the engine's dynamic-provider host deploys the seed's Rails app. Mesos and Marathon are the
 * stand-ins of cluster.test.ts, in place on each machine before the program's first step there, as a
 * machine image would have them: the `vagrant` the program finds first on its PATH is the real one followed,
 * after `vagrant up <machine>`, by the stand-ins' install into that machine (lxc-attach). Each master's
 * Marathon port forwards to one Marathon emulator this process serves on the bridge's gateway. ZooKeeper
 * is Debian's zookeeperd, in the box.
 * Needs root, vagrant, vagrant-lxc, lxc, the cached box and the Pulumi toolchain
 * (scripts/pulumi-from-source.sh); skipped with a message when not root or without vagrant-lxc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { EngineSandbox, type EventRecorder } from "../helpers/engine";
import { readStackConfig } from "../helpers/stack-config";
import {
  APP,
  APP_ID,
  COMMAND_TYPE,
  endOf,
  endSeqOf,
  expectEnsemble,
  expectNoChanges,
  expectProvisioned,
  expectScaled,
  LOCAL_COMMAND_TYPE,
  operate,
  phaseTimers,
  printedBy,
  printTimings,
  provisioning,
  revealedStateOf,
  spanMs,
  standinInstallScript,
  stateOf,
  zkElection,
  type HostExec,
  type Master,
  type Operation,
  type Slave,
  type StateResource,
} from "./expectations";
import {
  VAGRANT_ENV,
  addBox,
  containers as containersWith,
  createBridge,
  inContainer,
  run,
  sweep,
  vagrantSkipReason as skipReason,
  vagrantStatus,
} from "./vagrant-setup";
import { made } from "../helpers/setup";

const STACK = "e2e-vagrant";
const E2E = readStackConfig(STACK);
const MASTERS = E2E.masters as Master[];
const SLAVES = E2E.slaves as Slave[];
const HOSTS = [...MASTERS, ...SLAVES];
const BRIDGE = (E2E.vagrant as { lxcBridge: string }).lxcBridge;
const [NETWORK, PREFIX_LENGTH] = (E2E.network as string).split("/");
const GATEWAY = NETWORK.replace(/\.0$/, ".1");
/** The program's Vagrant project folder is named after the stack, and vagrant-lxc names containers after it. */
const CONTAINER_PREFIX = `${STACK}_`;
const containers = (): string[] => containersWith(CONTAINER_PREFIX);

if (skipReason !== undefined) console.warn(`vagrant cluster suite skipped: ${skipReason}`);
const describeReal = skipReason === undefined ? describe : describe.skip;

jest.setTimeout(300_000);

/** Machine steps of an operation: one local Command per machine, less the Vagrantfile's. */
const machineSteps = (record: EventRecorder) =>
  record.steps.filter((s) => s.type === LOCAL_COMMAND_TYPE && s.name !== "vagrant-vagrantfile");

/**
 * The `vagrant` the program runs: the real one, then, after `vagrant up <machine>`, that machine's
 * stand-ins (`<dir>/<machine>.sh`), each install's milliseconds appended to `<dir>/installed`.
 */
function vagrantWithStandins(dir: string): string {
  const real = run("sh", ["-c", "command -v vagrant"]).stdout.trim();
  return `#!/bin/sh
${real} "$@" || exit
[ "$1" = up ] || exit 0
id=$(cat "$VAGRANT_CWD/.vagrant/machines/$2/lxc/id") || exit
start=$(date +%s%3N)
lxc-attach -n "$id" --clear-env --set-var PATH=${VAGRANT_ENV.PATH} -- /bin/bash < "${dir}/$2.sh" >&2 || exit
echo "$2 $(( $(date +%s%3N) - start ))" >> "${dir}/installed"
`;
}

describeReal(
  "the e2e-vagrant stack: the program makes six vagrant-lxc machines and the cluster on them, on the real Pulumi engine",
  () => {
    const timings: Record<string, number> = {};
    const { timed, cpuTimed } = phaseTimers(timings);
    const operations: Operation[] = [];
    // Made in beforeAll, so that a skipped suite leaves nothing behind.
    let suiteStart: number;
    let workDir: string;
    let standinDir: string;
    let vagrantEnv: NodeJS.ProcessEnv;
    let emulator: MarathonEmulator | undefined;
    let sandbox: EngineSandbox | undefined;
    let stack: Stack | undefined;
    let firstUp: Operation;

    const theEmulator = (): MarathonEmulator => {
      return made(emulator, "Marathon emulator");
    };
    const theStack = (): Stack => {
      return made(stack, "stack");
    };
    const theSandbox = (): EngineSandbox => {
      return made(sandbox, "engine sandbox");
    };
    /** The program's Vagrant project: `<vagrant.directory>/<stack>`. */
    const project = (): string => path.join(workDir, STACK);
    /** The container Vagrant made for a machine (its id in Vagrant's state). */
    const containerOf = (host: string): string =>
      fs.readFileSync(path.join(project(), ".vagrant/machines", host, "lxc/id"), "utf8").trim();
    /** A command as root inside a machine, through lxc-attach (not the program's ssh). */
    const exec: HostExec = (host, command, opts) => inContainer(containerOf(host), command, opts?.input);
    /** The remote Commands of the state, each with the address and user it connects to (secrets shown). */
    const hostSteps = async (): Promise<(StateResource & { host: string; user: string })[]> =>
      (await revealedStateOf(theSandbox(), STACK))
        .filter((r) => r.type === COMMAND_TYPE)
        .map((r) => ({ ...r, ...(r.inputs.connection as { host: string; user: string }) }));

    beforeAll(async () => {
      suiteStart = Date.now();
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-vagrant-cluster-"));
      const vagrantHome = path.join(workDir, "vagrant-home");
      vagrantEnv = {
        ...process.env,
        ...VAGRANT_ENV,
        VAGRANT_HOME: vagrantHome,
        VAGRANT_CWD: project(),
      };
      sweep(CONTAINER_PREFIX, BRIDGE);
      await timed("boxAddMs", () => addBox(vagrantHome));
      createBridge(BRIDGE, GATEWAY, Number(PREFIX_LENGTH));
      const marathon = (emulator = await startEmulator({
        host: GATEWAY,
        port: 0,
        taskHosts: SLAVES.map((s) => s.ip),
        deploymentStepMs: 100,
      }));
      standinDir = path.join(workDir, "standins");
      const binDir = path.join(workDir, "bin");
      fs.mkdirSync(standinDir);
      fs.mkdirSync(binDir);
      const backend = `${GATEWAY}:${marathon.port}`;
      for (const h of HOSTS) {
        const role = MASTERS.includes(h as Master) ? "master" : "slave";
        fs.writeFileSync(path.join(standinDir, `${h.name}.sh`), standinInstallScript(role, backend));
      }
      fs.writeFileSync(path.join(binDir, "vagrant"), vagrantWithStandins(standinDir), { mode: 0o755 });

      sandbox = new EngineSandbox();
      // What the program's `vagrant` runs see: the suite's own Vagrant home, and its `vagrant` first.
      sandbox.env.PATH = `${binDir}${path.delimiter}${sandbox.env.PATH}`;
      sandbox.env.VAGRANT_HOME = vagrantHome;
      const s = (stack = await sandbox.createStack(STACK, STACK));
      await s.setConfig("vagrant.directory", { value: workDir }, true);
      ({ op: firstUp } = await timed("firstUpMs", () =>
        cpuTimed("firstUpCpuMs", () => operate(operations, "first up", (hooks) => s.up(hooks))),
      ));
      timings.hostCreationMs = spanMs(machineSteps(firstUp.record));
      timings.standinInstallMs = Math.max(
        ...fs
          .readFileSync(path.join(standinDir, "installed"), "utf8")
          .trim()
          .split("\n")
          .map((l) => Number(l.split(" ")[1])),
      );
      timings.provisioningMs = provisioning(firstUp.record, MASTERS);
      timings.zkElectionMs = zkElection(firstUp.record, MASTERS);
      const app = firstUp.record.step(APP, "create");
      timings.appDeployMs = endOf(app) - app.start;
    }, 600_000);

    afterAll(async () => {
      sandbox?.dispose();
      await emulator?.close().catch(() => undefined);
      sweep(CONTAINER_PREFIX, BRIDGE);
      if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
      timings.suiteMs = Date.now() - suiteStart;
      printTimings("vagrantClusterTimings", timings);
    }, 120_000);

    test("1. six machines exist, in parallel, and every host has the seed's files and services per role", async () => {
      expect(firstUp.record.steps.filter((s) => s.failed)).toEqual([]);
      expect(firstUp.record.problems()).toEqual([]);
      const machines = machineSteps(firstUp.record);
      expect(machines.map((s) => [s.name, s.op]).sort()).toEqual(
        HOSTS.map((h) => [`vagrant-${h.name}`, "create"]).sort(),
      );
      // All six were being created at one moment.
      expect(Math.max(...machines.map((s) => s.startSeq))).toBeLessThan(Math.min(...machines.map(endSeqOf)));
      expect(vagrantStatus(vagrantEnv)).toEqual(Object.fromEntries(HOSTS.map((h) => [h.name, "running"])));
      const ids = HOSTS.map((h) => containerOf(h.name)).sort();
      expect(containers().sort()).toEqual(ids);
      const running = run("lxc-ls", ["-1", "--running"]).stdout.split(/\s+/);
      for (const id of ids) expect(running).toContain(id);
      // Every host step ran over ssh as the box's user, at the machine's own address, once the machine
      // (with its stand-ins) was up.
      const steps = await hostSteps();
      for (const h of HOSTS) {
        const mine = steps.filter((s) => s.host === h.ip);
        expect(mine.length).toBeGreaterThan(0);
        for (const s of mine) {
          expect(s.user).toBe("vagrant");
          expect(firstUp.record.step(s.name, "create").startSeq).toBeGreaterThan(
            endSeqOf(firstUp.record.step(`vagrant-${h.name}`, "create")),
          );
        }
      }
      expect(steps.length).toBe(firstUp.record.steps.filter((s) => s.type === COMMAND_TYPE).length);
      await expectProvisioned(await stateOf(theStack()), exec, MASTERS, SLAVES);
    });

    test("2. ZooKeeper forms a 3-server ensemble from the program's zoo.cfg and myid, with a leader", async () => {
      await expectEnsemble(MASTERS);
    });

    test("3. the Rails app is created through the provider, then scaled 1 -> 3 by the stack config alone", async () => {
      const scale = await expectScaled(theStack(), operations, theEmulator(), MASTERS, SLAVES);
      const app = scale.record.step(APP, "update");
      timings.scaleMs = endOf(app) - app.start;
    });

    test("4. a second up changes nothing", async () => {
      const second = await expectNoChanges(theStack(), operations);
      timings.secondUpMs = spanMs(second.record.steps);
    });

    test("5. destroy removes the app, undoes the host steps, then destroys every machine", async () => {
      const before = await hostSteps();
      const { op } = await operate(operations, "destroy", (hooks) => theStack().destroy(hooks));
      const { record } = op;
      timings.destroyMs = spanMs(record.steps);
      expect(record.problems()).toEqual([]);
      expect(theEmulator().getApp(`/${APP_ID}`)).toBeUndefined();
      const at = (name: string) => record.step(name, "delete");
      const undone = record.steps.filter((x) => x.type === COMMAND_TYPE);
      expect(undone.map((x) => x.op)).toEqual(Array(before.length).fill("delete"));
      for (const s of undone) expect(s.startSeq).toBeGreaterThan(endSeqOf(at(APP)));
      for (const m of MASTERS) {
        expect(printedBy(record, `mesos-zookeeper-${m.name}-zookeeper`)).toMatch(/^stopped zookeeper$/m);
      }
      // Each machine goes once its own host steps are undone; the Vagrantfile last.
      const machines = machineSteps(record);
      expect(machines.map((x) => [x.name, x.op]).sort()).toEqual(
        HOSTS.map((h) => [`vagrant-${h.name}`, "delete"]).sort(),
      );
      for (const h of HOSTS) {
        const mine = before.filter((s) => s.host === h.ip).map((s) => at(s.name));
        expect(mine.length).toBeGreaterThan(0);
        expect(at(`vagrant-${h.name}`).startSeq).toBeGreaterThan(Math.max(...mine.map(endSeqOf)));
      }
      expect(at("vagrant-vagrantfile").startSeq).toBeGreaterThan(Math.max(...machines.map(endSeqOf)));
      timings.machineDestroyMs = spanMs(machines);
      expect(await stateOf(theStack())).toEqual([]);
      expect(containers()).toEqual([]);
      expect(
        run("lxc-ls", ["-1"])
          .stdout.split(/\s+/)
          .filter((n) => n.startsWith(CONTAINER_PREFIX)),
      ).toEqual([]);
      expect(vagrantStatus(vagrantEnv)).toEqual(
        Object.fromEntries(HOSTS.map((h) => [h.name, "not_created"])),
      );
    });
  },
);
