/** Port bookkeeping: service ports (10000-20000, per app) and host ports (31000-32000, per agent). */
import { isHostNetworking } from "./appDefinition";
import type { JsonObject } from "./types";

export const SERVICE_PORT_RANGE = { min: 10000, max: 20000 };
export const HOST_PORT_RANGE = { min: 31000, max: 32000 };

/** The lowest port of `range` not in `used`; throws when the range is exhausted. */
function lowestFree(range: { min: number; max: number }, used: Set<number>): number {
  for (let port = range.min; port <= range.max; port++) if (!used.has(port)) return port;
  throw new Error(`no free port left in ${range.min}-${range.max}`);
}

/** The service ports an app holds: its port definitions, or its container port mappings. */
export function servicePortsOf(app: JsonObject): number[] {
  if (isHostNetworking(app))
    return ((app.portDefinitions as JsonObject[] | undefined) ?? []).map((d) => d.port as number);
  const container = app.container as JsonObject | undefined;
  return ((container?.portMappings as JsonObject[] | undefined) ?? []).map((m) => m.servicePort as number);
}

/**
 * Replaces requested service port 0 by a real one (Marathon's AssignDynamicServiceLogic): the port
 * this app had at the same index before, else the lowest port that no other app uses.
 */
export function assignServicePorts(
  app: JsonObject,
  previous: JsonObject | undefined,
  usedByOthers: Set<number>,
): void {
  const before = previous ? servicePortsOf(previous) : [];
  const entries = isHostNetworking(app)
    ? ((app.portDefinitions as JsonObject[] | undefined) ?? []).map((d) => ({ entry: d, key: "port" }))
    : (((app.container as JsonObject | undefined)?.portMappings as JsonObject[] | undefined) ?? []).map(
        (m) => ({
          entry: m,
          key: "servicePort",
        }),
      );
  const used = new Set(usedByOthers);
  entries.forEach(({ entry, key }) => {
    if (entry[key] !== 0) used.add(entry[key] as number);
  });
  entries.forEach(({ entry, key }, i) => {
    if (entry[key] !== 0) return;
    const reused = before[i];
    entry[key] = reused && !used.has(reused) ? reused : lowestFree(SERVICE_PORT_RANGE, used);
    used.add(entry[key] as number);
  });
}

/** Host ports in use on each agent, so that two tasks on one agent never share a port. */
export class HostPortPool {
  private readonly used = new Map<string, Set<number>>();

  /** Takes `wanted` ports on `host`: fixed ones as given (requirePorts), 0 ones from 31000-32000. */
  take(host: string, wanted: number[]): number[] {
    const used = this.usedOn(host);
    return wanted.map((port) => {
      const chosen = port !== 0 ? port : lowestFree(HOST_PORT_RANGE, used);
      used.add(chosen);
      return chosen;
    });
  }

  release(host: string, ports: number[]): void {
    const used = this.usedOn(host);
    ports.forEach((p) => used.delete(p));
  }

  private usedOn(host: string): Set<number> {
    let used = this.used.get(host);
    if (!used) this.used.set(host, (used = new Set()));
    return used;
  }
}
