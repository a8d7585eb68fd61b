import { startEmulator } from "../../providers/marathon/emulator/server";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { MarathonError } from "../../providers/marathon/client";
import {
  MarathonAppProvider,
  type MarathonAppInputs,
  type MarathonAppOutputs,
} from "../../providers/marathon/provider";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let marathon: MarathonEmulator;
let provider: MarathonAppProvider;

beforeAll(async () => {
  marathon = await startEmulator({ deploymentStepMs: 10, taskHosts: ["10.0.0.21", "10.0.0.22"] });
});
afterAll(() => marathon.close());
beforeEach(() => {
  marathon.faults.stuckDeployments = false;
  provider = new MarathonAppProvider();
});

let counter = 0;
function inputs(overrides: Partial<MarathonAppInputs> = {}): MarathonAppInputs {
  counter++;
  return {
    appId: `app-${counter}`,
    cmd: "sleep 3600",
    uris: ["https://example.org/hello.tgz"],
    cpus: 0.1,
    mem: 64,
    instances: 1,
    marathonEndpoints: [marathon.url],
    owner: `mesos-cluster/test/app-${counter}`,
    ...overrides,
  };
}

async function created(args: MarathonAppInputs): Promise<MarathonAppOutputs> {
  const result = await provider.create(args);
  return result.outs!;
}

function requestsSince(index: number) {
  return marathon.requests.slice(index).map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ""}`);
}

describe("check", () => {
  test("passes a valid definition and names each bad field with what is allowed", async () => {
    expect(await provider.check(inputs(), inputs())).toEqual({ inputs: expect.any(Object) });
    const bad = inputs({
      appId: "Bad_Id",
      instances: -1,
      marathonEndpoints: ["http://user:pw@10.0.0.11:8080"],
      deploymentTimeoutMs: 0,
    });
    const result = await provider.check(bad, bad);
    expect(result.failures?.map((f) => f.property)).toEqual([
      "marathonEndpoints[0]",
      "deploymentTimeoutMs",
      "appId",
      "instances",
    ]);
    expect(result.failures?.[3].reason).toBe("must be a whole number of at least 0, got -1");
    expect(JSON.stringify(result.failures)).not.toContain("pw@");
  });

  test("adopt must be true or false", async () => {
    const bad = inputs({ adopt: "yes" as unknown as boolean });
    expect((await provider.check(bad, bad)).failures).toEqual([
      { property: "adopt", reason: 'must be true or false, got "yes"' },
    ]);
  });

  test("does not validate values that are unknown during preview", async () => {
    const preview = inputs({
      appId: UNKNOWN,
      instances: UNKNOWN as unknown as number,
      env: UNKNOWN as unknown as Record<string, string>,
      marathonEndpoints: UNKNOWN as unknown as string[],
      healthChecks: [{ protocol: UNKNOWN as "HTTP", path: "/" }],
    });
    expect((await provider.check({} as MarathonAppInputs, preview)).failures).toBeUndefined();
  });
});

describe("diff", () => {
  let olds: MarathonAppOutputs;
  let news: MarathonAppInputs;
  beforeEach(() => {
    olds = { ...inputs(), appId: "/web", version: "v", deploymentId: "d" } as MarathonAppOutputs;
    news = { ...olds };
  });

  test("no change, including when only the provider code differs", async () => {
    expect(
      await provider.diff("/web", olds, { ...news, __provider: "new code" } as MarathonAppInputs),
    ).toMatchObject({
      changes: false,
    });
    expect(await provider.diff("/web", olds, { ...news, appId: "web" })).toMatchObject({ changes: false });
  });

  test("a change of adopt alone is no change", async () => {
    expect(await provider.diff("/web", olds, { ...news, adopt: true })).toMatchObject({ changes: false });
    const adopted = { ...olds, adopt: true } as MarathonAppOutputs;
    expect(await provider.diff("/web", adopted, { ...news, adopt: false })).toMatchObject({ changes: false });
  });

  test("a new id replaces, deleting the old app first", async () => {
    expect(await provider.diff("/web", olds, { ...news, appId: "web-v2" })).toEqual({
      changes: true,
      replaces: ["appId"],
      deleteBeforeReplace: true,
    });
  });

  test("instances or any other field is an update in place", async () => {
    expect(await provider.diff("/web", olds, { ...news, instances: 3 })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await provider.diff("/web", olds, { ...news, env: { A: "1" } })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  test("unknown values during preview count as changes; an unknown id as a replacement", async () => {
    expect(await provider.diff("/web", olds, { ...news, mem: UNKNOWN as unknown as number })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await provider.diff("/web", olds, { ...news, appId: UNKNOWN })).toMatchObject({
      replaces: ["appId"],
    });
  });
});

describe("lifecycle against the emulator", () => {
  test("create waits for the deployment and returns plain outputs", async () => {
    const args = inputs({ instances: 2 });
    const result = await provider.create(args);
    expect(result.id).toBe(`/${args.appId}`);
    expect(result.outs).toEqual({
      appId: `/${args.appId}`,
      cmd: args.cmd,
      uris: args.uris,
      cpus: 0.1,
      mem: 64,
      instances: 2,
      marathonEndpoints: [marathon.url],
      owner: args.owner,
      version: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deploymentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tasksRunning: 2,
      tasksHealthy: 0,
      endpoints: [expect.stringMatching(/^10\.0\.0\.21:\d+$/), expect.stringMatching(/^10\.0\.0\.22:\d+$/)],
      uiUrl: `${marathon.url}/ui/#/apps/%2F${args.appId}`,
    });
    expect(JSON.parse(JSON.stringify(result.outs))).toEqual(result.outs);
    const deployment = marathon.deploymentEvents.find((e) => e.id === result.outs!.deploymentId);
    expect(deployment?.finishedAt).toBeDefined();
    expect(marathon.getApp(result.id)).toMatchObject({ instances: 2, tasksRunning: 2 });
  });

  test("read right after create shows no drift", async () => {
    const args = inputs({ portDefinitions: [{ port: 0, name: "http" }], labels: { team: "web" } });
    const outs = await created(args);
    const read = await provider.read(outs.appId, outs);
    expect(read.props).toEqual(outs);
    expect(await provider.diff(outs.appId, read.props!, args)).toMatchObject({ changes: false });
  });

  test("scale sends exactly {instances: 3} and waits with light polls", async () => {
    const args = inputs();
    const outs = await created(args);
    const start = marathon.requests.length;
    const updated = await provider.update(outs.appId, outs, { ...args, instances: 3 });
    const sent = marathon.requests.slice(start);
    expect(sent[0]).toMatchObject({
      method: "PUT",
      path: `/v2/apps/${args.appId}`,
      query: "",
      body: { instances: 3 },
    });
    expect(sent.filter((r) => r.method === "PUT")).toHaveLength(1);
    expect(sent.slice(1).every((r) => r.method === "GET")).toBe(true);
    expect(updated.outs).toMatchObject({ instances: 3, tasksRunning: 3 });
    expect(updated.outs!.endpoints).toHaveLength(3);
    expect(marathon.getApp(outs.appId)).toMatchObject({ instances: 3, tasksRunning: 3 });
  });

  test("a definition change sends the full definition with partialUpdate=false, so removed fields go", async () => {
    const args = inputs({ env: { RAILS_ENV: "production" }, labels: { tier: "web" } });
    const outs = await created(args);
    const changed = { ...args, env: undefined, labels: undefined, mem: 128 };
    const start = marathon.requests.length;
    const updated = await provider.update(outs.appId, outs, changed);
    const put = marathon.requests.slice(start).find((r) => r.method === "PUT");
    expect(put).toMatchObject({ query: "partialUpdate=false" });
    expect(put?.body).toEqual({
      id: `/${args.appId}`,
      cmd: args.cmd,
      uris: args.uris,
      cpus: 0.1,
      mem: 128,
      instances: 1,
      labels: { "pulumi.owner": args.owner },
    });
    const live = marathon.getApp(outs.appId)!;
    expect(live.env ?? {}).toEqual({});
    expect(live.labels).toEqual({ "pulumi.owner": args.owner });
    expect(live.mem).toBe(128);
    expect(updated.outs).not.toHaveProperty("env");
  });

  test("delete removes the app and waits until it is gone; deleting a missing app succeeds", async () => {
    const outs = await created(inputs());
    await provider.delete(outs.appId, outs);
    expect(marathon.getApp(outs.appId)).toBeUndefined();
    const start = marathon.requests.length;
    await expect(provider.delete(outs.appId, outs)).resolves.toBeUndefined();
    expect(requestsSince(start)).toEqual([`DELETE /v2/apps/${outs.appId.slice(1)}`]);
  });
});

describe("drift", () => {
  test("an app scaled or edited behind Pulumi's back shows up in read, and the next update restores it", async () => {
    const args = inputs({ instances: 2 });
    const outs = await created(args);
    marathon.scaleApp(outs.appId, 4);
    marathon.updateApp(outs.appId, { env: { DEBUG: "1" } });
    await waitUntil(() => (marathon.getApp(outs.appId)?.deployments as unknown[]).length === 0);
    const read = await provider.read(outs.appId, outs);
    expect(read.props).toMatchObject({ instances: 4, env: { DEBUG: "1" }, tasksRunning: 4 });
    expect(await provider.diff(outs.appId, read.props!, args)).toMatchObject({ changes: true });
    const restored = await provider.update(outs.appId, read.props!, args);
    expect(restored.outs).toMatchObject({ instances: 2, tasksRunning: 2 });
    expect(marathon.getApp(outs.appId)).toMatchObject({ instances: 2 });
    expect(marathon.getApp(outs.appId)?.env ?? {}).toEqual({});
  });

  test("an app deleted behind Pulumi's back reads as gone (empty id)", async () => {
    const outs = await created(inputs());
    marathon.deleteApp(outs.appId);
    expect(await provider.read(outs.appId, outs)).toEqual({ id: "", props: {} });
  });

  test("read by app id alone (import) returns the live definition as inputs", async () => {
    const args = inputs({ instances: 2 });
    await created(args);
    const read = await provider.read(`/${args.appId}`, {
      marathonEndpoints: [marathon.url],
    } as unknown as MarathonAppOutputs);
    expect(read.inputs).toEqual({
      appId: `/${args.appId}`,
      cmd: args.cmd,
      cpus: 0.1,
      mem: 64,
      instances: 2,
      fetch: [{ uri: args.uris![0], extract: true, executable: false, cache: false }],
      marathonEndpoints: [marathon.url],
    });
  });
});

describe("conflicts and faults", () => {
  test("an update of an app locked by a running deployment waits for it, then applies", async () => {
    const args = inputs();
    const outs = await created(args);
    marathon.faults.stuckDeployments = true;
    marathon.scaleApp(outs.appId, 2);
    marathon.faults.stuckDeployments = false;
    const lock = marathon.deploymentEvents[marathon.deploymentEvents.length - 1];
    const start = marathon.requests.length;
    const update = provider.update(outs.appId, outs, { ...args, mem: 96 });
    await waitUntil(() => requestsSince(start).includes("GET /v2/deployments"));
    // Release the lock as an operator would: cancel the stuck deployment.
    await fetch(`${marathon.url}/v2/deployments/${lock.id}?force=true`, { method: "DELETE" });
    const updated = await update;
    expect(updated.outs).toMatchObject({ mem: 96 });
    const puts = requestsSince(start).filter((r) => r.startsWith("PUT"));
    expect(puts).toEqual([
      `PUT /v2/apps/${args.appId}?partialUpdate=false`,
      `PUT /v2/apps/${args.appId}?partialUpdate=false`,
    ]);
  });

  test("with force, a locked app is updated at once with force=true", async () => {
    const args = inputs({ force: true });
    const outs = await created(args);
    marathon.faults.stuckDeployments = true;
    marathon.scaleApp(outs.appId, 2);
    marathon.faults.stuckDeployments = false;
    const start = marathon.requests.length;
    await provider.update(outs.appId, outs, { ...args, instances: 3 });
    expect(requestsSince(start)[0]).toBe(`PUT /v2/apps/${args.appId}?force=true`);
  });

  test("the first endpoint refusing connections fails over to the second", async () => {
    const dead = await startEmulator();
    const deadUrl = dead.url;
    await dead.close();
    const args = inputs({ marathonEndpoints: [deadUrl, marathon.url] });
    const outs = await created(args);
    expect(outs.tasksRunning).toBe(1);
    expect(marathon.getApp(outs.appId)).toBeDefined();
  });

  test("a create whose deployment never finishes fails with the counts and leaves no app behind", async () => {
    const args = inputs({ instances: 2, deploymentTimeoutMs: 400 });
    marathon.faults.stuckDeployments = true;
    const error = (await provider.create(args).catch((e: unknown) => e)) as MarathonError;
    marathon.faults.stuckDeployments = false;
    expect(error).toBeInstanceOf(MarathonError);
    const deployment = marathon.deploymentEvents.find((e) => e.appId === `/${args.appId}`)!;
    expect(error.message).toContain(
      `Deployment ${deployment.id} of app /${args.appId} did not finish within 400 ms`,
    );
    expect(error.message).toMatch(/\d+ staged, \d+ running, \d+ healthy of 2 instances; last task failure: /);
    expect(error.message).toContain(`The app /${args.appId} was removed, so nothing is left behind.`);
    expect(error).not.toHaveProperty("id");
    expect(marathon.getApp(`/${args.appId}`)).toBeUndefined();
  });

  test("an app with the same id that this resource did not create: an error with the command to adopt it", async () => {
    const args = inputs();
    marathon.createApp({ id: args.appId, cmd: "sleep 5" });
    const start = marathon.requests.length;
    const error = (await provider.create(args).catch((e: unknown) => e)) as MarathonError;
    expect(error.message).toContain(
      `Marathon already has an app /${args.appId} that this resource did not create (An app with id ` +
        `[/${args.appId}] already exists.). To manage it with Pulumi, adopt it: set adopt: true on this app, ` +
        `which with this project's stack config is ` +
        `\`pulumi config set --path 'apps["${args.appId}"].adopt' true\`, then run \`pulumi up\``,
    );
    expect(error.message).toContain("`pulumi import` cannot adopt it");
    expect(requestsSince(start).filter((r) => !r.startsWith("GET"))).toEqual(["POST /v2/apps"]);
    expect(marathon.getApp(args.appId)).toMatchObject({ cmd: "sleep 5" });
  });

  test("adopt takes over an app created out of band, scaling it when only instances differ", async () => {
    const args = inputs({ instances: 3, adopt: true });
    marathon.createApp({ id: args.appId, cmd: args.cmd, uris: args.uris, cpus: 0.1, mem: 64, instances: 1 });
    await waitUntil(() => (marathon.getApp(args.appId)?.deployments as unknown[]).length === 0);
    const start = marathon.requests.length;
    const result = await provider.create(args);
    const changes = marathon.requests.slice(start).filter((r) => r.method !== "GET");
    expect(changes.map((r) => [r.method, r.path, r.query, r.body])).toEqual([
      ["POST", "/v2/apps", "", expect.objectContaining({ id: `/${args.appId}`, instances: 3 })],
      ["PUT", `/v2/apps/${args.appId}`, "", { instances: 3 }],
    ]);
    expect(result.id).toBe(`/${args.appId}`);
    expect(result.outs).toMatchObject({ appId: `/${args.appId}`, instances: 3, tasksRunning: 3 });
    expect(result.outs).not.toHaveProperty("adopt");
    expect(result.outs!.endpoints).toHaveLength(3);
    expect(marathon.getApp(args.appId)).toMatchObject({ instances: 3, tasksRunning: 3, cmd: args.cmd });
    expect(await provider.diff(result.id, result.outs!, args)).toMatchObject({ changes: false });
  });

  test("adopt of an app already as declared changes nothing in Marathon", async () => {
    const args = inputs({ adopt: true, instances: 2 });
    marathon.createApp({ id: args.appId, cmd: args.cmd, uris: args.uris, cpus: 0.1, mem: 64, instances: 2 });
    const start = marathon.requests.length;
    const result = await provider.create(args);
    expect(requestsSince(start).filter((r) => !r.startsWith("GET"))).toEqual(["POST /v2/apps"]);
    expect(result.outs).toMatchObject({ instances: 2, tasksRunning: 2 });
  });

  test("adopt brings an app with another definition to this one with a full update", async () => {
    const args = inputs({ adopt: true, env: { RAILS_ENV: "production" } });
    marathon.createApp({ id: args.appId, cmd: "sleep 5", mem: 32, labels: { team: "ops" } });
    const start = marathon.requests.length;
    const result = await provider.create(args);
    const put = marathon.requests.slice(start).find((r) => r.method === "PUT");
    expect(put).toMatchObject({ query: "partialUpdate=false" });
    expect(put?.body).not.toHaveProperty("adopt");
    expect(marathon.getApp(args.appId)).toMatchObject({
      cmd: args.cmd,
      mem: 64,
      env: { RAILS_ENV: "production" },
      labels: { "pulumi.owner": args.owner },
    });
    expect(result.outs).toMatchObject({ cmd: args.cmd, tasksRunning: 1 });
  });

  test("an adopted app whose deployment never finishes is kept, not removed", async () => {
    const args = inputs({ adopt: true, instances: 2, deploymentTimeoutMs: 300 });
    marathon.createApp({ id: args.appId, cmd: args.cmd, uris: args.uris, cpus: 0.1, mem: 64 });
    marathon.faults.stuckDeployments = true;
    const error = (await provider.create(args).catch((e: unknown) => e)) as MarathonError & { id?: string };
    marathon.faults.stuckDeployments = false;
    expect(error.message).toMatch(/did not finish within 300 ms/);
    expect(error.message).toContain(
      `The app /${args.appId} existed before it was adopted, so it was not removed`,
    );
    expect(error.id).toBe(`/${args.appId}`);
    expect(marathon.getApp(args.appId)).toBeDefined();
    marathon.deleteApp(args.appId);
  });

  test("an app left by an interrupted create of this resource is taken over, not reported as existing", async () => {
    const args = inputs({ instances: 2 });
    marathon.createApp({ id: args.appId, cmd: "sleep 1", labels: { "pulumi.owner": args.owner } });
    const outs = await created(args);
    expect(outs).toMatchObject({ instances: 2, tasksRunning: 2, cmd: args.cmd });
    expect(marathon.getApp(args.appId)).toMatchObject({ cmd: args.cmd, instances: 2 });
  });

  test("a 422 from Marathon surfaces its details verbatim", async () => {
    const args = inputs();
    const outs = await created(args);
    const error = (await provider
      .update(outs.appId, outs, { ...args, upgradeStrategy: { minimumHealthCapacity: 2 } })
      .catch((e: unknown) => e)) as MarathonError;
    expect(error.status).toBe(422);
    expect(error.message).toContain("minimumHealthCapacity");
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
