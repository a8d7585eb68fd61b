/** /v2/apps: create, read, update, patch, delete, versions and restart, with Marathon's exact bodies. */
import { api, TIMESTAMP, useEmulator, UUID, waitFor, waitForIdle } from "./helpers";

// Long enough per step that a test can observe a deployment in progress even on a loaded machine.
const emulator = useEmulator({ deploymentStepMs: 25 });
const APP = { id: "web", cmd: "sleep 3600", cpus: 0.1, mem: 16, instances: 1 };

describe("POST /v2/apps", () => {
  it("answers 201 with the AppInfo, Location and Marathon-Deployment-Id", async () => {
    const res = await api(emulator(), "POST", "/v2/apps", APP);
    expect(res.status).toBe(201);
    const deploymentId = res.headers.get("marathon-deployment-id");
    expect(deploymentId).toMatch(UUID);
    expect(res.headers.get("location")).toBe(`${emulator().url}/web`);
    expect(res.headers.get("x-marathon-leader")).toBe(`http://127.0.0.1:${emulator().port}`);
    expect(res.headers.get("cache-control")).toBe("no-cache, no-store, must-revalidate");
    expect(res.body).toEqual({
      id: "/web",
      cmd: "sleep 3600",
      instances: 1,
      cpus: 0.1,
      mem: 16,
      disk: 0,
      gpus: 0,
      labels: {},
      role: "*",
      executor: "",
      networks: [{ mode: "host" }],
      // The 201 body still shows the requested service port; the stored app gets a real one.
      portDefinitions: [{ port: 0, protocol: "tcp", name: "default" }],
      requirePorts: false,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
      killSelection: "YOUNGEST_FIRST",
      backoffSeconds: 1,
      backoffFactor: 1.15,
      maxLaunchDelaySeconds: 300,
      version: expect.stringMatching(TIMESTAMP),
      tasksStaged: 0,
      tasksRunning: 0,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      deployments: [{ id: deploymentId }],
    });
  });

  it("answers 409 when the id exists", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    const res = await api(emulator(), "POST", "/v2/apps", { ...APP, id: "/web" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ message: "An app with id [/web] already exists." });
  });

  it("answers 400 for malformed JSON and for an empty body", async () => {
    const malformed = await api(emulator(), "POST", "/v2/apps", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ message: "Invalid JSON", details: expect.any(String) });
    const empty = await api(emulator(), "POST", "/v2/apps", "");
    expect(empty.status).toBe(400);
    expect(empty.body.message).toBe("Please specify data in JSON format");
  });

  it("fills defaults: uris become fetch, omitted ports get a service port from 10000", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, uris: ["http://x/app.tgz", "http://x/run.sh"] });
    await api(emulator(), "POST", "/v2/apps", { ...APP, id: "other" });
    const web = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    const other = (await api(emulator(), "GET", "/v2/apps/other")).body.app;
    expect(web.fetch).toEqual([
      { uri: "http://x/app.tgz", extract: true, executable: false, cache: false },
      { uri: "http://x/run.sh", extract: false, executable: false, cache: false },
    ]);
    expect(web.uris).toBeUndefined();
    expect(web.portDefinitions).toEqual([{ port: 10000, protocol: "tcp", name: "default" }]);
    expect(other.portDefinitions[0].port).toBe(10001);
  });
});

describe("GET /v2/apps and /v2/apps/{id}", () => {
  it("returns the app with counts, tasks, deployments and versionInfo; accepts // in the path", async () => {
    const created = await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 40 });
    const during = (await api(emulator(), "GET", "/v2/apps//web")).body.app;
    expect(during.deployments).toEqual([{ id: created.headers.get("marathon-deployment-id") }]);
    expect(during.versionInfo).toEqual({ lastScalingAt: during.version, lastConfigChangeAt: during.version });
    await api(emulator(), "PUT", "/v2/apps/web?force=true", { instances: 1 });
    await waitForIdle(emulator());
    const app = (await api(emulator(), "GET", "/v2/apps/web/")).body.app;
    expect(app).toMatchObject({
      tasksRunning: 1,
      tasksStaged: 0,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      deployments: [],
    });
    expect(app.tasks).toHaveLength(1);
    expect(app.lastTaskFailure).toBeUndefined();
  });

  it("answers 404 with Marathon's message for an unknown app", async () => {
    const res = await api(emulator(), "GET", "/v2/apps/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: "App '/nope' does not exist" });
  });

  it("lists apps with counts and deployments always, tasks only with embed", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const plain = (await api(emulator(), "GET", "/v2/apps")).body.apps;
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatchObject({ id: "/web", tasksRunning: 1, deployments: [] });
    expect(plain[0].tasks).toBeUndefined();
    for (const embed of ["apps.tasks", "app.tasks", "tasks", "group.apps.tasks", "apps.failures"]) {
      const embedded = (await api(emulator(), "GET", `/v2/apps?embed=${embed}`)).body.apps;
      expect(embedded[0].tasks).toHaveLength(1);
    }
    const readiness = (await api(emulator(), "GET", "/v2/apps?embed=app.readiness")).body.apps;
    expect(readiness[0].readinessCheckResults).toEqual([]);
  });

  it("filters by cmd, id and label selectors", async () => {
    await api(emulator(), "POST", "/v2/apps", {
      ...APP,
      id: "/prod/web",
      labels: { env: "prod", tier: "web" },
    });
    await api(emulator(), "POST", "/v2/apps", {
      ...APP,
      id: "/dev/db",
      cmd: "postgres",
      labels: { env: "dev" },
    });
    const ids = async (query: string) =>
      (await api(emulator(), "GET", `/v2/apps?${query}`)).body.apps.map((a: { id: string }) => a.id);
    expect(await ids("cmd=POSTGRES")).toEqual(["/dev/db"]);
    expect(await ids("id=WEB")).toEqual(["/prod/web"]);
    expect(await ids("label=env==prod")).toEqual(["/prod/web"]);
    expect(await ids("label=env!=prod")).toEqual(["/dev/db"]);
    expect(await ids(`label=${encodeURIComponent("env in (dev,qa),env")}`)).toEqual(["/dev/db"]);
    expect(await ids(`label=${encodeURIComponent("env notin (dev)")}`)).toEqual(["/prod/web"]);
    expect(await ids("label=tier")).toEqual(["/prod/web"]);
    const group = (await api(emulator(), "GET", "/v2/apps/prod/*")).body;
    expect(group["*"].map((a: { id: string }) => a.id)).toEqual(["/prod/web"]);
  });
});

describe("PUT /v2/apps/{id}", () => {
  it("scales with {instances} (version and lastScalingAt change, lastConfigChangeAt does not)", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const before = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    const res = await api(emulator(), "PUT", "/v2/apps/web?force=False", { instances: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      deploymentId: res.headers.get("marathon-deployment-id"),
      version: expect.any(String),
    });
    const after = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(after.instances).toBe(3);
    expect(after.cmd).toBe("sleep 3600");
    expect(after.version).toBe(res.body.version);
    expect(after.versionInfo).toEqual({
      lastScalingAt: res.body.version,
      lastConfigChangeAt: before.versionInfo.lastConfigChangeAt,
    });
    await waitForIdle(emulator());
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.tasksRunning).toBe(3);
  });

  it("replaces the whole definition with partialUpdate=false (removed fields go back to defaults)", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, labels: { a: "b" }, env: { X: "1" } });
    await waitForIdle(emulator());
    const res = await api(emulator(), "PUT", "/v2/apps/web?partialUpdate=false", { cmd: "sleep 1", mem: 32 });
    expect(res.status).toBe(200);
    const app = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(app).toMatchObject({ id: "/web", cmd: "sleep 1", mem: 32, cpus: 1, instances: 1, labels: {} });
    expect(app.env).toBeUndefined();
    expect(app.versionInfo.lastConfigChangeAt).toBe(res.body.version);
    // The service port assigned at create is kept when the new definition asks for port 0 again.
    expect(app.portDefinitions[0].port).toBe(10000);
  });

  it("keeps absent fields with the default partial update", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, labels: { a: "b" } });
    await api(emulator(), "PUT", "/v2/apps/web?force=true", { mem: 64 });
    const app = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(app).toMatchObject({ mem: 64, labels: { a: "b" }, cmd: "sleep 3600" });
  });

  it("creates a missing app with 201 and Location", async () => {
    const res = await api(emulator(), "PUT", "/v2/apps/fresh", { cmd: "sleep 1" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`${emulator().url}/fresh`);
    expect(res.body.deploymentId).toBe(res.headers.get("marathon-deployment-id"));
    expect((await api(emulator(), "GET", "/v2/apps/fresh")).status).toBe(200);
  });

  it("answers 409 with the locking deployments while one runs, and force=true overrides it", async () => {
    const created = await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 50 });
    const deploymentId = created.headers.get("marathon-deployment-id");
    const locked = await api(emulator(), "PUT", "/v2/apps/web", { instances: 2 });
    expect(locked.status).toBe(409);
    expect(locked.body).toEqual({
      message:
        "App is locked by one or more deployments. Override with the option '?force=true'. " +
        "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
      deployments: [{ id: deploymentId }],
    });
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.instances).toBe(50);
    const forced = await api(emulator(), "PUT", "/v2/apps/web?force=TRUE", { instances: 2 });
    expect(forced.status).toBe(200);
    // The forced deployment replaced the locking one, which was cancelled without rollback.
    const listed = (await api(emulator(), "GET", "/v2/deployments")).body.map((d: { id: string }) => d.id);
    expect(listed).not.toContain(deploymentId);
    expect(emulator().deploymentEvents.find((e) => e.id === deploymentId)?.cancelledAt).toBeDefined();
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.instances).toBe(2);
  });

  it("returns a new deployment but keeps the version when nothing changes", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const before = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    const res = await api(emulator(), "PUT", "/v2/apps/web", { cmd: "sleep 3600" });
    expect(res.status).toBe(200);
    expect(res.body.deploymentId).toMatch(UUID);
    const after = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(after.version).toBe(before.version);
    expect((await api(emulator(), "GET", "/v2/apps/web/versions")).body.versions).toEqual([before.version]);
  });

  it("rolls back to a stored version, and rejects version combined with other fields", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    const first = (await api(emulator(), "GET", "/v2/apps/web")).body.app.version;
    await api(emulator(), "PUT", "/v2/apps/web?force=true", { cmd: "sleep 5" });
    const rollback = await api(emulator(), "PUT", "/v2/apps/web?force=true", { version: first });
    expect(rollback.status).toBe(200);
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app.cmd).toBe("sleep 3600");
    const mixed = await api(emulator(), "PUT", "/v2/apps/web?force=true", { version: first, cmd: "x" });
    expect(mixed.status).toBe(422);
    expect(mixed.body).toEqual({ message: "The 'version' field may only be combined with the 'id' field." });
    const unknown = await api(emulator(), "PUT", "/v2/apps/web?force=true", {
      version: "2000-01-01T00:00:00.000Z",
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      message: "App '/web' does not exist in version 2000-01-01T00:00:00.000Z",
    });
  });
});

describe("PATCH /v2/apps/{id}", () => {
  it("updates partially and answers 200 with the deployment", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await waitForIdle(emulator());
    const res = await api(emulator(), "PATCH", "/v2/apps/web", { labels: { team: "a" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("marathon-deployment-id")).toBe(res.body.deploymentId);
    expect((await api(emulator(), "GET", "/v2/apps/web")).body.app).toMatchObject({
      labels: { team: "a" },
      mem: 16,
    });
  });

  it("answers 404 for a missing app instead of creating it", async () => {
    const res = await api(emulator(), "PATCH", "/v2/apps/ghost", { instances: 1 });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: "App '/ghost' does not exist" });
  });
});

describe("DELETE /v2/apps/{id}", () => {
  it("removes the app at once and kills its tasks through a StopApplication deployment", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 20 });
    await waitForIdle(emulator());
    const res = await api(emulator(), "DELETE", "/v2/apps/web");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      deploymentId: res.headers.get("marathon-deployment-id"),
      version: expect.any(String),
    });
    expect((await api(emulator(), "GET", "/v2/apps/web")).status).toBe(404);
    const deployments = (await api(emulator(), "GET", "/v2/deployments")).body;
    expect(deployments[0].steps).toEqual([{ actions: [{ action: "StopApplication", app: "/web" }] }]);
    await waitFor(async () => (await api(emulator(), "GET", "/v2/tasks")).body.tasks.length === 0);
  });

  it("defaults to force=true but answers 409 with an explicit force=False while locked", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 50 });
    const locked = await api(emulator(), "DELETE", "/v2/apps/web?force=False");
    expect(locked.status).toBe(409);
    expect((await api(emulator(), "DELETE", "/v2/apps/web")).status).toBe(200);
  });

  it("answers 404 for an unknown app", async () => {
    const res = await api(emulator(), "DELETE", "/v2/apps/x");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: "App '/x' does not exist" });
  });
});

describe("versions, restart and tasks", () => {
  it("serves /versions newest first and a bare App for one version; drops them on delete", async () => {
    await api(emulator(), "POST", "/v2/apps", APP);
    await api(emulator(), "PUT", "/v2/apps/web?force=true", { instances: 2 });
    const versions = (await api(emulator(), "GET", "/v2/apps/web/versions")).body.versions;
    expect(versions).toHaveLength(2);
    const oldest = (await api(emulator(), "GET", `/v2/apps/web/versions/${versions[1]}`)).body;
    expect(oldest).toMatchObject({ id: "/web", instances: 1, version: versions[1] });
    expect(oldest.tasksRunning).toBeUndefined();
    const missing = await api(emulator(), "GET", "/v2/apps/web/versions/2001-01-01T00:00:00.000Z");
    expect(missing.body).toEqual({
      message: "App '/web' does not exist in version 2001-01-01T00:00:00.000Z",
    });
    await api(emulator(), "DELETE", "/v2/apps/web");
    // Until the StopApplication deployment is done, the id stays locked.
    expect((await api(emulator(), "POST", "/v2/apps", APP)).status).toBe(409);
    await waitForIdle(emulator());
    await api(emulator(), "POST", "/v2/apps", APP);
    expect((await api(emulator(), "GET", "/v2/apps/web/versions")).body.versions).toHaveLength(1);
  });

  it("restarts with a RestartApplication step that replaces every task", async () => {
    await api(emulator(), "POST", "/v2/apps", { ...APP, instances: 2 });
    await waitForIdle(emulator());
    const oldTasks = (await api(emulator(), "GET", "/v2/apps/web/tasks")).body.tasks.map(
      (t: { id: string }) => t.id,
    );
    const res = await api(emulator(), "POST", "/v2/apps/web/restart");
    expect(res.status).toBe(200);
    const app = (await api(emulator(), "GET", "/v2/apps/web")).body.app;
    expect(app.versionInfo.lastConfigChangeAt).toBe(res.body.version);
    await waitForIdle(emulator());
    const newTasks = (await api(emulator(), "GET", "/v2/apps/web/tasks")).body.tasks;
    expect(newTasks).toHaveLength(2);
    expect(newTasks.some((t: { id: string }) => oldTasks.includes(t.id))).toBe(false);
  });

  it("lists an app's tasks with host and ports, and 404s for an unknown app", async () => {
    await api(emulator(), "POST", "/v2/apps", {
      ...APP,
      portDefinitions: [{ port: 0 }, { port: 0, name: "admin" }],
    });
    await waitForIdle(emulator());
    const tasks = (await api(emulator(), "GET", "/v2/apps//web/tasks")).body.tasks;
    expect(tasks).toEqual([
      expect.objectContaining({
        appId: "/web",
        id: expect.stringMatching(/^web\.instance-[0-9a-f-]{36}\._app\.1$/),
        host: "127.0.0.1",
        state: "TASK_RUNNING",
        ports: [31000, 31001],
        servicePorts: [10000, 10001],
        stagedAt: expect.stringMatching(TIMESTAMP),
        startedAt: expect.stringMatching(TIMESTAMP),
      }),
    ]);
    expect((await api(emulator(), "GET", "/v2/apps/none/tasks")).status).toBe(404);
  });
});
