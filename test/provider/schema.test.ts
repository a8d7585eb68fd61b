import { changedFields, reconcileWithLive, validateAppDefinition } from "../../providers/marathon/schema";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const base = { id: "rails-app-on-mesos-marathon", cmd: "sleep 3600" };

describe("validateAppDefinition accepts", () => {
  test("the seed's app and makes its id absolute", () => {
    const seed = {
      id: "rails-app-on-mesos-marathon",
      cmd: "cd hello && bundle install && RAILS_ENV=production bundle exec unicorn -p 9999",
      uris: ["https://example.org/hello.tgz"],
      cpus: 0.5,
      mem: 400,
      disk: 0,
      instances: 1,
    };
    expect(validateAppDefinition(seed)).toEqual({
      ok: true,
      value: { ...seed, id: "/rails-app-on-mesos-marathon" },
    });
  });

  test("adopt, the provider's own setting, which is no Marathon field", () => {
    expect(validateAppDefinition({ ...base, adopt: true })).toEqual({
      ok: true,
      value: { ...base, id: "/rails-app-on-mesos-marathon", adopt: true },
    });
  });

  test("a docker app with health checks, constraints and every documented section", () => {
    const app = {
      id: "/shop/web.v2",
      args: ["--port", "8080"],
      instances: 0,
      container: {
        type: "DOCKER",
        docker: { image: "nginx:1.25", network: "BRIDGE" },
        portMappings: [{ containerPort: 80 }],
      },
      env: { A: "1", DB_PASSWORD: { secret: "db" } },
      labels: { team: "shop" },
      constraints: [
        ["hostname", "UNIQUE"],
        ["rack", "GROUP_BY", "2"],
        ["hostname", "LIKE", "web-.*"],
      ],
      healthChecks: [
        { protocol: "MESOS_HTTP", path: "/health", portIndex: 0, intervalSeconds: 10, timeoutSeconds: 5 },
      ],
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      fetch: [{ uri: "https://example.org/a.tgz", extract: true }],
      backoffSeconds: 2,
      backoffFactor: 1.5,
      maxLaunchDelaySeconds: 600,
    };
    expect(validateAppDefinition(app)).toEqual({ ok: true, value: app });
  });
});

// Each row: a change to a valid definition, the property named and the exact reason.
const invalid: [string, Record<string, unknown>, string, string][] = [
  [
    "uppercase in id",
    { id: "Rails" },
    "id",
    'must be a path of segments made of lowercase letters, digits, "-" and "." (each part starting and ending with a letter or digit; no uppercase, no "_"), got "Rails" (segment "Rails")',
  ],
  [
    "underscore in id",
    { id: "/shop/my_app" },
    "id",
    'must be a path of segments made of lowercase letters, digits, "-" and "." (each part starting and ending with a letter or digit; no uppercase, no "_"), got "/shop/my_app" (segment "my_app")',
  ],
  [
    "id segment ending in -",
    { id: "web-" },
    "id",
    'must be a path of segments made of lowercase letters, digits, "-" and "." (each part starting and ending with a letter or digit; no uppercase, no "_"), got "web-" (segment "web-")',
  ],
  ["root id", { id: "/" }, "id", 'must name an app, not the root group, got "/"'],
  [
    "reserved last segment",
    { id: "/shop/tasks" },
    "id",
    'must not end with a reserved word (restart, tasks, versions), got "/shop/tasks"',
  ],
  ["numeric id", { id: 7 }, "id", "must be an app id (a string), got 7"],
  [
    "cmd with args",
    { args: ["-p", "80"] },
    "args",
    "must not be given together with cmd: give cmd (a shell command) or args, not both",
  ],
  [
    "neither cmd nor args nor container",
    { cmd: undefined },
    "cmd",
    "is required: give cmd or args, or a container",
  ],
  [
    "one-character cmd",
    { cmd: "x" },
    "cmd",
    'must be a command of at least 2 characters (Marathon rejects shorter ones), got "x"',
  ],
  ["negative instances", { instances: -1 }, "instances", "must be a whole number of at least 0, got -1"],
  ["fractional instances", { instances: 1.5 }, "instances", "must be a whole number of at least 0, got 1.5"],
  ["instances as a string", { instances: "3" }, "instances", 'must be a whole number of at least 0, got "3"'],
  ["zero cpus", { cpus: 0 }, "cpus", "must be a number of at least 0.001, got 0"],
  ["negative mem", { mem: -128 }, "mem", "must be a number of at least 0, got -128"],
  [
    "upgradeStrategy above 1",
    { upgradeStrategy: { minimumHealthCapacity: 1.5 } },
    "upgradeStrategy.minimumHealthCapacity",
    "must be a number from 0 to 1, got 1.5",
  ],
  [
    "upgradeStrategy below 0",
    { upgradeStrategy: { maximumOverCapacity: -0.1 } },
    "upgradeStrategy.maximumOverCapacity",
    "must be a number from 0 to 1, got -0.1",
  ],
  [
    "bad constraint operator",
    { constraints: [["hostname", "EQUALS", "a"]] },
    "constraints[0][1]",
    'must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, got "EQUALS"',
  ],
  [
    "constraint with one element",
    { constraints: [["hostname"]] },
    "constraints[0]",
    'must be [field, operator] or [field, operator, value], got ["hostname"]',
  ],
  [
    "LIKE without a value",
    { constraints: [["hostname", "LIKE"]] },
    "constraints[0][2]",
    "is required for LIKE",
  ],
  [
    "MAX_PER with a non-number",
    { constraints: [["rack", "MAX_PER", "two"]] },
    "constraints[0][2]",
    'must be a whole number for MAX_PER, got "two"',
  ],
  [
    "bad health check protocol",
    { healthChecks: [{ protocol: "FTP" }] },
    "healthChecks[0].protocol",
    'must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_TCP, MESOS_HTTP, MESOS_HTTPS, got "FTP"',
  ],
  [
    "COMMAND check without command",
    { healthChecks: [{ protocol: "COMMAND" }] },
    "healthChecks[0].command",
    'is required for protocol COMMAND ({"value": "<command>"})',
  ],
  [
    "health check timeout not below interval",
    { healthChecks: [{ intervalSeconds: 10, timeoutSeconds: 10 }] },
    "healthChecks[0].timeoutSeconds",
    "must be less than intervalSeconds (10), got 10",
  ],
  [
    "path on a TCP check",
    { healthChecks: [{ protocol: "TCP", path: "/" }] },
    "healthChecks[0].path",
    "is only allowed with HTTP, HTTPS, MESOS_HTTP, MESOS_HTTPS, got protocol TCP",
  ],
  [
    "port out of range",
    { portDefinitions: [{ port: 70000 }] },
    "portDefinitions[0].port",
    "must be a whole number from 0 to 65535, got 70000",
  ],
  [
    "duplicate fixed ports",
    { portDefinitions: [{ port: 80 }, { port: 80 }] },
    "portDefinitions[1].port",
    "must be unique unless 0, got 80 (also at [0])",
  ],
  [
    "bad port protocol",
    { portDefinitions: [{ port: 0, protocol: "sctp" }] },
    "portDefinitions[0].protocol",
    'must be one of tcp, udp, udp,tcp, got "sctp"',
  ],
  [
    "env value as a number",
    { env: { PORT: 9999 } },
    "env.PORT",
    'must be a string or {"secret": "<name>"}, got 9999',
  ],
  [
    "label value as a boolean",
    { labels: { "team-name": true } },
    'labels["team-name"]',
    "must be a string, got true",
  ],
  [
    "uris with fetch",
    { uris: ["http://a/b"], fetch: [{ uri: "http://a/b" }] },
    "uris",
    "must not be given together with fetch: list every URI under fetch",
  ],
  [
    "fetch entry without uri",
    { fetch: [{ extract: true }] },
    "fetch[0].uri",
    "must be a non-empty URI of at most 1024 characters, got nothing",
  ],
  [
    "docker container without image",
    { container: { type: "DOCKER" } },
    "container.docker",
    'is required for a DOCKER container ({"image": "..."})',
  ],
  [
    "unknown docker network",
    { container: { docker: { image: "a", network: "OVERLAY" } } },
    "container.docker.network",
    'must be one of BRIDGE, HOST, USER, NONE, got "OVERLAY"',
  ],
  [
    "backoffFactor below 1",
    { backoffFactor: 0.5 },
    "backoffFactor",
    "must be a number of at least 1, got 0.5",
  ],
  [
    "negative backoffSeconds",
    { backoffSeconds: -1 },
    "backoffSeconds",
    "must be a whole number of at least 0, got -1",
  ],
  [
    "negative maxLaunchDelaySeconds",
    { maxLaunchDelaySeconds: -5 },
    "maxLaunchDelaySeconds",
    "must be a whole number of at least 0, got -5",
  ],
  [
    "unknown killSelection",
    { killSelection: "RANDOM" },
    "killSelection",
    'must be one of YOUNGEST_FIRST, OLDEST_FIRST, got "RANDOM"',
  ],
  [
    "misspelt field",
    { instance: 3 },
    "instance",
    expect.stringMatching(/^is not a Marathon app field this provider manages; allowed: id, cmd, args, /),
  ],
  ["adopt not a boolean", { adopt: "true" }, "adopt", 'must be true or false, got "true"'],
  [
    "unknown key in upgradeStrategy",
    { upgradeStrategy: { minimumHealthCapacity: 1, maxSurge: 1 } },
    "upgradeStrategy.maxSurge",
    "is not an allowed key here",
  ],
];

describe("validateAppDefinition rejects", () => {
  test.each(invalid)("%s", (_name, change, property, reason) => {
    const result = validateAppDefinition({ ...base, ...change });
    expect(result).toEqual({ ok: false, failures: [{ property, reason }] });
  });

  test("a definition that is not an object", () => {
    expect(validateAppDefinition(null)).toEqual({
      ok: false,
      failures: [{ property: "", reason: "must be an object (a Marathon app definition), got null" }],
    });
  });

  test("every problem at once, not only the first", () => {
    const result = validateAppDefinition({
      id: "A_b",
      cmd: "sleep 1",
      args: ["x"],
      instances: -2,
      mem: "lots",
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.failures.map((f) => f.property).sort()).toEqual([
      "args",
      "id",
      "instances",
      "mem",
    ]);
  });
});

describe("validateAppDefinition with values not known yet", () => {
  const isUnknown = (v: unknown) => v === UNKNOWN;

  test("skips the rules that involve them", () => {
    const app = {
      ...base,
      instances: UNKNOWN,
      cmd: UNKNOWN,
      args: ["a"],
      healthChecks: [{ protocol: UNKNOWN, path: "/" }],
    };
    expect(validateAppDefinition(app, { isUnknown }).ok).toBe(true);
  });

  test("still applies the rules that do not", () => {
    const app = { ...base, env: UNKNOWN, instances: -1 };
    expect(validateAppDefinition(app, { isUnknown })).toEqual({
      ok: false,
      failures: [{ property: "instances", reason: "must be a whole number of at least 0, got -1" }],
    });
  });
});

describe("changedFields", () => {
  test("treats absent fields as Marathon's defaults and uris as fetch", () => {
    const declared = { id: "a", cmd: "sleep 1", uris: ["http://x/a.tgz"] };
    const same = {
      id: "/a",
      cmd: "sleep 1",
      instances: 1,
      mem: 128,
      fetch: [{ uri: "http://x/a.tgz" }],
      labels: {},
    };
    expect(changedFields(declared, same)).toEqual([]);
  });

  test("names only the fields that differ", () => {
    expect(changedFields({ ...base, instances: 1 }, { ...base, instances: 3 })).toEqual(["instances"]);
    expect(changedFields({ ...base, env: { A: "1" } }, base)).toEqual(["env"]);
    expect(changedFields(base, { ...base, id: "other" })).toEqual(["id"]);
    expect(changedFields(base, { ...base, adopt: true })).toEqual([]);
  });
});

describe("reconcileWithLive", () => {
  const live = {
    id: "/a",
    cmd: "sleep 1",
    instances: 1,
    cpus: 1,
    mem: 128,
    disk: 0,
    labels: {},
    portDefinitions: [{ port: 10000, protocol: "tcp", name: "default" }],
    fetch: [{ uri: "http://x/a.tgz", extract: true, executable: false, cache: false }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    maxLaunchDelaySeconds: 300,
    version: "2020-01-01T00:00:00.000Z",
    tasks: [],
  };

  test("keeps declared values that Marathon only completed", () => {
    const declared = { id: "a", cmd: "sleep 1", uris: ["http://x/a.tgz"], portDefinitions: [{ port: 0 }] };
    expect(reconcileWithLive(declared, live)).toEqual({ ...declared, id: "/a" });
  });

  test("shows changes made outside, and fields added outside", () => {
    const declared = { id: "a", cmd: "sleep 1", instances: 1 };
    expect(reconcileWithLive(declared, { ...live, instances: 4, env: { X: "y" } })).toEqual({
      id: "/a",
      cmd: "sleep 1",
      instances: 4,
      env: { X: "y" },
      fetch: live.fetch,
    });
  });

  test("without a declared definition (import) leaves out Marathon's defaults", () => {
    expect(reconcileWithLive(undefined, { ...live, fetch: [] })).toEqual({ id: "/a", cmd: "sleep 1" });
  });
});
