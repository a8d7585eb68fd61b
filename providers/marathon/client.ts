/**
 * A Marathon REST client (Marathon 1.x `/v2` API) over Node's global `fetch`. No Pulumi import: the
 * dynamic provider builds one per operation. Deployment waits join the process's shared
 * `/v2/deployments` poll, which holds a timer only while some wait is pending.
 *
 * Transport rules: endpoints are tried in order and the one that last answered is tried first;
 * connection errors, request timeouts and 5xx (502 is Marathon's "no leader") are retried with
 * exponential backoff and jitter until the operation's deadline; 4xx are never retried and surface as
 * a `MarathonError` with Marathon's `message` and `details`.
 */

import { pollInterval, sharedDeploymentWatch, type DeploymentWatch, type WaitLimit } from "./deploymentWatch";

export interface MarathonClientOptions {
  /** Marathon base URLs, e.g. every master's `http://10.0.0.11:8080`, tried in order. */
  endpoints: readonly string[];
  /** `user:password` for HTTP basic auth. Never logged and never put in an error. */
  credentials?: string;
  /** One request's limit, after which it is abandoned and retried. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** The whole operation's limit, retries and deployment waits included. Default 10 minutes. */
  operationTimeoutMs?: number;
  /**
   * First pause between two polls of a deployment; it grows by a quarter per poll. Default 25 ms.
   * Concurrent waits on one Marathon share each `/v2/deployments` poll (see `deploymentWatch.ts`).
   */
  pollIntervalMs?: number;
  /** Longest pause between two polls. Default 100 ms. */
  maxPollIntervalMs?: number;
  /** First retry delay; it doubles per round of failed endpoints, up to `maxRetryDelayMs`. Default 50 ms. */
  initialRetryDelayMs?: number;
  /** Default 2 000 ms. */
  maxRetryDelayMs?: number;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch;
}

export interface MarathonTask {
  id: string;
  appId?: string;
  host: string;
  ports?: number[];
  state?: string;
  healthCheckResults?: { alive?: boolean }[];
}

export interface TaskFailure {
  appId?: string;
  host?: string;
  message?: string;
  state?: string;
  taskId?: string;
  timestamp?: string;
  version?: string;
}

/** An AppInfo as Marathon returns it: the definition plus counts, tasks and running deployments. */
export interface MarathonAppInfo extends Record<string, unknown> {
  id: string;
  version?: string;
  instances?: number;
  tasksStaged?: number;
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksUnhealthy?: number;
  tasks?: MarathonTask[];
  deployments?: { id: string }[];
  lastTaskFailure?: TaskFailure;
  healthChecks?: unknown[];
}

/** What every state-changing call returns: the deployment it started and the new version. */
export interface DeploymentResult {
  deploymentId: string;
  version: string;
}

export interface CreatedApp {
  app: MarathonAppInfo;
  deploymentId: string;
}

export interface MarathonDeployment {
  id: string;
  version?: string;
  affectedApps?: string[];
  currentStep?: number;
  totalSteps?: number;
}

export interface MarathonErrorInfo {
  /** The HTTP status, absent when no endpoint answered or a wait ran out of time. */
  status?: number;
  /** Marathon's `message`. */
  marathonMessage?: string;
  /** Marathon's `details` (a string, or a list of `{path, errors}`). */
  details?: unknown;
  /** The deployments named by a 409 "locked" answer. */
  lockingDeployments?: string[];
  /** Set when the wait for a deployment ran out of time. */
  deploymentTimeout?: { appId: string; deploymentId: string; app?: MarathonAppInfo };
}

/** Every failure of the client: an HTTP error answer, no endpoint answering in time, or a wait timing out. */
export class MarathonError extends Error {
  readonly info: MarathonErrorInfo;

  constructor(message: string, info: MarathonErrorInfo = {}) {
    super(message);
    // Set explicitly: in the serialized provider `super(...)` becomes `Error.call(this, ...)`, which sets nothing.
    this.message = message;
    this.name = "MarathonError";
    this.info = info;
  }

  get status(): number | undefined {
    return this.info.status;
  }

  /** A 409 from `POST /v2/apps`: an app with that id already exists. */
  get isAlreadyExists(): boolean {
    return this.info.status === 409 && this.info.lockingDeployments === undefined;
  }

  get isLocked(): boolean {
    return this.info.status === 409 && this.info.lockingDeployments !== undefined;
  }
}

interface RequestSpec {
  query?: [string, string][];
  body?: unknown;
}

interface Answer {
  status: number;
  body: unknown;
  deploymentIdHeader: string | null;
}

/** Embeds for a single app: tasks (for endpoints), counts, deployments and the last task failure. */
const APP_EMBEDS = ["app.tasks", "app.counts", "app.deployments", "app.lastTaskFailure"];

export class MarathonClient {
  private readonly endpoints: string[];
  private readonly authorization?: string;
  private readonly requestTimeoutMs: number;
  private readonly operationTimeoutMs: number;
  private readonly deadline: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly initialRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly fetchImpl: typeof fetch;
  /** Index of the endpoint that answered last; tried first next time. */
  private preferred = 0;

  constructor(options: MarathonClientOptions) {
    if (options.endpoints.length === 0) throw new MarathonError("No Marathon endpoint given");
    this.endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.authorization =
      options.credentials === undefined || options.credentials === ""
        ? undefined
        : `Basic ${Buffer.from(options.credentials, "utf8").toString("base64")}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 600_000;
    this.deadline = Date.now() + this.operationTimeoutMs;
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
    this.maxPollIntervalMs = Math.max(this.pollIntervalMs, options.maxPollIntervalMs ?? 100);
    this.initialRetryDelayMs = options.initialRetryDelayMs ?? 50;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The base URL that answered last (the first one before any request). */
  get activeEndpoint(): string {
    return this.endpoints[this.preferred];
  }

  /** `POST /v2/apps`. A 409 "locked" (the id is still being deleted) waits for that deployment. */
  async createApp(definition: Record<string, unknown>): Promise<CreatedApp> {
    const answer = await this.whenUnlocked(() => this.request("POST", "/v2/apps", { body: definition }));
    const app = answer.body as MarathonAppInfo;
    const deploymentId = answer.deploymentIdHeader ?? app.deployments?.[0]?.id ?? "";
    return { app, deploymentId };
  }

  /** `GET /v2/apps/{id}` with tasks, counts, deployments and the last task failure; undefined on 404. */
  getApp(appId: string): Promise<MarathonAppInfo | undefined> {
    return this.readApp(appId);
  }

  /** `PUT /v2/apps/{id}?partialUpdate=false`: the definition replaces the app's, so absent fields reset. */
  async updateApp(
    appId: string,
    definition: Record<string, unknown>,
    force = false,
  ): Promise<DeploymentResult> {
    const query: [string, string][] = [["partialUpdate", "false"], ...forceQuery(force)];
    return this.deploymentResult(() => this.request("PUT", appPath(appId), { query, body: definition }));
  }

  /** `PUT /v2/apps/{id}` with exactly `{"instances": N}`: a scale, no restart. */
  async scaleApp(appId: string, instances: number, force = false): Promise<DeploymentResult> {
    const spec = { query: forceQuery(force), body: { instances } };
    return this.deploymentResult(() => this.request("PUT", appPath(appId), spec));
  }

  /** `DELETE /v2/apps/{id}` (Marathon's default force=true never conflicts); undefined if already gone. */
  async deleteApp(appId: string): Promise<DeploymentResult | undefined> {
    try {
      return toDeploymentResult(await this.request("DELETE", appPath(appId), {}));
    } catch (e) {
      if (e instanceof MarathonError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** `GET /v2/deployments`. */
  async listDeployments(): Promise<MarathonDeployment[]> {
    return (await this.request("GET", "/v2/deployments", {})).body as MarathonDeployment[];
  }

  /**
   * `DELETE /v2/deployments/{id}`: without force Marathon starts a rollback deployment (returned);
   * with force it only stops the deployment. Undefined if the deployment no longer exists.
   */
  async deleteDeployment(deploymentId: string, force = false): Promise<DeploymentResult | undefined> {
    try {
      const path = `/v2/deployments/${encodeURIComponent(deploymentId)}`;
      const answer = await this.request("DELETE", path, { query: forceQuery(force) });
      return answer.status === 202 ? undefined : toDeploymentResult(answer);
    } catch (e) {
      if (e instanceof MarathonError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Wait until the deployment is gone from `/v2/deployments` and the app is at its target: every
   * instance running, and healthy when the app has health checks. The deployment is watched through the
   * process's shared `/v2/deployments` poll; the app is read only once its deployment is gone. On
   * timeout, fails with the app's task counts and last task failure.
   */
  async waitForDeployment(appId: string, deploymentId: string): Promise<MarathonAppInfo> {
    if (deploymentId !== "" && !(await this.waitForDeploymentsGone([deploymentId]))) {
      throw this.deploymentTimeout(appId, deploymentId, await this.appForTimeoutError(appId));
    }
    for (let poll = 0; ; poll++) {
      const app = await this.getApp(appId);
      if (app === undefined) {
        throw new MarathonError(`App ${appId} was deleted while deployment ${deploymentId || "?"} ran`, {
          status: 404,
        });
      }
      if ((app.deployments ?? []).length === 0 && isAtTarget(app)) return app;
      if (!(await this.pause(poll))) throw this.deploymentTimeout(appId, deploymentId, app);
    }
  }

  /** Wait until the app is gone: its deletion deployment finished and `GET` answers 404. */
  async waitForAppGone(appId: string, deploymentId = ""): Promise<void> {
    if (deploymentId !== "" && !(await this.waitForDeploymentsGone([deploymentId]))) {
      throw this.deploymentTimeout(appId, deploymentId, await this.appForTimeoutError(appId));
    }
    for (let poll = 0; ; poll++) {
      const app = await this.getApp(appId);
      if (app === undefined) return;
      if (!(await this.pause(poll))) throw this.deploymentTimeout(appId, deploymentId, app);
    }
  }

  // -------------------------------------------------------------------------------------------------------

  /** Wait until none of `ids` is listed in `/v2/deployments`; false if the deadline comes first. */
  private waitForDeploymentsGone(ids: readonly string[]): Promise<boolean> {
    return this.deploymentWatch().waitUntilGone(ids, {
      deadline: this.deadline,
      timeoutMs: this.operationTimeoutMs,
      pollIntervalMs: this.pollIntervalMs,
      maxPollIntervalMs: this.maxPollIntervalMs,
    });
  }

  /** The process's shared deployments poll for this client's endpoints, credentials and transport. */
  private deploymentWatch(): DeploymentWatch {
    const key = JSON.stringify([this.endpoints, this.authorization ?? "", this.requestTimeoutMs]);
    return sharedDeploymentWatch(this.fetchImpl, key, async (limit) => {
      const answer = await this.request("GET", "/v2/deployments", {}, limit);
      return new Set((answer.body as MarathonDeployment[]).map((d) => d.id));
    });
  }

  /** Run a state-changing call; while Marathon answers 409 "locked", wait for those deployments and retry. */
  private async whenUnlocked(call: () => Promise<Answer>): Promise<Answer> {
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof MarathonError) || !e.isLocked) throw e;
        const locking = e.info.lockingDeployments ?? [];
        if (!(await this.waitForDeploymentsGone(locking))) {
          throw new MarathonError(
            `${e.message}; the deployment(s) did not finish within ${this.operationTimeoutMs} ms ` +
              `(force: true overrides them)`,
            e.info,
          );
        }
      }
    }
  }

  private async deploymentResult(call: () => Promise<Answer>): Promise<DeploymentResult> {
    return toDeploymentResult(await this.whenUnlocked(call));
  }

  /** Sleep before poll number `poll` of an app's state; false if that would pass the deadline. */
  private async pause(poll: number): Promise<boolean> {
    const schedule = { pollIntervalMs: this.pollIntervalMs, maxPollIntervalMs: this.maxPollIntervalMs };
    const interval = pollInterval(schedule, poll);
    if (Date.now() + interval > this.deadline) return false;
    await sleep(interval);
    return true;
  }

  /** The app's counts for a timeout error, read with a short grace past the deadline; undefined if unreadable. */
  private appForTimeoutError(appId: string): Promise<MarathonAppInfo | undefined> {
    const graceMs = Math.min(this.requestTimeoutMs, 2_000);
    const limit = { deadline: Math.max(this.deadline, Date.now() + graceMs), timeoutMs: graceMs };
    return this.readApp(appId, limit).catch(() => undefined);
  }

  private async readApp(appId: string, limit?: WaitLimit): Promise<MarathonAppInfo | undefined> {
    try {
      const answer = await this.request(
        "GET",
        appPath(appId),
        { query: APP_EMBEDS.map((e) => ["embed", e]) },
        limit,
      );
      return (answer.body as { app: MarathonAppInfo }).app;
    } catch (e) {
      if (e instanceof MarathonError && e.status === 404) return undefined;
      throw e;
    }
  }

  private deploymentTimeout(
    appId: string,
    deploymentId: string,
    app: MarathonAppInfo | undefined,
  ): MarathonError {
    const counts = app
      ? `${app.tasksStaged ?? 0} staged, ${app.tasksRunning ?? 0} running, ${app.tasksHealthy ?? 0} healthy ` +
        `of ${app.instances ?? "?"} instances`
      : "task counts unavailable";
    const failure = app?.lastTaskFailure;
    const lastFailure = failure
      ? `last task failure: ${failure.state ?? "?"} of ${failure.taskId ?? "?"} on ${failure.host ?? "?"} at ` +
        `${failure.timestamp ?? "?"}: ${failure.message ?? ""}`
      : "no task failure recorded";
    return new MarathonError(
      `Deployment ${deploymentId || "?"} of app ${appId || "?"} did not finish within ${this.operationTimeoutMs} ms ` +
        `(Marathon deployments never fail on their own): ${counts}; ${lastFailure}`,
      { deploymentTimeout: { appId, deploymentId, app } },
    );
  }

  /** The single retry loop: every endpoint in turn, then back off, until an answer or the deadline. */
  private async request(
    method: string,
    path: string,
    spec: RequestSpec,
    limit: WaitLimit = { deadline: this.deadline, timeoutMs: this.operationTimeoutMs },
  ): Promise<Answer> {
    const failures = new Map<string, string>();
    for (let round = 0; ; round++) {
      for (let i = 0; i < this.endpoints.length; i++) {
        const index = (this.preferred + i) % this.endpoints.length;
        const outcome = await this.attempt(index, method, path, spec, limit.deadline);
        if ("answer" in outcome) {
          this.preferred = index;
          return outcome.answer;
        }
        const url = displayUrl(this.endpoints[index]);
        // An attempt the deadline cut short says nothing new about the endpoint: keep the earlier cause.
        if (!(outcome.cutByDeadline && failures.has(url))) failures.set(url, outcome.retryable);
      }
      const backoff = Math.min(this.maxRetryDelayMs, this.initialRetryDelayMs * 2 ** round);
      const delay = backoff / 2 + Math.random() * (backoff / 2);
      if (Date.now() + delay >= limit.deadline) {
        const causes = [...failures].map(([url, why]) => `${url}: ${why}`).join("; ");
        throw new MarathonError(
          `Marathon did not answer ${method} ${path} within ${limit.timeoutMs} ms (${round + 1} ` +
            `round(s) over ${this.endpoints.length} endpoint(s)): ${causes}`,
        );
      }
      await sleep(delay);
    }
  }

  /** One request to one endpoint: an answer, a non-retryable MarathonError (thrown), or why to retry. */
  private async attempt(
    index: number,
    method: string,
    path: string,
    spec: RequestSpec,
    deadline: number,
  ): Promise<{ answer: Answer } | { retryable: string; cutByDeadline?: boolean }> {
    const query = spec.query && spec.query.length > 0 ? `?${new URLSearchParams(spec.query).toString()}` : "";
    const headers: Record<string, string> = { Accept: "application/json" };
    if (spec.body !== undefined) headers["Content-Type"] = "application/json";
    if (this.authorization) headers.Authorization = this.authorization;
    const timeout = Math.max(1, Math.min(this.requestTimeoutMs, deadline - Date.now()));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeout);
    let status: number;
    let text: string;
    let deploymentIdHeader: string | null;
    try {
      const response = await this.fetchImpl(`${this.endpoints[index]}${path}${query}`, {
        method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: abort.signal,
      });
      status = response.status;
      deploymentIdHeader = response.headers.get("Marathon-Deployment-Id");
      text = await response.text();
    } catch (e) {
      if (!abort.signal.aborted) return { retryable: connectionFailure(e) };
      return { retryable: `no answer within ${timeout} ms`, cutByDeadline: timeout < this.requestTimeoutMs };
    } finally {
      clearTimeout(timer);
    }
    const body = parseBody(text);
    if (status >= 500) return { retryable: `${status} ${errorMessage(body) ?? ""}`.trim() };
    if (status >= 400) throw httpError(method, path, status, body);
    return { answer: { status, body, deploymentIdHeader } };
  }
}

// ---------------------------------------------------------------------------------------------------------

function appPath(appId: string): string {
  const segments = appId.split("/").filter((s) => s !== "");
  return `/v2/apps/${segments.map(encodeURIComponent).join("/")}`;
}

function forceQuery(force: boolean): [string, string][] {
  return force ? [["force", "true"]] : [];
}

function toDeploymentResult(answer: Answer): DeploymentResult {
  const body = (answer.body ?? {}) as Partial<DeploymentResult>;
  return { deploymentId: body.deploymentId ?? answer.deploymentIdHeader ?? "", version: body.version ?? "" };
}

/** Every instance running, and healthy too when the app has health checks. */
function isAtTarget(app: MarathonAppInfo): boolean {
  const instances = app.instances ?? 0;
  const running = app.tasksRunning ?? 0;
  const healthy = app.tasksHealthy ?? 0;
  const hasHealthChecks = (app.healthChecks ?? []).length > 0;
  return running === instances && (!hasHealthChecks || healthy === instances);
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorMessage(body: unknown): string | undefined {
  if (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { message?: unknown }).message === "string"
  ) {
    return (body as { message: string }).message;
  }
  if (typeof body === "string") {
    // Jetty's HTML error page (502 without a leader) carries the reason in its title.
    const title = /<title>(?:Error \d+ )?([^<]*)<\/title>/i.exec(body);
    return title ? title[1] : body.slice(0, 200);
  }
  return undefined;
}

function httpError(method: string, path: string, status: number, body: unknown): MarathonError {
  const marathonMessage = errorMessage(body);
  const fields = (typeof body === "object" && body !== null ? body : {}) as {
    details?: unknown;
    deployments?: { id: string }[];
  };
  const details = fields.details;
  const lockingDeployments =
    status === 409 && Array.isArray(fields.deployments) ? fields.deployments.map((d) => d.id) : undefined;
  const detailText = details === undefined ? "" : ` (details: ${JSON.stringify(details)})`;
  const lockText = lockingDeployments ? ` (locked by deployment(s) ${lockingDeployments.join(", ")})` : "";
  return new MarathonError(
    `Marathon ${method} ${path} answered ${status}: ${marathonMessage ?? "(no message)"}${detailText}${lockText}`,
    { status, marathonMessage, details, lockingDeployments },
  );
}

function connectionFailure(e: unknown): string {
  const error = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = error.cause?.code ?? error.cause?.message;
  return cause ? `connection failed (${cause})` : `connection failed (${error.message ?? String(e)})`;
}

/** A base URL without any user info, for messages. */
function displayUrl(base: string): string {
  try {
    const url = new URL(base);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
