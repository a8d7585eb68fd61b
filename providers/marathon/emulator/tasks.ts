/**
 * The emulated Mesos side: tasks of each app placed on agents round-robin, launched (staged),
 * promoted to running (and healthy when the app has health checks), killed, or failed.
 */
import { randomUUID } from "node:crypto";
import { HostPortPool, servicePortsOf } from "./ports";
import { taskIdPrefix } from "./pathId";
import type { JsonObject } from "./types";

export type TaskState = "TASK_STAGING" | "TASK_RUNNING";

export interface Task {
  id: string;
  appId: string;
  host: string;
  slaveId: string;
  ports: number[];
  servicePorts: number[];
  stagedAt: string;
  startedAt?: string;
  /** The app version the task was launched with. */
  version: string;
  /** The app's lastConfigChangeAt at launch: a task with an older one must be replaced. */
  configVersion: string;
  state: TaskState;
  /** Whether the app has health checks; such tasks are reported healthy once running. */
  healthChecked: boolean;
}

/** The last failed task of an app, as `lastTaskFailure` reports it. */
export type TaskFailure = JsonObject;

export class TaskPool {
  private readonly byApp = new Map<string, Task[]>();
  private readonly hostPorts = new HostPortPool();
  private nextHost = 0;

  constructor(
    private readonly hosts: string[],
    private readonly now: () => string,
  ) {}

  /** Tasks of an app, oldest first; they outlive the app until a StopApplication step kills them. */
  of(appId: string): Task[] {
    return this.byApp.get(appId) ?? [];
  }

  all(): Task[] {
    return [...this.byApp.values()].flat();
  }

  /** Launches one task of `app` in TASK_STAGING on the next agent. */
  stage(app: JsonObject): Task {
    const hostIndex = this.nextHost++ % this.hosts.length;
    const host = this.hosts[hostIndex];
    const servicePorts = servicePortsOf(app);
    const wanted = app.requirePorts === true ? servicePorts : servicePorts.map(() => 0);
    const appId = app.id as string;
    const versionInfo = app.versionInfo as { lastConfigChangeAt: string };
    const task: Task = {
      id: `${taskIdPrefix(appId)}.instance-${randomUUID()}._app.1`,
      appId,
      host,
      slaveId: `emulated-agent-S${hostIndex}`,
      ports: this.hostPorts.take(host, wanted),
      servicePorts,
      stagedAt: this.now(),
      version: app.version as string,
      configVersion: versionInfo.lastConfigChangeAt,
      state: "TASK_STAGING",
      healthChecked: Array.isArray(app.healthChecks) && app.healthChecks.length > 0,
    };
    this.byApp.set(appId, [...this.of(appId), task]);
    return task;
  }

  /** Staged tasks of the app start running. Returns how many did. */
  promoteStaged(appId: string): number {
    const staged = this.of(appId).filter((t) => t.state === "TASK_STAGING");
    for (const task of staged) {
      task.state = "TASK_RUNNING";
      task.startedAt = this.now();
    }
    return staged.length;
  }

  kill(task: Task): void {
    this.hostPorts.release(task.host, task.ports);
    const remaining = this.of(task.appId).filter((t) => t !== task);
    if (remaining.length > 0) this.byApp.set(task.appId, remaining);
    else this.byApp.delete(task.appId);
  }

  /** Kills a task as failed and returns the failure record Marathon keeps for the app. */
  fail(task: Task, message: string): TaskFailure {
    this.kill(task);
    return {
      appId: task.appId,
      host: task.host,
      message,
      state: "TASK_FAILED",
      taskId: task.id,
      timestamp: this.now(),
      version: task.version,
      slaveId: task.slaveId,
    };
  }
}

/** A task as the API renders it (Task RAML type, keys marathon-python accepts). */
export function renderTask(task: Task): JsonObject {
  const json: JsonObject = {
    appId: task.appId,
    id: task.id,
    host: task.host,
    state: task.state,
    ports: task.ports,
    servicePorts: task.servicePorts,
    slaveId: task.slaveId,
    stagedAt: task.stagedAt,
    version: task.version,
    ipAddresses: [{ ipAddress: task.host, protocol: "IPv4" }],
    localVolumes: [],
    role: "*",
  };
  if (task.startedAt) json.startedAt = task.startedAt;
  if (task.healthChecked && task.state === "TASK_RUNNING") {
    json.healthCheckResults = [
      {
        alive: true,
        consecutiveFailures: 0,
        firstSuccess: task.startedAt,
        lastFailure: null,
        lastSuccess: task.startedAt,
        lastFailureCause: null,
        taskId: task.id,
      },
    ];
  }
  return json;
}

/** tasksStaged/Running/Healthy/Unhealthy of an app. */
export function taskCounts(tasks: Task[]): Record<string, number> {
  const running = tasks.filter((t) => t.state === "TASK_RUNNING");
  return {
    tasksStaged: tasks.length - running.length,
    tasksRunning: running.length,
    tasksHealthy: running.filter((t) => t.healthChecked).length,
    tasksUnhealthy: 0,
  };
}
