/**
 * Shared Pulumi mocks: `setupMocks()` records every registered resource (type, name, inputs with secrets
 * unwrapped, which inputs were secret, parent, dependencies, deleteBeforeReplace). Unmocked invokes throw.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs with every secret unwrapped. */
  inputs: Record<string, unknown>;
  /** Top-level input keys whose value was (or contained) a secret. */
  secretInputs: string[];
  /** Name of the parent resource, if any (the stack has none). */
  parent?: string;
  /** Names of every resource this one depends on (explicit dependsOn and input dependencies). */
  dependsOn: string[];
  deleteBeforeReplace: boolean;
}

export interface MockRecorder {
  readonly resources: RecordedResource[];
  /** Forget what was recorded (e.g. before running the program again with other config). */
  clear(): void;
  /** The resource with this name; throws when there is none or several. */
  byName(name: string): RecordedResource;
  ofType(type: string): RecordedResource[];
}

/** The parts of the SDK's RegisterResourceRequest that the mocks read. */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
}
export type Monitor = { registerResource(req: RegisterRequest, callback: unknown): unknown };

export const isSecretWrapper = (v: unknown): v is { value: unknown } =>
  typeof v === "object" &&
  v !== null &&
  (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;

/** Unwrap secrets; `found.secret` is set when one was seen. */
function unwrap(value: unknown, found: { secret: boolean }): unknown {
  if (isSecretWrapper(value)) {
    found.secret = true;
    return unwrap(value.value, found);
  }
  if (Array.isArray(value)) return value.map((v) => unwrap(v, found));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, found)]));
  }
  return value;
}

/** The last part of a URN: the resource's name. */
export const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** Install mocks (update mode) and return the recorder. */
export async function setupMocks(project = "mesos-cluster", stack = "dev"): Promise<MockRecorder> {
  const resources: RecordedResource[] = [];
  const requests = new Map<string, RegisterRequest>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const request = requests.get(`${args.type}::${args.name}`);
        const inputs: Record<string, unknown> = {};
        const secretInputs: string[] = [];
        for (const [key, value] of Object.entries(args.inputs as Record<string, unknown>)) {
          const found = { secret: false };
          inputs[key] = unwrap(value, found);
          if (found.secret) secretInputs.push(key);
        }
        resources.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? false,
          inputs,
          secretInputs,
          parent: request?.getParent() ? nameOf(request.getParent()) : undefined,
          dependsOn: (request?.getDependenciesList() ?? []).map(nameOf),
          deleteBeforeReplace: request?.getDeletebeforereplace() ?? false,
        });
        return {
          id: args.custom ? `${args.name}-id` : undefined,
          state: args.inputs as Record<string, unknown>,
        };
      },
      call(args) {
        throw new Error(`unmocked invoke ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  // The mock monitor passes only type, name and inputs to newResource: read the rest from the request.
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    requests.set(`${req.getType()}::${req.getName()}`, req);
    return register(req, callback);
  };
  return {
    resources,
    clear: () => {
      resources.length = 0;
      requests.clear();
    },
    byName(name) {
      const hits = resources.filter((r) => r.name === name);
      if (hits.length !== 1) throw new Error(`expected one resource named ${name}, found ${hits.length}`);
      return hits[0];
    },
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

/** The value of an Output (update mode: always known). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Wait until every pending resource registration has reached the mocks. */
export async function settled(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
