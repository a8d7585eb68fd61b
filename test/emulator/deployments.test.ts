/** Deployments: plans and steps, timing per instance, tasks staged then running, health, cancel and rollback. */
import deploymentsExample from "../fixtures/marathon/deployments.json";
import deploymentResultExample from "../fixtures/marathon/deployments_result.json";
import { api, shapeOf, useEmulator, UUID, waitFor, waitForIdle } from "./helpers";

const STEP_MS = 40;
const emulator = useEmulator({ deploymentStepMs: STEP_MS });
const APP = { id: "/web", cmd: "sleep 3600", instances: 1 };

const deploymentList = async () => (await api(emulator(), "GET", "/v2/deployments")).body;

describe("GET /v2/deployments", () => {
  it("lists a create as StartApplication then ScaleApplication, shaped like Marathon's example", async () => {
    const created = await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 8 });
    const [deployment] = await deploymentList();
    expect(shapeOf(deployment)).toEqual(shapeOf(deploymentsExample[0]));
    expect(deployment).toEqual({
      id: created.headers.get("marathon-deployment-id"),
      version: created.body.version,
      affectedApps: ["/web"],
      affectedPods: [],
      steps: [
        { actions: [{ action: "StartApplication", app: "/web" }] },
        { actions: [{ action: "ScaleApplication", app: "/web" }] },
      ],
      currentActions: expect.any(Array),
      currentStep: expect.any(Number),
      totalSteps: 2,
    });
    const running = await waitFor(async () =>
      (await deploymentList()).find((d: { currentStep: number }) => d.currentStep === 2),
    );
    expect(running.currentActions).toEqual([
      { action: "ScaleApplication", app: "/web", readinessCheckResults: [] },
    ]);
    await waitForIdle(emulator());
    expect(await deploymentList()).toEqual([]);
  });

  it("shows a scale as one ScaleApplication step and a config change as RestartApplication", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 3 });
    await waitForIdle(emulator());
    const scale = await api(emulator(), "PUT", "/v2/apps/web", { instances: 8 });
    expect(shapeOf(scale.body)).toEqual(shapeOf(deploymentResultExample));
    expect((await deploymentList())[0].steps).toEqual([
      { actions: [{ action: "ScaleApplication", app: "/web" }] },
    ]);
    await waitForIdle(emulator());
    await api(emulator(), "PUT", "/v2/apps/web", { cmd: "sleep 10" });
    expect((await deploymentList())[0].steps).toEqual([
      { actions: [{ action: "RestartApplication", app: "/web" }] },
    ]);
    await waitForIdle(emulator());
    await api(emulator(), "PUT", "/v2/apps/web", { cmd: "sleep 11", instances: 0 });
    expect((await deploymentList())[0].steps).toEqual([
      { actions: [{ action: "ScaleApplication", app: "/web" }] },
    ]);
  });

  it("takes about one step per instance started: a scale 1 -> 3 lasts 2 steps", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const scale = await api(emulator(), "PUT", "/v2/apps/web", { instances: 3 });
    await waitForIdle(emulator());
    const event = emulator().deploymentEvents.find((e) => e.id === scale.body.deploymentId);
    const duration = (event?.finishedAt ?? 0) - (event?.startedAt ?? 0);
    expect(duration).toBeGreaterThanOrEqual(2 * STEP_MS - 5);
    expect(duration).toBeLessThan(2 * STEP_MS + 500);
    expect(event?.appId).toBe("/web");
  });

  it("stages tasks before they run, and reports them healthy when the app has health checks", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 2, healthChecks: [{ protocol: "TCP" }] });
    const staged = await waitFor(async () => {
      const app = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
      return app.tasksStaged > 0 && app;
    });
    expect(staged.tasks.find((t: { state: string }) => t.state === "TASK_STAGING").startedAt).toBeUndefined();
    await waitForIdle(emulator());
    const app = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(app).toMatchObject({ tasksRunning: 2, tasksHealthy: 2, tasksStaged: 0, tasksUnhealthy: 0 });
    expect(app.tasks[0].healthCheckResults).toEqual([
      expect.objectContaining({ alive: true, consecutiveFailures: 0, taskId: app.tasks[0].id }),
    ]);
  });

  it("runs deployments of different apps concurrently", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 5 });
    const other = await api(emulator(), "POST", "/v2/apps", { ...APP, id: "/other", instances: 5 });
    expect(other.status).toBe(201);
    expect(await deploymentList()).toHaveLength(2);
  });
});

describe("DELETE /v2/deployments/{id}", () => {
  it("cancels with a rollback deployment: a cancelled scale goes back to the old count", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const scale = await api(emulator(), "PUT", "/v2/apps/web", { instances: 20 });
    const res = await api(emulator(), "DELETE", `/v2/deployments/${scale.body.deploymentId}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deploymentId: expect.stringMatching(UUID), version: expect.any(String) });
    expect(res.headers.get("marathon-deployment-id")).toBe(res.body.deploymentId);
    expect(res.body.deploymentId).not.toBe(scale.body.deploymentId);
    const ids = (await deploymentList()).map((d: { id: string }) => d.id);
    expect(ids).not.toContain(scale.body.deploymentId);
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.instances).toBe(1);
    await waitForIdle(emulator());
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.tasksRunning).toBe(1);
  });

  it("rolls a cancelled create back by removing the app", async () => {
    const created = await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 20 });
    await waitFor(async () => (await api(emulator(), "GET", "/v2/apps/web")).body.app.tasksRunning > 1);
    const res = await api(emulator(), "DELETE", `/v2/deployments/${created.body.deployments[0].id}`);
    expect(res.status).toBe(200);
    expect((await api(emulator(), "GET", "/v2/apps/web")).status).toBe(404);
    expect((await deploymentList())[0].steps).toEqual([
      { actions: [{ action: "StopApplication", app: "/web" }] },
    ]);
  });

  it("with force=true only cancels: 202 with no body and no rollback", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const scale = await api(emulator(), "PUT", "/v2/apps/web", { instances: 20 });
    const res = await api(emulator(), "DELETE", `/v2/deployments/${scale.body.deploymentId}?force=true`);
    expect(res.status).toBe(202);
    expect(res.body).toBe("");
    expect(await deploymentList()).toEqual([]);
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.instances).toBe(20);
    expect(
      emulator().deploymentEvents.find((e) => e.id === scale.body.deploymentId)?.cancelledAt,
    ).toBeDefined();
  });

  it("answers 404 for an unknown deployment", async () => {
    const res = await api(emulator(), "DELETE", "/v2/deployments/0000");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: "DeploymentPlan 0000 does not exist" });
  });
});
