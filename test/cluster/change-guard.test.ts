/**
 * The change guard's rules (infra/changes.ts) and its provider's `check`: which changes of a running
 * cluster are refused (with the key and the safe sequence), which pass, and what they announce.
 */
import { changeNotices, changeProblems, type ClusterLayout } from "../../infra/changes";
import { changeGuardProvider } from "../../infra/guard";
import { zooKeeperSettings } from "./fixtures";

const M = (n: number, zkId = n) => ({ name: `master${n}`, ip: `10.0.0.1${n}`, zkId });
const S = (n: number) => ({ name: `slave${n}`, ip: `10.0.0.2${n}` });

function layout(overrides: Partial<ClusterLayout> = {}): ClusterLayout {
  return {
    hosts: "existing",
    masters: [M(1), M(2), M(3)],
    slaves: [S(1), S(2)],
    zookeeper: zooKeeperSettings(true),
    agent: { attributes: {}, resources: {} },
    ...overrides,
  };
}
const zk = (overrides: Partial<ClusterLayout["zookeeper"]>) => ({ ...layout().zookeeper, ...overrides });
const properties = (old: ClusterLayout, next: ClusterLayout) =>
  changeProblems(old, next).map((p) => p.property);

describe("allowed", () => {
  test.each<[string, ClusterLayout]>([
    ["no change", layout()],
    [
      "a master renamed, same address and id",
      layout({ masters: [{ ...M(1), name: "master1b" }, M(2), M(3)] }),
    ],
    ["a slave renamed, same address", layout({ slaves: [{ ...S(1), name: "slave1b" }, S(2)] })],
    [
      "a slave moved to a new address under a new name",
      layout({ slaves: [{ name: "slave9", ip: "10.0.0.29" }, S(2)] }),
    ],
    ["3 -> 5 masters with reconfiguration", layout({ masters: [M(1), M(2), M(3), M(4), M(5)] })],
    ["one master removed", layout({ masters: [M(1), M(2)] })],
    ["a ZooKeeper setting", layout({ zookeeper: zk({ tickTime: 3000 }) })],
    ["a dataDir", layout({ zookeeper: zk({ dataDir: "/data/zookeeper" }) })],
    ["reconfiguration turned on, alone", layout({ zookeeper: zk({ reconfigEnabled: false }) })],
    ["agent attributes", layout({ agent: { attributes: { rack: "r2" }, resources: {} } })],
  ])("%s", (_name, next) => {
    expect(changeProblems(layout(), next)).toEqual([]);
  });

  test("the first up: anything", () => {
    expect(changeProblems(undefined, layout({ hosts: "vagrant" }))).toEqual([]);
  });

  test("5 -> 3 masters with reconfiguration", () => {
    const five = layout({ masters: [M(1), M(2), M(3), M(4), M(5)] });
    expect(changeProblems(five, layout())).toEqual([]);
  });
});

describe("refused, naming the key and the safe sequence", () => {
  test("a host's address changes under the same name", () => {
    const [problem] = changeProblems(
      layout(),
      layout({ masters: [M(1), { ...M(2), ip: "10.0.0.99" }, M(3)] }),
    );
    expect(problem.property).toBe("masters[1].ip");
    expect(problem.reason).toContain("master2 moves from 10.0.0.12 to 10.0.0.99, but a host is its address");
    expect(problem.reason).toContain("remove the master in one up and add it back in the next");
  });

  test("an address moves from the masters to the slaves", () => {
    const next = layout({ masters: [M(1), M(2)], slaves: [S(1), S(2), { name: "worker", ip: M(3).ip }] });
    const problems = changeProblems(layout(), next);
    expect(problems.map((p) => p.property)).toEqual(["slaves[2]"]);
    expect(problems[0].reason).toContain(
      "Remove it from the masters in one up, then add it to the slaves in the next",
    );
  });

  test("with Vagrant, a rename (it would be a second machine with the same address)", () => {
    const vagrant = { provider: "lxc", box: "b", directory: ".machines" };
    const old = layout({ hosts: "vagrant", vagrant });
    const next = layout({ hosts: "vagrant", vagrant, masters: [{ ...M(1), name: "master1b" }, M(2), M(3)] });
    const [problem] = changeProblems(old, next);
    expect(problem.property).toBe("masters[0].name");
    expect(problem.reason).toContain(
      "remove master1 in one up and add master1b in the next (one master at a time)",
    );
  });

  test("a master's ZooKeeper id changes", () => {
    const [problem] = changeProblems(layout(), layout({ masters: [M(1), M(2, 7), M(3)] }));
    expect(problem).toEqual({
      property: "masters[1].zkId",
      reason: expect.stringContaining(
        "Remove master2 from masters in one up (the ensemble drops server 2), then add it back with zkId 7 in the next",
      ),
    });
  });

  test("a ZooKeeper id moves to another address in one up", () => {
    const next = layout({ masters: [M(1), M(2), { name: "master9", ip: "10.0.0.19", zkId: 3 }] });
    expect(properties(layout(), next)).toEqual(["masters[2].zkId"]);
  });

  test("masters change without reconfiguration, or while it is being turned on", () => {
    const five = [M(1), M(2), M(3), M(4), M(5)];
    const off = layout({ zookeeper: zk({ reconfigEnabled: false }) });
    for (const [old, next] of [
      [off, layout({ masters: five, zookeeper: zk({ reconfigEnabled: false }) })],
      [off, layout({ masters: five })],
    ]) {
      const [problem] = changeProblems(old, next);
      expect(problem.property).toBe("masters");
      expect(problem.reason).toContain(
        "Set zookeeper.reconfigEnabled to true in an up of its own first (one member restarts at a time), then change the masters",
      );
    }
  });

  test("masters and a ZooKeeper setting in the same up", () => {
    const next = layout({ masters: [M(1), M(2), M(3), M(4)], zookeeper: zk({ dataDir: "/data" }) });
    expect(changeProblems(layout(), next)[0].reason).toContain(
      "Change the masters and the ZooKeeper settings in separate ups",
    );
  });

  test("removing a majority of the masters, or adding more than run", () => {
    expect(changeProblems(layout(), layout({ masters: [M(1)] }))[0].reason).toContain(
      "Remove at most 1 master(s) per up",
    );
    const one = layout({ masters: [M(1)] });
    expect(changeProblems(one, layout())[0].reason).toContain("Add at most 1 master(s) per up");
    expect(changeProblems(one, layout({ masters: [M(1), M(2)] }))).toEqual([]);
  });

  test.each(["provider", "box", "directory"] as const)("vagrant.%s while the machines run", (key) => {
    const vagrant = { provider: "lxc", box: "b", directory: ".machines" };
    const old = layout({ hosts: "vagrant", vagrant });
    const [problem] = changeProblems(
      old,
      layout({ hosts: "vagrant", vagrant: { ...vagrant, [key]: "other" } }),
    );
    expect(problem.property).toBe(`vagrant.${key}`);
    expect(problem.reason).toContain(`run pulumi destroy, change vagrant.${key}, and run pulumi up`);
  });

  test("hosts existing -> vagrant while the cluster runs", () => {
    const next = layout({ hosts: "vagrant", vagrant: { provider: "lxc", box: "b", directory: ".machines" } });
    expect(properties(layout(), next)).toEqual(["hosts"]);
  });
});

describe("notices", () => {
  test("an agent attribute: the agents restart without their agent info and their tasks restart", () => {
    const [notice] = changeNotices(
      layout(),
      layout({ agent: { attributes: { rack: "r2" }, resources: {} } }),
    );
    expect(notice).toBe(
      "mesos.attributes changes: mesos-slave restarts on slave1, slave2 without its checkpointed agent info " +
        "(<work_dir>/meta/slaves/latest), so each registers as a new agent and the tasks running there are " +
        "restarted (Marathon launches them again)",
    );
  });

  test("a rename, a dataDir, a ZooKeeper setting, the ensemble", () => {
    expect(changeNotices(layout(), layout({ masters: [{ ...M(1), name: "master1b" }, M(2), M(3)] }))).toEqual(
      [expect.stringContaining("master1 is renamed master1b (same address 10.0.0.11)")],
    );
    expect(changeNotices(layout(), layout({ zookeeper: zk({ dataDir: "/data" }) }))).toEqual([
      expect.stringContaining("its data is copied to the new directory (the old one is kept)"),
    ]);
    expect(changeNotices(layout(), layout({ zookeeper: zk({ tickTime: 4000 }) }))).toEqual([
      expect.stringContaining("zookeeper.tickTime change: ZooKeeper restarts on one master at a time"),
    ]);
    expect(changeNotices(layout(), layout({ masters: [M(1), M(2), M(3), M(4), M(5)] }))).toEqual([
      expect.stringContaining("from servers 1, 2, 3 to 1, 2, 3, 4, 5 by dynamic reconfiguration"),
    ]);
  });

  test("none on the first up or without a change", () => {
    expect(changeNotices(undefined, layout())).toEqual([]);
    expect(changeNotices(layout(), layout())).toEqual([]);
  });
});

describe("the provider's check", () => {
  test("refuses with failures, and passes with the notices added to the inputs", async () => {
    const olds = { ...layout(), notices: [] };
    const refused = await changeGuardProvider.check(olds, {
      ...layout({ masters: [M(1), M(2, 9), M(3)] }),
      notices: [],
    });
    expect(refused.failures?.map((f) => f.property)).toEqual(["masters[1].zkId"]);
    expect(refused.inputs).toBeUndefined();

    const next = layout({ agent: { attributes: { rack: "r1" }, resources: {} } });
    const passed = await changeGuardProvider.check(olds, { ...next, notices: [] });
    expect(passed.failures).toBeUndefined();
    expect(passed.inputs).toEqual({
      ...next,
      notices: [expect.stringContaining("mesos.attributes changes")],
    });
  });

  test("the first check (no old inputs) passes anything", async () => {
    const passed = await changeGuardProvider.check({}, { ...layout(), notices: [] });
    expect(passed.inputs?.notices).toEqual([]);
  });
});
