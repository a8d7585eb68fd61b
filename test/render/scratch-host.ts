/**
 * A scratch "host" for running host scripts for real in unit tests: a temporary directory for the scripts'
 * state and files, stub commands ahead of PATH (apt, dpkg, systemctl, java, zkCli) that record what they
 * were asked, and a way to run a step's command line as sshd would (through sh), as the current user.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StepOptions } from "../../infra/render/shell";

/** A systemd stand-in: each service's state is a file; every action is logged as `<action> <service>`. */
const SYSTEMCTL = `d="$SCRATCH/systemd"; mkdir -p "$d"
unit() { for a in "$@"; do case "$a" in *.service) echo "\${a%.service}" ;; esac; done; }
svc=$(unit "$@")
case "$1" in
  show) echo LoadState=loaded ;;
  is-active) [ -f "$d/$svc.active" ] ;;
  is-enabled) if [ -f "$d/$svc.masked" ]; then echo masked; else echo enabled; fi ;;
  start|restart) touch "$d/$svc.active"; echo "$1 $svc" >> "$d/log" ;;
  stop) rm -f "$d/$svc.active"; echo "stop $svc" >> "$d/log" ;;
  disable) rm -f "$d/$svc.active"; echo "disable $svc" >> "$d/log" ;;
  mask) touch "$d/$svc.masked" ;;
  unmask) rm -f "$d/$svc.masked" ;;
esac`;

/** dpkg-query and apt-get over a list of installed packages (`name version` lines). */
const DPKG_QUERY = `f="$SCRATCH/dpkg"; name=$3
line=$(grep "^$name " "$f" 2>/dev/null || true)
if [ -z "$line" ]; then exit 1; fi
printf 'install ok installed %s' "\${line#* }"`;
const APT_GET = `f="$SCRATCH/dpkg"; echo "apt-get $*" >> "$SCRATCH/apt.log"
case "$1" in
  install) for a in "$@"; do case "$a" in -*|install|Dpkg::*) ;; *=*) echo "\${a%%=*} \${a#*=}" >> "$f" ;; *) echo "$a 1.0" >> "$f" ;; esac; done ;;
  remove) for a in "$@"; do case "$a" in -*|remove) ;; *) grep -v "^$a " "$f" > "$f.new" || true; mv "$f.new" "$f" ;; esac; done ;;
esac`;

export class ScratchHost {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "scratch-host-"));
  readonly env: NodeJS.ProcessEnv;

  constructor(extraStubs: Record<string, string> = {}) {
    const bin = path.join(this.dir, "bin");
    fs.mkdirSync(bin);
    const stubs = { systemctl: SYSTEMCTL, "dpkg-query": DPKG_QUERY, "apt-get": APT_GET, ...extraStubs };
    for (const [name, body] of Object.entries(stubs)) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    }
    this.env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, SCRATCH: this.dir };
  }

  /** Step options that keep the state under this host, for a step named `owner`. */
  options(owner: string, converge?: string): StepOptions {
    return { sudo: false, stateDir: this.path("state"), owner, converge };
  }

  /** A path inside the host. */
  path(p: string): string {
    return path.join(this.dir, p.replace(/^\//, ""));
  }

  /** Runs a command line through sh; returns its stdout, and throws (with stderr) when it fails. */
  run(command: string | undefined, stdin = ""): string {
    if (command === undefined) throw new Error("no command");
    return execFileSync("sh", ["-c", command], { input: stdin, encoding: "utf8", env: this.env });
  }

  /**
   * Runs a command line through sh without blocking this process (so that servers it runs, e.g. a probe's
   * listener, keep answering); resolves with its stdout, rejects (with stderr) when it fails.
   */
  runAsync(command: string | undefined, stdin = ""): Promise<string> {
    if (command === undefined) return Promise.reject(new Error("no command"));
    return new Promise((resolve, reject) => {
      const child = execFile(
        "sh",
        ["-c", command],
        { encoding: "utf8", env: this.env },
        (error, stdout, stderr) => {
          if (error) reject(Object.assign(new Error(error.message), { stdout, stderr }));
          else resolve(stdout);
        },
      );
      child.stdin?.end(stdin);
    });
  }

  /** The stub systemd's log of start, restart, stop and disable actions, and the services running. */
  services(): { log: string[]; running: string[] } {
    const d = this.path("systemd");
    const log = fs.existsSync(`${d}/log`) ? fs.readFileSync(`${d}/log`, "utf8").trim().split("\n") : [];
    const running = fs.existsSync(d)
      ? fs
          .readdirSync(d)
          .filter((f) => f.endsWith(".active"))
          .map((f) => f.replace(/\.active$/, ""))
          .sort()
      : [];
    return { log: log.filter((l) => l !== ""), running };
  }

  /** Marks a service running (started outside the scripts). */
  startByHand(svc: string): void {
    fs.mkdirSync(this.path("systemd"), { recursive: true });
    fs.writeFileSync(this.path(`systemd/${svc}.active`), "");
  }

  /** Stops a service outside the scripts. */
  stopByHand(svc: string): void {
    fs.rmSync(this.path(`systemd/${svc}.active`), { force: true });
  }

  /** apt-get calls so far. */
  aptCalls(): string[] {
    const f = this.path("apt.log");
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n") : [];
  }

  /** Installed packages (`name version`). */
  packages(): string[] {
    const f = this.path("dpkg");
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).sort() : [];
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
