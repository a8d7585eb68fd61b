/**
 * App definition validation in Marathon's two passes: the JSON reader (types and RAML constraints,
 * 422 "Invalid JSON") and then the semantic validators (422 "Object is not valid").
 */
import { marathonErrors, type ErrorDetail } from "./errors";
import { anyOf, arr, bool, isObject, mapOf, num, obj, ReadReport, str, type Rule } from "./jsonReader";
import { idErrors, RAML_PATH_ID_PATTERN } from "./pathId";

export const CONSTRAINT_OPERATORS = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"];
export const HEALTH_CHECK_PROTOCOLS = [
  "HTTP",
  "HTTPS",
  "TCP",
  "COMMAND",
  "MESOS_TCP",
  "MESOS_HTTP",
  "MESOS_HTTPS",
];
const PORT_PROTOCOLS = ["tcp", "udp", "udp,tcp"];

const pathId = str({ minLength: 1, pattern: RAML_PATH_ID_PATTERN });
const nonNegativeInt = num({ int: true, min: 0 });
const labels = mapOf(str());
const port = num({ int: true, min: 0, max: 65535 });

const portDefinition = obj({ port, protocol: str({ oneOf: PORT_PROTOCOLS }), name: str(), labels });

const healthCheck = obj({
  protocol: str({ oneOf: HEALTH_CHECK_PROTOCOLS }),
  path: str(),
  portIndex: nonNegativeInt,
  port,
  command: anyOf(obj({ value: str() }, ["value"]), str()),
  gracePeriodSeconds: nonNegativeInt,
  intervalSeconds: nonNegativeInt,
  timeoutSeconds: nonNegativeInt,
  maxConsecutiveFailures: nonNegativeInt,
  delaySeconds: nonNegativeInt,
  ignoreHttp1xx: bool,
  ipProtocol: str({ oneOf: ["IPv4", "IPv6"] }),
});

const container = obj({
  type: str({ oneOf: ["DOCKER", "MESOS"] }),
  docker: obj(
    {
      image: str({ minLength: 1 }),
      forcePullImage: bool,
      privileged: bool,
      network: str({ oneOf: ["BRIDGE", "HOST", "USER", "NONE"] }),
      parameters: arr(obj({ key: str(), value: str() }, ["key", "value"])),
    },
    ["image"],
  ),
  portMappings: arr(
    obj({ containerPort: port, hostPort: port, servicePort: port, protocol: str({ oneOf: PORT_PROTOCOLS }) }),
  ),
  volumes: arr(obj({ containerPath: str(), hostPath: str(), mode: str({ oneOf: ["RO", "RW"] }) })),
});

const fraction = num({ min: 0, max: 1 });

/** The fields of the RAML `App` type that the emulator checks, with their constraints. */
const APP_FIELDS: Record<string, Rule> = {
  id: pathId,
  cmd: str({ minLength: 1 }),
  args: arr(str()),
  instances: nonNegativeInt,
  cpus: num({ min: 0.001 }),
  mem: num({ min: 0 }),
  disk: num({ min: 0 }),
  gpus: nonNegativeInt,
  user: str(),
  env: mapOf(anyOf(str(), obj({ secret: str() }, ["secret"]))),
  labels,
  constraints: arr(arr(str())),
  acceptedResourceRoles: arr(str()),
  role: str({ minLength: 1 }),
  executor: str({ pattern: /^(\/\/cmd)|(\/?[^/]+(\/[^/]+)*)|$/ }),
  container,
  networks: arr(
    obj({ mode: str({ oneOf: ["container", "container/bridge", "host"] }), name: str(), labels }),
  ),
  portDefinitions: arr(portDefinition),
  ports: arr(port),
  requirePorts: bool,
  healthChecks: arr(healthCheck),
  readinessChecks: arr(obj({ name: str(), protocol: str({ oneOf: ["HTTP", "HTTPS"] }), path: str() })),
  dependencies: arr(pathId),
  upgradeStrategy: obj({ minimumHealthCapacity: fraction, maximumOverCapacity: fraction }),
  unreachableStrategy: anyOf(
    obj({ inactiveAfterSeconds: nonNegativeInt, expungeAfterSeconds: nonNegativeInt }),
    str({ oneOf: ["disabled"] }),
  ),
  killSelection: str({ oneOf: ["YOUNGEST_FIRST", "OLDEST_FIRST"] }),
  backoffSeconds: nonNegativeInt,
  backoffFactor: num({ min: 1 }),
  maxLaunchDelaySeconds: nonNegativeInt,
  taskKillGracePeriodSeconds: nonNegativeInt,
  fetch: arr(
    obj({ uri: str({ minLength: 1, maxLength: 1024 }), extract: bool, executable: bool, cache: bool }, [
      "uri",
    ]),
  ),
  uris: arr(str()),
  secrets: mapOf(obj({ source: str() }, ["source"])),
  tty: bool,
  version: str(),
};

/**
 * First pass: the body must be an object whose known fields have the right types and ranges.
 * `idRequired` is true for POST /v2/apps, where the id comes only from the body.
 */
export function readAppJson(body: unknown, idRequired: boolean): Record<string, unknown> {
  const report = new ReadReport();
  obj(APP_FIELDS, idRequired ? ["id"] : [])(report, "", body);
  if (report.details.length > 0) throw marathonErrors.invalidJson(report.details);
  return body as Record<string, unknown>;
}

/** Second pass over a complete (merged, not yet defaulted) definition: the semantic rules. */
export function validateAppDefinition(app: Record<string, unknown>): void {
  const details: ErrorDetail[] = [];
  const add = (path: string, error: string) => {
    const existing = details.find((d) => d.path === path);
    if (existing) existing.errors.push(error);
    else details.push({ path, errors: [error] });
  };
  if (typeof app.id === "string") idErrors(app.id).forEach((e) => add("/id", e));
  checkCommand(app, add);
  checkConstraints(app.constraints, add);
  checkPortDefinitions(app.portDefinitions, add);
  checkHealthChecks(app, add);
  if (details.length > 0) throw marathonErrors.notValid(details);
}

type AddError = (path: string, error: string) => void;

/** Exactly one of cmd and args, or a container (AppValidation.containsCmdArgsOrContainer). */
function checkCommand(app: Record<string, unknown>, add: AddError): void {
  const cmd = typeof app.cmd === "string";
  const args = Array.isArray(app.args) && app.args.length > 0;
  const container = isObject(app.container);
  if (!(cmd !== args || (!(cmd && args) && container))) {
    add("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");
  }
}

function checkConstraints(constraints: unknown, add: AddError): void {
  if (!Array.isArray(constraints)) return;
  constraints.forEach((c: string[], i) => {
    const path = `/constraints(${i})`;
    if (c.length < 2 || c.length > 3) return add(path, "Each constraint must have either 2 or 3 fields");
    const [, operator, value] = c;
    if (!CONSTRAINT_OPERATORS.includes(operator)) {
      return add(
        path,
        `Constraint operator must be one of the following: [${CONSTRAINT_OPERATORS.join(", ")}]`,
      );
    }
    if (operator === "LIKE" || operator === "UNLIKE") {
      if (value === undefined) return add(path, "A regular expression value must be provided");
      try {
        new RegExp(value);
      } catch {
        add(path, "is not a valid regular expression");
      }
    }
    if (operator === "MAX_PER" && !/^\d+$/.test(value ?? "")) add(path, "Value was not a valid integer");
  });
}

/** Port names and non-zero port numbers must be unique. */
function checkPortDefinitions(definitions: unknown, add: AddError): void {
  if (!Array.isArray(definitions)) return;
  const defs = definitions as Array<{ port?: number; name?: string }>;
  const names = defs.map((d) => d.name).filter((n) => n !== undefined);
  if (new Set(names).size !== names.length) add("/portDefinitions", "Port names must be unique.");
  const ports = defs.map((d) => d.port ?? 0).filter((p) => p !== 0);
  if (new Set(ports).size !== ports.length) add("/portDefinitions", "Ports must be unique.");
}

/** A port-based health check must address an existing port. */
function checkHealthChecks(app: Record<string, unknown>, add: AddError): void {
  if (!Array.isArray(app.healthChecks)) return;
  const portCount = countPorts(app);
  (app.healthChecks as Array<Record<string, unknown>>).forEach((check, i) => {
    const protocol = typeof check.protocol === "string" ? check.protocol.toUpperCase() : "HTTP";
    if (protocol === "COMMAND") {
      if (check.command === undefined) add(`/healthChecks(${i})/command`, "is empty");
      return;
    }
    if (check.port !== undefined) return;
    const index = typeof check.portIndex === "number" ? check.portIndex : 0;
    if (index >= portCount) {
      add(
        `/healthChecks(${i})`,
        "Health check port indices must address an element of the ports array or container port mappings.",
      );
    }
  });
}

/** Ports a health check may address: port definitions (default one when omitted) or mappings. */
function countPorts(app: Record<string, unknown>): number {
  const container = isObject(app.container) ? app.container : undefined;
  if (container && Array.isArray(container.portMappings)) return container.portMappings.length;
  if (Array.isArray(app.portDefinitions)) return app.portDefinitions.length;
  if (Array.isArray(app.ports)) return app.ports.length;
  return 1;
}
