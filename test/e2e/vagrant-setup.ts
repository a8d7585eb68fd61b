/**
 * What the Vagrant end-to-end suites (vagrant-lxc.test.ts, vagrant-cluster.test.ts) stand on: vagrant-lxc
 * present (or a reason to skip), a private bridge that forwards nowhere, the box scripts/lxc-box.sh cached
 * (added to the suite's own VAGRANT_HOME; no suite ever reaches a mirror), commands inside a container
 * without ssh, and a sweep of the suite's containers and bridge, for a run that failed or crashed.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { VAGRANT_ENVIRONMENT } from "../../infra/render/vagrantfile";
import { PROJECT_ROOT } from "../helpers/stack-config";

/** The box's name in the suites' VAGRANT_HOME. */
export const BOX = "mesos-cluster/debian-bookworm-lxc";
const LXC_DIR = "/var/lib/lxc";
/** What every `vagrant` run needs: the program's own environment (no calls home) and the system PATH. */
export const VAGRANT_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  ...VAGRANT_ENVIRONMENT,
};

/** Why a Vagrant suite cannot run here, or undefined. */
export const vagrantSkipReason =
  process.getuid?.() !== 0
    ? "not root"
    : !fs.existsSync("/usr/share/vagrant-plugins/plugins.d/vagrant-lxc.json")
      ? "vagrant-lxc is not installed (apt-get install vagrant-lxc lxc)"
      : undefined;

/** Runs a command to completion; throws with its output unless it exits 0 (or `allowFail`). */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: opts.env ?? { ...process.env, ...VAGRANT_ENV } });
  if (!opts.allowFail && (r.error !== undefined || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.error?.message ?? ""}${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Containers whose names start with `prefix` (left over by a crashed run, too), from LXC's own directory.
 * vagrant-lxc names them `<Vagrant project folder>_<machine>_<suffix>`.
 */
export const containers = (prefix: string): string[] =>
  fs.existsSync(LXC_DIR) ? fs.readdirSync(LXC_DIR).filter((n) => n.startsWith(prefix)) : [];

/** Last resort: kill and remove the containers named with `prefix`, then the bridge and its rule. */
export function sweep(prefix: string, bridge: string): void {
  for (const name of containers(prefix)) {
    run("lxc-stop", ["-k", "-n", name], { allowFail: true });
    run("lxc-destroy", ["-f", "-n", name], { allowFail: true });
  }
  run("ip", ["link", "del", bridge], { allowFail: true });
  while (run("ip", ["rule", "del", "iif", bridge, "prohibit"], { allowFail: true }).status === 0);
}

/** The bridge the containers join, with this machine at `gateway`. */
export function createBridge(bridge: string, gateway: string, prefixLength: number): void {
  run("ip", ["link", "add", bridge, "type", "bridge", "forward_delay", "0"]);
  run("ip", ["addr", "add", `${gateway}/${prefixLength}`, "dev", bridge]);
  run("ip", ["link", "set", bridge, "up"]);
  // Nothing from the containers may leave the bridge, even if this machine forwards packets.
  run("ip", ["rule", "add", "iif", bridge, "prohibit"]);
}

/** Adds the cached box as {@link BOX} to `vagrantHome`; fails when scripts/lxc-box.sh has not built it. */
export function addBox(vagrantHome: string): void {
  const box = run("bash", [path.join(PROJECT_ROOT, "scripts/lxc-box.sh"), "--cached"]).stdout.trim();
  run("vagrant", ["box", "add", "--force", "--name", BOX, box], {
    env: { ...process.env, ...VAGRANT_ENV, VAGRANT_HOME: vagrantHome },
  });
}

/** `vagrant status` in the project of `env` (VAGRANT_CWD): state by machine name. */
export function vagrantStatus(env: NodeJS.ProcessEnv): Record<string, string> {
  const out = run("vagrant", ["status", "--machine-readable"], { env }).stdout;
  return Object.fromEntries(
    out
      .split("\n")
      .map((l) => l.split(","))
      .filter((f) => f[2] === "state")
      .map((f) => [f[1], f[3]]),
  );
}

/** Runs a bash command as root inside a container through lxc-attach (not ssh), `input` on its stdin. */
export function inContainer(
  container: string,
  command: string,
  input = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "lxc-attach",
      [
        "-n",
        container,
        "--clear-env",
        "--set-var",
        `PATH=${VAGRANT_ENV.PATH}`,
        "--",
        "/bin/bash",
        "-c",
        command,
      ],
      { env: { ...process.env, ...VAGRANT_ENV } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
