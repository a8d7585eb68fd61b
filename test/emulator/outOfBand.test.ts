/** Out-of-band changes (as a Marathon UI user would make them), the request log and deployment events. */
import { api, useEmulator, waitFor, waitForIdle } from "./helpers";

const emulator = useEmulator();
const APP = { id: "/web", cmd: "sleep 3600", instances: 1 };

describe("out-of-band operations", () => {
  it("createApp and getApp: the AppInfo as GET returns it", async () => {
    emulator().createApp(APP);
    await waitForIdle(emulator());
    const app = emulator().getApp("web");
    expect(app).toMatchObject({ id: "/web", instances: 1, tasksRunning: 1, deployments: [] });
    expect(app?.tasks).toHaveLength(1);
    expect(app).toEqual((await api(emulator(), "GET", "/v2/apps/web")).body.app);
    expect(emulator().getApp("/missing")).toBeUndefined();
  });

  it("scaleApp and updateApp change the app with a deployment, even while one runs", async () => {
    emulator().createApp({ ...APP, instances: 30 });
    emulator().scaleApp("/web", 2);
    emulator().updateApp("/web", { labels: { drift: "yes" } });
    await waitForIdle(emulator());
    expect(emulator().getApp("/web")).toMatchObject({
      instances: 2,
      tasksRunning: 2,
      labels: { drift: "yes" },
    });
  });

  it("deleteApp removes the app; invalid or unknown ids throw with Marathon's message", () => {
    emulator().createApp(APP);
    emulator().deleteApp("/web");
    expect(emulator().getApp("/web")).toBeUndefined();
    expect(() => emulator().deleteApp("/web")).toThrow("App '/web' does not exist");
    expect(() => emulator().scaleApp("/nope", 1)).toThrow("App '/nope' does not exist");
    expect(() => emulator().createApp({ id: "/Bad", cmd: "x" })).toThrow("error.pattern");
    expect(() => emulator().updateApp("/nope", {})).toThrow("404");
  });

  it("logs every request with method, path, query, parsed body and time", async () => {
    const before = Date.now();
    await api(emulator(), "POST", "/v2/apps?force=false", APP);
    await api(emulator(), "GET", "/v2/apps//web?embed=app.tasks");
    expect(emulator().requests).toEqual([
      { method: "POST", path: "/v2/apps", query: "force=false", body: APP, at: expect.any(Number) },
      {
        method: "GET",
        path: "/v2/apps//web",
        query: "embed=app.tasks",
        body: undefined,
        at: expect.any(Number),
      },
    ]);
    expect(emulator().requests[0].at).toBeGreaterThanOrEqual(before);
  });

  it("records when each deployment started and finished", async () => {
    const created = await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 2 });
    const id = created.headers.get("marathon-deployment-id");
    const event = await waitFor(() => emulator().deploymentEvents.find((e) => e.id === id && e.finishedAt));
    expect(event).toEqual({
      id,
      appId: "/web",
      startedAt: expect.any(Number),
      finishedAt: expect.any(Number),
    });
    expect(event.finishedAt).toBeGreaterThanOrEqual(event.startedAt);
    expect((await api(emulator(), "GET", "/v2/deployments")).body).toEqual([]);
  });
});
