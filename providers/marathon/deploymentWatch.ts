/**
 * One shared `GET /v2/deployments` poll per Marathon connection per process. Every wait on that Marathon
 * joins with the deployment ids it waits for, and each poll tick answers all of them with one request,
 * so N concurrent waits cost one request per tick instead of N.
 *
 * The dynamic-provider host runs every resource's operations in one process. The registry of watches
 * is created on first use on `globalThis`, at run time: nothing here is captured when the provider is
 * serialized but code and plain constants.
 */

/** The limit of one operation: when it gives up, and its length for messages. */
export interface WaitLimit {
  deadline: number;
  timeoutMs: number;
}

/** Lists the running deployments' ids, retrying within `limit`; throws if Marathon cannot be asked. */
export type ListDeploymentIds = (limit: WaitLimit) => Promise<ReadonlySet<string>>;

export interface WaitOptions extends WaitLimit {
  /** First pause before a check; it grows by a quarter per check. */
  pollIntervalMs: number;
  /** Longest pause between two checks. */
  maxPollIntervalMs: number;
}

interface Waiter extends WaitOptions {
  /** The ids still listed at the last check. */
  ids: readonly string[];
  checks: number;
  /** When this waiter wants its next check. */
  dueAt: number;
  settle(outcome: { gone: boolean } | { error: Error }): void;
}

/** The pause before check number `check` (from 0) of a wait: it grows by a quarter per check, up to the maximum. */
export function pollInterval(
  options: Pick<WaitOptions, "pollIntervalMs" | "maxPollIntervalMs">,
  check: number,
): number {
  return Math.min(options.maxPollIntervalMs, options.pollIntervalMs * 1.25 ** check);
}

/** Property of `globalThis` holding the watches: fetch implementation → connection key → watch. */
const REGISTRY_KEY = "__mesosClusterMarathonDeploymentWatches";

type Registry = WeakMap<object, Map<string, DeploymentWatch>>;

/**
 * The process's watch for one Marathon connection, created on first use. `fetchImpl` and `key` (the
 * endpoints and credentials) identify the connection; `list` is used only if the watch is created.
 */
export function sharedDeploymentWatch(
  fetchImpl: object,
  key: string,
  list: ListDeploymentIds,
): DeploymentWatch {
  const scope = globalThis as unknown as Record<string, Registry | undefined>;
  const registry = (scope[REGISTRY_KEY] ??= new WeakMap<object, Map<string, DeploymentWatch>>());
  let watches = registry.get(fetchImpl);
  if (watches === undefined) {
    watches = new Map();
    registry.set(fetchImpl, watches);
  }
  const existing = watches.get(key);
  if (existing !== undefined) return existing;
  const byKey = watches;
  const watch = new DeploymentWatch(list, () => {
    if (byKey.get(key) === watch) byKey.delete(key);
  });
  byKey.set(key, watch);
  return watch;
}

export class DeploymentWatch {
  private readonly waiters = new Set<Waiter>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private polling = false;

  /** `onIdle` is called when the last waiter leaves; the watch holds no timer then. */
  constructor(
    private readonly list: ListDeploymentIds,
    private readonly onIdle: () => void,
  ) {}

  /**
   * Resolves true once none of `ids` is listed, false when the deadline comes first (also while a poll
   * is in flight); rejects with the error of a poll that failed before the deadline.
   */
  waitUntilGone(ids: readonly string[], options: WaitOptions): Promise<boolean> {
    if (ids.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter = {
        ...options,
        ids,
        checks: 0,
        dueAt: Math.min(options.deadline, Date.now() + pollInterval(options, 0)),
        settle: (outcome) => {
          this.waiters.delete(waiter);
          if ("gone" in outcome) resolve(outcome.gone);
          else reject(outcome.error);
        },
      };
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /** Arms the timer for the earliest check any waiter wants; after the last waiter, goes idle. */
  private schedule(): void {
    if (this.polling) return; // the poll in flight schedules the next one when it is done
    if (this.waiters.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      this.onIdle();
      return;
    }
    const at = Math.min(...[...this.waiters].map((w) => w.dueAt));
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.poll(), Math.max(0, at - Date.now()));
  }

  /** One request for every waiter present when it is sent. */
  private async poll(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.polling = true;
    const polled = [...this.waiters];
    const earliest = polled.reduce((a, b) => (b.deadline < a.deadline ? b : a));
    try {
      const running = await this.list({ deadline: earliest.deadline, timeoutMs: earliest.timeoutMs });
      const now = Date.now();
      for (const waiter of polled) {
        waiter.ids = waiter.ids.filter((id) => running.has(id));
        if (waiter.ids.length === 0) {
          waiter.settle({ gone: true });
          continue;
        }
        const interval = pollInterval(waiter, ++waiter.checks);
        if (now + interval > waiter.deadline) waiter.settle({ gone: false });
        else waiter.dueAt = now + interval;
      }
    } catch (error) {
      // The request gave up at the earliest deadline, or on an answer that no retry changes.
      const now = Date.now();
      const expired = polled.filter((w) => w.deadline <= now);
      const reason = error instanceof Error ? error : new Error(String(error));
      // A wait whose deadline came while it asked has timed out: its caller reports the deployment and
      // the app's task counts, which say more than the unanswered poll.
      if (expired.length > 0) for (const waiter of expired) waiter.settle({ gone: false });
      else for (const waiter of polled) waiter.settle({ error: reason });
    } finally {
      this.polling = false;
      this.schedule();
    }
  }
}
