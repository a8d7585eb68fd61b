/**
 * The product as users run it with `hosts: vagrant` and the lxc provider: the program (stack `e2e-vagrant`,
 * Pulumi.e2e-vagrant.yaml) creates six Vagrant machines itself (VagrantMachines: LXC containers from the
 * box scripts/lxc-box.sh builds, on a bridge the suite creates, which forwards nowhere), provisions the
 * cluster on them over ssh with the key Vagrant printed, and deploys the seed's Rails app, all under
 * engine-lite. Mesos and Marathon are the stand-ins of cluster.test.ts, put on each machine before the
 * program's first step there, as a machine image would have them: each master's Marathon port forwards
 * to one Marathon emulator on the bridge's gateway. ZooKeeper is Debian's zookeeperd, in the box.
 * Needs root, vagrant, vagrant-lxc, lxc and the cached box; skipped with a message when not root or
 * without vagrant-lxc.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../infra/config";
import { program, type StackOutputs } from "../../infra/program";
import { startEmulator } from "../../providers/marathon/emulator";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { marathonAppProvider } from "../../providers/marathon/provider";
import { startProviderHost, type ProviderHost } from "../helpers/provider-host";
import { readStackConfig } from "../helpers/stack-config";
import {
  COMMAND_TYPE,
  EngineLite,
  LOCAL_COMMAND_TYPE,
  opensshRunner,
  runProcess,
  type RemoteRunner,
} from "./engine-lite";
import {
  APP,
  APP_ID,
  expectEnsemble,
  expectProvisioned,
  expectScaled,
  installStandins,
  phaseTimers,
  printTimings,
  provisioning,
  setStackConfig,
  zkElection,
  type HostExec,
  type Master,
  type Slave,
} from "./expectations";
import {
  VAGRANT_ENV,
  addBox,
  containers as containersWith,
  createBridge,
  run,
  sweep,
  vagrantSkipReason as skipReason,
  vagrantStatus,
} from "./vagrant-setup";

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

jest.setTimeout(180_000);

describeReal(
  "the e2e-vagrant stack: the program makes six vagrant-lxc machines and the cluster on them",
  () => {
    const timings: Record<string, number> = {};
    const { timed, cpuTimed } = phaseTimers(timings);
    const savedHome = process.env.VAGRANT_HOME;
    // Made in beforeAll, so that a skipped suite leaves nothing behind.
    let suiteStart: number;
    let workDir: string;
    let vagrantEnv: NodeJS.ProcessEnv;
    let ssh: ReturnType<typeof opensshRunner> | undefined;
    let providerHost: ProviderHost | undefined;
    let emulator: MarathonEmulator | undefined;
    let engine: EngineLite;

    const theEmulator = (): MarathonEmulator => {
      if (emulator === undefined) throw new Error("Marathon emulator was not started");
      return emulator;
    };
    /** The program's Vagrant project: `<vagrant.directory>/<stack>`. */
    const project = (): string => path.join(workDir, STACK);
    /** The container Vagrant made for a machine (its id in Vagrant's state). */
    const containerOf = (host: string): string =>
      fs.readFileSync(path.join(project(), ".vagrant/machines", host, "lxc/id"), "utf8").trim();
    /** A command as root inside a machine, through lxc-attach (not the program's ssh). */
    const exec: HostExec = (host, command, opts) =>
      runProcess(
        "lxc-attach",
        ["-n", containerOf(host), "--clear-env", "--set-var", `PATH=${VAGRANT_ENV.PATH}`, "--"].concat([
          "/bin/bash",
          "-c",
          command,
        ]),
        opts?.input ?? "",
        60_000,
      );

    /**
     * The engine's ssh, which first puts the stand-ins on a machine (as its image would have them) before
     * the program's first command there; the slowest install is recorded.
     */
    function withStandins(inner: RemoteRunner, backend: string): RemoteRunner {
      const installed = new Map<string, Promise<void>>();
      const roles = new Map(
        HOSTS.map((h) => [h.ip, { name: h.name, master: MASTERS.includes(h as Master) }]),
      );
      return async (target, command, stdin) => {
        let done = installed.get(target.host);
        if (done === undefined) {
          const host = roles.get(target.host)!;
          const start = Date.now();
          done = installStandins(exec, host.name, host.master ? "master" : "slave", backend).then(() => {
            timings.standinInstallMs = Math.max(timings.standinInstallMs ?? 0, Date.now() - start);
          });
          installed.set(target.host, done);
        }
        await done;
        return inner(target, command, stdin);
      };
    }

    /** `pulumi up` of the stack with `instances` of the app; the Vagrant project in the suite's folder. */
    async function up(instances: number): Promise<StackOutputs> {
      setStackConfig(E2E, { vagrant: { ...(E2E.vagrant as object), directory: workDir } }, instances);
      return engine.up(() => program(loadConfig()));
    }

    const machineSteps = () =>
      engine.steps.filter((s) => s.type === LOCAL_COMMAND_TYPE && s.name !== "vagrant-vagrantfile");

    beforeAll(async () => {
      suiteStart = Date.now();
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-vagrant-cluster-"));
      const vagrantHome = path.join(workDir, "vagrant-home");
      vagrantEnv = {
        ...process.env,
        ...VAGRANT_ENV,
        VAGRANT_HOME: vagrantHome,
        VAGRANT_CWD: path.join(workDir, STACK),
      };
      sweep(CONTAINER_PREFIX, BRIDGE);
      await timed("boxAddMs", () => addBox(vagrantHome));
      createBridge(BRIDGE, GATEWAY, Number(PREFIX_LENGTH));
      // Every `vagrant` run of the program's local Commands inherits this process's environment.
      process.env.VAGRANT_HOME = vagrantHome;
      const marathon = (emulator = await startEmulator({
        host: GATEWAY,
        port: 0,
        taskHosts: SLAVES.map((s) => s.ip),
        deploymentStepMs: 100,
      }));
      providerHost = await startProviderHost(marathonAppProvider);
      await providerHost.configure({});
      ssh = opensshRunner(path.join(workDir, "ssh"));
      engine = new EngineLite({
        ssh: withStandins(ssh, `${GATEWAY}:${marathon.port}`),
        provider: providerHost,
        stack: STACK,
      });
      await engine.install();
      await timed("firstUpMs", () => cpuTimed("firstUpCpuMs", () => up(1)));
      const machines = machineSteps();
      timings.hostCreationMs =
        Math.max(...machines.map((s) => s.end)) - Math.min(...machines.map((s) => s.start));
      timings.provisioningMs = provisioning(engine, MASTERS);
      timings.zkElectionMs = zkElection(engine, MASTERS);
      timings.appDeployMs = engine.step(APP).end - engine.step(APP).start;
    }, 360_000);

    afterAll(async () => {
      await ssh?.close().catch(() => undefined);
      await providerHost?.stop().catch(() => undefined);
      await emulator?.close().catch(() => undefined);
      sweep(CONTAINER_PREFIX, BRIDGE);
      if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
      if (savedHome === undefined) delete process.env.VAGRANT_HOME;
      else process.env.VAGRANT_HOME = savedHome;
      timings.suiteMs = Date.now() - suiteStart;
      printTimings("vagrantClusterTimings", timings);
    }, 120_000);

    test("1. six machines exist, in parallel, and every host has the seed's files and services per role", async () => {
      const machines = machineSteps();
      expect(machines.map((s) => [s.name, s.op]).sort()).toEqual(
        HOSTS.map((h) => [`vagrant-${h.name}`, "create"]).sort(),
      );
      // All six were being created at one moment.
      expect(Math.max(...machines.map((s) => s.start))).toBeLessThan(Math.min(...machines.map((s) => s.end)));
      expect(vagrantStatus(vagrantEnv)).toEqual(Object.fromEntries(HOSTS.map((h) => [h.name, "running"])));
      const ids = HOSTS.map((h) => containerOf(h.name)).sort();
      expect(containers().sort()).toEqual(ids);
      const running = run("lxc-ls", ["-1", "--running"]).stdout.split(/\s+/);
      for (const id of ids) expect(running).toContain(id);
      // Every host step ran over ssh as the box's user, at the machine's own address.
      for (const s of engine.steps.filter((x) => x.type === COMMAND_TYPE)) {
        expect(HOSTS.map((h) => h.ip)).toContain(s.host);
      }
      await expectProvisioned(engine, exec, MASTERS, SLAVES);
    });

    test("2. ZooKeeper forms a 3-server ensemble from the program's zoo.cfg and myid, with a leader", async () => {
      await expectEnsemble(MASTERS);
    });

    test("3. the Rails app is created through the provider, then scaled 1 -> 3 by the stack config alone", async () => {
      await expectScaled(engine, theEmulator(), MASTERS, SLAVES, () => timed("scaleMs", () => up(3)));
    });

    test("4. a second run plans nothing", async () => {
      await timed("secondUpMs", () => up(3));
      const custom = [...engine.state.values()].filter((r) => r.custom).length;
      expect(engine.steps.length).toBe(custom);
      expect(engine.steps.filter((x) => x.op !== "same")).toEqual([]);
      expect(engine.sshCount).toBe(0);
    });

    test("5. destroy removes the app, undoes the host steps, then destroys every machine", async () => {
      const commandCount = [...engine.state.values()].filter((x) => x.type === COMMAND_TYPE).length;
      const steps = await timed("destroyMs", () => engine.destroy());
      expect(theEmulator().getApp(`/${APP_ID}`)).toBeUndefined();
      const at = (name: string) => steps.find((x) => x.name === name)!;
      const hostSteps = steps.filter((x) => x.type === COMMAND_TYPE);
      expect(hostSteps.map((x) => x.op)).toEqual(Array(commandCount).fill("delete"));
      for (const s of hostSteps) expect(s.start).toBeGreaterThanOrEqual(at(APP).end);
      for (const m of MASTERS) {
        expect(at(`mesos-zookeeper-${m.name}-zookeeper`).stdout).toMatch(/^stopped zookeeper$/m);
      }
      // Each machine goes once its own host steps are undone; the Vagrantfile last.
      const machines = steps.filter((x) => x.type === LOCAL_COMMAND_TYPE && x.name !== "vagrant-vagrantfile");
      expect(machines.map((x) => [x.name, x.op]).sort()).toEqual(
        HOSTS.map((h) => [`vagrant-${h.name}`, "delete"]).sort(),
      );
      for (const h of HOSTS) {
        const undone = hostSteps.filter((x) => x.host === h.ip);
        expect(undone.length).toBeGreaterThan(0);
        expect(at(`vagrant-${h.name}`).start).toBeGreaterThanOrEqual(Math.max(...undone.map((x) => x.end)));
      }
      expect(at("vagrant-vagrantfile").start).toBeGreaterThanOrEqual(Math.max(...machines.map((x) => x.end)));
      timings.machineDestroyMs =
        Math.max(...machines.map((x) => x.end)) - Math.min(...machines.map((x) => x.start));
      expect(engine.state.size).toBe(0);
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
