/**
 * Deployment plans and their execution in time: each step's actions converge their app one unit
 * of work per tick (deploymentStepMs); a plan vanishes from the list when its last step is done.
 */
import { randomUUID } from "node:crypto";
import type { DeploymentEvent, JsonObject } from "./types";

export type ActionName = "StartApplication" | "StopApplication" | "ScaleApplication" | "RestartApplication";

export interface DeploymentAction {
  action: ActionName;
  app: string;
}

export interface Deployment {
  id: string;
  /** The plan's version: the timestamp given to the changed apps. */
  version: string;
  affectedApps: string[];
  steps: DeploymentAction[][];
  /** Index of the step in progress; equal to steps.length once done. */
  stepIndex: number;
  /** False until the first tick, when `currentStep` is still 0. */
  started: boolean;
  /** Never finishes (EmulatorFaults.stuckDeployments was set when it started). */
  stuck: boolean;
  /** Each affected app's definition before the plan, undefined when the plan created it. */
  original: Map<string, JsonObject | undefined>;
  event: DeploymentEvent;
  timer?: NodeJS.Timeout;
}

/**
 * Does one unit of work for an action (start, stop or replace one instance) and tells whether the
 * app has reached the action's target.
 */
export type ActionWorker = (action: DeploymentAction, stuck: boolean) => boolean;

export class DeploymentEngine {
  private readonly running = new Map<string, Deployment>();
  readonly events: DeploymentEvent[] = [];

  constructor(
    private readonly stepMs: number,
    private readonly work: ActionWorker,
  ) {}

  /** Starts a plan; its first unit of work happens on the next turn of the event loop. */
  start(plan: Omit<Deployment, "id" | "stepIndex" | "started" | "event">): Deployment {
    const id = randomUUID();
    const event: DeploymentEvent = { id, appId: plan.affectedApps[0], startedAt: Date.now() };
    const deployment: Deployment = { ...plan, id, stepIndex: 0, started: false, event };
    this.events.push(event);
    this.running.set(id, deployment);
    this.schedule(deployment, 0);
    return deployment;
  }

  get(id: string): Deployment | undefined {
    return this.running.get(id);
  }

  list(): Deployment[] {
    return [...this.running.values()];
  }

  /** Running deployments that affect any of `appIds` (Marathon's lock). */
  locking(appIds: string[]): Deployment[] {
    return this.list().filter((d) => d.affectedApps.some((a) => appIds.includes(a)));
  }

  /** Stops a deployment where it is, leaving its tasks as they are. */
  cancel(deployment: Deployment): void {
    clearTimeout(deployment.timer);
    this.running.delete(deployment.id);
    deployment.event.cancelledAt = Date.now();
  }

  /** Clears every timer; used when the emulator closes. */
  stopAll(): void {
    for (const deployment of this.running.values()) clearTimeout(deployment.timer);
    this.running.clear();
  }

  private schedule(deployment: Deployment, delayMs: number): void {
    deployment.timer = setTimeout(() => this.tick(deployment), delayMs);
  }

  private tick(deployment: Deployment): void {
    deployment.started = true;
    while (deployment.stepIndex < deployment.steps.length) {
      const results = deployment.steps[deployment.stepIndex].map((a) => this.work(a, deployment.stuck));
      if (!results.every(Boolean)) return this.schedule(deployment, this.stepMs);
      deployment.stepIndex++;
    }
    this.running.delete(deployment.id);
    deployment.event.finishedAt = Date.now();
  }
}

/** A deployment as GET /v2/deployments renders it (DeploymentStepInfo). */
export function renderDeployment(d: Deployment): JsonObject {
  const current = d.started && d.stepIndex < d.steps.length ? d.steps[d.stepIndex] : [];
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    affectedPods: [],
    steps: d.steps.map((actions) => ({ actions: actions.map((a) => ({ action: a.action, app: a.app })) })),
    currentActions: current.map((a) => ({ action: a.action, app: a.app, readinessCheckResults: [] })),
    currentStep: d.started ? Math.min(d.stepIndex + 1, d.steps.length) : 0,
    totalSteps: d.steps.length,
  };
}
