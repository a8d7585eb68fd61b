/** Public types of the Marathon emulator and the JSON shapes it stores. */

/** A JSON object as parsed from a request body or rendered into a response. */
export type JsonObject = Record<string, unknown>;

/** Options of {@link startEmulator}. Every field is optional. */
export interface EmulatorOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port to listen on. Default 0: an ephemeral port chosen by the OS. */
  port?: number;
  /**
   * How long one unit of deployment work takes, in ms (default 50): starting one instance,
   * stopping one, or replacing one during a rolling restart. A scale 1 -> 3 takes 2 units.
   */
  deploymentStepMs?: number;
  /** Agents that tasks are placed on, round-robin. Default ["127.0.0.1"]. */
  taskHosts?: string[];
  /** What /v2/leader and the X-Marathon-Leader header report. Default "<host>:<port>". */
  leader?: string;
  /** Marathon version reported by /v2/info. Default "1.10.17". */
  marathonVersion?: string;
}

/** Fault switches; tests flip them at any time and they apply to the next request. */
export interface EmulatorFaults {
  /** Every connection (new or kept alive) is destroyed at once: the client sees a reset. */
  down: boolean;
  /**
   * Marathon without a leader: every call answers 502 with Jetty's HTML error page
   * ("Could not determine the current leader"), GET /v2/leader answers 404
   * {"message":"There is no leader"}, and /ping still answers pong.
   */
  noLeader: boolean;
  /** Every call, /ping included, answers 503 {"message":...} as Marathon does on a storage timeout. */
  unavailable: boolean;
  /** The request is handled at once but its response is held back this many ms. */
  latencyMs: number;
  /**
   * Deployments started while this is set never finish: the tasks they launch crash-loop
   * (each step a staged task fails, is recorded as the app's lastTaskFailure and is replaced by
   * a new staged one) and tasks they should kill stay. Clearing the flag does not unstick a
   * deployment already started; it ends only when cancelled (DELETE /v2/deployments/{id}) or
   * overridden with force=true (a forced update, or DELETE of the app).
   */
  stuckDeployments: boolean;
}

/** One HTTP request as the emulator received it. */
export interface RequestLogEntry {
  method: string;
  /** Path without the query string, as sent (e.g. "/v2/apps//foo"). */
  path: string;
  /** Raw query string without the leading "?", "" when absent. */
  query: string;
  /** Parsed JSON body, or the raw text when it was not JSON; absent when empty. */
  body?: unknown;
  /** Date.now() when the request was complete. */
  at: number;
}

/** When a deployment started and ended, for benchmarks that measure a client's wait overhead. */
export interface DeploymentEvent {
  id: string;
  /** The first affected app. */
  appId: string;
  startedAt: number;
  /** Date.now() when the deployment finished successfully (it vanished from /v2/deployments). */
  finishedAt?: number;
  /** Date.now() when it was cancelled or overridden instead of finishing. */
  cancelledAt?: number;
}

/** A running emulator. */
export interface MarathonEmulator {
  /** Base URL, e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops every connection and every timer. The state is discarded. */
  close(): Promise<void>;
  /** Fault switches, changeable at any time. */
  faults: EmulatorFaults;
  /** Stops listening (clients get ECONNREFUSED) while keeping state and deployments. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Every request received, in order; tests may clear it with `requests.length = 0`. */
  requests: RequestLogEntry[];
  /** Scales an app as a user in the Marathon UI would (a forced deployment). Throws if unknown. */
  scaleApp(id: string, instances: number): void;
  /** Partially updates an app as the UI would (forced). Throws with Marathon's message if invalid. */
  updateApp(id: string, patch: Record<string, unknown>): void;
  /** Deletes an app as the UI would. Throws if unknown. */
  deleteApp(id: string): void;
  /** Creates an app as POST /v2/apps would. Throws with Marathon's message if invalid or existing. */
  createApp(definition: Record<string, unknown>): void;
  /** The AppInfo as GET /v2/apps/{id} returns it (tasks, counts, deployments), or undefined. */
  getApp(id: string): Record<string, unknown> | undefined;
  /** Every deployment started, with when it finished or was cancelled. */
  deploymentEvents: DeploymentEvent[];
}
