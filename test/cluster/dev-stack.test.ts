/** The dev stack (the seed's cluster): every registered resource, per-host files, order, and secrets. */
import type { StackOutputs } from "../../infra/program";
import { promiseOf, settled, setupMocks, type MockRecorder, type RecordedResource } from "../helpers/pulumi";
import { FAKE_PRIVATE_KEY, MASTERS, SLAVES, filesWritten, scriptOf, setDevConfig } from "./fixtures";

const ZK = "10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181";
const COMMAND = "command:remote:Command";

let recorder: MockRecorder;
let stack: Partial<StackOutputs>;

beforeAll(async () => {
  recorder = await setupMocks();
  setDevConfig();
  stack = await import("../../infra/index");
  await settled();
});

const commandsOf = (host: string): RecordedResource[] =>
  recorder.ofType(COMMAND).filter((r) => r.name.includes(`-${host}-`));

describe("components", () => {
  test("registers one cluster, one ensemble, a packages component per master and a component per host role", () => {
    const count = (type: string) =>
      recorder
        .ofType(type)
        .map((r) => r.name)
        .sort();
    expect(count("mesos-cluster:cluster:MesosCluster")).toEqual(["mesos"]);
    expect(count("mesos-cluster:zookeeper:ZooKeeperEnsemble")).toEqual(["mesos-zookeeper"]);
    expect(count("mesos-cluster:mesos:MesosMaster")).toEqual([
      "mesos-master1",
      "mesos-master2",
      "mesos-master3",
    ]);
    expect(count("mesos-cluster:mesos:MesosSlave")).toEqual(["mesos-slave1", "mesos-slave2", "mesos-slave3"]);
    expect(count("mesos-cluster:host:HostPackages")).toEqual(MASTERS.map((h) => `mesos-${h.name}-packages`));
    // Per master: packages, ZooKeeper and its gate, mesos-master and its gate, Marathon and its gate.
    // Per slave: one step (packages, files, services).
    expect(recorder.ofType(COMMAND)).toHaveLength(MASTERS.length * 7 + SLAVES.length);
  });

  test("every command is a child of its component", () => {
    for (const c of recorder.ofType(COMMAND)) {
      const parent = recorder.byName(c.parent ?? "");
      expect(c.name.startsWith(`${parent.name}-`)).toBe(true);
    }
  });
});

describe.each(MASTERS)("master $name", ({ name, ip, zkId }) => {
  test("writes exactly the seed's files with the seed's contents", () => {
    expect(filesWritten(commandsOf(name))).toEqual({
      "/etc/apt/sources.list.d/mesosphere.list": "deb http://repos.mesosphere.io/ubuntu trusty main\n",
      "/etc/zookeeper/conf/myid": `${zkId}\n`,
      "/etc/zookeeper/conf/zoo.cfg": [
        "tickTime=2000",
        "initLimit=10",
        "syncLimit=5",
        "dataDir=/var/lib/zookeeper",
        "clientPort=2181",
        "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf",
        "admin.enableServer=false",
        "server.10=10.10.20.11:2888:3888",
        "server.30=10.10.20.12:2888:3888",
        "server.50=10.10.20.13:2888:3888",
        "",
      ].join("\n"),
      "/etc/mesos/zk": `zk://${ZK}/mesos\n`,
      "/etc/mesos-master/ip": `${ip}\n`,
      "/etc/mesos-master/hostname": `${ip}\n`,
      "/etc/mesos-master/quorum": "2\n",
      "/etc/init/mesos-slave.override": "manual\n",
      "/etc/marathon/conf/hostname": `${ip}\n`,
      "/etc/marathon/conf/master": `zk://${ZK}/mesos\n`,
      "/etc/marathon/conf/zk": `zk://${ZK}/marathon\n`,
      "/etc/default/marathon": `export LIBPROCESS_IP=${ip}\n`,
    });
  });

  test("links dataDir/myid to the id file, installs zookeeperd, mesos and marathon", () => {
    expect(scriptOf(recorder.byName(`mesos-zookeeper-${name}-zookeeper`).inputs.create)).toContain(
      "link_file '/var/lib/zookeeper/myid' '/etc/zookeeper/conf/myid'",
    );
    expect(scriptOf(recorder.byName(`mesos-${name}-packages-install`).inputs.create)).toContain(
      "for spec in 'zookeeper' 'zookeeperd' 'mesos' 'marathon'; do",
    );
  });

  test("runs zookeeper, mesos-master and marathon, and disables mesos-slave", () => {
    const running = (step: string) => scriptOf(recorder.byName(step).inputs.create);
    expect(running(`mesos-zookeeper-${name}-zookeeper`)).toContain("service zookeeper restart");
    const mesosMaster = running(`mesos-${name}-mesos-master`);
    expect(mesosMaster).toContain("service mesos-master start");
    expect(mesosMaster).toContain("service mesos-slave stop");
    expect(mesosMaster).not.toContain("service mesos-master stop");
    expect(running(`mesos-${name}-marathon`)).toContain("service marathon start");
    // The mesos-slave override is written before mesos-master starts.
    expect(mesosMaster.indexOf("/etc/init/mesos-slave.override")).toBeLessThan(
      mesosMaster.indexOf("service mesos-master start"),
    );
  });

  test("gates probe the host's private address, never Vagrant's NAT address", () => {
    const probe = (step: string) => scriptOf(recorder.byName(step).inputs.create);
    expect(probe(`mesos-zookeeper-${name}-zookeeper-ready`)).toContain(`/dev/tcp/${ip}/2181`);
    expect(probe(`mesos-${name}-mesos-master-elected`)).toContain(`/dev/tcp/${ip}/5050`);
    expect(probe(`mesos-${name}-marathon-ping`)).toContain(`/dev/tcp/${ip}/8080`);
    expect(JSON.stringify(commandsOf(name).map((c) => c.inputs))).not.toContain("10.0.2.15");
  });
});

describe.each(SLAVES)("slave $name", ({ name, ip }) => {
  test("writes exactly the seed's files and overrides for mesos-master and zookeeper", () => {
    expect(filesWritten(commandsOf(name))).toEqual({
      "/etc/apt/sources.list.d/mesosphere.list": "deb http://repos.mesosphere.io/ubuntu trusty main\n",
      "/etc/mesos/zk": `zk://${ZK}/mesos\n`,
      "/etc/mesos-slave/ip": `${ip}\n`,
      "/etc/mesos-slave/hostname": `${ip}\n`,
      "/etc/init/mesos-master.override": "manual\n",
      "/etc/init/zookeeper.override": "manual\n",
    });
  });

  test("in one step: installs only mesos, keeps mesos-master and zookeeper off, runs mesos-slave", () => {
    expect(commandsOf(name).map((c) => c.name)).toEqual([`mesos-${name}-mesos-slave`]);
    const agent = scriptOf(recorder.byName(`mesos-${name}-mesos-slave`).inputs.create);
    expect(agent).toContain("for spec in 'mesos'; do");
    expect(agent.indexOf("apt-get install")).toBeLessThan(agent.indexOf("service mesos-slave start"));
    expect(agent).toContain("service mesos-slave start");
    expect(agent).toContain("service mesos-master stop");
    expect(agent).toContain("service zookeeper stop");
    expect(agent).not.toMatch(/service (mesos-master|zookeeper) (start|restart)/);
  });
});

describe("order", () => {
  /** Whether `from` waits for `to`, directly or through other resources. */
  function waitsFor(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const next = recorder.byName(stack.pop() ?? "");
      for (const dep of next.dependsOn) {
        if (dep === to) return true;
        if (!seen.has(dep)) {
          seen.add(dep);
          stack.push(dep);
        }
      }
    }
    return false;
  }
  const zkReady = MASTERS.map((m) => `mesos-zookeeper-${m.name}-zookeeper-ready`);

  test.each(MASTERS.map((m) => m.name))(
    "on %s: packages, ZooKeeper, ensemble, mesos-master, Marathon",
    (host) => {
      const packages = scriptOf(recorder.byName(`mesos-${host}-packages-install`).inputs.create);
      expect(packages.indexOf("/etc/apt/sources.list.d/mesosphere.list")).toBeLessThan(
        packages.indexOf("apt-get install"),
      );
      expect(waitsFor(`mesos-zookeeper-${host}-zookeeper`, `mesos-${host}-packages-install`)).toBe(true);
      expect(waitsFor(`mesos-zookeeper-${host}-zookeeper-ready`, `mesos-zookeeper-${host}-zookeeper`)).toBe(
        true,
      );
      for (const ready of zkReady) expect(waitsFor(`mesos-${host}-mesos-master`, ready)).toBe(true);
      expect(waitsFor(`mesos-${host}-marathon`, `mesos-${host}-mesos-master-elected`)).toBe(true);
      expect(waitsFor(`mesos-${host}-marathon-ping`, `mesos-${host}-marathon`)).toBe(true);
      expect(waitsFor(`mesos-${host}-mesos-master`, `mesos-${host}-marathon`)).toBe(false);
    },
  );

  test.each(SLAVES.map((s) => s.name))("%s starts mesos-slave after the whole ensemble is ready", (host) => {
    for (const ready of zkReady) expect(waitsFor(`mesos-${host}-mesos-slave`, ready)).toBe(true);
  });

  test("the apps wait for Marathon on every master", () => {
    for (const m of MASTERS) expect(waitsFor("apps", `mesos-${m.name}-marathon-ping`)).toBe(true);
  });

  // Deletes never read what creates printed; passing it would make every delete warn that sshd refuses
  // the variables (AcceptEnv).
  test("no step hands its create's output to its delete", () => {
    for (const c of recorder.ofType(COMMAND))
      expect([c.name, c.inputs.addPreviousOutputInEnv]).toEqual([c.name, false]);
  });

  test("config steps are replaced delete-first", () => {
    expect(recorder.byName("mesos-master1-mesos-master").deleteBeforeReplace).toBe(true);
    expect(recorder.byName("mesos-slave1-mesos-slave").deleteBeforeReplace).toBe(true);
  });
});

describe("secrets", () => {
  test("the private key is only in the secret connection of each command", () => {
    for (const r of recorder.resources) {
      for (const [key, value] of Object.entries(r.inputs)) {
        if (!r.secretInputs.includes(key)) expect(JSON.stringify(value) ?? "").not.toContain("ZmFrZS1rZXk");
      }
    }
    for (const c of recorder.ofType(COMMAND)) {
      expect(c.secretInputs).toContain("connection");
      expect(c.inputs.connection).toMatchObject({ privateKey: FAKE_PRIVATE_KEY, user: "vagrant", port: 22 });
    }
  });

  test("each host's commands connect to that host with dial retries", () => {
    for (const host of [...MASTERS, ...SLAVES]) {
      for (const c of commandsOf(host.name)) {
        expect(c.inputs.connection).toMatchObject({ host: host.ip, dialErrorLimit: 60, perDialTimeout: 10 });
      }
    }
  });
});

describe("stack outputs", () => {
  test("the stack entry exports only outputs", () => {
    const exported = Object.keys(stack).filter((k) => k !== "default");
    expect(exported.sort()).toEqual(["endpoints", "hosts", "marathonUrls", "mesosUrl", "zkConnectString"]);
  });

  test("URLs, connect string and hosts", async () => {
    expect(await promiseOf(stack.mesosUrl!)).toBe("http://10.10.20.11:5050");
    expect(await promiseOf(stack.marathonUrls!)).toEqual(MASTERS.map((m) => `http://${m.ip}:8080`));
    expect(await promiseOf(stack.zkConnectString!)).toBe(ZK);
    expect(await promiseOf(stack.hosts!)).toEqual([
      ...MASTERS.map((m) => ({ name: m.name, ip: m.ip, role: "master" })),
      ...SLAVES.map((s) => ({ name: s.name, ip: s.ip, role: "slave" })),
    ]);
    expect(await promiseOf(stack.endpoints!)).toEqual({});
  });
});
