/**
 * The emulated Marathon's state: apps with their version history, their tasks, and the deployments
 * that every change starts. Operations throw MarathonHttpError with Marathon's status and body.
 */
import { classifyChange, clone, mergeUpdate, withDefaults, type ChangeKind } from "./appDefinition";
import { DeploymentEngine, type DeploymentAction } from "./deployments";
import { marathonErrors } from "./errors";
import { normalizeId } from "./pathId";
import { assignServicePorts, servicePortsOf } from "./ports";
import { renderTask, TaskPool, taskCounts, type Task, type TaskFailure } from "./tasks";
import type { JsonObject } from "./types";
import { readAppJson, validateAppDefinition } from "./validation";

interface StoredApp {
  definition: JsonObject;
  /** Every stored version of the definition, by version timestamp. */
  versions: Map<string, JsonObject>;
  lastTaskFailure?: TaskFailure;
}

/** One app's change within a plan; `after` undefined removes the app. */
interface AppChange {
  id: string;
  after: JsonObject | undefined;
  /** A restart (POST .../restart) rather than a definition change. */
  restart?: boolean;
  /** Restores `after` with its own version (a cancelled deployment's rollback). */
  revert?: boolean;
}

/** What a state-changing call returns: Marathon's DeploymentResult. */
export interface DeploymentResult {
  deploymentId: string;
  version: string;
}

/** Which optional AppInfo parts to include (InfoEmbedResolver). */
export interface Embed {
  tasks: boolean;
  lastTaskFailure: boolean;
  readiness: boolean;
}

export const CRASH_LOOP_MESSAGE = "Command exited with status 1 (emulated: stuck deployment)";

export interface StateOptions {
  deploymentStepMs: number;
  taskHosts: string[];
  /** Whether a deployment starting now should be stuck (read at each deployment start). */
  stuck: () => boolean;
}

export class MarathonState {
  private readonly apps = new Map<string, StoredApp>();
  readonly tasks: TaskPool;
  readonly deployments: DeploymentEngine;
  private lastTimestamp = 0;

  constructor(private readonly options: StateOptions) {
    this.tasks = new TaskPool(options.taskHosts, () => new Date().toISOString());
    this.deployments = new DeploymentEngine(options.deploymentStepMs, (action, stuck) =>
      this.advance(action, stuck),
    );
  }

  /** Strictly increasing ISO timestamps, so that two changes in one millisecond get two versions. */
  private nextVersion(): string {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return new Date(this.lastTimestamp).toISOString();
  }

  appIds(): string[] {
    return [...this.apps.keys()].sort();
  }

  /** POST /v2/apps: returns the AppInfo of the 201 body (requested service ports, no versionInfo). */
  create(body: unknown, force: boolean): { app: JsonObject; result: DeploymentResult } {
    const input = readAppJson(body, true);
    validateAppDefinition(input);
    const id = normalizeId(input.id as string);
    if (this.apps.has(id)) throw marathonErrors.appExists(id);
    const definition = withDefaults(input, id);
    const requested = clone(definition);
    const result = this.deploy([{ id, after: definition }], force);
    const app = {
      ...requested,
      version: result.version,
      ...taskCounts([]),
      deployments: [{ id: result.deploymentId }],
    };
    return { app, result };
  }

  /**
   * PUT /v2/apps/{id}: a partial update by default, a full replacement with partialUpdate=false,
   * a rollback for a body of just `version`, and a create when the app does not exist.
   */
  put(
    rawId: string,
    body: unknown,
    options: { partial: boolean; force: boolean },
  ): { created: boolean; result: DeploymentResult } {
    const id = normalizeId(rawId);
    const input = readAppJson(body, false);
    const stored = this.apps.get(id);
    if (input.version !== undefined)
      return { created: false, result: this.rollback(id, input, options.force) };
    if (!stored) {
      const full = { ...input, id };
      validateAppDefinition(full);
      return { created: true, result: this.deploy([{ id, after: withDefaults(full, id) }], options.force) };
    }
    const merged = options.partial ? mergeUpdate(stored.definition, input) : { ...input, id };
    validateAppDefinition({ ...merged, id });
    return { created: false, result: this.deploy([{ id, after: withDefaults(merged, id) }], options.force) };
  }

  /** PATCH /v2/apps/{id}: always partial; a missing app is 404. */
  patch(rawId: string, body: unknown, force: boolean): DeploymentResult {
    const id = normalizeId(rawId);
    this.stored(id);
    return this.put(id, body, { partial: true, force }).result;
  }

  /** DELETE /v2/apps/{id}: the app vanishes at once; a StopApplication step kills its tasks. */
  delete(rawId: string, force: boolean): DeploymentResult {
    const id = normalizeId(rawId);
    this.stored(id);
    return this.deploy([{ id, after: undefined }], force);
  }

  /** POST /v2/apps/{id}/restart: a rolling restart with a new config version. */
  restart(rawId: string, force: boolean): DeploymentResult {
    const id = normalizeId(rawId);
    return this.deploy([{ id, after: clone(this.stored(id).definition), restart: true }], force);
  }

  private rollback(id: string, input: JsonObject, force: boolean): DeploymentResult {
    if (Object.keys(input).some((k) => k !== "version" && k !== "id")) {
      throw marathonErrors.illegalArgument("The 'version' field may only be combined with the 'id' field.");
    }
    const version = input.version as string;
    const target = this.apps.get(id)?.versions.get(version);
    if (!target) throw marathonErrors.appNotFound(id, version);
    return this.deploy([{ id, after: clone(target) }], force);
  }

  /** DELETE /v2/deployments/{id}: with force just stops it; otherwise starts a rollback plan. */
  cancelDeployment(id: string, force: boolean): DeploymentResult | undefined {
    const deployment = this.deployments.get(id);
    if (!deployment) throw marathonErrors.deploymentNotFound(id);
    this.deployments.cancel(deployment);
    if (force) return undefined;
    const changes = [...deployment.original].map(([appId, before]) => ({
      id: appId,
      after: before,
      revert: true,
    }));
    return this.deploy(changes, true);
  }

  /** GET /v2/apps/{id}: the AppInfo with tasks, counts, deployments (and lastTaskFailure if any). */
  appInfo(rawId: string, embed: Embed): JsonObject {
    const id = normalizeId(rawId);
    return this.render(this.stored(id), { ...embed, tasks: true, lastTaskFailure: true });
  }

  /** GET /v2/apps, filtered by an app predicate (cmd, id, label query parameters). */
  listApps(filter: (definition: JsonObject) => boolean, embed: Embed): JsonObject[] {
    return this.appIds()
      .map((id) => this.apps.get(id) as StoredApp)
      .filter((s) => filter(s.definition))
      .map((s) => this.render(s, embed));
  }

  appTasks(rawId: string): JsonObject[] {
    const id = normalizeId(rawId);
    this.stored(id);
    return this.tasks.of(id).map(renderTask);
  }

  /** GET /v2/apps/{id}/versions: newest first. */
  versions(rawId: string): string[] {
    return [...this.stored(normalizeId(rawId)).versions.keys()].sort().reverse();
  }

  version(rawId: string, version: string): JsonObject {
    const id = normalizeId(rawId);
    const definition = this.stored(id).versions.get(version);
    if (!definition) throw marathonErrors.appNotFound(id, version);
    return clone(definition);
  }

  private stored(id: string): StoredApp {
    const stored = this.apps.get(id);
    if (!stored) throw marathonErrors.appNotFound(id);
    return stored;
  }

  private render(stored: StoredApp, embed: Embed): JsonObject {
    const id = stored.definition.id as string;
    const tasks = this.tasks.of(id);
    const info: JsonObject = {
      ...clone(stored.definition),
      ...taskCounts(tasks),
      deployments: this.deployments.locking([id]).map((d) => ({ id: d.id })),
    };
    if (embed.tasks) info.tasks = tasks.map(renderTask);
    if (embed.lastTaskFailure && stored.lastTaskFailure) info.lastTaskFailure = clone(stored.lastTaskFailure);
    if (embed.readiness) info.readinessCheckResults = [];
    return info;
  }

  /**
   * Checks the locks, stores the new definitions at once (as Marathon does before any task moves)
   * and starts the plan that converges the tasks.
   */
  private deploy(changes: AppChange[], force: boolean): DeploymentResult {
    const ids = changes.map((c) => c.id);
    const locking = this.deployments.locking(ids);
    if (locking.length > 0 && !force) throw marathonErrors.appLocked(locking.map((d) => d.id));
    locking.forEach((d) => this.deployments.cancel(d));

    const version = this.nextVersion();
    const original = new Map<string, JsonObject | undefined>();
    const steps: DeploymentAction[][] = [];
    for (const change of changes) {
      const before = this.apps.get(change.id)?.definition;
      original.set(change.id, before && clone(before));
      steps.push(...this.store(change, before, version));
    }
    const deployment = this.deployments.start({
      version,
      affectedApps: ids,
      steps: steps.filter((s) => s.length > 0),
      stuck: this.options.stuck(),
      original,
    });
    return { deploymentId: deployment.id, version };
  }

  /** Stores one change with Marathon's version bookkeeping; returns the steps it needs. */
  private store(change: AppChange, before: JsonObject | undefined, version: string): DeploymentAction[][] {
    const { id, after } = change;
    if (!after) {
      this.apps.delete(id);
      return [[{ action: "StopApplication", app: id }]];
    }
    if (!change.revert) assignServicePorts(after, before, this.servicePortsExcept(id));
    const kind: ChangeKind | "create" | "restart" = !before
      ? "create"
      : change.restart
        ? "restart"
        : classifyChange(before, after);
    if (!change.revert) stampVersion(after, before, kind, version);
    const stored = this.apps.get(id) ?? { definition: after, versions: new Map<string, JsonObject>() };
    stored.definition = after;
    stored.versions.set(after.version as string, clone(after));
    this.apps.set(id, stored);
    if (kind === "create") {
      return [[{ action: "StartApplication", app: id }], [{ action: "ScaleApplication", app: id }]];
    }
    if (kind === "scale" || (kind === "upgrade" && after.instances === 0))
      return [[{ action: "ScaleApplication", app: id }]];
    if (kind === "upgrade" || kind === "restart") return [[{ action: "RestartApplication", app: id }]];
    return [];
  }

  private servicePortsExcept(id: string): Set<number> {
    const used = new Set<number>();
    for (const [otherId, stored] of this.apps) {
      if (otherId !== id) servicePortsOf(stored.definition).forEach((p) => used.add(p));
    }
    return used;
  }

  /**
   * One unit of work of a deployment action: promote staged tasks, then kill one surplus or
   * outdated task and launch one missing task. True when the app is at its target.
   */
  private advance(action: DeploymentAction, stuck: boolean): boolean {
    if (action.action === "StartApplication") return true;
    const target = action.action === "StopApplication" ? undefined : this.apps.get(action.app)?.definition;
    const wanted = (target?.instances as number | undefined) ?? 0;
    if (stuck) {
      this.crashLoop(action.app, target, wanted);
      return false;
    }
    this.tasks.promoteStaged(action.app);
    const configVersion = (target?.versionInfo as JsonObject | undefined)?.lastConfigChangeAt;
    const outdated = (t: Task) => target !== undefined && t.configVersion !== configVersion;
    const tasks = this.tasks.of(action.app);
    const stale = tasks.filter(outdated);
    if (tasks.length > wanted || stale.length > 0) {
      this.tasks.kill(pickVictim(stale.length > 0 ? stale : tasks, target?.killSelection));
    }
    if (target && this.tasks.of(action.app).length < wanted) this.tasks.stage(target);
    const now = this.tasks.of(action.app);
    return now.length === wanted && now.every((t) => t.state === "TASK_RUNNING" && !outdated(t));
  }

  /** A stuck deployment: each staged task fails and is replaced; nothing else moves. */
  private crashLoop(appId: string, target: JsonObject | undefined, wanted: number): void {
    const staged = this.tasks.of(appId).find((t) => t.state === "TASK_STAGING");
    const stored = this.apps.get(appId);
    if (staged) {
      const failure = this.tasks.fail(staged, CRASH_LOOP_MESSAGE);
      if (stored) stored.lastTaskFailure = failure;
    }
    if (target && this.tasks.of(appId).length < wanted) this.tasks.stage(target);
  }
}

/** version/versionInfo per Marathon's VersionInfo rules (REFERENCE §3.4). */
function stampVersion(
  after: JsonObject,
  before: JsonObject | undefined,
  kind: string,
  version: string,
): void {
  const previous = (before?.versionInfo as JsonObject | undefined) ?? {};
  if (kind === "none" && before) {
    after.version = before.version;
    after.versionInfo = previous;
    return;
  }
  after.version = version;
  after.versionInfo = {
    lastScalingAt: kind === "restart" ? previous.lastScalingAt : version,
    lastConfigChangeAt: kind === "scale" ? previous.lastConfigChangeAt : version,
  };
}

/** The task killSelection picks: the youngest (default) or the oldest. */
function pickVictim(tasks: Task[], killSelection: unknown): Task {
  return killSelection === "OLDEST_FIRST" ? tasks[0] : tasks[tasks.length - 1];
}
