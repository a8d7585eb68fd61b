import { MarathonClient, MarathonError, type MarathonClientOptions } from "../../providers/marathon/client";

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Handler = (call: Call, signal: AbortSignal) => Response | Promise<Response>;

/** A fetch that records each call and answers with `handler`; a thrown error acts as a connection error. */
function stubFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetchStub = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      method: init?.method ?? "GET",
      url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined,
    };
    calls.push(call);
    return handler(call, init!.signal!);
  };
  const fetchImpl: typeof fetch = fetchStub;
  return { calls, fetch: fetchImpl };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function refused(): never {
  throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
}

const A = "http://127.0.0.1:1";
const B = "http://127.0.0.2:1";

function client(handler: Handler, options: Partial<MarathonClientOptions> = {}) {
  const stub = stubFetch(handler);
  const marathon = new MarathonClient({
    endpoints: [A],
    fetch: stub.fetch,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    pollIntervalMs: 1,
    operationTimeoutMs: 2_000,
    ...options,
  });
  return { marathon, calls: stub.calls };
}

const app = {
  id: "/web",
  instances: 2,
  tasksRunning: 2,
  tasksHealthy: 0,
  tasksStaged: 0,
  deployments: [],
  tasks: [],
};

describe("MarathonClient calls", () => {
  test("createApp posts the definition and returns the deployment id from the header", async () => {
    const { marathon, calls } = client(() =>
      json(201, { ...app, deployments: [{ id: "d-body" }] }, { "Marathon-Deployment-Id": "d-header" }),
    );
    const created = await marathon.createApp({ id: "/web", cmd: "sleep 1" });
    expect(created.deploymentId).toBe("d-header");
    expect(calls).toMatchObject([
      { method: "POST", url: `${A}/v2/apps`, body: { id: "/web", cmd: "sleep 1" } },
    ]);
    expect(calls[0].headers["Content-Type"]).toBe("application/json");
  });

  test("getApp embeds tasks, counts, deployments and the last task failure; 404 is undefined", async () => {
    const { marathon, calls } = client((call) =>
      call.url.includes("/gone") ? json(404, { message: "App '/gone' does not exist" }) : json(200, { app }),
    );
    expect(await marathon.getApp("/web")).toEqual(app);
    expect(await marathon.getApp("gone")).toBeUndefined();
    expect(calls[0].url).toBe(
      `${A}/v2/apps/web?embed=app.tasks&embed=app.counts&embed=app.deployments&embed=app.lastTaskFailure`,
    );
  });

  test("updateApp replaces the whole definition; force only when asked", async () => {
    const { marathon, calls } = client(() => json(200, { deploymentId: "d1", version: "v1" }));
    expect(await marathon.updateApp("/shop/web", { id: "/shop/web", cmd: "sleep 2" })).toEqual({
      deploymentId: "d1",
      version: "v1",
    });
    await marathon.updateApp("/shop/web", { id: "/shop/web", cmd: "sleep 2" }, true);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `PUT ${A}/v2/apps/shop/web?partialUpdate=false`,
      `PUT ${A}/v2/apps/shop/web?partialUpdate=false&force=true`,
    ]);
    expect(calls[0].body).toEqual({ id: "/shop/web", cmd: "sleep 2" });
  });

  test("scaleApp sends exactly {instances: N}", async () => {
    const { marathon, calls } = client(() => json(200, { deploymentId: "d2", version: "v2" }));
    await marathon.scaleApp("/web", 3);
    expect(calls).toEqual([
      { method: "PUT", url: `${A}/v2/apps/web`, headers: expect.any(Object), body: { instances: 3 } },
    ]);
  });

  test("deleteApp returns the deployment, and undefined when the app is already gone", async () => {
    let exists = true;
    const { marathon } = client(() => {
      const answer = exists
        ? json(200, { deploymentId: "d3", version: "v3" })
        : json(404, { message: "App '/web' does not exist" });
      exists = false;
      return answer;
    });
    expect(await marathon.deleteApp("/web")).toEqual({ deploymentId: "d3", version: "v3" });
    expect(await marathon.deleteApp("/web")).toBeUndefined();
  });

  test("listDeployments and deleteDeployment", async () => {
    const { marathon, calls } = client((call) =>
      call.method === "GET"
        ? json(200, [{ id: "d4", affectedApps: ["/web"] }])
        : new Response(null, { status: 202 }),
    );
    expect(await marathon.listDeployments()).toEqual([{ id: "d4", affectedApps: ["/web"] }]);
    expect(await marathon.deleteDeployment("d4", true)).toBeUndefined();
    expect(calls[1].url).toBe(`${A}/v2/deployments/d4?force=true`);
  });
});

describe("MarathonClient errors", () => {
  test("a 422 is not retried and carries Marathon's message and details verbatim", async () => {
    const details = [{ path: "/upgradeStrategy/minimumHealthCapacity", errors: ["is greater than 1"] }];
    const { marathon, calls } = client(() => json(422, { message: "Object is not valid", details }));
    const error = await marathon.updateApp("/web", { id: "/web" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarathonError);
    expect(error).toMatchObject({ status: 422, info: { marathonMessage: "Object is not valid", details } });
    expect((error as Error).message).toBe(
      `Marathon PUT /v2/apps/web answered 422: Object is not valid (details: ${JSON.stringify(details)})`,
    );
    expect(calls).toHaveLength(1);
  });

  test("a 409 'already exists' is not retried and is recognisable", async () => {
    const { marathon, calls } = client(() => json(409, { message: "An app with id [/web] already exists." }));
    const error = (await marathon.createApp({ id: "/web" }).catch((e: unknown) => e)) as MarathonError;
    expect(error.isAlreadyExists).toBe(true);
    expect(calls).toHaveLength(1);
  });

  test("a 409 'locked' waits for the locking deployment, then retries", async () => {
    let deploymentsPolled = 0;
    const { marathon, calls } = client((call) => {
      if (call.url.endsWith("/v2/deployments")) {
        deploymentsPolled++;
        return json(200, deploymentsPolled < 3 ? [{ id: "lock-1" }] : []);
      }
      if (deploymentsPolled < 3) {
        return json(409, {
          message: "App is locked by one or more deployments.",
          deployments: [{ id: "lock-1" }],
        });
      }
      return json(200, { deploymentId: "d5", version: "v5" });
    });
    expect(await marathon.scaleApp("/web", 2)).toEqual({ deploymentId: "d5", version: "v5" });
    expect(calls.map((c) => `${c.method} ${c.url.replace(A, "")}`)).toEqual([
      "PUT /v2/apps/web",
      "GET /v2/deployments",
      "GET /v2/deployments",
      "GET /v2/deployments",
      "PUT /v2/apps/web",
    ]);
  });

  test("a lock that outlasts the deadline fails naming the deployment and the force option", async () => {
    const { marathon } = client(
      (call) =>
        call.url.endsWith("/v2/deployments")
          ? json(200, [{ id: "lock-2" }])
          : json(409, {
              message: "App is locked by one or more deployments.",
              deployments: [{ id: "lock-2" }],
            }),
      { operationTimeoutMs: 50 },
    );
    await expect(marathon.scaleApp("/web", 2)).rejects.toThrow(
      /answered 409: App is locked .* \(locked by deployment\(s\) lock-2\); the deployment\(s\) did not finish within 50 ms \(force: true overrides them\)/,
    );
  });
});

describe("MarathonClient transport", () => {
  test("5xx answers (502 no leader, 503) are retried until one succeeds", async () => {
    const answers = [
      new Response("<html><title>Error 502 Could not determine the current leader</title></html>", {
        status: 502,
      }),
      json(503, { message: "storage timeout" }),
      json(200, { app }),
    ];
    const { marathon, calls } = client(() => answers.shift()!);
    expect(await marathon.getApp("/web")).toEqual(app);
    expect(calls).toHaveLength(3);
  });

  test("a refused endpoint fails over to the next, which is then tried first", async () => {
    const { marathon, calls } = client((call) => (call.url.startsWith(A) ? refused() : json(200, { app })), {
      endpoints: [A, B],
    });
    await marathon.getApp("/web");
    await marathon.getApp("/web");
    expect(calls.map((c) => c.url.slice(0, B.length))).toEqual([A, B, B]);
    expect(marathon.activeEndpoint).toBe(B);
  });

  test("endpoints down for a while are retried with backoff until they come back", async () => {
    let failures = 0;
    const { marathon, calls } = client(() => (failures++ < 6 ? refused() : json(200, { app })), {
      endpoints: [A, B],
    });
    expect(await marathon.getApp("/web")).toEqual(app);
    expect(calls).toHaveLength(7);
  });

  test("all endpoints down past the deadline: one error naming each endpoint and its failure", async () => {
    const { marathon, calls } = client(
      (call) => (call.url.startsWith(A) ? refused() : new Response("", { status: 502 })),
      { endpoints: [A, B], operationTimeoutMs: 100 },
    );
    const error = (await marathon.getApp("/web").catch((e: unknown) => e)) as MarathonError;
    expect(error.message).toMatch(
      new RegExp(
        `^Marathon did not answer GET /v2/apps/web within 100 ms \\(\\d+ round\\(s\\) over 2 endpoint\\(s\\)\\): ${A}: connection failed \\(ECONNREFUSED\\); ${B}: 502$`,
      ),
    );
    expect(error.status).toBeUndefined();
    expect(calls.length).toBeGreaterThan(2);
  });

  test("an attempt the deadline cuts short does not hide the endpoint's real failure", async () => {
    // 502 first; then a hang, which only the deadline (not the 10 s request timeout) ends.
    let attempts = 0;
    const { marathon } = client(
      (_call, signal) => {
        if (attempts++ === 0) return new Response("", { status: 502 });
        return new Promise<Response>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        });
      },
      { operationTimeoutMs: 100, requestTimeoutMs: 10_000 },
    );
    const error = (await marathon.getApp("/web").catch((e: unknown) => e)) as MarathonError;
    expect(error.message).toMatch(new RegExp(`: ${A}: 502$`));
    expect(attempts).toBe(2);
  });

  test("a response slower than the request timeout is abandoned and retried", async () => {
    let attempts = 0;
    const { marathon, calls } = client(
      (_call, signal) => {
        if (attempts++ > 0) return json(200, { app });
        return new Promise<Response>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        });
      },
      { requestTimeoutMs: 20 },
    );
    expect(await marathon.getApp("/web")).toEqual(app);
    expect(calls).toHaveLength(2);
  });

  test("credentials go in a basic auth header and never into an error", async () => {
    const credentials = "admin:S3cret-Pa55";
    const { marathon, calls } = client(() => json(401, { message: "Invalid username or password." }), {
      credentials,
    });
    const error = (await marathon.getApp("/web").catch((e: unknown) => e)) as MarathonError;
    expect(calls[0].headers.Authorization).toBe(`Basic ${Buffer.from(credentials).toString("base64")}`);
    expect(error.status).toBe(401);
    const unreachable = client(() => refused(), { credentials, operationTimeoutMs: 20 });
    const unreachableError = (await unreachable.marathon.getApp("/web").catch((e: unknown) => e)) as Error;
    for (const text of [
      error.message,
      JSON.stringify(error.info),
      unreachableError.message,
      error.stack ?? "",
    ]) {
      expect(text).not.toContain("S3cret-Pa55");
      expect(text).not.toContain(Buffer.from(credentials).toString("base64"));
    }
  });
});

describe("MarathonClient.waitForDeployment", () => {
  test("returns once the deployment is gone and every instance is healthy when there are health checks", async () => {
    const states = [
      { ...app, tasksRunning: 2, tasksHealthy: 1, healthChecks: [{ protocol: "HTTP" }] },
      { ...app, tasksRunning: 2, tasksHealthy: 2, healthChecks: [{ protocol: "HTTP" }] },
    ];
    let listed = 0;
    const { marathon, calls } = client((call) => {
      if (call.url.endsWith("/v2/deployments")) return json(200, listed++ === 0 ? [{ id: "d6" }] : []);
      return json(200, { app: states.shift() });
    });
    const done = await marathon.waitForDeployment("/web", "d6");
    expect(done.tasksHealthy).toBe(2);
    expect(calls.map((c) => c.url.replace(A, "").split("?")[0])).toEqual([
      "/v2/deployments",
      "/v2/deployments",
      "/v2/apps/web",
      "/v2/apps/web",
    ]);
  });

  test("times out naming the app, the deployment, the task counts and the last task failure", async () => {
    const stuck = {
      ...app,
      instances: 3,
      tasksStaged: 1,
      tasksRunning: 1,
      tasksHealthy: 0,
      lastTaskFailure: {
        state: "TASK_FAILED",
        taskId: "web.1",
        host: "10.0.0.5",
        timestamp: "T",
        message: "exit 1",
      },
    };
    const { marathon } = client(
      (call) =>
        call.url.endsWith("/v2/deployments") ? json(200, [{ id: "d7" }]) : json(200, { app: stuck }),
      { operationTimeoutMs: 30 },
    );
    await expect(marathon.waitForDeployment("/web", "d7")).rejects.toThrow(
      "Deployment d7 of app /web did not finish within 30 ms (Marathon deployments never fail on their own): " +
        "1 staged, 1 running, 0 healthy of 3 instances; last task failure: TASK_FAILED of web.1 on 10.0.0.5 at T: exit 1",
    );
  });

  test("concurrent waits on one Marathon share each /v2/deployments poll", async () => {
    let listed = 0;
    const stub = stubFetch((call) => {
      if (call.url.endsWith("/v2/deployments"))
        return json(200, listed++ < 2 ? [{ id: "d1" }, { id: "d2" }] : []);
      return json(200, { app: { ...app, id: call.url.includes("/v2/apps/api") ? "/api" : "/web" } });
    });
    const options = { endpoints: [A], fetch: stub.fetch, pollIntervalMs: 1 };
    const [web, api] = await Promise.all([
      new MarathonClient(options).waitForDeployment("/web", "d1"),
      new MarathonClient(options).waitForDeployment("/api", "d2"),
    ]);
    expect([web.id, api.id]).toEqual(["/web", "/api"]);
    expect(stub.calls.map((c) => c.url.replace(A, "").split("?")[0]).sort()).toEqual([
      "/v2/apps/api",
      "/v2/apps/web",
      "/v2/deployments",
      "/v2/deployments",
      "/v2/deployments",
    ]);
  });

  test("a shared poll that Marathon refuses fails every wait with Marathon's answer", async () => {
    const stub = stubFetch(() => json(401, { message: "Invalid username or password." }));
    const options = { endpoints: [A], fetch: stub.fetch, pollIntervalMs: 1 };
    const waits = ["d1", "d2"].map((d) => new MarathonClient(options).waitForDeployment("/web", d));
    await Promise.all(waits.map((wait) => expect(wait).rejects.toMatchObject({ status: 401 })));
    expect(stub.calls).toHaveLength(1);
  });

  test("waitForAppGone waits for the deletion deployment and the 404", async () => {
    let listed = 0;
    const { marathon, calls } = client((call) => {
      if (call.url.endsWith("/v2/deployments")) return json(200, listed++ < 2 ? [{ id: "d8" }] : []);
      return json(404, { message: "App '/web' does not exist" });
    });
    await marathon.waitForAppGone("/web", "d8");
    expect(calls).toHaveLength(4);
  });
});
