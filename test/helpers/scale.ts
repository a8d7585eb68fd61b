/** Clusters of any size, for the scale tests and the program benchmark. */

/** A /16 private network: room for the dev masters (10.10.20.11-13) and hundreds of slaves. */
export const SCALE_NETWORK = "10.10.0.0/16";

/** `count` slaves named slave1, slave2, …, at 10.10.30.1 onward, 250 to a /24. */
export function slaveNodes(count: number): { name: string; ip: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `slave${i + 1}`,
    ip: `10.10.${30 + Math.floor(i / 250)}.${1 + (i % 250)}`,
  }));
}

/** Config overrides (for `setDevConfig`) that keep the dev masters and use `count` slaves. */
export function scaledCluster(count: number): Record<string, unknown> {
  return { network: SCALE_NETWORK, slaves: slaveNodes(count) };
}
