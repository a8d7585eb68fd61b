/**
 * The real Pulumi engine on this project, through Pulumi's Automation API: `preview`, `up`, `refresh`,
 * `import` and `destroy` of a stack `engine` that manages apps only, on the Marathon emulator (reached
 * through a proxy that records request headers), then the exact `preview --diff` plan of the dev stack
 * (`hosts: vagrant`). Steps run in order and each builds on the one before. Run with `npm run test:engine`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack, StepEventMetadata } from "@pulumi/pulumi/automation";
import { startEmulator, type MarathonEmulator } from "../../providers/marathon/emulator";
import { EngineSandbox, nameOf, recorded, type EventRecorder } from "../helpers/engine";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy";
import { LeakAudit, marathonCredentialsCanary } from "../helpers/secrets";
import { readStackConfig } from "../helpers/stack-config";

const STACK = "engine";
const DEV_STACK = "engine-dev";
const APP = "rails-app-on-mesos-marathon";
const ADOPTED = "legacy-web";
const APP_TYPE = "pulumi-nodejs:dynamic/marathon:App";
const COMPONENT_TYPE = "mesos-cluster:marathon:MarathonApps";
const STACK_TYPE = "pulumi:pulumi:Stack";
const DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

/** The seed's app, as the dev stack declares it. */
const SEED_APP = (readStackConfig("dev").apps as Record<string, Record<string, unknown>>)[APP];
const credentials = marathonCredentialsCanary();

let sandbox: EngineSandbox;
let stack: Stack;
let marathon: MarathonEmulator;
let proxy: RecordingProxy;
const timings: { step: string; ms: number; operations: string[] }[] = [];
/** Every operation's output and events, in order, for the secrets audit. */
const transcript: { what: string; ms: number; text: string }[] = [];

beforeAll(async () => {
  sandbox = new EngineSandbox({ passphrase: "engine-suite-passphrase" });
  marathon = await startEmulator({ deploymentStepMs: 20 });
  proxy = await startRecordingProxy(marathon.url);
});

afterAll(async () => {
  sandbox?.dispose();
  await proxy?.close();
  await marathon?.close();
  if (timings.length > 0) {
    const rows = timings.map(
      (t) =>
        `${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.step}\n          ${t.operations.join(", ") || "-"}`,
    );
    const total = timings.reduce((sum, t) => sum + t.ms, 0) / 1000;
    console.log(
      `engine suite timings (step, then its engine operations)\n${rows.join("\n")}\ntotal ${total.toFixed(1)} s`,
    );
  }
});

/** One step of the sequence: a test whose duration and engine operations go into the timing table. */
function step(name: string, body: () => Promise<void>, timeoutMs = 180_000): void {
  test(
    name,
    async () => {
      const first = transcript.length;
      const started = Date.now();
      try {
        await body();
      } finally {
        const operations = transcript.slice(first).map((r) => `${r.what} ${(r.ms / 1000).toFixed(1)}s`);
        timings.push({ step: name, ms: Date.now() - started, operations });
      }
    },
    timeoutMs,
  );
}

type Hooks = Parameters<Parameters<typeof recorded>[0]>[0];

/** Runs one engine operation, recording its events and output; throws its error after recording them. */
async function operation(what: string, run: (hooks: Hooks) => Promise<unknown>): Promise<EventRecorder> {
  const { error, record, ms } = await recorded(run);
  transcript.push({ what, ms, text: `${record.stdout}\n${JSON.stringify(record.events)}` });
  if (error !== undefined) throw error;
  return record;
}

/** `pulumi config set-all --json` input: namespaced keys, objects as `pulumi config --json` shows them. */
function configJson(values: Record<string, unknown>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => [
        `mesos-cluster:${key}`,
        typeof value === "string"
          ? { value, secret: false }
          : { value: JSON.stringify(value), objectValue: value, secret: false },
      ]),
    ),
  );
}

interface LiveApp {
  id: string;
  cmd?: string;
  instances: number;
  cpus: number;
  mem: number;
  tasksRunning: number;
  tasks: { host: string; ports: number[]; state?: string }[];
}

const liveApp = (id: string) => marathon.getApp(id) as unknown as LiveApp | undefined;

async function liveAppIds(): Promise<string[]> {
  const response = await fetch(`${marathon.url}/v2/apps`);
  const { apps } = (await response.json()) as { apps: { id: string }[] };
  return apps.map((a) => a.id).sort();
}

async function waitUntil(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The metadata of every step the engine announced (pre-events), in order. */
const announced = (record: EventRecorder): StepEventMetadata[] =>
  record.events.flatMap((e) => (e.resourcePreEvent ? [e.resourcePreEvent.metadata] : []));

/** Inputs without the serialized provider, which is the same code in every step. */
function inputsOf(state: { inputs?: Record<string, unknown> } | undefined): Record<string, unknown> {
  const { __provider: _provider, ...inputs } = state?.inputs ?? {};
  return inputs;
}

/** Top-level keys whose values differ between two objects. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** A step as a reader wants it in a failure message: op, name, the engine's diff and the input changes. */
function describeStep(s: StepEventMetadata) {
  const olds = inputsOf(s.old);
  const news = inputsOf(s.new);
  return {
    op: s.op,
    name: nameOf(s.urn),
    type: s.type,
    detailedDiff: s.detailedDiff ?? null,
    diffs: s.diffs ?? [],
    changedInputs: Object.fromEntries(
      changedKeys(olds, news).map((k) => [k, `${JSON.stringify(olds[k])} => ${JSON.stringify(news[k])}`]),
    ),
    providerChanged: s.old?.inputs?.__provider !== s.new?.inputs?.__provider,
  };
}

/** The state as `pulumi stack export` gives it (secrets as ciphertext). */
const stackExport = () => sandbox.exportState(STACK);

describe(`apps-only stack "${STACK}" on the Marathon emulator`, () => {
  let firstPreview: EventRecorder;

  step("1. stack init, config set, preview plans the stack, MarathonApps and one MarathonApp", async () => {
    stack = await sandbox.createStack(STACK);
    await stack.setAllConfigJson(
      configJson({
        masters: [],
        marathon: { endpoints: [proxy.url], deploymentTimeoutSeconds: 60 },
        apps: { [APP]: SEED_APP },
      }),
    );
    await stack.setConfig("marathonCredentials", { value: credentials.value, secret: true });
    const stored = fs.readFileSync(sandbox.stackFile(STACK), "utf8");
    expect(stored).toMatch(/mesos-cluster:marathonCredentials:\n\s+secure: v1:/);

    firstPreview = await operation("preview", (hooks) => stack.preview(hooks));
    const steps = announced(firstPreview).map((s) => ({ op: s.op, type: s.type, name: nameOf(s.urn) }));
    expect(steps).toEqual([
      { op: "create", type: STACK_TYPE, name: `mesos-cluster-${STACK}` },
      { op: "create", type: COMPONENT_TYPE, name: "apps" },
      // The dynamic provider's default provider, configured with the stack's config.
      { op: "create", type: DYNAMIC_PROVIDER_TYPE, name: "default" },
      { op: "create", type: APP_TYPE, name: `apps-${APP}` },
    ]);
    const app = announced(firstPreview).find((s) => s.type === APP_TYPE)!;
    // Config decoding: the seed's definition reaches the resource with its types (numbers stay numbers).
    expect(inputsOf(app.new)).toEqual({
      ...SEED_APP,
      appId: APP,
      marathonEndpoints: [proxy.url],
      deploymentTimeoutMs: 60_000,
      owner: `mesos-cluster/${STACK}/apps-${APP}`,
    });
    expect(typeof app.new?.inputs?.__provider).toBe("string");
  });

  step("1b. that preview reports no errors and no warnings", () => {
    expect(firstPreview.problems()).toEqual([]);
    return Promise.resolve();
  });

  step("2. up creates the app: Marathon runs 1 task", async () => {
    await operation("up", (hooks) => stack.up(hooks));
    const app = liveApp(`/${APP}`);
    expect(app).toMatchObject({ instances: 1, tasksRunning: 1, cmd: SEED_APP.cmd });
  });

  step("2b. the provider got the secret credentials through configure (Basic auth on every call)", () => {
    const auth = new Set(proxy.headers.map((h) => h.authorization ?? "(none)"));
    expect(proxy.headers.length).toBeGreaterThan(0);
    expect([...auth]).toEqual([`Basic ${Buffer.from(credentials.value).toString("base64")}`]);
    return Promise.resolve();
  });

  step("3. config set instances 3: preview --diff plans one update, instances 1 => 3 only", async () => {
    await stack.setConfig(`apps["${APP}"].instances`, { value: "3" }, true);
    let summary: Record<string, number> = {};
    const plan = await operation("preview --diff", async (hooks) => {
      summary = (await stack.preview({ ...hooks, diff: true })).changeSummary;
    });
    const changes = announced(plan)
      .filter((s) => s.op !== "same")
      .map(describeStep);
    expect(changes.map(({ detailedDiff: _d, diffs: _r, ...change }) => change)).toEqual([
      // The engine hands the dynamic provider the whole stack config, so its default provider takes
      // the new config too; no resource is replaced for it.
      {
        op: "update",
        name: "default",
        type: DYNAMIC_PROVIDER_TYPE,
        changedInputs: {
          [`mesos-cluster:apps`]: expect.stringMatching(/"instances\\":1,.*=>.*"instances\\":3,/),
        },
        providerChanged: false,
      },
      {
        op: "update",
        name: `apps-${APP}`,
        type: APP_TYPE,
        changedInputs: { instances: "1 => 3" },
        providerChanged: false,
      },
    ]);
    // Whatever per-property detail the engine reports on the app names instances alone.
    const app = changes[1];
    const named = [...Object.keys(app.detailedDiff ?? {}), ...app.diffs];
    expect({ named: named.filter((k) => k !== "instances"), step: app }).toEqual({ named: [], step: app });
    // The change summary counts resources, not providers.
    expect(summary).toEqual({ same: 2, update: 1 });
    // What the user reads: the diff names the app and the one changed property.
    expect(plan.stdout).toMatch(/~\s+instances\s*:\s*1\s*=>\s*3/);
  });

  step("4. up scales to 3: Marathon runs 3 tasks and stack output lists their 3 endpoints", async () => {
    await operation("up", (hooks) => stack.up(hooks));
    const app = liveApp(`/${APP}`)!;
    expect(app).toMatchObject({ instances: 3, tasksRunning: 3 });
    const endpoints = (await stack.outputs()).endpoints.value as Record<string, string[]>;
    const live = app.tasks.flatMap((t) => t.ports.map((p) => `${t.host}:${p}`)).sort();
    expect(endpoints[APP]).toHaveLength(3);
    expect(endpoints[APP]).toEqual(live);
    for (const e of endpoints[APP]) expect(e).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  step("4b. the apps-only stack has exactly the outputs that apply to it", async () => {
    expect(Object.keys(await stack.outputs()).sort()).toEqual(["endpoints", "hosts", "marathonUrls"]);
  });

  step("5. a second up changes nothing (every resource same)", async () => {
    await operation("preview --expect-no-changes", (hooks) =>
      stack.preview({ ...hooks, expectNoChanges: true }),
    );
    let changes: Record<string, number> | undefined;
    const up = await operation("up", async (hooks) => {
      changes = (await stack.up(hooks)).summary.resourceChanges;
    });
    expect(up.steps.map((s) => `${s.op} ${s.name}`).sort()).toEqual([
      "same apps",
      `same apps-${APP}`,
      "same default",
      `same mesos-cluster-${STACK}`,
    ]);
    expect(changes).toEqual({ same: 3 });
  });

  step("6. scaled to 2 behind Pulumi's back: refresh shows instances 3 -> 2, up restores 3", async () => {
    marathon.scaleApp(`/${APP}`, 2);
    await waitUntil("the app runs 2 tasks", () => liveApp(`/${APP}`)?.tasksRunning === 2);

    let changes: Record<string, number> | undefined;
    const refresh = await operation("refresh", async (hooks) => {
      changes = (await stack.refresh(hooks)).summary.resourceChanges;
    });
    const refreshed = refresh.events.find(
      (e) =>
        e.resOutputsEvent?.metadata.type === APP_TYPE &&
        nameOf(e.resOutputsEvent.metadata.urn) === `apps-${APP}`,
    )?.resOutputsEvent?.metadata;
    const olds = refreshed?.old?.outputs ?? {};
    const news = refreshed?.new?.outputs ?? {};
    expect({ op: refreshed?.op, instances: [olds.instances, news.instances] }).toEqual({
      op: "update",
      instances: [3, 2],
    });
    // Only the scale and what follows from it drifted; the definition did not.
    const expectedDrift = ["endpoints", "instances", "tasksHealthy", "tasksRunning", "version"];
    expect(changedKeys(olds, news).filter((k) => !expectedDrift.includes(k))).toEqual([]);
    expect(changes).toEqual({ same: 2, update: 1 });

    await operation("up", (hooks) => stack.up(hooks));
    expect(liveApp(`/${APP}`)).toMatchObject({ instances: 3, tasksRunning: 3 });
  });

  step(
    "7. an app made outside Pulumi: import fails (pulumi/pulumi#16175), adopt: true takes it over",
    async () => {
      marathon.createApp({ id: `/${ADOPTED}`, cmd: "sleep 3600", instances: 2, cpus: 0.1, mem: 32 });
      await waitUntil("the outside app runs 2 tasks", () => liveApp(`/${ADOPTED}`)?.tasksRunning === 2);

      const imported = await sandbox.cli([
        "import",
        APP_TYPE,
        ADOPTED,
        `/${ADOPTED}`,
        "--yes",
        "--stack",
        STACK,
      ]);
      transcript.push({ what: "import", ms: 0, text: `${imported.stdout}\n${imported.stderr}` });
      expect(imported.code).not.toBe(0);
      // The engine asks the dynamic-provider host to read with no serialized provider to run.
      expect(`${imported.stdout}\n${imported.stderr}`).toContain("code must be a string, not undefined");
      expect((await stackExport()).resources.filter((r) => r.id === `/${ADOPTED}`)).toEqual([]);
      expect(liveApp(`/${ADOPTED}`)).toMatchObject({ instances: 2, cpus: 0.1, mem: 32 });

      const key = (field: string) => `apps["${ADOPTED}"].${field}`;
      await stack.setConfig(key("cmd"), { value: "sleep 3600" }, true);
      // With a path, the CLI stores "0.2" as text; the program reads numbers given as text.
      await stack.setConfig(key("cpus"), { value: "0.2" }, true);
      await stack.setConfig(key("mem"), { value: "64" }, true);
      await stack.setConfig(key("instances"), { value: "3" }, true);
      await stack.setConfig(key("adopt"), { value: "true" }, true);
      await operation("up", (hooks) => stack.up(hooks));

      expect((await liveAppIds()).filter((id) => id === `/${ADOPTED}`)).toHaveLength(1);
      expect(liveApp(`/${ADOPTED}`)).toMatchObject({
        cmd: "sleep 3600",
        instances: 3,
        cpus: 0.2,
        mem: 64,
        tasksRunning: 3,
      });
      const apps = (await stackExport()).resources.filter((r) => r.type === APP_TYPE);
      expect(apps.map((r) => [nameOf(r.urn), r.id]).sort()).toEqual([
        [`apps-${ADOPTED}`, `/${ADOPTED}`],
        [`apps-${APP}`, `/${APP}`],
      ]);
      expect(apps.find((r) => r.id === `/${ADOPTED}`)?.outputs).toMatchObject({
        instances: 3,
        cpus: 0.2,
        mem: 64,
      });
    },
  );

  step(
    "8. no Marathon password in the state, the provider text, the sandbox files, any event or any output",
    async () => {
      const audit = new LeakAudit([credentials]);
      const exported = await stackExport();
      audit.scan("pulumi stack export", exported.text);
      for (const r of exported.resources.filter((r) => r.type === APP_TYPE)) {
        audit.scan(`__provider of ${nameOf(r.urn)}`, r.inputs?.__provider);
      }
      for (const r of transcript) audit.scan(`events and output of ${r.what}`, r.text);
      for (const file of filesUnder(sandbox.dir)) {
        audit.scan(path.relative(sandbox.dir, file), fs.readFileSync(file, "utf8"));
      }
      expect(audit.leaks).toEqual([]);
      expect(audit.checks).toBeGreaterThan(transcript.length);
      // A secret in an export without --show-secrets is ciphertext only.
      expect(exported.text).not.toMatch(/"plaintext"\s*:/);
    },
  );

  step("9. destroy removes every app from Marathon; stack rm removes the stack", async () => {
    await operation("destroy", (hooks) => stack.destroy(hooks));
    expect(await liveAppIds()).toEqual([]);
    await stack.workspace.removeStack(STACK);
    expect((await stack.workspace.listStacks()).map((s) => s.name)).not.toContain(STACK);
    expect(fs.existsSync(sandbox.stackFile(STACK))).toBe(false);
  });
});

/**
 * The dev stack's whole plan as "op type name": the stack, the default providers, the change guard, the
 * Vagrant machines, each master's packages, ZooKeeper, mesos-master and Marathon steps with their gates,
 * each slave's one step, and the app.
 */
function devPlan(masters: string[], slaves: string[]): string[] {
  const command = (name: string) => `command:remote:Command ${name}`;
  return [
    `${STACK_TYPE} mesos-cluster-${DEV_STACK}`,
    "pulumi:providers:command default_1_2_1",
    `${DYNAMIC_PROVIDER_TYPE} default`,
    "mesos-cluster:vagrant:VagrantMachines vagrant",
    "command:local:Command vagrant-vagrantfile",
    ...[...masters, ...slaves].map((h) => `command:local:Command vagrant-${h}`),
    // The change guard: the cluster's layout, which every host step and machine waits for.
    "pulumi-nodejs:dynamic/cluster:ChangeGuard cluster-changes",
    "mesos-cluster:cluster:MesosCluster mesos",
    "mesos-cluster:zookeeper:ZooKeeperEnsemble mesos-zookeeper",
    ...masters.flatMap((m) => [
      `mesos-cluster:mesos:MesosMaster mesos-${m}`,
      `mesos-cluster:host:HostPackages mesos-${m}-packages`,
      command(`mesos-${m}-packages-install`),
      command(`mesos-zookeeper-${m}-zookeeper`),
      command(`mesos-zookeeper-${m}-zookeeper-ready`),
      command(`mesos-${m}-mesos-master`),
      command(`mesos-${m}-mesos-master-elected`),
      command(`mesos-${m}-marathon`),
      command(`mesos-${m}-marathon-ping`),
    ]),
    ...slaves.flatMap((x) => [
      `mesos-cluster:mesos:MesosSlave mesos-${x}`,
      command(`mesos-${x}-mesos-slave`),
    ]),
    `${COMPONENT_TYPE} apps`,
    `${APP_TYPE} apps-${APP}`,
  ]
    .map((entry) => `create ${entry}`)
    .sort();
}

describe(`the dev stack ("${DEV_STACK}": Pulumi.dev.yaml, hosts: vagrant)`, () => {
  step("preview --diff plans exactly the cluster: every component and step by type and name", async () => {
    const dev = await sandbox.createStack(DEV_STACK, "dev");
    const config = readStackConfig("dev") as { masters: { name: string }[]; slaves: { name: string }[] };
    const plan = await operation("preview --diff (dev)", (hooks) => dev.preview({ ...hooks, diff: true }));
    expect(plan.problems()).toEqual([]);
    const planned = announced(plan).map((s) => `${s.op} ${s.type} ${nameOf(s.urn)}`);
    expect(planned.sort()).toEqual(
      devPlan(
        config.masters.map((m) => m.name),
        config.slaves.map((x) => x.name),
      ),
    );
    // No step hands its create's output (for a machine: its private key) to its delete.
    const commands = announced(plan).filter((s) => s.type.startsWith("command:") && s.new?.inputs?.delete);
    expect(commands.filter((s) => s.new?.inputs?.addPreviousOutputInEnv !== false).map((s) => s.urn)).toEqual(
      [],
    );
    // Each step carries what it will write, e.g. master1's ZooKeeper step its myid and zoo.cfg, and the
    // diff shows it.
    const zookeeper = announced(plan).find((s) => nameOf(s.urn) === "mesos-zookeeper-master1-zookeeper");
    expect(zookeeper?.new?.inputs?.stdin).toContain("server.10=10.10.20.11:2888:3888\nserver.30=");
    expect(plan.stdout).toMatch(/stdin\s+: "10\\ntickTime=2000\\ninitLimit=10\\n\.\.\."/);
    // Preview connects to nothing and creates no machine: the Vagrantfile is not even written.
    expect(fs.existsSync(path.join(sandbox.workDir, ".machines"))).toBe(false);
    await dev.workspace.removeStack(DEV_STACK);
  });
});

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    // The workspace links the project's own files in; they are not the sandbox's.
    if (e.isSymbolicLink()) return [];
    return e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)];
  });
}
