/** What a config change does to the plan: which steps are added, and which steps' inputs change. */
import * as pulumi from "@pulumi/pulumi";
import { program } from "../../infra/program";
import { loadConfig } from "../../infra/config";
import { MesosCluster } from "../../infra/cluster";
import { settled, setupMocks, type MockRecorder } from "../helpers/pulumi";
import { MASTERS, SLAVES, filesWritten, scriptOf, setDevConfig } from "./fixtures";

let recorder: MockRecorder;

beforeAll(async () => {
  recorder = await setupMocks();
  setDevConfig();
  await settled();
});

/** Run the program with the dev config plus `overrides`; returns each resource's inputs by name. */
async function plan(overrides: Record<string, unknown> = {}): Promise<Map<string, string>> {
  recorder.clear();
  setDevConfig(overrides);
  program(loadConfig());
  await settled();
  return new Map(recorder.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
}

function changedNames(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()]
    .filter((k) => before.has(k) && before.get(k) !== after.get(k))
    .map((k) => k.split("::")[1]);
}

test("adding two slaves adds exactly their resources and changes or renames nothing but the recorded layout", async () => {
  const before = await plan();
  const after = await plan({
    slaves: [...SLAVES, { name: "slave4", ip: "10.10.20.17" }, { name: "slave5", ip: "10.10.20.18" }],
  });
  const added = [...after.keys()].filter((k) => !before.has(k)).map((k) => k.split("::")[1]);
  expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
  // The change guard records the layout (with the new slaves); no host step changes.
  expect(changedNames(before, after)).toEqual(["cluster-changes"]);
  // Per new slave: the MesosSlave and its one step.
  expect(added.length).toBe(2 * 2);
  for (const name of added) expect(name).toMatch(/^mesos-slave[45](-|$)/);
});

/** The files a step writes, by path. */
const filesOf = (step: string) => filesWritten([recorder.byName(step)]);

test("changing the quorum changes only each master's mesos-master step (its quorum file) and election gate", async () => {
  const before = await plan();
  const quorum2 = filesOf("mesos-master2-mesos-master");
  const after = await plan({ quorum: 3 });
  expect(changedNames(before, after).sort()).toEqual(
    MASTERS.flatMap((m) => [`mesos-${m.name}-mesos-master`, `mesos-${m.name}-mesos-master-elected`]).sort(),
  );
  expect(filesOf("mesos-master2-mesos-master")).toEqual({ ...quorum2, "/etc/mesos-master/quorum": "3\n" });
});

test("master flags add one file each on every master and touch only the mesos-master steps", async () => {
  const before = await plan();
  const without = filesOf("mesos-master1-mesos-master");
  const after = await plan({
    mesos: { masterFlags: { log_auto_initialize: false, work_dir: "/var/lib/mesos" } },
  });
  expect([...after.keys()].filter((k) => !before.has(k))).toEqual([]);
  expect(changedNames(before, after).sort()).toEqual(
    MASTERS.flatMap((m) => [`mesos-${m.name}-mesos-master`, `mesos-${m.name}-mesos-master-elected`]).sort(),
  );
  expect(filesOf("mesos-master1-mesos-master")).toEqual({
    ...without,
    "/etc/mesos-master/?no-log_auto_initialize": "",
    "/etc/mesos-master/work_dir": "/var/lib/mesos\n",
  });
});

test("env-file Marathon writes one /etc/default/marathon with MARATHON_* variables", async () => {
  await plan({ marathon: { configStyle: "env-file", httpPort: 8081, flags: { checkpoint: true } } });
  expect(filesOf("mesos-master3-marathon")).toEqual({
    "/etc/default/marathon": [
      "MARATHON_MASTER=zk://10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181/mesos",
      "MARATHON_ZK=zk://10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181/marathon",
      "MARATHON_HOSTNAME=10.10.20.13",
      "MARATHON_HTTP_PORT=8081",
      "MARATHON_CHECKPOINT=",
      "LIBPROCESS_IP=10.10.20.13",
      "",
    ].join("\n"),
  });
});

test.each([
  ["systemd", "systemctl mask mesos-slave.service", "systemctl restart mesos-master.service"],
  ["sysv", "update-rc.d mesos-slave disable", "service mesos-master restart"],
])("%s hosts disable and restart services with their own commands", async (initSystem, disable, restart) => {
  await plan({ initSystem });
  const mesosMaster = scriptOf(recorder.byName("mesos-master1-mesos-master").inputs.create);
  expect(mesosMaster).toContain(disable);
  expect(mesosMaster).toContain(restart);
  expect(
    filesWritten(recorder.resources.filter((r) => r.name.startsWith("mesos-slave1-"))),
  ).not.toHaveProperty("/etc/init/zookeeper.override");
});

test("leaving apt alone drops the apt source and keeps the install", async () => {
  await plan({
    packages: { manageSource: false, mesos: { install: true, version: "1.0.1-2.0.93.ubuntu1404" } },
  });
  const packages = scriptOf(recorder.byName("mesos-slave1-mesos-slave").inputs.create);
  expect(packages).not.toContain("apt-key");
  expect(packages).not.toContain("/etc/apt/sources.list.d/");
  expect(packages).toContain("for spec in 'mesos=1.0.1-2.0.93.ubuntu1404'; do");
});

test("running as root drops sudo", async () => {
  await plan({ ssh: { user: "root", privateKey: "k" } });
  expect(String(recorder.byName("mesos-master1-mesos-master").inputs.create)).toMatch(/^bash -c /);
  await plan();
  expect(String(recorder.byName("mesos-master1-mesos-master").inputs.create)).toMatch(/^sudo -n bash -c /);
});

describe("misuse of MesosCluster", () => {
  const base = () => {
    const config = loadConfig();
    return { ...config, connections: { master1: { host: "10.10.20.11" } } };
  };

  test("a host without a connection is a ResourceError naming the hosts", () => {
    setDevConfig();
    expect(() => new MesosCluster("bad", { ...base(), slaves: [] })).toThrow(
      "connections has no entry for host(s) master2, master3",
    );
  });

  test("a quorum that is not a strict majority is a ResourceError", () => {
    setDevConfig();
    const args = { ...base(), masters: [MASTERS[0]], slaves: [], quorum: 2 };
    expect(() => new MesosCluster("bad", args)).toThrow(pulumi.ResourceError);
    expect(() => new MesosCluster("bad2", args)).toThrow("quorum must be from 1 to 1 for 1 masters, got 2");
  });
});
