/** The stack program's Marathon apps and Vagrant machines, under mocks, with the dev stack's own config. */
import { loadConfig } from "../../infra/config";
import { definedOutputs, program } from "../../infra/program";
import { settled, setupMocks, type MockRecorder, type RecordedResource } from "../helpers/pulumi";
import { readStackConfig, toPulumiConfig } from "../helpers/stack-config";
import * as pulumi from "@pulumi/pulumi";

const APP_TYPE = "pulumi-nodejs:dynamic/marathon:App";
const RAILS = "rails-app-on-mesos-marathon";
const dev = readStackConfig("dev");

let recorder: MockRecorder;

beforeAll(async () => {
  recorder = await setupMocks();
  pulumi.runtime.setAllConfig(toPulumiConfig(dev));
});

/** Run the program with the dev stack plus `overrides`; returns what was registered. */
async function plan(overrides: Record<string, unknown> = {}): Promise<RecordedResource[]> {
  recorder.clear();
  pulumi.runtime.setAllConfig(toPulumiConfig({ ...dev, ...overrides }));
  program(loadConfig());
  await settled();
  return [...recorder.resources];
}

const withoutProvider = (inputs: Record<string, unknown>) => {
  const { __provider: _provider, ...rest } = inputs;
  return rest;
};

describe("the dev stack's app", () => {
  it("is one MarathonApp with the walkthrough's definition, on every master's Marathon", async () => {
    const apps = (await plan()).filter((r) => r.type === APP_TYPE);
    expect(apps.map((a) => a.name)).toEqual([`apps-${RAILS}`]);
    const app = apps[0];
    expect(withoutProvider(app.inputs)).toMatchObject({
      appId: RAILS,
      cmd: "cd hello && bundle install && RAILS_ENV=production bundle exec unicorn -p 9999",
      uris: ["http://10.10.20.1:8000/hello.tgz"],
      cpus: 0.5,
      mem: 400,
      disk: 0,
      instances: 1,
      marathonEndpoints: ["http://10.10.20.11:8080", "http://10.10.20.12:8080", "http://10.10.20.13:8080"],
      deploymentTimeoutMs: 600000,
    });
    expect(app.parent).toBe("apps");
    expect(typeof app.inputs.__provider).toBe("string");
  });

  it("waits for Marathon to answer on every master and for every agent", async () => {
    const resources = await plan();
    const component = resources.find((r) => r.type === "mesos-cluster:marathon:MarathonApps")!;
    const gates = resources.filter((r) => /^mesos-master\d-marathon-ping$/.test(r.name)).map((r) => r.name);
    expect(gates).toHaveLength(3);
    expect(component.dependsOn).toEqual(expect.arrayContaining(gates));
    const agents = resources.filter((r) => /^mesos-slave\d-mesos-slave$/.test(r.name)).map((r) => r.name);
    expect(agents).toHaveLength(3);
    expect(component.dependsOn).toEqual(expect.arrayContaining(agents));
  });

  it("scaling changes only that app's instances", async () => {
    const before = await plan();
    const after = await plan({
      apps: { [RAILS]: { ...(dev.apps as Record<string, object>)[RAILS], instances: 3 } },
    });
    expect(after.map((r) => r.name)).toEqual(before.map((r) => r.name));
    const changed = after.filter((r, i) => JSON.stringify(r.inputs) !== JSON.stringify(before[i].inputs));
    expect(changed.map((r) => r.name)).toEqual([`apps-${RAILS}`]);
    const [was, now] = [before.find((r) => r.name === `apps-${RAILS}`)!, changed[0]];
    const differing = Object.keys(now.inputs).filter(
      (k) => JSON.stringify(now.inputs[k]) !== JSON.stringify(was.inputs[k]),
    );
    expect(differing).toEqual(["instances"]);
    expect(now.inputs.instances).toBe(3);
  });

  it("passes adopt from the config entry to the resource, and only to that app", async () => {
    const rails = (dev.apps as Record<string, object>)[RAILS];
    const resources = await plan({
      apps: { [RAILS]: { ...rails, adopt: true }, web: { cmd: "python3 -m http.server $PORT0" } },
    });
    const apps = resources.filter((r) => r.type === APP_TYPE);
    expect(apps.find((a) => a.name === `apps-${RAILS}`)!.inputs.adopt).toBe(true);
    expect(apps.find((a) => a.name === "apps-web")!.inputs.adopt).toBeUndefined();
  });

  it("rejects an adopt that is not true or false before registering anything", () => {
    const rails = (dev.apps as Record<string, object>)[RAILS];
    pulumi.runtime.setAllConfig(toPulumiConfig({ ...dev, apps: { [RAILS]: { ...rails, adopt: "yes" } } }));
    expect(() => loadConfig()).toThrow(`apps["${RAILS}"].adopt must be true or false, got "yes"`);
  });

  it("adds one resource per app, named by app id", async () => {
    const resources = await plan({
      apps: { ...(dev.apps as object), "web/api": { cmd: "python3 -m http.server $PORT0", instances: 2 } },
    });
    expect(
      resources
        .filter((r) => r.type === APP_TYPE)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`apps-${RAILS}`, "apps-web-api"]);
  });
});

describe("an existing Marathon without hosts", () => {
  it("registers only the apps, against the given endpoints", async () => {
    const resources = await plan({
      masters: [],
      slaves: [],
      marathon: { endpoints: ["http://127.0.0.1:18080"] },
    });
    expect(resources.filter((r) => r.type.startsWith("command:"))).toEqual([]);
    const app = resources.find((r) => r.type === APP_TYPE)!;
    expect(app.inputs.marathonEndpoints).toEqual(["http://127.0.0.1:18080"]);
    expect(resources.find((r) => r.type === "mesos-cluster:marathon:MarathonApps")!.dependsOn).toEqual([]);
  });

  it("has no Mesos or ZooKeeper outputs, rather than undefined ones", () => {
    pulumi.runtime.setAllConfig(
      toPulumiConfig({
        ...dev,
        masters: [],
        slaves: [],
        marathon: { endpoints: ["http://127.0.0.1:18080"] },
      }),
    );
    expect(Object.keys(definedOutputs(program(loadConfig()))).sort()).toEqual([
      "endpoints",
      "hosts",
      "marathonUrls",
    ]);
  });
});

describe("Vagrant machines", () => {
  it("one `vagrant up` per host after the Vagrantfile, its key kept secret in the connections", async () => {
    const resources = await plan();
    const local = resources.filter((r) => r.type === "command:local:Command");
    expect(local.map((r) => r.name)).toEqual([
      "vagrant-vagrantfile",
      ...["master1", "master2", "master3", "slave1", "slave2", "slave3"].map((n) => `vagrant-${n}`),
    ]);
    const file = local[0];
    expect(file.inputs.stdin).toContain('"slave3" => { ip: "10.10.20.16"');
    expect(file.inputs.environment).toMatchObject({ VAGRANT_CHECKPOINT_DISABLE: "1" });
    for (const machine of local.slice(1)) {
      expect(machine.dependsOn).toContain("vagrant-vagrantfile");
      const name = machine.name.slice("vagrant-".length);
      expect(String(machine.inputs.create)).toMatch(/^set -e\nvagrant up '\w+' --provider=virtualbox >&2\n/);
      // The destroy brings a Vagrantfile with this machine only: the stack's may no longer define it.
      const destroy = String(machine.inputs.delete);
      expect(destroy).toContain(`vagrant destroy -f '${name}' >&2`);
      expect(destroy.match(/^ {2}"\w+" => \{ ip: "[\d.]+"/gm)).toEqual([
        `  "${name}" => { ip: "${(machine.inputs.triggers as string[])[0]}"`,
      ]);
    }
    const zooKeeper = resources.find((r) => r.name === "mesos-zookeeper-master2-zookeeper")!;
    expect(zooKeeper.secretInputs).toContain("connection");
    expect(zooKeeper.inputs.connection).toMatchObject({ host: "10.10.20.12", user: "vagrant", port: 22 });
    expect(zooKeeper.dependsOn).toContain("vagrant-master2");
  });

  it("adding a slave adds exactly one machine and changes no other machine", async () => {
    const before = (await plan()).filter((r) => r.type === "command:local:Command");
    const after = (
      await plan({ slaves: [...(dev.slaves as object[]), { name: "slave4", ip: "10.10.20.17" }] })
    ).filter((r) => r.type === "command:local:Command");
    expect(after.map((r) => r.name)).toEqual([...before.map((r) => r.name), "vagrant-slave4"]);
    const changed = after
      .filter((r, i) => i < before.length && JSON.stringify(r.inputs) !== JSON.stringify(before[i].inputs))
      .map((r) => r.name);
    expect(changed).toEqual(["vagrant-vagrantfile"]);
  });
});
