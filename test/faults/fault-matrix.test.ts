/**
 * The fault matrix (issue 6): each scenario drives the real provider against the Marathon emulator
 * with a fault injected, in process or through the SDK's dynamic-provider host where what the engine
 * sees matters, and ends with Marathon's view and Pulumi's view in agreement (`expectAgreement`).
 */
import { MarathonError } from "../../providers/marathon/client";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { MarathonAppProvider, marathonAppProvider } from "../../providers/marathon/provider";
import { waitFor, waitForIdle } from "../emulator/helpers";
import { startHostProcess } from "../helpers/host-process";
import { inProcess, MiniStack } from "../helpers/mini-engine";
import { HostCallError, startProviderHost, type ProviderHost } from "../helpers/provider-host";
import { appInputs, expectAgreement, liveAppIds, ownerOf, useEmulators } from "./views";

const emulator = useEmulators();
let host: ProviderHost;

/** The engine configures every provider before using it; these scenarios need no credentials. */
const NO_CONFIG = { "mesos-cluster:apps": "{}" };

beforeAll(async () => {
  host = await startProviderHost(marathonAppProvider);
  await host.configure(NO_CONFIG);
});
afterAll(async () => {
  await host?.stop();
});

/** Scenario name to outcome (undefined: not run); the count is printed after all of them. */
const results = new Map<string, boolean | undefined>();
function scenario(name: string, body: () => Promise<void>): void {
  results.set(name, undefined);
  test(name, async () => {
    results.set(name, false);
    await body();
    results.set(name, true);
  });
}
afterAll(() => {
  const ran = [...results.values()].filter((outcome) => outcome !== undefined);
  const passed = ran.filter(Boolean).length;
  console.log(`fault matrix: ${ran.length} scenarios, ${passed} passed, ${ran.length - passed} failed`);
});

const inProcessStack = () => new MiniStack(inProcess(new MarathonAppProvider()));
const hostStack = () => new MiniStack(host);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (marathon: MarathonEmulator, method: string, path: string) =>
  marathon.requests.filter((r) => r.method === method && r.path === path).length;
/** The settled outcome of a promise, to assert on a failure without try/catch. */
const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );

/** A Marathon endpoint that refuses connections: an emulator that was started, then stopped. */
async function refusingEndpoint(): Promise<MarathonEmulator> {
  const dead = await emulator();
  await dead.stop();
  return dead;
}

scenario("F1 the first endpoint refuses connections, the second works", async () => {
  const [dead, marathon] = [await refusingEndpoint(), await emulator()];
  const stack = inProcessStack();
  const args = appInputs("web", "f1-web", [dead.url, marathon.url]);
  expect((await stack.up("web", args)).operation).toBe("create");
  expect((await stack.up("web", { ...args, instances: 2 })).operation).toBe("update");
  expect(await stack.refresh("web")).toBe("refreshed");
  expect(stack.state.get("web")?.outputs).toMatchObject({ instances: 2, tasksRunning: 2 });
  expect(count(marathon, "POST", "/v2/apps")).toBe(1);
  await expectAgreement(marathon, stack);
});

scenario("F2 every endpoint down for a while, then back within the deadline", async () => {
  const [dead, marathon] = [await refusingEndpoint(), await emulator({ deploymentStepMs: 100 })];
  const stack = inProcessStack();
  const args = appInputs("web", "f2-web", [dead.url, marathon.url]);
  // Down before the create: connections are reset until it comes back.
  marathon.faults.down = true;
  const create = stack.up("web", args);
  await sleep(300);
  marathon.faults.down = false;
  expect((await create).operation).toBe("create");
  // Down in the middle of a scale's deployment wait.
  const scale = stack.up("web", { ...args, instances: 3 });
  await waitFor(() => count(marathon, "PUT", "/v2/apps/f2-web") === 1);
  marathon.faults.down = true;
  await sleep(300);
  marathon.faults.down = false;
  expect((await scale).state.outputs).toMatchObject({ instances: 3, tasksRunning: 3 });
  expect(count(marathon, "POST", "/v2/apps")).toBe(1);
  expect(count(marathon, "PUT", "/v2/apps/f2-web")).toBe(1);
  await expectAgreement(marathon, stack);
});

scenario(
  "F3 all endpoints down past the deadline: a clear error, and state only for what Marathon holds",
  async () => {
    const [standby, marathon] = [await refusingEndpoint(), await emulator()];
    const stack = hostStack();
    const args = appInputs("web", "f3-web", [marathon.url, standby.url], {
      requestTimeoutMs: 200,
      deploymentTimeoutMs: 700,
    });
    await marathon.stop();
    const error = (await failureOf(stack.up("web", args))) as HostCallError;
    expect(error).toBeInstanceOf(HostCallError);
    expect(error.details).toMatch(
      /^Marathon did not answer POST \/v2\/apps within 700 ms \(\d+ round\(s\) over 2/,
    );
    for (const url of [marathon.url, standby.url]) {
      expect(error.details).toContain(`${url}: connection failed (ECONNREFUSED)`);
    }
    expect(error.initFailed).toBe(false);
    expect(stack.state.size).toBe(0);
    await marathon.start();
    await expectAgreement(marathon, stack);
    // The next up, with Marathon back, creates it; a destroy while everything is down keeps it in the state.
    expect((await stack.up("web", args)).operation).toBe("create");
    await marathon.stop();
    const deleteError = (await failureOf(stack.destroy("web"))) as HostCallError;
    expect(deleteError.details).toMatch(/^Marathon did not answer DELETE \/v2\/apps\/f3-web within 700 ms/);
    expect(stack.state.has("web")).toBe(true);
    await marathon.start();
    await expectAgreement(marathon, stack);

    // Down once Marathon has accepted a create: the app cannot be removed, so the create reports it as
    // created (partial state, kept by the engine; in process, where its properties are visible).
    const slow = await emulator({ deploymentStepMs: 200 });
    const direct = inProcessStack();
    const accepted = appInputs("api", "f3-api", [slow.url], {
      instances: 3,
      requestTimeoutMs: 200,
      deploymentTimeoutMs: 700,
    });
    const create = failureOf(direct.up("api", accepted));
    await waitFor(() => slow.deploymentEvents.length === 1);
    await slow.stop();
    const partial = (await create) as MarathonError & { id?: string };
    expect(partial.message).toMatch(/^Marathon did not answer GET /);
    expect(partial.message).toContain("it is kept in the stack so the next pulumi up updates or removes it.");
    expect(partial.id).toBe("/f3-api");
    expect(direct.state.get("api")?.id).toBe("/f3-api");
    await slow.start();
    await waitForIdle(slow);
    expect(await direct.refresh("api")).toBe("refreshed");
    await expectAgreement(slow, direct);
  },
);

scenario("F4 502 no leader for a while: retried until a leader is back", async () => {
  const marathon = await emulator();
  const stack = inProcessStack();
  marathon.faults.noLeader = true;
  // Past the deadline: the error names Marathon's reason, and nothing was created.
  const short = appInputs("web", "f4-web", [marathon.url], { deploymentTimeoutMs: 500 });
  const error = (await failureOf(stack.up("web", short))) as MarathonError;
  expect(error).toBeInstanceOf(MarathonError);
  expect(error.message).toContain(`${marathon.url}: 502 Could not determine the current leader`);
  expect(stack.state.size).toBe(0);
  // Within the deadline: the create goes through once the leader is back.
  const create = stack.up("web", appInputs("web", "f4-web", [marathon.url]));
  const before = count(marathon, "POST", "/v2/apps");
  await waitFor(() => count(marathon, "POST", "/v2/apps") >= before + 3);
  marathon.faults.noLeader = false;
  expect((await create).operation).toBe("create");
  expect(await liveAppIds(marathon)).toEqual(["/f4-web"]);
  await expectAgreement(marathon, stack);
});

scenario("F5 503 service unavailable: scale and refresh retried until it answers", async () => {
  const marathon = await emulator();
  const stack = inProcessStack();
  const args = appInputs("web", "f5-web", [marathon.url]);
  await stack.up("web", args);
  marathon.faults.unavailable = true;
  const scale = stack.up("web", { ...args, instances: 2 });
  await waitFor(() => count(marathon, "PUT", "/v2/apps/f5-web") >= 3);
  marathon.faults.unavailable = false;
  expect((await scale).state.outputs).toMatchObject({ instances: 2, tasksRunning: 2 });
  marathon.faults.unavailable = true;
  const start = marathon.requests.length;
  const refresh = stack.refresh("web");
  await waitFor(() => marathon.requests.length >= start + 3);
  marathon.faults.unavailable = false;
  expect(await refresh).toBe("refreshed");
  await expectAgreement(marathon, stack);
});

scenario("F6 responses slower than the request timeout: the retried create adopts its own app", async () => {
  const marathon = await emulator();
  const stack = inProcessStack();
  const args = appInputs("web", "f6-web", [marathon.url], { requestTimeoutMs: 100 });
  // Marathon handles each request at once but answers after the client gave up on it.
  marathon.faults.latencyMs = 300;
  const create = stack.up("web", args);
  await waitFor(() => count(marathon, "POST", "/v2/apps") >= 2);
  marathon.faults.latencyMs = 0;
  const created = await create;
  expect(created.operation).toBe("create");
  expect(created.state.outputs).toMatchObject({ instances: 1, tasksRunning: 1 });
  expect(await liveAppIds(marathon)).toEqual(["/f6-web"]);
  expect(ownerOf(marathon.getApp("/f6-web"))).toBe(args.owner);
  await expectAgreement(marathon, stack);
});

scenario("F7 409 locked by a running deployment, then released: the update waits and applies", async () => {
  const marathon = await emulator();
  const stack = inProcessStack();
  const args = appInputs("web", "f7-web", [marathon.url]);
  await stack.up("web", args);
  // An operator's scale that never finishes locks the app.
  marathon.faults.stuckDeployments = true;
  marathon.scaleApp("/f7-web", 2);
  marathon.faults.stuckDeployments = false;
  const lock = marathon.deploymentEvents[marathon.deploymentEvents.length - 1];
  const start = marathon.requests.length;
  const update = stack.up("web", { ...args, instances: 3 });
  await waitFor(() => marathon.requests.slice(start).some((r) => r.path === "/v2/deployments"));
  expect(lock.finishedAt ?? lock.cancelledAt).toBeUndefined();
  await fetch(`${marathon.url}/v2/deployments/${lock.id}?force=true`, { method: "DELETE" });
  expect((await update).state.outputs).toMatchObject({ instances: 3, tasksRunning: 3 });
  const puts = marathon.requests.slice(start).filter((r) => r.method === "PUT");
  expect(puts.map((r) => `${r.query} ${JSON.stringify(r.body)}`)).toEqual([
    ' {"instances":3}',
    ' {"instances":3}',
  ]);
  await expectAgreement(marathon, stack);
});

scenario("F8 409 the app exists on create: adoption advice, the app untouched, then adopted", async () => {
  const marathon = await emulator();
  const stack = hostStack();
  marathon.createApp({ id: "/f8-web", cmd: "sleep 3600", cpus: 0.1, mem: 32, instances: 1 });
  await waitForIdle(marathon);
  const foreign = marathon.getApp("/f8-web");
  const args = appInputs("web", "f8-web", [marathon.url]);
  const error = (await failureOf(stack.up("web", args))) as HostCallError;
  expect(error).toBeInstanceOf(HostCallError);
  expect(error.details).toMatch(
    /^Marathon already has an app \/f8-web that this resource did not create \(An app with id \[\/f8-web\] already exists\.\)\. To manage it with Pulumi, adopt it: set adopt: true /,
  );
  expect(error.initFailed).toBe(false);
  expect(stack.state.size).toBe(0);
  expect(marathon.getApp("/f8-web")).toEqual(foreign);
  // Following the advice: the app is taken over and brought to this definition.
  const adopted = await stack.up("web", { ...args, adopt: true, instances: 2 });
  expect(adopted.operation).toBe("create");
  expect(marathon.getApp("/f8-web")).toMatchObject({ cmd: args.cmd, instances: 2, tasksRunning: 2 });
  await expectAgreement(marathon, stack);
});

scenario("F9 422 with field details, surfaced verbatim on create and on update", async () => {
  const marathon = await emulator();
  const stack = hostStack();
  // A health check addressing a port the app does not have: Marathon's to reject, so Check is skipped.
  const badHealth = { healthChecks: [{ protocol: "HTTP", path: "/", portIndex: 3 }] };
  const args = appInputs("web", "f9-web", [marathon.url]);
  const direct = await fetch(`${marathon.url}/v2/apps`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      id: "/f9-web",
      cmd: args.cmd,
      portDefinitions: args.portDefinitions,
      ...badHealth,
    }),
  });
  const marathonSays = (await direct.json()) as { message: string; details: unknown[] };
  expect(direct.status).toBe(422);
  const verbatim = `answered 422: ${marathonSays.message} (details: ${JSON.stringify(marathonSays.details)})`;

  const createError = (await failureOf(
    stack.up("web", { ...args, ...badHealth }, { check: false }),
  )) as HostCallError;
  expect(createError.details).toBe(`Marathon POST /v2/apps ${verbatim}`);
  expect(createError.initFailed).toBe(false);
  await expectAgreement(marathon, stack);

  await stack.up("web", args);
  const updateError = (await failureOf(
    stack.up("web", { ...args, ...badHealth }, { check: false }),
  )) as HostCallError;
  expect(updateError.details).toBe(`Marathon PUT /v2/apps/f9-web ${verbatim}`);
  await expectAgreement(marathon, stack);
});

scenario(
  "F10 a deployment that never finishes: a timeout naming the deployment and the task counts",
  async () => {
    const marathon = await emulator();
    // Create, through the host: the stuck app is removed, so the failed create leaves nothing behind.
    const stack = hostStack();
    const args = appInputs("web", "f10-web", [marathon.url], { instances: 2, deploymentTimeoutMs: 600 });
    marathon.faults.stuckDeployments = true;
    const create = failureOf(stack.up("web", args));
    // Only the create's deployment is stuck; the removal's is not.
    await waitFor(() => marathon.deploymentEvents.length === 1);
    marathon.faults.stuckDeployments = false;
    const createError = (await create) as HostCallError;
    const stuck = marathon.deploymentEvents[0];
    expect(createError.details).toMatch(
      new RegExp(
        `^Deployment ${stuck.id} of app /f10-web did not finish within 600 ms .*: \\d+ staged, \\d+ running, ` +
          `\\d+ healthy of 2 instances; last task failure: TASK_FAILED of \\S+ on \\S+ at \\S+: .*` +
          `The app /f10-web was removed, so nothing is left behind\\.$`,
      ),
    );
    expect(createError.initFailed).toBe(false);
    await expectAgreement(marathon, stack);

    // Update, in process: the error says the same; state and Marathon agree again after a rollback.
    const direct = inProcessStack();
    const ok = appInputs("web", "f10-web", [marathon.url], { deploymentTimeoutMs: 600 });
    await direct.up("web", ok);
    const before = marathon.deploymentEvents.length;
    marathon.faults.stuckDeployments = true;
    const scale = failureOf(direct.up("web", { ...ok, instances: 3 }));
    await waitFor(() => marathon.deploymentEvents.length > before);
    marathon.faults.stuckDeployments = false;
    const scaleError = (await scale) as MarathonError;
    const stuckScale = marathon.deploymentEvents[before];
    expect(scaleError.message).toMatch(
      new RegExp(`^Deployment ${stuckScale.id} of app /f10-web did not finish .*: \\d+ staged, 1 running, `),
    );
    expect(scaleError.message).toContain(" of 3 instances; last task failure: TASK_FAILED ");
    expect(scaleError.info.deploymentTimeout).toMatchObject({
      appId: "/f10-web",
      deploymentId: stuckScale.id,
    });
    await fetch(`${marathon.url}/v2/deployments/${stuckScale.id}`, { method: "DELETE" }); // rollback
    await waitForIdle(marathon);
    expect(await direct.refresh("web")).toBe("refreshed");
    await expectAgreement(marathon, direct);

    // On a Marathon answering each request in 250 ms (a quarter of the request timeout) the wait's last
    // poll often starts too close to the deadline to be answered: the error must still be the
    // deployment's timeout, not "Marathon did not answer". Five runs, one Marathon each, in parallel.
    const slowRuns = await Promise.all(
      [1, 2, 3, 4, 5].map(async (run) => {
        const slow = await emulator();
        slow.faults.latencyMs = 250;
        slow.faults.stuckDeployments = true;
        const stuckArgs = appInputs("web", `f10-slow-${run}`, [slow.url], { deploymentTimeoutMs: 1_000 });
        const failed = failureOf(inProcessStack().up("web", stuckArgs));
        await waitFor(() => slow.deploymentEvents.length === 1);
        slow.faults.stuckDeployments = false;
        return ((await failed) as Error).message;
      }),
    );
    const timeout = /^Deployment \S+ of app \/f10-slow-\d did not finish within 1000 ms .*: \d+ staged, /;
    expect(slowRuns.filter((message) => !timeout.test(message))).toEqual([]);
  },
);

scenario("F11 the app deleted outside Pulumi: refresh drops it, up recreates it", async () => {
  const marathon = await emulator();
  const stack = hostStack();
  const args = appInputs("web", "f11-web", [marathon.url]);
  await stack.up("web", args);
  marathon.deleteApp("/f11-web");
  expect(await stack.refresh("web")).toBe("dropped");
  await expectAgreement(marathon, stack);
  expect((await stack.up("web", args)).operation).toBe("create");
  expect(await liveAppIds(marathon)).toEqual(["/f11-web"]);
  await expectAgreement(marathon, stack);
});

scenario(
  "F12 the app scaled and edited outside Pulumi: refresh shows the drift, up restores config",
  async () => {
    const marathon = await emulator();
    const stack = hostStack();
    const args = appInputs("web", "f12-web", [marathon.url], { env: { RAILS_ENV: "production" } });
    await stack.up("web", args);
    marathon.scaleApp("/f12-web", 3);
    marathon.updateApp("/f12-web", { env: { DEBUG: "1" }, mem: 64 });
    await waitForIdle(marathon);
    expect(await stack.refresh("web")).toBe("refreshed");
    expect(stack.state.get("web")?.outputs).toMatchObject({ instances: 3, mem: 64, env: { DEBUG: "1" } });
    await expectAgreement(marathon, stack);
    const start = marathon.requests.length;
    const restored = await stack.up("web", args);
    expect(restored).toMatchObject({ operation: "update", diff: { changes: "some", replaces: [] } });
    const put = marathon.requests.slice(start).find((r) => r.method === "PUT");
    expect(put?.query).toBe("partialUpdate=false");
    expect(marathon.getApp("/f12-web")).toMatchObject({
      instances: 1,
      mem: 32,
      env: { RAILS_ENV: "production" },
    });
    await expectAgreement(marathon, stack);
  },
);

scenario("F13 the host killed in the middle of a create: the next create adopts, no orphan", async () => {
  const marathon = await emulator({ deploymentStepMs: 100 });
  const args = appInputs("web", "f13-web", [marathon.url], { instances: 3 });
  const first = await startHostProcess(marathonAppProvider);
  let second: Awaited<ReturnType<typeof startHostProcess>> | undefined;
  try {
    await first.host.configure(NO_CONFIG);
    const crashed = new MiniStack(first.host);
    const create = failureOf(crashed.up("web", args));
    await waitFor(() => marathon.deploymentEvents.length === 1);
    expect(marathon.deploymentEvents[0].finishedAt).toBeUndefined();
    await first.kill9();
    expect(await create).toBeInstanceOf(HostCallError);
    expect(crashed.state.size).toBe(0);
    // The engine checkpointed nothing, so the next up sends Create again, to a new host.
    second = await startHostProcess(marathonAppProvider);
    await second.host.configure(NO_CONFIG);
    const stack = new MiniStack(second.host);
    const created = await stack.up("web", args);
    expect(created.operation).toBe("create");
    expect(created.state.outputs).toMatchObject({ instances: 3, tasksRunning: 3 });
    expect(await liveAppIds(marathon)).toEqual(["/f13-web"]);
    expect(ownerOf(marathon.getApp("/f13-web"))).toBe(args.owner);
    await expectAgreement(marathon, stack);
  } finally {
    await first.kill9();
    await second?.host.stop();
  }
});

scenario(
  "F13b the host killed in the middle of a create that never finishes: the next create takes it over",
  async () => {
    const marathon = await emulator();
    const args = appInputs("web", "f13b-web", [marathon.url], { deploymentTimeoutMs: 800 });
    const first = await startHostProcess(marathonAppProvider);
    let second: Awaited<ReturnType<typeof startHostProcess>> | undefined;
    try {
      await first.host.configure(NO_CONFIG);
      // The app crash-loops, so its create's deployment never finishes; the host dies while waiting.
      marathon.faults.stuckDeployments = true;
      const create = failureOf(new MiniStack(first.host).up("web", args));
      await waitFor(() => marathon.deploymentEvents.length === 1);
      marathon.faults.stuckDeployments = false;
      await first.kill9();
      await create;
      second = await startHostProcess(marathonAppProvider);
      await second.host.configure(NO_CONFIG);
      // The user has meanwhile fixed the app's command: the engine sends Create with the new definition.
      const stack = new MiniStack(second.host);
      const fixed = { ...args, cmd: "python3 -m http.server --bind 0.0.0.0 $PORT0" };
      // The create recognises its own app, updates it over the stuck deployment, and succeeds.
      expect(await stack.up("web", fixed)).toMatchObject({ operation: "create", state: { id: "/f13b-web" } });
      expect(await liveAppIds(marathon)).toEqual(["/f13b-web"]);
      expect(marathon.getApp("/f13b-web")).toMatchObject({ cmd: fixed.cmd });
      await expectAgreement(marathon, stack);
    } finally {
      await first.kill9();
      await second?.host.stop();
    }
  },
);

scenario("F14 a rename of the app id: replaced, the old app removed first, no orphan", async () => {
  const marathon = await emulator();
  const stack = hostStack();
  const args = appInputs("web", "f14-web", [marathon.url], { instances: 2 });
  await stack.up("web", args);
  const renamed = await stack.up("web", { ...args, appId: "f14-web-v2" });
  expect(renamed).toMatchObject({
    operation: "replace",
    diff: { replaces: ["appId"], deleteBeforeReplace: true },
    state: { id: "/f14-web-v2" },
  });
  expect(await liveAppIds(marathon)).toEqual(["/f14-web-v2"]);
  expect(ownerOf(marathon.getApp("/f14-web-v2"))).toBe(args.owner);
  const order = marathon.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
  expect(order).toEqual(["POST /v2/apps", "DELETE /v2/apps/f14-web", "POST /v2/apps"]);
  await expectAgreement(marathon, stack);
});
