/**
 * The real Pulumi engine on this project: the CLI of `.tools/bin` runs `preview`, `up`, `refresh`,
 * `import`, `destroy` on a stack `engine` that manages apps only, on the Marathon emulator (reached through
 * a proxy that records request headers), then tries the dev stack's preview. Steps run in order and each
 * builds on the one before. Run with `npm run test:engine`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startEmulator, type MarathonEmulator } from "../../providers/marathon/emulator";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy";
import { LeakAudit, holds, marathonCredentialsCanary, sshKeyCanary } from "../helpers/secrets";
import { readStackConfig } from "../helpers/stack-config";
import {
  PROJECT_ROOT,
  PulumiSandbox,
  eventsOf,
  nameOf,
  previewOf,
  problems,
  verbOf,
  type CliResult,
  type PreviewStep,
  type ResourceState,
} from "./cli";

const STACK = "engine";
const DEV_STACK = "engine-dev";
const APP = "rails-app-on-mesos-marathon";
const ADOPTED = "legacy-web";
const APP_TYPE = "pulumi-nodejs:dynamic/marathon:App";
const COMPONENT_TYPE = "mesos-cluster:marathon:MarathonApps";
const STACK_TYPE = "pulumi:pulumi:Stack";
const COMMAND_TYPE = "command:remote:Command";

/** The seed's app, as the dev stack declares it. */
const SEED_APP = (readStackConfig("dev").apps as Record<string, Record<string, unknown>>)[APP];
const credentials = marathonCredentialsCanary();

let sandbox: PulumiSandbox;
let marathon: MarathonEmulator;
let proxy: RecordingProxy;
const timings: { step: string; ms: number; commands: string[] }[] = [];

beforeAll(async () => {
  sandbox = PulumiSandbox.create("engine-suite-passphrase");
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
        `${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.step}\n          ${t.commands.join(", ") || "-"}`,
    );
    const total = timings.reduce((sum, t) => sum + t.ms, 0) / 1000;
    console.log(
      `engine suite timings (step, then its pulumi commands)\n${rows.join("\n")}\ntotal ${total.toFixed(1)} s`,
    );
  }
});

/** One step of the sequence: a test whose duration and pulumi commands go into the timing table. */
function step(name: string, body: () => Promise<void>, timeoutMs = 180_000): void {
  test(
    name,
    async () => {
      const first = sandbox.transcript.length;
      const started = Date.now();
      try {
        await body();
      } finally {
        const commands = sandbox.transcript
          .slice(first)
          .map((r) => `${verbOf(r)} ${(r.ms / 1000).toFixed(1)}s`);
        timings.push({ step: name, ms: Date.now() - started, commands });
      }
    },
    timeoutMs,
  );
}

const cli = (args: string[], options?: Parameters<PulumiSandbox["run"]>[1]) =>
  sandbox.ok([...args, ...sandbox.stackArgs(STACK)], options);

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

/** Inputs without the serialized provider, which is the same code in every step. */
function inputsOf(state: ResourceState | undefined): Record<string, unknown> {
  const { __provider: _provider, ...inputs } = state?.inputs ?? {};
  return inputs;
}

/** Top-level keys whose values differ between two objects. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** A step as a reader wants it in a failure message: op, name, the engine's diff and the input changes. */
function describeStep(s: PreviewStep) {
  const olds = inputsOf(s.oldState);
  const news = inputsOf(s.newState);
  return {
    op: s.op,
    name: nameOf(s.urn),
    type: s.newState?.type ?? s.oldState?.type,
    detailedDiff: s.detailedDiff ?? null,
    diffReasons: s.diffReasons ?? [],
    replaceReasons: s.replaceReasons ?? [],
    changedInputs: Object.fromEntries(
      changedKeys(olds, news).map((k) => [k, `${JSON.stringify(olds[k])} => ${JSON.stringify(news[k])}`]),
    ),
    providerChanged: s.oldState?.inputs?.__provider !== s.newState?.inputs?.__provider,
  };
}

async function stackExport(): Promise<{ text: string; resources: ResourceState[] }> {
  const { stdout } = await sandbox.ok(["stack", "export", "--stack", STACK]);
  const exported = JSON.parse(stdout) as { deployment: { resources?: ResourceState[] } };
  return { text: stdout, resources: exported.deployment.resources ?? [] };
}

describe(`apps-only stack "${STACK}" on the Marathon emulator`, () => {
  let firstPreview: CliResult;

  step("1. stack init, config set, preview plans the stack, MarathonApps and one MarathonApp", async () => {
    await sandbox.initStack(STACK);
    await cli([
      "config",
      "set-all",
      "--json",
      configJson({
        masters: [],
        marathon: { endpoints: [proxy.url], deploymentTimeoutSeconds: 60 },
        apps: { [APP]: SEED_APP },
      }),
    ]);
    await cli(["config", "set", "--secret", "marathonCredentials"], { input: credentials.value });
    const stored = fs.readFileSync(sandbox.configFile(STACK), "utf8");
    expect(stored).toMatch(/mesos-cluster:marathonCredentials:\n\s+secure: v1:/);

    firstPreview = await cli(["preview", "--json"], { typeCheck: true });
    const plan = previewOf(firstPreview);
    const steps = (plan.steps ?? []).map((s) => ({ op: s.op, type: s.newState?.type, name: nameOf(s.urn) }));
    expect(steps).toEqual([
      { op: "create", type: STACK_TYPE, name: `mesos-cluster-${STACK}` },
      { op: "create", type: COMPONENT_TYPE, name: "apps" },
      { op: "create", type: APP_TYPE, name: `apps-${APP}` },
    ]);
    const app = plan.steps!.find((s) => s.newState?.type === APP_TYPE)!;
    // Config decoding: the seed's definition reaches the resource with its types (numbers stay numbers).
    expect(inputsOf(app.newState)).toEqual({
      ...SEED_APP,
      appId: APP,
      marathonEndpoints: [proxy.url],
      deploymentTimeoutMs: 60_000,
      owner: `mesos-cluster/${STACK}/apps-${APP}`,
    });
    expect(typeof app.newState?.inputs?.__provider).toBe("string");
  });

  step("1b. that preview reports no errors and no warnings", () => {
    expect(problems(previewOf(firstPreview).diagnostics)).toEqual([]);
    return Promise.resolve();
  });

  step("2. up --skip-preview creates the app: Marathon runs 1 task", async () => {
    await cli(["up", "--yes", "--skip-preview"]);
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
    await cli(["config", "set", "--path", `apps["${APP}"].instances`, "3"]);
    const plan = previewOf(await cli(["preview", "--json", "--diff"]));
    const changes = (plan.steps ?? []).filter((s) => s.op !== "same").map(describeStep);
    expect(changes.map(({ detailedDiff: _d, diffReasons: _r, ...change }) => change)).toEqual([
      {
        op: "update",
        name: `apps-${APP}`,
        type: APP_TYPE,
        replaceReasons: [],
        changedInputs: { instances: "1 => 3" },
        providerChanged: false,
      },
    ]);
    // Whatever per-property detail the engine reports names instances alone.
    const named = [...Object.keys(changes[0].detailedDiff ?? {}), ...changes[0].diffReasons];
    expect({ named: named.filter((k) => k !== "instances"), step: changes[0] }).toEqual({
      named: [],
      step: changes[0],
    });
    expect(plan.changeSummary).toEqual({ same: 2, update: 1 });
  });

  step("4. up scales to 3: Marathon runs 3 tasks and stack output lists their 3 endpoints", async () => {
    await cli(["up", "--yes"]);
    const app = liveApp(`/${APP}`)!;
    expect(app).toMatchObject({ instances: 3, tasksRunning: 3 });
    const { stdout } = await sandbox.ok(["stack", "output", "--json", "--stack", STACK]);
    const outputs = JSON.parse(stdout) as { endpoints: Record<string, string[]> };
    const live = app.tasks.flatMap((t) => t.ports.map((p) => `${t.host}:${p}`)).sort();
    expect(outputs.endpoints[APP]).toHaveLength(3);
    expect(outputs.endpoints[APP]).toEqual(live);
    for (const e of outputs.endpoints[APP]) expect(e).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  step("4b. the apps-only stack has exactly the outputs that apply to it", async () => {
    const { stdout } = await sandbox.ok(["stack", "output", "--json", "--stack", STACK]);
    expect(Object.keys(JSON.parse(stdout) as object).sort()).toEqual(["endpoints", "hosts", "marathonUrls"]);
  });

  step("5. a second up changes nothing (every resource same)", async () => {
    const events = eventsOf(await cli(["up", "--yes", "--skip-preview", "--json"]));
    const ops = events.flatMap((e) =>
      e.resOutputsEvent ? [`${e.resOutputsEvent.metadata.op} ${nameOf(e.resOutputsEvent.metadata.urn)}`] : [],
    );
    expect(ops.sort()).toEqual(["same apps", `same apps-${APP}`, `same mesos-cluster-${STACK}`]);
    expect(events.find((e) => e.summaryEvent)?.summaryEvent?.resourceChanges).toEqual({ same: 3 });
  });

  step("6. scaled to 2 behind Pulumi's back: refresh shows instances 3 -> 2, up restores 3", async () => {
    marathon.scaleApp(`/${APP}`, 2);
    await waitUntil("the app runs 2 tasks", () => liveApp(`/${APP}`)?.tasksRunning === 2);

    const events = eventsOf(await cli(["refresh", "--yes", "--json"]));
    const refreshed = events.find(
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
    expect(events.find((e) => e.summaryEvent)?.summaryEvent?.resourceChanges).toEqual({ same: 2, update: 1 });

    await cli(["up", "--yes", "--skip-preview"]);
    expect(liveApp(`/${APP}`)).toMatchObject({ instances: 3, tasksRunning: 3 });
  });

  step(
    "7. an app made outside Pulumi: import fails (pulumi/pulumi#16175), adopt: true takes it over",
    async () => {
      marathon.createApp({ id: `/${ADOPTED}`, cmd: "sleep 3600", instances: 2, cpus: 0.1, mem: 32 });
      await waitUntil("the outside app runs 2 tasks", () => liveApp(`/${ADOPTED}`)?.tasksRunning === 2);

      const imported = await sandbox.run([
        "import",
        APP_TYPE,
        ADOPTED,
        `/${ADOPTED}`,
        "--yes",
        ...sandbox.stackArgs(STACK),
      ]);
      expect(imported.code).not.toBe(0);
      // The engine asks the dynamic-provider host to read with no serialized provider to run.
      expect(`${imported.stdout}\n${imported.stderr}`).toContain("code must be a string, not undefined");
      expect((await stackExport()).resources.filter((r) => r.id === `/${ADOPTED}`)).toEqual([]);
      expect(liveApp(`/${ADOPTED}`)).toMatchObject({ instances: 2, cpus: 0.1, mem: 32 });

      const key = (field: string) => `apps["${ADOPTED}"].${field}`;
      await cli(["config", "set", "--path", key("cmd"), "sleep 3600"]);
      // A fractional number needs --type float with --path; otherwise the CLI stores the string "0.2".
      await cli(["config", "set", "--path", "--type", "float", key("cpus"), "0.2"]);
      await cli(["config", "set", "--path", key("mem"), "64"]);
      await cli(["config", "set", "--path", key("instances"), "3"]);
      await cli(["config", "set", "--path", key("adopt"), "true"]);
      await cli(["up", "--yes", "--skip-preview"]);

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
    "8. no Marathon password in the state, the provider text, the sandbox files or any output",
    async () => {
      const audit = new LeakAudit([credentials]);
      const exported = await stackExport();
      audit.scan("pulumi stack export", exported.text);
      for (const r of exported.resources.filter((r) => r.type === APP_TYPE)) {
        audit.scan(`__provider of ${nameOf(r.urn)}`, r.inputs?.__provider);
      }
      for (const r of sandbox.transcript)
        audit.scan(`output of pulumi ${r.args[0]}`, `${r.stdout}\n${r.stderr}`);
      for (const file of filesUnder(sandbox.dir)) {
        audit.scan(path.relative(sandbox.dir, file), fs.readFileSync(file, "utf8"));
      }
      expect(audit.leaks).toEqual([]);
      expect(audit.checks).toBeGreaterThan(sandbox.transcript.length);
      // A secret in an export without --show-secrets is ciphertext only.
      expect(exported.text).not.toMatch(/"plaintext"\s*:/);
    },
  );

  step("9. destroy removes every app from Marathon; stack rm removes the stack", async () => {
    await cli(["destroy", "--yes"]);
    expect(await liveAppIds()).toEqual([]);
    await sandbox.ok(["stack", "rm", "--yes", "--stack", STACK]);
    const { stdout } = await sandbox.ok(["stack", "ls", "--json"]);
    expect((JSON.parse(stdout) as { name: string }[]).map((s) => s.name)).not.toContain(STACK);
    expect(fs.existsSync(path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`))).toBe(false);
  });
});

describe(`the dev stack's config ("${DEV_STACK}": existing hosts, a fake key)`, () => {
  step("preview needs the command provider plugin", async () => {
    await sandbox.initStack(DEV_STACK);
    const { vagrant: _vagrant, ...dev } = readStackConfig("dev");
    const args = sandbox.stackArgs(DEV_STACK);
    await sandbox.ok([
      "config",
      "set-all",
      "--json",
      configJson({ ...dev, hosts: "existing", ssh: { user: "vagrant", port: 22 } }),
      ...args,
    ]);
    const key = sshKeyCanary();
    await sandbox.ok(["config", "set", "--secret", "--path", "ssh.privateKey", ...args], {
      input: key.value,
    });

    const result = await sandbox.run(["preview", "--json", ...args]);
    expect(holds(`${result.stdout}\n${result.stderr}`, key)).toBe(false);
    const plan = previewOf(result);
    const version = (
      JSON.parse(
        fs.readFileSync(path.join(PROJECT_ROOT, "node_modules/@pulumi/command/package.json"), "utf8"),
      ) as { version: string }
    ).version;

    if (!sandbox.hasPlugin("pulumi-resource-command")) {
      expect(result.code).not.toBe(0);
      expect(problems(plan.diagnostics)).toEqual([
        `error: no resource plugin 'pulumi-resource-command' found in the workspace at version v${version} or on your $PATH`,
      ]);
    } else {
      expect(result.code).toBe(0);
      expect(problems(plan.diagnostics)).toEqual([]);
      const created: Record<string, number> = {};
      for (const s of plan.steps ?? []) {
        const type = s.newState?.type ?? "";
        if (type.startsWith("pulumi:providers:")) continue;
        expect(`${s.op} ${type}`).toBe(`create ${type}`);
        created[type] = (created[type] ?? 0) + 1;
      }
      // As test/cluster/dev-stack.test.ts has it under mocks.
      expect(created).toEqual({
        [STACK_TYPE]: 1,
        "mesos-cluster:cluster:MesosCluster": 1,
        "mesos-cluster:zookeeper:ZooKeeperEnsemble": 1,
        "mesos-cluster:mesos:MesosMaster": 3,
        "mesos-cluster:mesos:MesosSlave": 3,
        "mesos-cluster:host:HostPackages": 6,
        [COMMAND_TYPE]: 84,
        [COMPONENT_TYPE]: 1,
        [APP_TYPE]: 1,
      });
    }
    await sandbox.ok(["stack", "rm", "--yes", "--force", "--stack", DEV_STACK]);
  });
});

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
