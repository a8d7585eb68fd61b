/**
 * Marathon app definitions: validation by Marathon's own rules (Marathon 1.x, `types/app.raml` and the
 * wix-accord validators), and the defaults Marathon fills in, so that a live app can be compared with the
 * definition it was given. Pure: no Pulumi import. Schemas are built inside functions because a zod schema
 * instance cannot be captured when the dynamic provider is serialized.
 */
import { z } from "zod";

/** An environment variable: a value, or a reference to a Marathon secret. */
export type EnvValue = string | { secret: string };

/** An artifact the Mesos fetcher downloads into the sandbox before the task starts. */
export interface FetchUri {
  uri: string;
  /** Unpack archives (`.tgz`, `.zip`, ...). Default true. */
  extract?: boolean;
  /** Mark the file executable. Default false. */
  executable?: boolean;
  /** Use the fetcher cache. Default false. */
  cache?: boolean;
  destPath?: string;
}

export type PortProtocol = "tcp" | "udp" | "udp,tcp";

/** A service port under host networking; port 0 lets Marathon assign one from 10000-20000. */
export interface PortDefinition {
  port: number;
  protocol?: PortProtocol;
  name?: string;
  labels?: Record<string, string>;
}

export type HealthCheckProtocol =
  "HTTP" | "HTTPS" | "TCP" | "COMMAND" | "MESOS_TCP" | "MESOS_HTTP" | "MESOS_HTTPS";

export interface HealthCheck {
  /** Default HTTP. */
  protocol?: HealthCheckProtocol;
  /** Request path, for the HTTP protocols. */
  path?: string;
  /** Index into the app's ports; 0 when neither `port` nor `portIndex` is given. */
  portIndex?: number;
  port?: number;
  /** The command to run, for COMMAND. */
  command?: { value: string };
  gracePeriodSeconds?: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  maxConsecutiveFailures?: number;
  delaySeconds?: number;
  ignoreHttp1xx?: boolean;
  ipProtocol?: "IPv4" | "IPv6";
}

export interface UpgradeStrategy {
  /** Fraction of instances that must stay healthy during a rolling restart, 0 to 1. Default 1. */
  minimumHealthCapacity?: number;
  /** Fraction of extra instances allowed during a rolling restart, 0 to 1. Default 1. */
  maximumOverCapacity?: number;
}

export interface ContainerPortMapping {
  containerPort: number;
  hostPort?: number;
  servicePort?: number;
  protocol?: PortProtocol;
  name?: string;
  labels?: Record<string, string>;
}

export interface ContainerVolume {
  containerPath: string;
  hostPath?: string;
  mode: "RO" | "RW";
}

export interface DockerSettings {
  image: string;
  network?: "BRIDGE" | "HOST" | "USER" | "NONE";
  forcePullImage?: boolean;
  privileged?: boolean;
  parameters?: { key: string; value: string }[];
  portMappings?: ContainerPortMapping[];
}

export interface Container {
  /** Default DOCKER. */
  type?: "DOCKER" | "MESOS";
  docker?: DockerSettings;
  portMappings?: ContainerPortMapping[];
  volumes?: ContainerVolume[];
}

/** A constraint `[field, operator]` or `[field, operator, value]`, e.g. `["hostname", "UNIQUE"]`. */
export type Constraint = [string, ConstraintOperator] | [string, ConstraintOperator, string];
export type ConstraintOperator = "UNIQUE" | "CLUSTER" | "GROUP_BY" | "LIKE" | "UNLIKE" | "MAX_PER" | "IS";

/** The Marathon app fields this project manages (a subset of Marathon's `App`). */
export interface AppDefinition {
  /** The app id, e.g. `rails-app` or `/shop/web`: lowercase letters, digits, `-` and `.` per segment. */
  id: string;
  /** A shell command. Give `cmd` or `args`, not both. */
  cmd?: string;
  /** The command as an argument vector, run without a shell. */
  args?: string[];
  user?: string;
  /** Number of tasks; 0 suspends the app. Default 1. */
  instances?: number;
  /** CPU shares per task. Default 1. */
  cpus?: number;
  /** Memory per task in MiB. Default 128. */
  mem?: number;
  /** Disk per task in MiB. Default 0. */
  disk?: number;
  gpus?: number;
  fetch?: FetchUri[];
  /** Legacy form of `fetch` (URIs to download), as in the seed walkthrough. */
  uris?: string[];
  env?: Record<string, EnvValue>;
  /** Labels; changing them restarts the tasks. */
  labels?: Record<string, string>;
  constraints?: Constraint[];
  acceptedResourceRoles?: string[];
  portDefinitions?: PortDefinition[];
  requirePorts?: boolean;
  healthChecks?: HealthCheck[];
  upgradeStrategy?: UpgradeStrategy;
  container?: Container;
  /** Seconds before relaunching a failed task, growing by `backoffFactor`. Default 1. */
  backoffSeconds?: number;
  /** Default 1.15. */
  backoffFactor?: number;
  /** Upper bound of the relaunch delay. Default 300 (3600 before Marathon 1.8). */
  maxLaunchDelaySeconds?: number;
  taskKillGracePeriodSeconds?: number;
  killSelection?: "YOUNGEST_FIRST" | "OLDEST_FIRST";
  /**
   * Not a Marathon field, and never sent to Marathon (it is not in `APP_DEFINITION_FIELDS`): when the
   * app already exists in Marathon, the provider takes it over instead of failing. Default false.
   */
  adopt?: boolean;
}

/** A field that is wrong: its path (e.g. `healthChecks[0].protocol`) and what is allowed. */
export interface FieldFailure {
  property: string;
  reason: string;
}

export type AppValidation = { ok: true; value: AppDefinition } | { ok: false; failures: FieldFailure[] };

export interface ValidationOptions {
  /**
   * Values not known yet (Pulumi's preview placeholder). A rule that involves such a value is not
   * applied, so a definition that depends on resources not yet created still passes.
   */
  isUnknown?: (value: unknown) => boolean;
}

/** Every Marathon field of `AppDefinition` (all but `adopt`), in Marathon's documentation order. */
export const APP_DEFINITION_FIELDS = [
  "id",
  "cmd",
  "args",
  "user",
  "instances",
  "cpus",
  "mem",
  "disk",
  "gpus",
  "fetch",
  "uris",
  "env",
  "labels",
  "constraints",
  "acceptedResourceRoles",
  "portDefinitions",
  "requirePorts",
  "healthChecks",
  "upgradeStrategy",
  "container",
  "backoffSeconds",
  "backoffFactor",
  "maxLaunchDelaySeconds",
  "taskKillGracePeriodSeconds",
  "killSelection",
] as const satisfies readonly (keyof AppDefinition)[];

export type AppDefinitionField = (typeof APP_DEFINITION_FIELDS)[number];

const ID_SEGMENT = "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$";
const RESERVED_LAST_SEGMENTS = ["restart", "tasks", "versions"];

/**
 * Validate an app definition (an `id` plus the fields of `AppDefinition`) by Marathon's rules.
 * Returns the definition with its id made absolute (`rails-app` → `/rails-app`), or every failure.
 */
export function validateAppDefinition(input: unknown, options: ValidationOptions = {}): AppValidation {
  const result = appDefinitionSchema().safeParse(input);
  if (result.success) {
    return { ok: true, value: { ...result.data, id: canonicalAppId(result.data.id) } };
  }
  const unknownPaths = options.isUnknown ? pathsOfValues(input, options.isUnknown) : [];
  const failures: FieldFailure[] = [];
  for (const issue of result.error.issues) {
    for (const failure of failuresOfIssue(issue)) {
      if (!unknownPaths.some((u) => failure.involves.some((p) => overlaps(p, u)))) {
        failures.push({ property: failure.property, reason: failure.reason });
      }
    }
  }
  return failures.length === 0 ? { ok: true, value: input as AppDefinition } : { ok: false, failures };
}

/** Marathon's canonical form of an app id: absolute, no empty segments (`a//b/` → `/a/b`). */
export function canonicalAppId(id: string): string {
  return (
    "/" +
    id
      .split("/")
      .filter((segment) => segment !== "")
      .join("/")
  );
}

/**
 * The top-level fields whose effective values differ between two definitions. An absent field counts
 * as Marathon's default, and `uris` as the equivalent `fetch`.
 */
export function changedFields(
  before: Partial<AppDefinition>,
  after: Partial<AppDefinition>,
): AppDefinitionField[] {
  return APP_DEFINITION_FIELDS.filter((field) => {
    if (field === "uris") return false; // compared as part of `fetch`
    return !deepEqual(effectiveValue(field, before), effectiveValue(field, after));
  });
}

/**
 * The definition to record for a live app: each declared field whose live value still matches it stays
 * as declared (Marathon fills in defaults, assigns service ports, turns `uris` into `fetch`); any other
 * field takes its live value, so changes made behind the program's back show up. Fields the live app
 * has at their defaults are left out unless they were declared.
 */
export function reconcileWithLive(
  declared: Partial<AppDefinition> | undefined,
  live: Record<string, unknown>,
): AppDefinition {
  const liveDefinition = pickDefinitionFields(live);
  const result: Record<string, unknown> = { id: canonicalAppId(String(live.id)) };
  for (const field of APP_DEFINITION_FIELDS) {
    if (field === "id" || field === "uris") continue;
    const liveValue = effectiveValue(field, liveDefinition);
    const declaredValue = effectiveValue(field, declared ?? {});
    const declaredField = field === "fetch" && declared?.uris !== undefined ? "uris" : field;
    if (declared?.[declaredField] !== undefined && covers(declaredValue, liveValue)) {
      result[declaredField] = declared[declaredField];
    } else if (!isDefault(field, liveValue)) {
      result[field] = liveValue;
    }
  }
  return result as unknown as AppDefinition;
}

// ---------------------------------------------------------------------------------------------------------
// Defaults and comparison.

/** Marathon's defaults for absent fields (RAML `types/app.raml` and `AppDefinition`, 1.8+). */
function defaultValue(field: AppDefinitionField): unknown {
  switch (field) {
    case "instances":
    case "cpus":
      return 1;
    case "mem":
      return 128;
    case "disk":
    case "gpus":
      return 0;
    case "args":
    case "fetch":
    case "constraints":
    case "acceptedResourceRoles":
    case "healthChecks":
      return [];
    case "env":
    case "labels":
      return {};
    case "requirePorts":
      return false;
    case "portDefinitions":
      return [{ port: 0, protocol: "tcp", name: "default" }];
    case "upgradeStrategy":
      return { minimumHealthCapacity: 1, maximumOverCapacity: 1 };
    case "backoffSeconds":
      return 1;
    case "backoffFactor":
      return 1.15;
    case "maxLaunchDelaySeconds":
      return 300;
    case "killSelection":
      return "YOUNGEST_FIRST";
    default:
      return undefined;
  }
}

function effectiveValue(field: AppDefinitionField, definition: Partial<AppDefinition>): unknown {
  if (field === "id") return definition.id === undefined ? undefined : canonicalAppId(definition.id);
  if (field === "fetch" && definition.fetch === undefined && definition.uris !== undefined) {
    return definition.uris.map((uri) => ({ uri }));
  }
  if (
    field === "portDefinitions" &&
    definition.portDefinitions === undefined &&
    !usesHostNetwork(definition)
  ) {
    return [];
  }
  const value = definition[field];
  return value === undefined ? defaultValue(field) : value;
}

function usesHostNetwork(definition: Partial<AppDefinition>): boolean {
  const network = definition.container?.docker?.network;
  return network === undefined || network === "HOST";
}

function isDefault(field: AppDefinitionField, value: unknown): boolean {
  if (field === "maxLaunchDelaySeconds") return value === 300 || value === 3600; // 3600 before 1.8
  return matchesLive(field, defaultValue(field), value);
}

/** Maps the user owns entirely (env, labels) must match exactly; elsewhere Marathon may add defaults. */
function matchesLive(field: AppDefinitionField, declared: unknown, live: unknown): boolean {
  return field === "env" || field === "labels" ? deepEqual(declared, live) : covers(declared, live);
}

/**
 * Whether a live value satisfies a declared one: equal, except that objects may carry extra keys that
 * Marathon filled in, and a declared port 0 matches the port Marathon assigned.
 */
function covers(declared: unknown, live: unknown, key?: string): boolean {
  if (
    declared === 0 &&
    key !== undefined &&
    /^(port|servicePort|hostPort)$/.test(key) &&
    typeof live === "number"
  ) {
    return true;
  }
  if (Array.isArray(declared)) {
    return (
      Array.isArray(live) && live.length === declared.length && declared.every((d, i) => covers(d, live[i]))
    );
  }
  if (isPlainObject(declared)) {
    return (
      isPlainObject(live) &&
      Object.entries(declared).every(([k, d]) => d === undefined || covers(d, live[k], k))
    );
  }
  return declared === live;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = new Set(
      [...Object.keys(a), ...Object.keys(b)].filter((k) => a[k] !== undefined || b[k] !== undefined),
    );
    return [...keys].every((k) => deepEqual(a[k], b[k]));
  }
  return a === b;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pickDefinitionFields(app: Record<string, unknown>): Partial<AppDefinition> {
  const picked: Record<string, unknown> = {};
  for (const field of APP_DEFINITION_FIELDS) {
    if (app[field] !== undefined && app[field] !== null) picked[field] = app[field];
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------------------
// Validation.

type Path = readonly PropertyKey[];

interface PathFailure {
  property: string;
  reason: string;
  /** The values the rule looked at; the failure is dropped if any of them is not known yet. */
  involves: Path[];
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A zod error option that says what is allowed and what was given. */
function allowed(what: string) {
  return { error: (issue: { input?: unknown }) => `must be ${what}, got ${show(issue.input)}` };
}

function numberFrom(min: number, max?: number) {
  const e = allowed(max === undefined ? `a number of at least ${min}` : `a number from ${min} to ${max}`);
  const atLeast = z.number(e).min(min, e);
  return max === undefined ? atLeast : atLeast.max(max, e);
}

function integerFrom(min: number, max?: number) {
  const e = allowed(
    max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`,
  );
  const atLeast = z.number(e).int(e).min(min, e);
  return max === undefined ? atLeast : atLeast.max(max, e);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, allowed(`one of ${values.join(", ")}`));
}

function text(what = "a string") {
  return z.string(allowed(what));
}

function nonEmptyText(what = "a non-empty string") {
  const e = allowed(what);
  return z.string(e).min(1, e);
}

function bool() {
  return z.boolean(allowed("true or false"));
}

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, allowed(what));
}

function object<T extends z.ZodRawShape>(shape: T, what: string) {
  return z.strictObject(shape, allowed(what));
}

function stringMap<T extends z.ZodType>(value: T, what: string) {
  return z.record(z.string(), value, allowed(what));
}

interface RuleParams {
  at: Path;
  involves: Path[];
}

/** Report a rule that failed at `path`, naming the values the rule looked at. */
function custom(ctx: z.RefinementCtx, path: PropertyKey[], message: string, involves: Path[] = [path]) {
  const params: RuleParams = { at: path, involves };
  ctx.addIssue({ code: "custom", path, message, params });
}

function appIdProblem(id: string): string | undefined {
  const segments = id.split("/").filter((segment) => segment !== "");
  if (segments.length === 0) return `must name an app, not the root group, got ${show(id)}`;
  const segmentPattern = new RegExp(ID_SEGMENT);
  const bad = segments.find((segment) => !segmentPattern.test(segment));
  if (bad !== undefined) {
    return (
      `must be a path of segments made of lowercase letters, digits, "-" and "." (each part starting and ` +
      `ending with a letter or digit; no uppercase, no "_"), got ${show(id)} (segment ${show(bad)})`
    );
  }
  const last = segments[segments.length - 1];
  if (RESERVED_LAST_SEGMENTS.includes(last)) {
    return `must not end with a reserved word (${RESERVED_LAST_SEGMENTS.join(", ")}), got ${show(id)}`;
  }
  return undefined;
}

function constraintProblems(constraint: unknown, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  const operators = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"];
  if (!Array.isArray(constraint) || constraint.length < 2 || constraint.length > 3) {
    custom(ctx, path, `must be [field, operator] or [field, operator, value], got ${show(constraint)}`);
    return;
  }
  const [field, operator, value] = constraint as unknown[];
  if (typeof field !== "string" || field === "") {
    custom(ctx, [...path, 0], `must be a non-empty attribute name such as "hostname", got ${show(field)}`);
  }
  if (typeof operator !== "string" || !operators.includes(operator)) {
    custom(ctx, [...path, 1], `must be one of ${operators.join(", ")}, got ${show(operator)}`);
    return;
  }
  if (value !== undefined && typeof value !== "string") {
    custom(ctx, [...path, 2], `must be a string, got ${show(value)}`);
    return;
  }
  const valuePath = [...path, 2];
  const involves = [
    [...path, 1],
    [...path, 2],
  ];
  if (operator === "UNIQUE" && value !== undefined) {
    custom(ctx, valuePath, `must be absent for UNIQUE, got ${show(value)}`, involves);
  } else if (["LIKE", "UNLIKE", "IS", "MAX_PER"].includes(operator) && value === undefined) {
    custom(ctx, valuePath, `is required for ${operator}`, involves);
  } else if (["MAX_PER", "GROUP_BY"].includes(operator) && value !== undefined && !/^\d+$/.test(value)) {
    custom(ctx, valuePath, `must be a whole number for ${operator}, got ${show(value)}`, involves);
  } else if ((operator === "LIKE" || operator === "UNLIKE") && value !== undefined && !isRegex(value)) {
    custom(
      ctx,
      valuePath,
      `must be a valid regular expression for ${operator}, got ${show(value)}`,
      involves,
    );
  }
}

function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function portDefinitionsSchema() {
  const portDefinition = object(
    {
      port: integerFrom(0, 65535),
      protocol: oneOf(["tcp", "udp", "udp,tcp"]).optional(),
      name: text().optional(),
      labels: stringMap(text(), "an object of string labels").optional(),
    },
    "an object {port, protocol?, name?, labels?}",
  );
  return list(portDefinition, "a list of port definitions").superRefine((ports, ctx) => {
    const seenNames = new Map<string, number>();
    const seenPorts = new Map<number, number>();
    ports.forEach((p, i) => {
      if (p.name !== undefined) {
        const first = seenNames.get(p.name);
        if (first !== undefined)
          custom(ctx, [i, "name"], `must be unique, got ${show(p.name)} (also at [${first}])`);
        else seenNames.set(p.name, i);
      }
      if (p.port !== 0) {
        const first = seenPorts.get(p.port);
        if (first !== undefined)
          custom(ctx, [i, "port"], `must be unique unless 0, got ${p.port} (also at [${first}])`);
        else seenPorts.set(p.port, i);
      }
    });
  });
}

function healthCheckSchema() {
  const httpProtocols = ["HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"];
  return object(
    {
      protocol: oneOf([
        "HTTP",
        "HTTPS",
        "TCP",
        "COMMAND",
        "MESOS_TCP",
        "MESOS_HTTP",
        "MESOS_HTTPS",
      ]).optional(),
      path: text().optional(),
      portIndex: integerFrom(0).optional(),
      port: integerFrom(0, 65535).optional(),
      command: object({ value: nonEmptyText() }, 'an object {"value": "<command>"}').optional(),
      gracePeriodSeconds: integerFrom(0).optional(),
      intervalSeconds: integerFrom(1).optional(),
      timeoutSeconds: integerFrom(1).optional(),
      maxConsecutiveFailures: integerFrom(0).optional(),
      delaySeconds: integerFrom(0).optional(),
      ignoreHttp1xx: bool().optional(),
      ipProtocol: oneOf(["IPv4", "IPv6"]).optional(),
    },
    "a health check object",
  ).superRefine((check, ctx) => {
    const protocol = check.protocol ?? "HTTP";
    if (protocol === "COMMAND" && check.command === undefined) {
      custom(ctx, ["command"], 'is required for protocol COMMAND ({"value": "<command>"})', [
        ["command"],
        ["protocol"],
      ]);
    }
    if (protocol !== "COMMAND" && check.command !== undefined) {
      custom(ctx, ["command"], `is only allowed with protocol COMMAND, got protocol ${protocol}`, [
        ["command"],
        ["protocol"],
      ]);
    }
    if (check.path !== undefined && !httpProtocols.includes(protocol)) {
      custom(ctx, ["path"], `is only allowed with ${httpProtocols.join(", ")}, got protocol ${protocol}`, [
        ["path"],
        ["protocol"],
      ]);
    }
    if (check.port !== undefined && check.portIndex !== undefined) {
      custom(ctx, ["port"], "must not be given together with portIndex", [["port"], ["portIndex"]]);
    }
    const interval = check.intervalSeconds ?? 60;
    const timeout = check.timeoutSeconds ?? 20;
    if (timeout >= interval) {
      custom(ctx, ["timeoutSeconds"], `must be less than intervalSeconds (${interval}), got ${timeout}`, [
        ["timeoutSeconds"],
        ["intervalSeconds"],
      ]);
    }
  });
}

function containerSchema() {
  const portMapping = object(
    {
      containerPort: integerFrom(0, 65535),
      hostPort: integerFrom(0, 65535).optional(),
      servicePort: integerFrom(0, 65535).optional(),
      protocol: oneOf(["tcp", "udp", "udp,tcp"]).optional(),
      name: text().optional(),
      labels: stringMap(text(), "an object of string labels").optional(),
    },
    "an object {containerPort, hostPort?, servicePort?, protocol?, name?, labels?}",
  );
  const portMappings = list(portMapping, "a list of port mappings");
  return object(
    {
      type: oneOf(["DOCKER", "MESOS"]).optional(),
      docker: object(
        {
          image: nonEmptyText("a non-empty image name"),
          network: oneOf(["BRIDGE", "HOST", "USER", "NONE"]).optional(),
          forcePullImage: bool().optional(),
          privileged: bool().optional(),
          parameters: list(
            object({ key: nonEmptyText(), value: text() }, "an object {key, value}"),
            "a list of {key, value}",
          ).optional(),
          portMappings: portMappings.optional(),
        },
        "an object {image, network?, forcePullImage?, privileged?, parameters?, portMappings?}",
      ).optional(),
      portMappings: portMappings.optional(),
      volumes: list(
        object(
          { containerPath: nonEmptyText(), hostPath: text().optional(), mode: oneOf(["RO", "RW"]) },
          "an object {containerPath, hostPath?, mode}",
        ),
        "a list of volumes",
      ).optional(),
    },
    "an object {type?, docker?, portMappings?, volumes?}",
  ).superRefine((container, ctx) => {
    if ((container.type ?? "DOCKER") === "DOCKER" && container.docker === undefined) {
      custom(ctx, ["docker"], 'is required for a DOCKER container ({"image": "..."})', [
        ["docker"],
        ["type"],
      ]);
    }
  });
}

function appDefinitionSchema() {
  const app = object(
    {
      id: text("an app id (a string)").superRefine((id, ctx) => {
        const problem = appIdProblem(id);
        if (problem !== undefined) custom(ctx, [], problem);
      }),
      cmd: text()
        .min(2, allowed("a command of at least 2 characters (Marathon rejects shorter ones)"))
        .optional(),
      args: list(text(), "a list of strings").optional(),
      user: nonEmptyText().optional(),
      instances: integerFrom(0).optional(),
      cpus: numberFrom(0.001).optional(),
      mem: numberFrom(0).optional(),
      disk: numberFrom(0).optional(),
      gpus: integerFrom(0).optional(),
      fetch: list(
        object(
          {
            uri: nonEmptyText("a non-empty URI of at most 1024 characters").max(
              1024,
              allowed("a non-empty URI of at most 1024 characters"),
            ),
            extract: bool().optional(),
            executable: bool().optional(),
            cache: bool().optional(),
            destPath: text().optional(),
          },
          "an object {uri, extract?, executable?, cache?, destPath?}",
        ),
        "a list of fetch URIs",
      ).optional(),
      uris: list(nonEmptyText("a non-empty URI"), "a list of URIs").optional(),
      env: stringMap(
        z.union(
          [text(), object({ secret: nonEmptyText() }, "")],
          allowed('a string or {"secret": "<name>"}'),
        ),
        "an object of environment variables",
      ).optional(),
      labels: stringMap(text(), "an object of string labels").optional(),
      constraints: z
        .array(
          z.custom<Constraint>(() => true),
          allowed("a list of constraints"),
        )
        .superRefine((constraints, ctx) => constraints.forEach((c, i) => constraintProblems(c, ctx, [i])))
        .optional(),
      acceptedResourceRoles: list(nonEmptyText("a role name"), "a list of roles")
        .min(1, allowed("a non-empty list of roles"))
        .optional(),
      portDefinitions: portDefinitionsSchema().optional(),
      requirePorts: bool().optional(),
      healthChecks: list(healthCheckSchema(), "a list of health checks").optional(),
      upgradeStrategy: object(
        {
          minimumHealthCapacity: numberFrom(0, 1).optional(),
          maximumOverCapacity: numberFrom(0, 1).optional(),
        },
        "an object {minimumHealthCapacity?, maximumOverCapacity?}",
      ).optional(),
      container: containerSchema().optional(),
      backoffSeconds: integerFrom(0).optional(),
      backoffFactor: numberFrom(1).optional(),
      maxLaunchDelaySeconds: integerFrom(0).optional(),
      taskKillGracePeriodSeconds: integerFrom(0).optional(),
      killSelection: oneOf(["YOUNGEST_FIRST", "OLDEST_FIRST"]).optional(),
      adopt: bool().optional(),
    },
    "an object (a Marathon app definition)",
  ).superRefine(
    (app, ctx) => {
      if (app.cmd !== undefined && app.args !== undefined) {
        custom(
          ctx,
          ["args"],
          "must not be given together with cmd: give cmd (a shell command) or args, not both",
          [["cmd"], ["args"]],
        );
      }
      if (app.cmd === undefined && app.args === undefined && app.container === undefined) {
        custom(ctx, ["cmd"], "is required: give cmd or args, or a container", [
          ["cmd"],
          ["args"],
          ["container"],
        ]);
      }
      if (app.fetch !== undefined && app.uris !== undefined) {
        custom(ctx, ["uris"], "must not be given together with fetch: list every URI under fetch", [
          ["fetch"],
          ["uris"],
        ]);
      }
      const network = app.container?.docker?.network;
      if (network !== undefined && network !== "HOST" && (app.portDefinitions?.length ?? 0) > 0) {
        custom(
          ctx,
          ["portDefinitions"],
          `must be empty with ${network} networking: use container.portMappings`,
          [["portDefinitions"], ["container", "docker", "network"]],
        );
      }
    },
    // Cross-field rules run even when a field has the wrong type, so every problem is reported at once.
    { when: (payload) => isPlainObject(payload.value) },
  );
  return app satisfies z.ZodType<AppDefinition, unknown>;
}

/** One failure per zod issue; an unknown key becomes a failure named after the key. */
function failuresOfIssue(issue: z.core.$ZodIssue): PathFailure[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const reason =
        issue.path.length === 0
          ? `is not a Marathon app field this provider manages; allowed: ${APP_DEFINITION_FIELDS.join(", ")}, adopt`
          : "is not an allowed key here";
      return { property: formatPath(path), reason, involves: [path] };
    });
  }
  const params = (issue as { params?: RuleParams }).params;
  // A rule's paths are relative to the object it checks; the issue path ends with the rule's own path.
  const base = params ? issue.path.slice(0, issue.path.length - params.at.length) : [];
  const involves = params ? params.involves.map((p) => [...base, ...p]) : [issue.path];
  return [{ property: formatPath(issue.path), reason: issue.message, involves }];
}

/** `["healthChecks", 0, "protocol"]` → `healthChecks[0].protocol`; odd keys are quoted: `env["A-B"]`. */
function formatPath(path: Path): string {
  return path
    .map((part, i) => {
      if (typeof part === "number") return `[${part}]`;
      const key = String(part);
      if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return i === 0 ? key : `.${key}`;
    })
    .join("");
}

function pathsOfValues(value: unknown, matches: (v: unknown) => boolean, at: PropertyKey[] = []): Path[] {
  if (matches(value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsOfValues(v, matches, [...at, i]));
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([k, v]) => pathsOfValues(v, matches, [...at, k]));
  return [];
}

/** Whether one path lies inside the other (or they are the same). */
function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
