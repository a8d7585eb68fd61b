/** The dev stack's config (the seed) and helpers to read what the recorded commands do on a host. */
import * as pulumi from "@pulumi/pulumi";
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

/** Every file the commands write, with its content: stdin-fed `write_file` and `printf … | write_file`. */
export function filesWritten(commands: RecordedResource[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of commands.filter((r) => r.type === "command:remote:Command")) {
    const script = scriptOf(c.inputs.create);
    for (const m of script.matchAll(/^write_file '([^']+)'$/gm)) files[m[1]] = String(c.inputs.stdin);
    for (const m of script.matchAll(/printf '([^']*)' \| write_file (\S+)/g)) {
      files[m[2]] = m[1].replace(/\\n/g, "\n");
    }
  }
  return files;
}
