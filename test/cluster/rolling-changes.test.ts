/**
 * How the program orders changes of a running cluster (under mocks): every step waits for the change
 * guard; ZooKeeper, mesos-master and Marathon change on one master at a time, in config order; with
 * reconfiguration, one more step sets the ensemble's members once every member is up; a converge stamp
 * updates every host step (its script) and replaces none.
 */
import { program } from "../../infra/program";
import { loadConfig } from "../../infra/config";
import { dependencyGraph } from "../helpers/graph";
import { settled, setupMocks, type MockRecorder, type RecordedResource } from "../helpers/pulumi";
import { MASTERS, scriptOf, setDevConfig } from "./fixtures";

const COMMAND = "command:remote:Command";
const GUARD = "cluster-changes";
let recorder: MockRecorder;

beforeAll(async () => {
  recorder = await setupMocks();
});

async function plan(overrides: Record<string, unknown> = {}): Promise<RecordedResource[]> {
  recorder.clear();
  setDevConfig(overrides);
  program(loadConfig());
  await settled();
  return [...recorder.resources];
}

/** Everything `name` waits for, directly or not. */
function before(resources: RecordedResource[], name: string): Set<string> {
  const graph = dependencyGraph(resources);
  const seen = new Set<string>();
  const pending = [name];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const dep of graph.get(next) ?? []) {
      if (!seen.has(dep)) pending.push(dep);
      seen.add(dep);
    }
  }
  return seen;
}

test("the change guard is a dynamic resource of the cluster's layout, and every step waits for it", async () => {
  const resources = await plan({ hosts: "vagrant" });
  const guard = recorder.byName(GUARD);
  expect(guard.type).toBe("pulumi-nodejs:dynamic/cluster:ChangeGuard");
  expect(guard.inputs).toMatchObject({
    hosts: "vagrant",
    vagrant: { provider: "virtualbox", box: "ubuntu/trusty64", directory: ".machines" },
    masters: MASTERS,
    zookeeper: { reconfigEnabled: false, dataDir: "/var/lib/zookeeper" },
    agent: { attributes: {}, resources: {} },
  });
  const steps = resources.filter((r) => r.type.startsWith("command:"));
  expect(steps.length).toBeGreaterThan(20);
  for (const step of steps)
    expect({ step: step.name, guarded: before(resources, step.name).has(GUARD) }).toEqual({
      step: step.name,
      guarded: true,
    });
});

test.each(["zookeeper", "mesos-master", "marathon"])(
  "%s changes on one master at a time, in config order",
  async (service) => {
    const resources = await plan();
    const stepOf = (master: string) =>
      service === "zookeeper" ? `mesos-zookeeper-${master}-zookeeper` : `mesos-${master}-${service}`;
    const [m1, m2, m3] = MASTERS.map((m) => stepOf(m.name));
    expect(recorder.byName(m2).dependsOn).toContain(m1);
    expect(recorder.byName(m3).dependsOn).toContain(m2);
    expect(before(resources, m1).has(m2)).toBe(false);
    // A restart waits for the service to answer before the step ends (and the next master's begins).
    const probe = { zookeeper: "printf srvr", "mesos-master": "GET /redirect", marathon: "GET /ping" }[
      service
    ];
    expect(scriptOf(recorder.byName(m2).inputs.create)).toContain(probe);
  },
);

test("an agent's step waits for it to serve /state after a restart, and resets its agent info when that changes", async () => {
  await plan();
  const plain = scriptOf(recorder.byName("mesos-slave1-mesos-slave").inputs.create);
  expect(plain).toContain("GET /state");
  await plan({ mesos: { attributes: { rack: "r2" } } });
  const changed = scriptOf(recorder.byName("mesos-slave1-mesos-slave").inputs.create);
  // The digest of the agent info the agent was last started with is compared with this one.
  const digest = (script: string) => /\[ "\$before" != ([0-9a-f]{16}) \]/.exec(script)?.[1];
  expect(changed).toContain('rm -f "$work_dir/meta/slaves/latest"');
  expect(digest(plain)).toMatch(/^[0-9a-f]{16}$/);
  expect(digest(changed)).toMatch(/^[0-9a-f]{16}$/);
  expect(digest(changed)).not.toBe(digest(plain));
});

describe("with zookeeper.reconfigEnabled", () => {
  test("one step on the first master sets the members, after every member's gate; mesos-master waits for it", async () => {
    const resources = await plan({ zookeeper: { reconfigEnabled: true } });
    const members = recorder.byName("mesos-zookeeper-members");
    expect(members.type).toBe(COMMAND);
    expect((members.inputs.connection as { host: string }).host).toBe(MASTERS[0].ip);
    for (const m of MASTERS) {
      expect(members.dependsOn).toContain(`mesos-zookeeper-${m.name}-zookeeper-ready`);
      expect(before(resources, `mesos-${m.name}-mesos-master`).has("mesos-zookeeper-members")).toBe(true);
    }
    expect(String(members.inputs.stdin)).toBe(
      MASTERS.map((m) => `server.${m.zkId}=${m.ip}:2888:3888:participant;0.0.0.0:2181\n`).join(""),
    );
  });

  test("without it, there is no members step and zoo.cfg lists the servers", async () => {
    await plan();
    expect(recorder.resources.map((r) => r.name)).not.toContain("mesos-zookeeper-members");
    expect(String(recorder.byName("mesos-zookeeper-master1-zookeeper").inputs.stdin)).toContain(
      "server.10=10.10.20.11:2888:3888\n",
    );
  });
});

test("a converge stamp changes every host step's script and nothing else: updates, no replacement", async () => {
  const plain = await plan({ zookeeper: { reconfigEnabled: true } });
  const stamped = await plan({ zookeeper: { reconfigEnabled: true }, converge: "2024-05-01T10.00" });
  const commands = (rs: RecordedResource[]) =>
    new Map(rs.filter((r) => r.type === COMMAND).map((r) => [r.name, r.inputs]));
  const [a, b] = [commands(plain), commands(stamped)];
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, inputs] of a) {
    const after = b.get(name)!;
    const changedKeys = Object.keys({ ...inputs, ...after }).filter(
      (k) => JSON.stringify(inputs[k]) !== JSON.stringify(after[k]),
    );
    // `create` (and `delete`) carry the stamp; `triggers`, which would replace the step, do not.
    expect({ name, changedKeys: changedKeys.filter((k) => k !== "delete") }).toEqual({
      name,
      changedKeys: ["create"],
    });
    expect(scriptOf(after.create)).toContain(": converge '2024-05-01T10.00'");
  }
});
