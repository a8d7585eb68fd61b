/**
 * App definitions as Marathon stores them: defaults filled in (RAML defaults and AppDefinition),
 * partial updates merged, and the kind of change (none, scale, upgrade) that decides the deployment.
 */
import { isObject } from "./jsonReader";
import { normalizeId } from "./pathId";
import type { JsonObject } from "./types";

/** Fields that Marathon manages itself and that never count as a definition change. */
const SERVER_FIELDS = ["version", "versionInfo"];
const ARCHIVE_EXTENSIONS = [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"];

const HEALTH_CHECK_DEFAULTS = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
  ipProtocol: "IPv4",
};
const READINESS_CHECK_DEFAULTS = {
  name: "readinessCheck",
  protocol: "HTTP",
  path: "/",
  portName: "http-api",
  intervalSeconds: 30,
  timeoutSeconds: 10,
  httpStatusCodesForReady: [200],
  preserveLastResponse: false,
};

const nonEmpty = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  !(Array.isArray(v) && v.length === 0) &&
  !(isObject(v) && Object.keys(v).length === 0);

/** Copies `value` under `key` only when set (RAML "Option" fields). */
function setIf(
  target: JsonObject,
  key: string,
  value: unknown,
  present: (v: unknown) => boolean = (v) => v !== undefined && v !== null,
): void {
  if (present(value)) target[key] = value;
}

/** Whether the app uses host networking (port definitions) rather than container networking. */
export function isHostNetworking(app: JsonObject): boolean {
  const networks = app.networks as Array<{ mode?: string }> | undefined;
  return !networks || networks.length === 0 || networks[0].mode === "host";
}

/**
 * The definition Marathon stores for `input` (already validated), with its defaults.
 * Service ports stay as requested (0 = to be assigned); version fields are not set here.
 */
export function withDefaults(input: JsonObject, id: string): JsonObject {
  const container = normalizeContainer(input.container);
  const networks = (input.networks as JsonObject[] | undefined) ??
    networksFromDocker(input.container) ?? [{ mode: "host" }];
  const app: JsonObject = { id };
  setIf(app, "cmd", input.cmd);
  setIf(app, "args", input.args, nonEmpty);
  Object.assign(app, {
    instances: input.instances ?? 1,
    cpus: input.cpus ?? 1,
    mem: input.mem ?? 128,
    disk: input.disk ?? 0,
    gpus: input.gpus ?? 0,
  });
  setIf(app, "user", input.user);
  setIf(app, "env", input.env, nonEmpty);
  app.labels = input.labels ?? {};
  setIf(app, "constraints", input.constraints, nonEmpty);
  setIf(app, "acceptedResourceRoles", input.acceptedResourceRoles, nonEmpty);
  app.role = input.role ?? "*";
  app.executor = input.executor ?? "";
  setIf(app, "container", container);
  app.networks = networks;
  if (isHostNetworking(app)) app.portDefinitions = portDefinitions(input);
  app.requirePorts = isHostNetworking(app) ? (input.requirePorts ?? false) : false;
  setIf(
    app,
    "healthChecks",
    (input.healthChecks as JsonObject[] | undefined)?.map(healthCheckWithDefaults),
    nonEmpty,
  );
  setIf(
    app,
    "readinessChecks",
    (input.readinessChecks as JsonObject[] | undefined)?.map((r) => ({ ...READINESS_CHECK_DEFAULTS, ...r })),
    nonEmpty,
  );
  setIf(app, "dependencies", (input.dependencies as string[] | undefined)?.map(normalizeId), nonEmpty);
  app.upgradeStrategy = {
    minimumHealthCapacity: 1,
    maximumOverCapacity: 1,
    ...(input.upgradeStrategy as JsonObject),
  };
  app.unreachableStrategy = input.unreachableStrategy ?? { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 };
  app.killSelection = input.killSelection ?? "YOUNGEST_FIRST";
  app.backoffSeconds = input.backoffSeconds ?? 1;
  app.backoffFactor = input.backoffFactor ?? 1.15;
  app.maxLaunchDelaySeconds = input.maxLaunchDelaySeconds ?? 300;
  setIf(app, "taskKillGracePeriodSeconds", input.taskKillGracePeriodSeconds);
  setIf(app, "fetch", fetchWithDefaults(input), nonEmpty);
  setIf(app, "secrets", input.secrets, nonEmpty);
  for (const optional of ["tty", "check", "executorResources", "resourceLimits", "residency"]) {
    setIf(app, optional, input[optional]);
  }
  return app;
}

function portDefinitions(input: JsonObject): JsonObject[] {
  if (Array.isArray(input.portDefinitions)) {
    return (input.portDefinitions as JsonObject[]).map((d) => ({ port: 0, protocol: "tcp", ...d }));
  }
  if (Array.isArray(input.ports)) return (input.ports as number[]).map((port) => ({ port, protocol: "tcp" }));
  return [{ port: 0, protocol: "tcp", name: "default" }];
}

function healthCheckWithDefaults(check: JsonObject): JsonObject {
  const protocol = typeof check.protocol === "string" ? check.protocol.toUpperCase() : "HTTP";
  const result: JsonObject = { ...HEALTH_CHECK_DEFAULTS, ...check, protocol };
  if (typeof check.command === "string") result.command = { value: check.command };
  const portBased = protocol !== "COMMAND";
  if (portBased && check.port === undefined && check.portIndex === undefined) result.portIndex = 0;
  if (protocol.includes("HTTP") && check.path === undefined) result.path = "/";
  return result;
}

/** `fetch` with its defaults, or the deprecated `uris` turned into `fetch` as Marathon does. */
function fetchWithDefaults(input: JsonObject): JsonObject[] | undefined {
  if (Array.isArray(input.fetch)) {
    return (input.fetch as JsonObject[]).map((f) => ({
      extract: true,
      executable: false,
      cache: false,
      ...f,
    }));
  }
  if (!Array.isArray(input.uris)) return undefined;
  return (input.uris as string[]).map((uri) => ({
    uri,
    extract: ARCHIVE_EXTENSIONS.some((ext) => uri.endsWith(ext)),
    executable: false,
    cache: false,
  }));
}

/** Moves the deprecated docker.portMappings up and drops docker.network (replaced by `networks`). */
function normalizeContainer(raw: unknown): JsonObject | undefined {
  if (!isObject(raw)) return undefined;
  const container: JsonObject = { type: "DOCKER", ...raw };
  if (isObject(raw.docker)) {
    const docker: JsonObject = { forcePullImage: false, privileged: false, parameters: [], ...raw.docker };
    if (docker.portMappings !== undefined && container.portMappings === undefined) {
      container.portMappings = docker.portMappings;
    }
    delete docker.portMappings;
    delete docker.network;
    container.docker = docker;
  }
  if (Array.isArray(container.portMappings)) {
    container.portMappings = (container.portMappings as JsonObject[]).map((m) => ({
      containerPort: 0,
      hostPort: 0,
      servicePort: 0,
      protocol: "tcp",
      ...m,
    }));
  }
  container.volumes = container.volumes ?? [];
  return container;
}

function networksFromDocker(raw: unknown): JsonObject[] | undefined {
  const network = isObject(raw) && isObject(raw.docker) ? raw.docker.network : undefined;
  if (network === "BRIDGE") return [{ mode: "container/bridge" }];
  if (network === "USER") return [{ mode: "container" }];
  return undefined;
}

/**
 * A partial update (PATCH, PUT with partialUpdate=true): fields present override the stored ones.
 * A new `cmd` drops stored `args` and vice versa, so that switching between them stays valid.
 */
export function mergeUpdate(stored: JsonObject, update: JsonObject): JsonObject {
  const merged: JsonObject = { ...stored };
  for (const [key, value] of Object.entries(update)) {
    if (value !== undefined && !SERVER_FIELDS.includes(key) && key !== "id") merged[key] = value;
  }
  if (update.cmd !== undefined && update.args === undefined) delete merged.args;
  if (update.args !== undefined && update.cmd === undefined) delete merged.cmd;
  if (update.uris !== undefined && update.fetch === undefined) delete merged.fetch;
  if (update.ports !== undefined && update.portDefinitions === undefined) delete merged.portDefinitions;
  return merged;
}

/** JSON text with sorted keys, for comparing definitions regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What a change from `old` to `next` means for tasks (AppDefinition.isUpgrade / isOnlyScaleChange). */
export type ChangeKind = "none" | "scale" | "upgrade";

export function classifyChange(old: JsonObject, next: JsonObject): ChangeKind {
  const config = (app: JsonObject) => {
    const copy: JsonObject = { ...app };
    for (const key of [...SERVER_FIELDS, "instances"]) delete copy[key];
    return canonical(copy);
  };
  if (config(old) !== config(next)) return "upgrade";
  return old.instances === next.instances ? "none" : "scale";
}

/** A deep copy, so stored definitions never share objects with request bodies or responses. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
