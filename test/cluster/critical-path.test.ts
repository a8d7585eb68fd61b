/** Provisioning order at scale: the critical path does not grow with the slaves, which wait for ZooKeeper. */
import { program } from "../../infra/program";
import { loadConfig } from "../../infra/config";
import { dependencyGraph, longestChain, longestChains } from "../helpers/graph";
import { settled, setupMocks, type RecordedResource } from "../helpers/pulumi";
import { scaledCluster, slaveNodes } from "../helpers/scale";
import { MASTERS, setDevConfig } from "./fixtures";

const COMMAND = "command:remote:Command";
const zkReady = MASTERS.map((m) => `mesos-zookeeper-${m.name}-zookeeper-ready`);

let small: RecordedResource[];
let large: RecordedResource[];

beforeAll(async () => {
  const recorder = await setupMocks();
  setDevConfig(scaledCluster(3));
  program(loadConfig());
  await settled();
  small = [...recorder.resources];
  recorder.clear();
  setDevConfig(scaledCluster(20));
  program(loadConfig());
  await settled();
  large = [...recorder.resources];
});

describe("the program", () => {
  test("registers 3 and 20 slaves", () => {
    const slaves = (rs: RecordedResource[]) => rs.filter((r) => r.type === "mesos-cluster:mesos:MesosSlave");
    expect(slaves(small)).toHaveLength(3);
    expect(slaves(large)).toHaveLength(20);
  });

  test("has a critical path of the same length with 3 and 20 slaves", () => {
    const path = longestChain(small);
    expect(path.length).toBeGreaterThan(0);
    expect(longestChain(large)).toHaveLength(path.length);
  });

  test.each(slaveNodes(20).map((s) => s.name))(
    "%s starts mesos-slave only after the whole ensemble is ready",
    (slave) => {
      const service = `mesos-${slave}-mesos-slave`;
      const chain = longestChain(large, (r) => r.parent === `mesos-${slave}`);
      expect(chain[chain.length - 1]).toBe(service);
      expect(chain.some((step) => zkReady.includes(step))).toBe(true);

      const graph = dependencyGraph(large);
      const before = new Set<string>();
      const pending = [service];
      for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        for (const dep of graph.get(next) ?? []) {
          if (!before.has(dep)) pending.push(dep);
          before.add(dep);
        }
      }
      for (const gate of zkReady) expect(before.has(gate)).toBe(true);
    },
  );
});

describe("longestChains", () => {
  const record = (name: string, more: Partial<RecordedResource> = {}): RecordedResource => ({
    type: COMMAND,
    name,
    custom: true,
    inputs: {},
    secretInputs: [],
    dependsOn: [],
    deleteBeforeReplace: false,
    ...more,
  });
  const component = (name: string, more: Partial<RecordedResource> = {}) =>
    record(name, { type: "test:index:Group", custom: false, ...more });

  test("a dependency on a component waits for every step under it, nested ones too", () => {
    const chains = longestChains([
      component("group"),
      component("inner", { parent: "group" }),
      record("a", { parent: "group" }),
      record("b", { parent: "inner", dependsOn: ["a"] }),
      record("after", { dependsOn: ["group"] }),
    ]);
    expect(chains.get("after")).toEqual(["a", "b", "after"]);
    expect(chains.has("group")).toBe(false);
  });

  test("a step waits for what its parent component waits for", () => {
    const chains = longestChains([
      record("first"),
      component("group", { dependsOn: ["first"] }),
      record("child", { parent: "group" }),
    ]);
    expect(chains.get("child")).toEqual(["first", "child"]);
  });

  test("resources that are not steps pass the wait on but are not counted", () => {
    const chains = longestChains([
      record("first"),
      record("app", { type: "pulumi-nodejs:dynamic:Resource", dependsOn: ["first"] }),
      record("last", { type: "command:local:Command", dependsOn: ["app"] }),
    ]);
    expect(chains.get("last")).toEqual(["first", "last"]);
    expect(chains.get("app")).toEqual(["first"]);
  });

  test("refuses cycles, repeated names and unrecorded dependencies", () => {
    expect(() =>
      longestChains([record("a", { dependsOn: ["b"] }), record("b", { dependsOn: ["a"] })]),
    ).toThrow("dependency cycle through a");
    expect(() => longestChains([record("a"), record("a")])).toThrow("two resources are named a");
    expect(() => longestChains([record("a", { dependsOn: ["gone"] })])).toThrow(
      "a dependency on gone, which was not recorded",
    );
  });
});
