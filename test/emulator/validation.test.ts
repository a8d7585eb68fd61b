/** 422 bodies for invalid app definitions: "Invalid JSON" from the reader, "Object is not valid" from the validators. */
import { api, useEmulator } from "./helpers";

const emulator = useEmulator();
const BASE = { id: "/app", cmd: "sleep 1" };
const ID_REGEX =
  "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$";
const COMMAND_RULE = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

type Case = [name: string, body: Record<string, unknown>, details: Array<{ path: string; errors: string[] }>];

const invalidJson: Case[] = [
  ["missing id", { cmd: "sleep 1" }, [{ path: "/id", errors: ["error.path.missing"] }]],
  ["id with uppercase", { ...BASE, id: "/MyApp" }, [{ path: "/id", errors: ["error.pattern"] }]],
  ["id with underscore", { ...BASE, id: "my_app" }, [{ path: "/id", errors: ["error.pattern"] }]],
  ["id segment starting with -", { ...BASE, id: "/-app" }, [{ path: "/id", errors: ["error.pattern"] }]],
  ["id not a string", { ...BASE, id: 5 }, [{ path: "/id", errors: ["error.expected.jsstring"] }]],
  ["empty cmd", { ...BASE, cmd: "" }, [{ path: "/cmd", errors: ["error.minLength"] }]],
  ["negative instances", { ...BASE, instances: -1 }, [{ path: "/instances", errors: ["error.min"] }]],
  [
    "fractional instances",
    { ...BASE, instances: 1.5 },
    [{ path: "/instances", errors: ["error.expected.int"] }],
  ],
  [
    "instances as string",
    { ...BASE, instances: "3" },
    [{ path: "/instances", errors: ["error.expected.jsnumber"] }],
  ],
  ["cpus below 0.001", { ...BASE, cpus: 0 }, [{ path: "/cpus", errors: ["error.min"] }]],
  ["negative mem", { ...BASE, mem: -5 }, [{ path: "/mem", errors: ["error.min"] }]],
  ["negative disk", { ...BASE, disk: -1 }, [{ path: "/disk", errors: ["error.min"] }]],
  [
    "upgradeStrategy out of 0..1",
    { ...BASE, upgradeStrategy: { minimumHealthCapacity: 1.5, maximumOverCapacity: -0.1 } },
    [
      { path: "/upgradeStrategy/minimumHealthCapacity", errors: ["error.max"] },
      { path: "/upgradeStrategy/maximumOverCapacity", errors: ["error.min"] },
    ],
  ],
  [
    "backoffFactor below 1",
    { ...BASE, backoffFactor: 0.5 },
    [{ path: "/backoffFactor", errors: ["error.min"] }],
  ],
  [
    "port out of range",
    { ...BASE, portDefinitions: [{ port: 70000 }] },
    [{ path: "/portDefinitions(0)/port", errors: ["error.max"] }],
  ],
  [
    "unknown port protocol",
    { ...BASE, portDefinitions: [{ port: 80, protocol: "sctp" }] },
    [{ path: "/portDefinitions(0)/protocol", errors: ["error.unknown.enum.literal"] }],
  ],
  [
    "unknown health check protocol",
    { ...BASE, healthChecks: [{ protocol: "GOPHER" }] },
    [{ path: "/healthChecks(0)/protocol", errors: ["error.unknown.enum.literal"] }],
  ],
  [
    "labels not strings",
    { ...BASE, labels: { a: 1 } },
    [{ path: "/labels/a", errors: ["error.expected.jsstring"] }],
  ],
  [
    "docker container without image",
    { ...BASE, container: { type: "DOCKER", docker: {} } },
    [{ path: "/container/docker/image", errors: ["error.path.missing"] }],
  ],
  [
    "unknown killSelection",
    { ...BASE, killSelection: "RANDOM" },
    [{ path: "/killSelection", errors: ["error.unknown.enum.literal"] }],
  ],
];

const notValid: Case[] = [
  ["cmd together with args", { ...BASE, args: ["x"] }, [{ path: "/", errors: [COMMAND_RULE] }]],
  ["neither cmd, args nor container", { id: "/app" }, [{ path: "/", errors: [COMMAND_RULE] }]],
  [
    "root id",
    { ...BASE, id: "/" },
    [{ path: "/id", errors: ["Path must contain at least one path element"] }],
  ],
  [
    "reserved last segment",
    { ...BASE, id: "/app/tasks" },
    [
      {
        path: "/id",
        errors: ["must not end with any of the following reserved keywords: restart, tasks, versions, ., .."],
      },
    ],
  ],
  [
    "unknown constraint operator",
    { ...BASE, constraints: [["hostname", "SPREAD"]] },
    [
      {
        path: "/constraints(0)",
        errors: [
          "Constraint operator must be one of the following: [UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS]",
        ],
      },
    ],
  ],
  [
    "constraint with one field",
    { ...BASE, constraints: [["hostname"]] },
    [{ path: "/constraints(0)", errors: ["Each constraint must have either 2 or 3 fields"] }],
  ],
  [
    "LIKE with an invalid regex",
    { ...BASE, constraints: [["hostname", "LIKE", "("]] },
    [{ path: "/constraints(0)", errors: ["is not a valid regular expression"] }],
  ],
  [
    "duplicate port names",
    {
      ...BASE,
      portDefinitions: [
        { port: 0, name: "http" },
        { port: 0, name: "http" },
      ],
    },
    [{ path: "/portDefinitions", errors: ["Port names must be unique."] }],
  ],
  [
    "health check on a missing port",
    { ...BASE, portDefinitions: [], healthChecks: [{ protocol: "HTTP", portIndex: 0 }] },
    [
      {
        path: "/healthChecks(0)",
        errors: [
          "Health check port indices must address an element of the ports array or container port mappings.",
        ],
      },
    ],
  ],
];

describe("POST /v2/apps rejects invalid definitions with 422", () => {
  it.each(invalidJson)("Invalid JSON: %s", async (_name, body, details) => {
    const res = await api(emulator(), "POST", "/v2/apps", body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ message: "Invalid JSON", details });
  });

  it.each(notValid)("Object is not valid: %s", async (_name, body, details) => {
    const res = await api(emulator(), "POST", "/v2/apps", body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ message: "Object is not valid", details });
  });

  it("reports the id regex for a segment that only the semantic validator rejects", async () => {
    const res = await api(emulator(), "PUT", "/v2/apps/a..b", { cmd: "x y" });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      { path: "/id", errors: [`must fully match regular expression '${ID_REGEX}'`] },
    ]);
  });

  it("rejects a non-object body and a bad update without storing anything", async () => {
    const array = await api(emulator(), "POST", "/v2/apps", [1]);
    expect(array.body).toEqual({
      message: "Invalid JSON",
      details: [{ path: "/", errors: ["error.expected.jsobject"] }],
    });
    await api(emulator(), "POST", "/v2/apps", BASE);
    const update = await api(emulator(), "PUT", "/v2/apps/app?force=true", { mem: -1 });
    expect(update.status).toBe(422);
    expect((await api(emulator(), "GET", "/v2/apps")).body.apps[0].mem).toBe(128);
  });

  it("accepts a full, valid definition with docker, health checks, constraints and fetch", async () => {
    const res = await api(emulator(), "POST", "/v2/apps", {
      id: "/prod/rails",
      args: ["bundle", "exec", "unicorn"],
      instances: 2,
      cpus: 0.5,
      mem: 256,
      container: { type: "DOCKER", docker: { image: "ruby:3", network: "HOST" } },
      constraints: [
        ["hostname", "UNIQUE"],
        ["rack", "GROUP_BY", "2"],
        ["hostname", "LIKE", "slave-.*"],
      ],
      healthChecks: [
        { protocol: "HTTP", path: "/health" },
        { protocol: "COMMAND", command: { value: "true" } },
      ],
      fetch: [{ uri: "https://example.invalid/app.tgz" }],
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      env: { RAILS_ENV: "production" },
    });
    expect(res.status).toBe(201);
    expect(res.body.healthChecks[0]).toMatchObject({
      protocol: "HTTP",
      path: "/health",
      portIndex: 0,
      gracePeriodSeconds: 300,
    });
    expect(res.body.fetch).toEqual([
      { uri: "https://example.invalid/app.tgz", extract: true, executable: false, cache: false },
    ]);
  });
});
