/** The dev stack's config (the seed) and helpers to read what the recorded commands do on a host. */
import * as pulumi from "@pulumi/pulumi";
import type { ZooKeeperSettings } from "../../infra/config";
import type { RecordedResource } from "../helpers/pulumi";
import { readStackConfig, toPulumiConfig } from "../helpers/stack-config";

export const FAKE_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZS1rZXktZm9yLXRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\n";

const dev = readStackConfig("dev");

export const MASTERS = dev.masters as { name: string; ip: string; zkId: number }[];
export const SLAVES = dev.slaves as { name: string; ip: string }[];

/**
 * The dev stack's config as `pulumi config` stores it, on existing hosts (no Vagrant) with a fake key,
 * without its apps (the apps have their own tests).
 */
export function devConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  const { apps: _apps, ...cluster } = dev;
  return toPulumiConfig({
    ...cluster,
    hosts: "existing",
    ssh: { user: "vagrant", port: 22, privateKey: FAKE_PRIVATE_KEY },
    ...overrides,
  });
}

export function setDevConfig(overrides: Record<string, unknown> = {}): void {
  pulumi.runtime.setAllConfig(devConfig(overrides), ["mesos-cluster:ssh"]);
}

/** The script a `[sudo -n ]bash -c '<script>'` command line runs. */
export function scriptOf(command: unknown): string {
  const match = /^(?:sudo -n )?bash -c '([\s\S]*)'$/.exec(String(command));
  if (!match) throw new Error(`not a bash -c command: ${String(command).slice(0, 80)}`);
  return match[1].replace(/'\\''/g, "'");
}

/**
 * Every file the commands write, with its content: each `take N | write_file PATH` gets the next N bytes
 * of the step's stdin, and `printf … | write_file PATH` its literal text.
 */
export function filesWritten(commands: RecordedResource[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of commands.filter((r) => r.type === "command:remote:Command")) {
    const script = scriptOf(c.inputs.create);
    const stdin = Buffer.from(typeof c.inputs.stdin === "string" ? c.inputs.stdin : "", "utf8");
    let offset = 0;
    for (const m of script.matchAll(/^take (\d+) \| write_file '([^']+)'$/gm)) {
      const size = Number(m[1]);
      files[m[2]] = stdin.subarray(offset, offset + size).toString("utf8");
      offset += size;
    }
    for (const m of script.matchAll(/printf '([^']*)' \| write_file (\S+)/g)) {
      files[m[2]] = m[1].replace(/\\n/g, "\n");
    }
  }
  return files;
}

/** The seed's ZooKeeper settings (Pulumi.yaml's defaults), with reconfiguration as `reconfigEnabled` says. */
export function zooKeeperSettings(reconfigEnabled: boolean): ZooKeeperSettings {
  return {
    clientPort: 2181,
    peerPort: 2888,
    electionPort: 3888,
    tickTime: 2000,
    initLimit: 10,
    syncLimit: 5,
    dataDir: "/var/lib/zookeeper",
    reconfigEnabled,
  };
}
