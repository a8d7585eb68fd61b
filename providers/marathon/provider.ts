/**
 * The dynamic provider behind `MarathonApp`: maps Pulumi inputs and outputs to `MarathonClient` calls.
 * It is serialized into the state (`__provider`) and run by Pulumi's dynamic-provider host, so it
 * captures nothing but code and plain constants: the client is built per call, schemas inside the
 * schema functions, the credentials are read in `configure` and kept on the instance at run time, and
 * the process's shared deployments poll is created on first use (`deploymentWatch.ts`).
 *
 * `pulumi import` cannot bring an existing app under a dynamic resource (the engine gives Read no
 * provider, pulumi/pulumi#16175, #3550): the `adopt` input does it instead, in `create`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { MarathonClient, MarathonError, type MarathonAppInfo } from "./client";
import {
  APP_DEFINITION_FIELDS,
  canonicalAppId,
  changedFields,
  reconcileWithLive,
  validateAppDefinition,
  type AppDefinition,
  type FieldFailure,
} from "./schema";

/** How the provider reaches Marathon. */
export interface ConnectionInputs {
  /** Marathon base URLs (every master), tried in order. */
  marathonEndpoints: string[];
  /** One HTTP request's limit in ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Limit in ms for one create, update or delete, deployment wait and retries included. Default 10 minutes. */
  deploymentTimeoutMs?: number;
  /** Override deployments that lock the app (`?force=true`) instead of waiting for them. Default false. */
  force?: boolean;
}

export type MarathonAppInputs = Omit<AppDefinition, "id"> &
  ConnectionInputs & {
    /** The Marathon app id. */
    appId: string;
    /** Marks the app as this resource's (label `pulumi.owner`), so an interrupted create is adopted. */
    owner?: string;
    /**
     * When create finds an app with this id already in Marathon, take it over (update it to this
     * definition) instead of failing. Not a Marathon field: never sent, and changing it alone is no diff.
     */
    adopt?: boolean;
  };

export type MarathonAppOutputs = MarathonAppInputs & {
  /** The app's version timestamp in Marathon. */
  version: string;
  /** The last deployment this resource started ("" when unknown, e.g. after an import). */
  deploymentId: string;
  tasksRunning: number;
  tasksHealthy: number;
  /** `host:port` of every port of every running task, sorted. */
  endpoints: string[];
  /** The app's page in the Marathon UI. */
  uiUrl: string;
};

/** Pulumi's placeholder for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The label that ties an app to the resource that created it. */
const OWNER_LABEL = "pulumi.owner";
const CONFIG_CREDENTIALS_KEY = "marathonCredentials";
const DEFAULT_DEPLOYMENT_TIMEOUT_MS = 600_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Longest time spent removing an app whose create failed. */
const CLEANUP_TIMEOUT_MS = 60_000;
const CONNECTION_FIELDS = ["marathonEndpoints", "requestTimeoutMs", "deploymentTimeoutMs", "force"] as const;

export class MarathonAppProvider implements pulumi.dynamic.ResourceProvider<
  MarathonAppInputs,
  MarathonAppOutputs
> {
  /** `user:password` from the stack config; set in the host process only, never serialized. */
  private credentials?: string;

  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.credentials = req.config.get(CONFIG_CREDENTIALS_KEY);
    return Promise.resolve();
  }

  check(
    _olds: MarathonAppInputs,
    news: MarathonAppInputs,
  ): Promise<pulumi.dynamic.CheckResult<MarathonAppInputs>> {
    const failures = [...connectionFailures(news), ...definitionFailures(news)];
    return Promise.resolve(failures.length > 0 ? { inputs: news, failures } : { inputs: news });
  }

  diff(_id: string, olds: MarathonAppOutputs, news: MarathonAppInputs): Promise<pulumi.dynamic.DiffResult> {
    // Renames stop the old app first: two apps from one definition could fight over fixed host ports.
    if (news.appId === UNKNOWN || canonicalAppId(olds.appId) !== canonicalAppId(news.appId)) {
      return Promise.resolve({ changes: true, replaces: ["appId"], deleteBeforeReplace: true });
    }
    const changes =
      containsUnknown(news) ||
      changedFields(definitionOf(olds), definitionOf(news)).length > 0 ||
      CONNECTION_FIELDS.some((field) => !sameJson(connectionOf(olds)[field], connectionOf(news)[field]));
    return Promise.resolve({ changes, replaces: [], deleteBeforeReplace: true });
  }

  async create(inputs: MarathonAppInputs): Promise<pulumi.dynamic.CreateResult<MarathonAppOutputs>> {
    const client = this.clientFor(inputs);
    const definition = definitionOf(inputs);
    let started: TakeOver;
    try {
      started = { deploymentId: (await client.createApp(requestBody(inputs))).deploymentId, adopted: false };
    } catch (e) {
      if (!(e instanceof MarathonError && e.isAlreadyExists)) throw e;
      started = await this.takeOver(client, inputs, e);
    }
    let app: MarathonAppInfo;
    try {
      app = await client.waitForDeployment(definition.id, started.deploymentId);
    } catch (e) {
      throw started.adopted
        ? keptAfterFailedAdoption(inputs, started.deploymentId, e)
        : await this.removeAfterFailedCreate(inputs, started.deploymentId, e);
    }
    return { id: definition.id, outs: outputsOf(definition, inputs, app, started.deploymentId) };
  }

  async read(id: string, props?: MarathonAppOutputs): Promise<pulumi.dynamic.ReadResult<MarathonAppOutputs>> {
    const known = props ?? ({} as Partial<MarathonAppOutputs>);
    if (!Array.isArray(known.marathonEndpoints)) {
      throw new Error(`Cannot read Marathon app ${id}: the resource has no marathonEndpoints input`);
    }
    const app = await this.clientFor(known as ConnectionInputs).getApp(id);
    if (app === undefined) return { id: "", props: {} as MarathonAppOutputs };
    const declared = known.appId === undefined ? undefined : definitionOf(known);
    const definition = reconcileWithLive(declared, withoutOwnerLabel(app));
    const outs = outputsOf(definition, known, app, known.deploymentId ?? "");
    // The SDK types ReadResult.inputs with the outputs type; the host sends them as the resource's inputs.
    return { id: definition.id, props: outs, inputs: inputsOf(outs) as MarathonAppOutputs };
  }

  async update(
    id: string,
    olds: MarathonAppOutputs,
    news: MarathonAppInputs,
  ): Promise<pulumi.dynamic.UpdateResult<MarathonAppOutputs>> {
    const client = this.clientFor(news);
    const definition = definitionOf(news);
    const changed = changedFields(definitionOf(olds), definition);
    const force = news.force ?? false;
    let deploymentId = olds.deploymentId ?? "";
    if (changed.length === 1 && changed[0] === "instances") {
      deploymentId = (await client.scaleApp(id, definition.instances ?? 1, force)).deploymentId;
    } else if (changed.length > 0) {
      deploymentId = (await client.updateApp(id, requestBody(news), force)).deploymentId;
    }
    // With only connection settings changed there is no deployment; this still reads the app's state.
    const app = await client.waitForDeployment(id, changed.length > 0 ? deploymentId : "");
    return { outs: outputsOf(definition, news, app, deploymentId) };
  }

  async delete(id: string, props: MarathonAppOutputs): Promise<void> {
    const client = this.clientFor(props);
    const deletion = await client.deleteApp(id);
    if (deletion !== undefined) await client.waitForAppGone(id, deletion.deploymentId);
  }

  // -------------------------------------------------------------------------------------------------------

  private clientFor(connection: ConnectionInputs, operationTimeoutMs?: number): MarathonClient {
    return new MarathonClient({
      endpoints: connection.marathonEndpoints,
      credentials: this.credentials,
      requestTimeoutMs: connection.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      operationTimeoutMs:
        operationTimeoutMs ?? connection.deploymentTimeoutMs ?? DEFAULT_DEPLOYMENT_TIMEOUT_MS,
    });
  }

  /**
   * An app with this id exists. If it carries this resource's owner label, a previous create was
   * interrupted after Marathon accepted it; with `adopt`, it is an app the user hands over. Either way
   * bring it to this definition: a scale when only `instances` differs, else a full update. Otherwise
   * it is someone else's app, and the error says how to adopt it.
   */
  private async takeOver(
    client: MarathonClient,
    inputs: MarathonAppInputs,
    exists: MarathonError,
  ): Promise<TakeOver> {
    const appId = canonicalAppId(inputs.appId);
    const live = await client.getApp(appId);
    if (live === undefined) {
      // Deleted since the 409: create it after all.
      return { deploymentId: (await client.createApp(requestBody(inputs))).deploymentId, adopted: false };
    }
    const owner = (live.labels as Record<string, string> | undefined)?.[OWNER_LABEL];
    const own = inputs.owner !== undefined && owner === inputs.owner;
    if (!own && inputs.adopt !== true) throw adoptionAdvice(inputs.appId, exists);
    const definition = definitionOf(inputs);
    const changed = changedFields(reconcileWithLive(definition, withoutOwnerLabel(live)), definition);
    // An interrupted create's own deployment may still hold the app (e.g. a launch that never succeeds):
    // this resource's own app is updated over it.
    const force = own || (inputs.force ?? false);
    // Already as declared: wait for whatever deployment is still running (an interrupted create's).
    let deploymentId = live.deployments?.[0]?.id ?? "";
    try {
      if (changed.length === 1 && changed[0] === "instances") {
        deploymentId = (await client.scaleApp(appId, definition.instances ?? 1, force)).deploymentId;
      } else if (changed.length > 0) {
        deploymentId = (await client.updateApp(appId, requestBody(inputs), force)).deploymentId;
      }
    } catch (e) {
      // Once the app is known to be this resource's, a failure must not leave it behind unknown.
      throw own
        ? await this.removeAfterFailedCreate(inputs, deploymentId, e)
        : keptAfterFailedAdoption(inputs, deploymentId, e);
    }
    return { deploymentId, adopted: !own };
  }

  /**
   * A create that fails after Marathon accepted the app must leave nothing Pulumi does not know about:
   * remove the app. If even that fails, report the app as created-but-failed (`id` on the error), so the
   * engine keeps it in the state and the next `up` updates it instead of finding it "already exists".
   */
  private async removeAfterFailedCreate(
    inputs: MarathonAppInputs,
    deploymentId: string,
    cause: unknown,
  ): Promise<Error> {
    const appId = canonicalAppId(inputs.appId);
    const reason = cause instanceof Error ? cause.message : String(cause);
    const timeout = Math.min(CLEANUP_TIMEOUT_MS, inputs.deploymentTimeoutMs ?? DEFAULT_DEPLOYMENT_TIMEOUT_MS);
    const client = this.clientFor(inputs, timeout);
    try {
      await client.deleteApp(appId);
      // Gone from Marathon's definitions is enough; its stop deployment may outlive a stuck launch.
      await client.waitForAppGone(appId);
      return new MarathonError(
        `${reason}. The app ${appId} was removed, so nothing is left behind.`,
        errorInfo(cause),
      );
    } catch (cleanupError) {
      const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
      return keptInStack(
        inputs,
        deploymentId,
        cause,
        `Removing the app ${appId} also failed (${why}); it is kept in the stack so the next ` +
          `pulumi up updates or removes it.`,
      );
    }
  }
}

/** How a create got its app: the deployment to wait for, and whether the app existed before (adopted). */
interface TakeOver {
  deploymentId: string;
  adopted: boolean;
}

/** The single provider instance every `MarathonApp` uses. */
export const marathonAppProvider = new MarathonAppProvider();

// ---------------------------------------------------------------------------------------------------------

function definitionOf(inputs: Partial<MarathonAppInputs>): AppDefinition {
  const definition: Record<string, unknown> = {};
  for (const field of APP_DEFINITION_FIELDS) {
    if (field !== "id" && inputs[field] !== undefined) definition[field] = inputs[field];
  }
  definition.id = canonicalAppId(String(inputs.appId));
  return definition as unknown as AppDefinition;
}

function connectionOf(inputs: Partial<ConnectionInputs>): Required<ConnectionInputs> {
  return {
    marathonEndpoints: inputs.marathonEndpoints ?? [],
    requestTimeoutMs: inputs.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    deploymentTimeoutMs: inputs.deploymentTimeoutMs ?? DEFAULT_DEPLOYMENT_TIMEOUT_MS,
    force: inputs.force ?? false,
  };
}

/** The body sent to Marathon: the definition, with the owner label added when there is an owner. */
function requestBody(inputs: MarathonAppInputs): Record<string, unknown> {
  const definition = definitionOf(inputs);
  if (inputs.owner === undefined) return { ...definition };
  return { ...definition, labels: { ...definition.labels, [OWNER_LABEL]: inputs.owner } };
}

function withoutOwnerLabel(app: MarathonAppInfo): MarathonAppInfo {
  const labels = app.labels as Record<string, string> | undefined;
  if (labels === undefined || !(OWNER_LABEL in labels)) return app;
  const rest = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== OWNER_LABEL));
  return { ...app, labels: rest };
}

function outputsOf(
  definition: AppDefinition,
  settings: Partial<MarathonAppInputs>,
  app: MarathonAppInfo | undefined,
  deploymentId: string,
): MarathonAppOutputs {
  const { id, ...fields } = definition;
  const connection = connectionOf(settings);
  const outputs = {
    ...fields,
    appId: id,
    marathonEndpoints: connection.marathonEndpoints,
    requestTimeoutMs: settings.requestTimeoutMs,
    deploymentTimeoutMs: settings.deploymentTimeoutMs,
    force: settings.force,
    owner: settings.owner,
    version: app?.version ?? "",
    deploymentId,
    tasksRunning: app?.tasksRunning ?? 0,
    tasksHealthy: app?.tasksHealthy ?? 0,
    endpoints: taskEndpoints(app),
    uiUrl: `${(connection.marathonEndpoints[0] ?? "").replace(/\/+$/, "")}/ui/#/apps/${encodeURIComponent(id)}`,
  };
  return withoutUndefined(outputs) as MarathonAppOutputs;
}

/** The inputs that reproduce a read app (used by `import`). */
function inputsOf(outputs: MarathonAppOutputs): Partial<MarathonAppOutputs> {
  const inputs: Record<string, unknown> = { appId: outputs.appId };
  for (const field of [...APP_DEFINITION_FIELDS, ...CONNECTION_FIELDS, "owner"] as const) {
    const value: unknown = field === "id" ? undefined : outputs[field];
    if (value !== undefined) inputs[field] = value;
  }
  return inputs;
}

function taskEndpoints(app: MarathonAppInfo | undefined): string[] {
  const running = (app?.tasks ?? []).filter((t) => t.state === undefined || t.state === "TASK_RUNNING");
  return running.flatMap((task) => (task.ports ?? []).map((port) => `${task.host}:${port}`)).sort();
}

function connectionFailures(news: Partial<MarathonAppInputs>): FieldFailure[] {
  const failures: FieldFailure[] = [];
  const endpoints: unknown = news.marathonEndpoints;
  if (endpoints !== UNKNOWN) {
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      failures.push({
        property: "marathonEndpoints",
        reason: `must be a non-empty list of Marathon base URLs, got ${JSON.stringify(endpoints) ?? "nothing"}`,
      });
    } else {
      endpoints.forEach((endpoint: unknown, i) => {
        const problem = endpoint === UNKNOWN ? undefined : endpointProblem(endpoint);
        if (problem) failures.push({ property: `marathonEndpoints[${i}]`, reason: problem });
      });
    }
  }
  for (const field of ["requestTimeoutMs", "deploymentTimeoutMs"] as const) {
    const value: unknown = news[field];
    if (value !== undefined && value !== UNKNOWN && !(Number.isInteger(value) && (value as number) > 0)) {
      failures.push({
        property: field,
        reason: `must be a whole number of milliseconds above 0, got ${JSON.stringify(value)}`,
      });
    }
  }
  const force: unknown = news.force;
  if (force !== undefined && force !== UNKNOWN && typeof force !== "boolean") {
    failures.push({ property: "force", reason: `must be true or false, got ${JSON.stringify(force)}` });
  }
  return failures;
}

function endpointProblem(endpoint: unknown): string | undefined {
  const given = JSON.stringify(endpoint);
  if (typeof endpoint !== "string") return `must be a URL such as "http://10.0.0.11:8080", got ${given}`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `must be a URL such as "http://10.0.0.11:8080", got ${given}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `must be an http or https URL, got ${given}`;
  if (url.username !== "" || url.password !== "") {
    return (
      "must not contain credentials; set them with `pulumi config set --secret marathonCredentials user:password`, " +
      "got a URL with user info"
    );
  }
  return undefined;
}

function definitionFailures(news: Partial<MarathonAppInputs>): FieldFailure[] {
  const candidate: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news)) {
    const isConnection = (CONNECTION_FIELDS as readonly string[]).includes(key);
    if (!isConnection && !["__provider", "appId", "owner"].includes(key)) candidate[key] = value;
  }
  candidate.id = news.appId;
  const result = validateAppDefinition(candidate, { isUnknown: (value) => value === UNKNOWN });
  if (result.ok) return [];
  return result.failures.map((f) => (f.property === "id" ? { ...f, property: "appId" } : f));
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
  return false;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Pulumi's Struct encoding rejects `undefined`: drop it everywhere. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, withoutUndefined(v)]),
    );
  }
  return value;
}

/** The 409 on create without `adopt`: how to adopt the app, and why `pulumi import` cannot. */
function adoptionAdvice(appId: string, exists: MarathonError): MarathonError {
  const id = canonicalAppId(appId);
  return new MarathonError(
    `Marathon already has an app ${id} that this resource did not create ` +
      `(${exists.info.marathonMessage ?? "409"}). To manage it with Pulumi, adopt it: set adopt: true ` +
      `on this app, which with this project's stack config is ` +
      `\`pulumi config set --path 'apps["${appId}"].adopt' true\`, then run \`pulumi up\`: the app is ` +
      `updated to this definition (a scale if only instances differ). \`pulumi import\` cannot adopt it, ` +
      `because Pulumi gives a dynamic provider nothing to read an imported resource with ` +
      `(pulumi/pulumi#16175, #3550). Or delete the app from Marathon and run pulumi up again.`,
    exists.info,
  );
}

/** A create that adopted an existing app and then failed must not remove that app: it is kept. */
function keptAfterFailedAdoption(inputs: MarathonAppInputs, deploymentId: string, cause: unknown): Error {
  return keptInStack(
    inputs,
    deploymentId,
    cause,
    `The app ${canonicalAppId(inputs.appId)} existed before it was adopted, so it was not removed; it is ` +
      `kept in the stack so the next pulumi up updates it.`,
  );
}

/**
 * A failed create reported as created-but-failed (`id` on the error): the engine keeps the app in the
 * state, so the next `up` updates it instead of finding it "already exists".
 */
function keptInStack(
  inputs: MarathonAppInputs,
  deploymentId: string,
  cause: unknown,
  outcome: string,
): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const failed = new MarathonError(`${reason}. ${outcome}`, errorInfo(cause));
  const partial = outputsOf(definitionOf(inputs), inputs, undefined, deploymentId);
  return Object.assign(failed, { id: canonicalAppId(inputs.appId), properties: partial, reasons: [reason] });
}

function errorInfo(cause: unknown) {
  return cause instanceof MarathonError ? cause.info : {};
}
