/** Fault switches: down, refused, no leader (502), unavailable (503), latency, stuck deployments. */
import { api, useEmulator, waitFor } from "./helpers";
import { CRASH_LOOP_MESSAGE } from "../../providers/marathon/emulator/state";

const emulator = useEmulator({ deploymentStepMs: 10 });
const APP = { id: "/web", cmd: "sleep 3600", instances: 2 };

/** The error code under fetch's "fetch failed" TypeError. */
async function connectionError(path: string): Promise<string> {
  try {
    await api(emulator(), "GET", path);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? String(e);
  }
  throw new Error("request unexpectedly succeeded");
}

describe("fault modes", () => {
  it("down: connections are destroyed, including kept-alive ones; clearing it restores service", async () => {
    expect((await api(emulator(), "GET", "/ping")).status).toBe(200);
    emulator().faults.down = true;
    expect(await connectionError("/v2/apps")).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    emulator().faults.down = false;
    expect((await api(emulator(), "GET", "/v2/apps")).status).toBe(200);
  });

  it("stop/start: ECONNREFUSED while stopped, same port and state afterwards", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    const port = emulator().port;
    await emulator().stop();
    expect(await connectionError("/v2/apps")).toBe("ECONNREFUSED");
    await emulator().start();
    expect(emulator().port).toBe(port);
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.id).toBe("/web");
  });

  it("noLeader: 502 with Jetty's page, /v2/leader 404, /ping still pong", async () => {
    emulator().faults.noLeader = true;
    const res = await api(emulator(), "POST", "/v2/apps", APP);
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.body).toContain("Could not determine the current leader");
    expect((await api(emulator(), "GET", "/v2/leader")).body).toEqual({ message: "There is no leader" });
    expect((await api(emulator(), "GET", "/v2/leader")).status).toBe(404);
    expect((await api(emulator(), "GET", "/ping")).status).toBe(200);
    emulator().faults.noLeader = false;
    expect((await api(emulator(), "GET", "/v2/apps/web")).status).toBe(404);
  });

  it("unavailable: 503 with a JSON message on every call", async () => {
    emulator().faults.unavailable = true;
    for (const path of ["/v2/apps", "/ping", "/v2/deployments"]) {
      const res = await api(emulator(), "GET", path);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ message: expect.any(String) });
    }
  });

  it("latencyMs: holds every response back, while the change itself is applied at once", async () => {
    emulator().faults.latencyMs = 150;
    const started = Date.now();
    const res = await api(emulator(), "POST", "/v2/apps", APP);
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(emulator().getApp("/web")).toBeDefined();
  });

  it("latency timers are dropped by close() while a response is held", async () => {
    emulator().faults.latencyMs = 10_000;
    const pending = api(emulator(), "GET", "/v2/apps").catch((e: Error) => e);
    await waitFor(() => emulator().requests.length === 1);
    await emulator().close();
    expect(await pending).toMatchObject({ message: "fetch failed" });
  });

  it("stuckDeployments: tasks crash-loop, the deployment never finishes, cancel rolls it back", async () => {
    emulator().faults.stuckDeployments = true;
    const created = await api(emulator(), "POST", "/v2/apps", APP);
    const deploymentId = created.headers.get("marathon-deployment-id");
    const failed = await waitFor(() => {
      const app = emulator().getApp("/web");
      return app?.lastTaskFailure !== undefined && app;
    });
    expect(failed.lastTaskFailure).toMatchObject({
      appId: "/web",
      state: "TASK_FAILED",
      message: CRASH_LOOP_MESSAGE,
    });
    expect(failed).toMatchObject({ tasksRunning: 0, tasksStaged: 1, deployments: [{ id: deploymentId }] });
    // The list endpoint includes lastTaskFailure only when embedded.
    const listed = (await api(emulator(), "GET", "/v2/apps")).body.apps[0];
    expect(listed.lastTaskFailure).toBeUndefined();
    const embedded = (await api(emulator(), "GET", "/v2/apps?embed=app.lastTaskFailure")).body.apps[0];
    expect(embedded.lastTaskFailure.taskId).toEqual(expect.any(String));
    // Clearing the flag does not unstick the running deployment.
    emulator().faults.stuckDeployments = false;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await api(emulator(), "GET", "/v2/deployments")).body.map((d: { id: string }) => d.id)).toEqual([
      deploymentId,
    ]);
    const cancel = await api(emulator(), "DELETE", `/v2/deployments/${deploymentId}`);
    expect(cancel.status).toBe(200);
    await waitFor(async () => (await api(emulator(), "GET", "/v2/deployments")).body.length === 0);
    expect((await api(emulator(), "GET", "/v2/apps/web")).status).toBe(404);
  });

  it("stuckDeployments: a forced update overrides the stuck deployment and finishes", async () => {
    emulator().faults.stuckDeployments = true;
    await api(emulator(), "POST", "/v2/apps", APP);
    emulator().faults.stuckDeployments = false;
    expect((await api(emulator(), "PUT", "/v2/apps/web", { instances: 1 })).status).toBe(409);
    const forced = await api(emulator(), "PUT", "/v2/apps/web?force=true", { instances: 1 });
    expect(forced.status).toBe(200);
    await waitFor(async () => (await api(emulator(), "GET", "/v2/deployments")).body.length === 0);
    expect(emulator().getApp("/web")).toMatchObject({ tasksRunning: 1, tasksStaged: 0 });
  });
});
