/**
 * A lab of real "machines" for the end-to-end suite, built from Linux namespaces.
 *
 * Each host is a network namespace with its own veth (`eth0`) on a private bridge that the lab creates, plus
 * UTS, mount, IPC and PID namespaces. Its root file system is an overlay whose lower layer is the machine's
 * own `/` and whose upper layer is a per-host directory, so a host sees every installed package but writes
 * land only in its upper dir. `/proc`, `/sys`, `/dev`, `/dev/pts`, `/dev/shm` and a fresh `/run` are mounted
 * inside, the machine's mount tree is dropped with `pivot_root`, and `sshd` serves root logins by key on
 * port 22. The host's PID 1 is a small shell that keeps sshd running and reaps orphans; killing it makes the
 * kernel kill every process of that host, which is what `stopHost` relies on.
 *
 * What a host looks like from inside, beyond the machine's own files:
 * - `/tmp` and `/run` are empty tmpfs at every boot; `/root` is the host's own fresh Debian home (kept
 *   across stop/start like the rest of its disk), so the machine's home and the lab's work dir stay hidden.
 * - No `/usr/sbin/policy-rc.d` (the machine's exits 101), and `runlevel` answers `N 2`: so `service X start`,
 *   `/etc/init.d/X start` and `invoke-rc.d X start` all start sysv services, and `update-rc.d X disable`
 *   is honoured, as on a real Debian host. There is no systemd; `start-stop-daemon --background` works and
 *   daemons stay inside the host.
 * - `/etc/hosts` names every lab host; `/etc/resolv.conf` has no resolver.
 *
 * Needs root and the Debian packages openssh-server, openssh-client, iproute2 and util-linux
 * (the ZooKeeper smoke test also needs zookeeperd and netcat-openbsd).
 * Only addresses inside the lab's own subnet are ever contacted; the bridge never forwards elsewhere.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

/** One machine of the lab. */
export interface LabHostSpec {
  /** Host name: the UTS hostname inside the host, and the key for {@link Lab} methods. */
  name: string;
  /** IPv4 address of the host's `eth0`, inside the lab subnet (not the network, gateway or broadcast address). */
  ip: string;
}

/** How to build a lab. */
export interface LabOptions {
  hosts: LabHostSpec[];
  /** IPv4 subnet of the bridge; the machine takes the first address (the hosts' gateway). Default `10.99.0.0/24`. */
  subnet?: string;
  /**
   * Bridge name, at most 10 characters; it also prefixes the namespaces (`<bridge>-<host>`) and veths
   * (`<bridge>-v<n>`), so stale objects of an earlier crashed run with the same name are removed first.
   * Default `mclab0`.
   */
  bridge?: string;
  /** Directory for upper layers, keys and logs; wiped first and removed by `destroy`. Default `/tmp/<bridge>-lab`. */
  workDir?: string;
}

/** Result of a command run inside a host. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link Lab.exec} and {@link Lab.ssh}. */
export interface ExecOptions {
  /** Written to the command's standard input, which is then closed. */
  input?: string;
  /** Kill the command after this long and return code 124 (default 120 000 ms). */
  timeoutMs?: number;
}

/** A running lab; see {@link createLab}. */
export interface Lab {
  readonly hosts: LabHostSpec[];
  /** User that the private key logs in as on every host: `root`. */
  readonly user: string;
  /** OpenSSH-format ed25519 private key authorised for {@link user} on every host. */
  readonly privateKey: string;
  /** File holding {@link privateKey} (mode 0600). */
  readonly privateKeyPath: string;
  /** known_hosts file with every host's ed25519 host key, for clients that check host keys. */
  readonly knownHostsPath: string;
  /** Address of the machine on the bridge (the hosts' default gateway). */
  readonly gateway: string;
  /**
   * Runs `command` with bash inside the host's namespaces and root (cwd `/root`), without ssh: the quick way
   * for tests to look inside. Processes it leaves behind stay in the host. Rejects if the host is stopped.
   */
  exec(host: string, command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs `command` over real ssh from the machine to the host's address as {@link user}. */
  ssh(host: string, command: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Powers the host off: takes its link down first (so, as with a lost VM, peers get no FIN or RST), then
   * kills every process of the host. Its disk (upper layer) is kept. No-op if already stopped.
   */
  stopHost(host: string): Promise<void>;
  /** Boots a stopped host again with its disk state intact; resolves once sshd accepts connections. */
  startHost(host: string): Promise<void>;
  /** True while the host is running. */
  isRunning(host: string): boolean;
  /** Kills everything, removes namespaces, veths, bridge and the work dir. Idempotent. */
  destroy(): Promise<void>;
}

const SSHD_CONFIG = "/etc/ssh/lab_sshd_config";
const HOST_KEY = "/etc/ssh/lab_host_ed25519_key";
const BOOT_TIMEOUT_MS = 20_000;
const CLEAN_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
};

/**
 * Boot script, run by `unshare` as PID 1 of the host's new namespaces (already inside its netns).
 * $1 host dir, $2 host name, $3 lab work dir (hidden inside the host: it holds the other hosts' disks).
 */
const BOOT_SCRIPT = String.raw`
set -eu
H=$1; NAME=$2; WORK=$3; R=$H/root
hostname "$NAME"
# The previous boot's overlay can take a moment to be released after its namespace died.
i=0
until mount -t overlay overlay -o "lowerdir=/,upperdir=$H/upper,workdir=$H/ovl" "$R" 2>"$H/mount.err"; do
  i=$((i+1)); [ $i -lt 50 ] || { cat "$H/mount.err" >&2; exit 1; }; sleep 0.1
done
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
# Like a Debian boot, /tmp starts empty; it also hides the machine's own /tmp.
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R/run/sshd" "$R/run/lock"; chmod 1777 "$R/run/lock"
# root's home is the host's own (the machine's holds personal tool state and a slow .bashrc).
mount --bind "$H/roothome" "$R/root"
[ ! -d "$R$WORK" ] || mount -t tmpfs -o mode=700,size=1m tmpfs "$R$WORK"
cd "$R"
pivot_root . .
umount -l .
cd /root
# A real VM has no policy-rc.d; the machine's (exit 101) would block invoke-rc.d inside the host.
rm -f /usr/sbin/policy-rc.d
exec /bin/sh -c 'while :; do /usr/sbin/sshd -D -e -f ${SSHD_CONFIG} & wait $!; sleep 0.5; done'
`;

interface HostState {
  spec: LabHostSpec;
  index: number;
  dir: string;
  ns: string;
  veth: string;
  /** The `unshare` process (PID in the machine's namespace) while running. */
  proc?: ChildProcess;
  /** PID (in the machine's namespace) of the host's PID 1. */
  init?: number;
}

/** Labs alive in this process, destroyed by the exit and signal handlers. */
const liveLabs = new Set<LabImpl>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const lab of liveLabs) lab.destroySync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      for (const lab of liveLabs) lab.destroySync();
      process.removeListener(sig, onSignal);
      // Keep the default behaviour (terminate) unless someone else handles the signal.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command synchronously; throws with its stderr on failure unless `allowFail`. */
function run(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: CLEAN_ENV });
  if (r.error) {
    if (allowFail) return "";
    throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  }
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Fails fast, with the fix, when the lab cannot work here. */
function checkPrerequisites(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error("the host lab needs root (network, mount and PID namespaces); run the e2e suite as root");
  }
  const missing = [
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/ssh", "openssh-client"],
    ["/usr/bin/ssh-keygen", "openssh-client"],
    ["/usr/bin/nsenter", "util-linux"],
    ["/usr/bin/unshare", "util-linux"],
    ["/usr/sbin/pivot_root", "util-linux"],
  ]
    .filter(([file]) => !fs.existsSync(file) && !fs.existsSync(file.replace("/usr/sbin/", "/sbin/")))
    .map(([, pkg]) => pkg);
  if (run("ip", ["-V"], true) === "") missing.push("iproute2");
  if (missing.length > 0) {
    const pkgs = [...new Set(missing)].join(" ");
    throw new Error(`the host lab needs Debian packages: apt-get install -y ${pkgs}`);
  }
}

/**
 * Watchdog, detached in its own session: once the process that made the lab is gone (even by SIGKILL, or a
 * test runner killing its worker before exit handlers finish), it does what {@link cleanupByName} does.
 * $1 owner PID, $2 bridge, $3 work dir.
 */
const WATCHDOG_SCRIPT = String.raw`
P=$1; B=$2; W=$3
tail --pid="$P" -f /dev/null
nss=$(ip netns list | awk '{print $1}' | grep "^$B-")
for i in 1 2 3 4 5 6 7 8 9 10; do
  pids=$(for ns in $nss; do ip netns pids "$ns"; done)
  [ -n "$pids" ] || break
  kill -9 $pids 2>/dev/null; sleep 0.5
done
for ns in $nss; do ip netns del "$ns"; done
for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$B(-v[0-9]+)?$"); do
  ip link del "$l"
done
while ip rule del iif "$B" prohibit 2>/dev/null; do :; done
rm -rf "$W" "$W.watchdog"
`;

function startWatchdog(bridge: string, workDir: string): number {
  const child = spawn(
    "/bin/sh",
    ["-c", WATCHDOG_SCRIPT, "lab-watchdog", String(process.pid), bridge, workDir],
    {
      detached: true,
      stdio: "ignore",
      env: CLEAN_ENV,
    },
  );
  child.unref();
  fs.writeFileSync(`${workDir}.watchdog`, String(child.pid));
  return child.pid!;
}

/** Stops a watchdog (its whole process group) so that it cannot clean up a lab it does not own. */
function stopWatchdog(pid: number): void {
  try {
    if (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("lab-watchdog"))
      process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Removes every object named after `bridge`: left over by a crashed run, or by this lab's `destroy`. */
function cleanupByName(bridge: string, workDir: string): void {
  const namespaces = run("ip", ["netns", "list"], true)
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(`${bridge}-`));
  // Hosts first: while any host is alive its mount namespace pins the other namespaces.
  for (let round = 0; round < 2; round++) {
    const pids = namespaces.flatMap((ns) =>
      run("ip", ["netns", "pids", ns], true)
        .split(/\s+/)
        .filter((p) => p !== "")
        .map(Number),
    );
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 5000;
    while (pids.some(pidAlive) && Date.now() < deadline) sleepSync(20);
  }
  for (const ns of namespaces) run("ip", ["netns", "del", ns], true);
  const links = run("ip", ["-o", "link", "show"], true)
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && (n === bridge || n.startsWith(`${bridge}-v`)));
  for (const link of links) run("ip", ["link", "del", link], true);
  while (spawnSync("ip", ["rule", "del", "iif", bridge, "prohibit"], { env: CLEAN_ENV }).status === 0) {
    // a crashed run may have left several
  }
  // Mounts never reach the machine's namespace (they live in the hosts' private ones); unmount defensively.
  const mounts = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m !== undefined && (m === workDir || m.startsWith(`${workDir}/`)))
    .reverse();
  for (const m of mounts) run("umount", ["-l", m], true);
  fs.rmSync(workDir, { recursive: true, force: true });
}

class LabImpl implements Lab {
  readonly user = "root";
  readonly privateKey: string;
  readonly privateKeyPath: string;
  readonly knownHostsPath: string;
  readonly gateway: string;
  private readonly state = new Map<string, HostState>();
  private destroyed = false;
  /** PID of this lab's watchdog. */
  watchdog?: number;

  constructor(
    readonly hosts: LabHostSpec[],
    private readonly bridge: string,
    private readonly workDir: string,
    private readonly prefixLen: number,
    gateway: string,
  ) {
    this.gateway = gateway;
    this.privateKeyPath = path.join(workDir, "id_ed25519");
    this.knownHostsPath = path.join(workDir, "known_hosts");
    hosts.forEach((spec, index) => {
      this.state.set(spec.name, {
        spec,
        index,
        dir: path.join(workDir, "hosts", spec.name),
        ns: `${bridge}-${spec.name}`,
        veth: `${bridge}-v${index}`,
      });
    });
    fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "lab", "-f", this.privateKeyPath]);
    this.privateKey = fs.readFileSync(this.privateKeyPath, "utf8");
  }

  /** Bridge, namespaces, veths, addresses and routes. */
  setupNetwork(): void {
    const { bridge } = this;
    run("ip", ["link", "add", bridge, "type", "bridge", "forward_delay", "0"]);
    run("ip", ["addr", "add", `${this.gateway}/${this.prefixLen}`, "dev", bridge]);
    run("ip", ["link", "set", bridge, "up"]);
    // Nothing from the hosts may leave the bridge, even if the machine forwards packets.
    run("ip", ["rule", "add", "iif", bridge, "prohibit"]);
    for (const h of this.state.values()) {
      run("ip", ["netns", "add", h.ns]);
      run("ip", ["link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.ns]);
      run("ip", ["link", "set", h.veth, "master", bridge, "up"]);
      run("ip", ["-n", h.ns, "addr", "add", `${h.spec.ip}/${this.prefixLen}`, "dev", "eth0"]);
      run("ip", ["-n", h.ns, "link", "set", "lo", "up"]);
      run("ip", ["-n", h.ns, "link", "set", "eth0", "up"]);
      run("ip", ["-n", h.ns, "route", "add", "default", "via", this.gateway]);
    }
  }

  /** First-boot disk contents: written straight into the upper layer before it is mounted. */
  seedDisk(h: HostState): void {
    const upper = path.join(h.dir, "upper");
    for (const d of ["root", "ovl", "upper", "roothome"])
      fs.mkdirSync(path.join(h.dir, d), { recursive: true });
    const mkdir = (rel: string, mode: number): void => {
      fs.mkdirSync(path.join(upper, rel), { recursive: true });
      fs.chmodSync(path.join(upper, rel), mode);
    };
    const write = (rel: string, content: string, mode = 0o644): void => {
      fs.writeFileSync(path.join(upper, rel), content);
      fs.chmodSync(path.join(upper, rel), mode);
    };
    mkdir("etc", 0o755);
    mkdir("usr/sbin", 0o755);
    fs.chmodSync(path.join(upper, "usr"), 0o755);
    // The machine's runlevel is systemctl, which fails without systemd; invoke-rc.d then silently starts
    // nothing. A sysvinit-style answer makes invoke-rc.d honour the /etc/rc2.d links as on a real host.
    write("usr/sbin/runlevel", '#!/bin/sh\necho "N 2"\n', 0o755);
    mkdir("etc/ssh", 0o755);
    const hostsFile = ["127.0.0.1\tlocalhost", ...this.hosts.map((s) => `${s.ip}\t${s.name}`)].join("\n");
    write("etc/hostname", `${h.spec.name}\n`);
    write("etc/hosts", `${hostsFile}\n`);
    // No resolver is reachable from the lab; an empty config avoids slow DNS time-outs.
    write("etc/resolv.conf", "# lab host: no DNS\n");
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", h.spec.name, "-f", path.join(upper, HOST_KEY)]);
    write(
      SSHD_CONFIG.slice(1),
      [
        "Port 22",
        "ListenAddress 0.0.0.0",
        `HostKey ${HOST_KEY}`,
        "PidFile /run/sshd.pid",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "AuthorizedKeysFile .ssh/authorized_keys",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "UseDNS no",
        "PrintMotd no",
        "AcceptEnv LANG LC_*",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
        "",
      ].join("\n"),
    );
    // A fresh Debian root home, bind-mounted over /root at boot.
    const home = path.join(h.dir, "roothome");
    fs.mkdirSync(path.join(home, ".ssh"), { recursive: true });
    fs.chmodSync(home, 0o700);
    fs.chmodSync(path.join(home, ".ssh"), 0o700);
    for (const f of ["bashrc", "profile"]) {
      const skel = `/usr/share/base-files/dot.${f}`;
      if (fs.existsSync(skel)) fs.copyFileSync(skel, path.join(home, `.${f}`));
    }
    fs.writeFileSync(path.join(home, ".ssh/authorized_keys"), fs.readFileSync(`${this.privateKeyPath}.pub`));
    fs.chmodSync(path.join(home, ".ssh/authorized_keys"), 0o600);
    const hostPub = fs.readFileSync(path.join(upper, `${HOST_KEY}.pub`), "utf8").split(" ");
    fs.appendFileSync(this.knownHostsPath, `${h.spec.ip} ${hostPub[0]} ${hostPub[1]}\n`);
  }

  hostState(name: string): HostState {
    const h = this.state.get(name);
    if (h === undefined) throw new Error(`no host ${name} in the lab`);
    return h;
  }

  isRunning(name: string): boolean {
    return this.hostState(name).init !== undefined;
  }

  async startHost(name: string): Promise<void> {
    if (this.destroyed) throw new Error("lab destroyed");
    const h = this.hostState(name);
    if (h.init !== undefined) return;
    run("ip", ["link", "set", h.veth, "up"]);
    const log = fs.openSync(path.join(h.dir, "console.log"), "a");
    const proc = spawn(
      "ip",
      [
        "netns",
        "exec",
        h.ns,
        "unshare",
        "--uts",
        "--ipc",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "--",
        "/bin/sh",
        "-c",
        BOOT_SCRIPT,
        "boot",
        h.dir,
        h.spec.name,
        this.workDir,
      ],
      // Own process group: a Ctrl-C aimed at the test run must go through our cleanup, not hit hosts directly.
      { detached: true, stdio: ["ignore", log, log], env: CLEAN_ENV },
    );
    fs.closeSync(log);
    proc.unref();
    h.proc = proc;
    let exited = false;
    proc.on("exit", () => {
      exited = true;
      if (h.proc === proc) {
        h.proc = undefined;
        h.init = undefined;
      }
    });
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const failed = (why: string): Error => {
      const tail = fs.readFileSync(path.join(h.dir, "console.log"), "utf8").split("\n").slice(-15).join("\n");
      return new Error(`host ${name} did not boot: ${why}\n${tail}`);
    };
    // PID 1 of the host is the only child of unshare.
    while (h.init === undefined) {
      if (exited) throw failed("boot script exited");
      if (Date.now() > deadline) throw failed("no init process");
      const children = readChildren(proc.pid!);
      if (children.length > 0) h.init = children[0];
      else await sleep(10);
    }
    while (!(await tcpOpen(h.spec.ip, 22, 500))) {
      if (exited) throw failed("boot script exited");
      if (Date.now() > deadline) throw failed("sshd not listening");
      await sleep(25);
    }
  }

  async stopHost(name: string): Promise<void> {
    const h = this.hostState(name);
    run("ip", ["link", "set", h.veth, "down"], true);
    const proc = h.proc;
    if (h.init !== undefined) {
      try {
        process.kill(h.init, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // unshare exits only after the kernel has killed and reaped the whole PID namespace. Polled, not awaited
    // as an event: the child is unref'd and would not keep the event loop alive.
    const deadline = Date.now() + 10_000;
    while (
      proc !== undefined &&
      proc.exitCode === null &&
      proc.signalCode === null &&
      Date.now() < deadline
    ) {
      await sleep(10);
    }
    h.proc = undefined;
    h.init = undefined;
    // Anything that joined the netns some other way (e.g. `ip netns exec`) goes too.
    for (const pid of netnsPids(h.ns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  exec(name: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const h = this.hostState(name);
    if (h.init === undefined) return Promise.reject(new Error(`host ${name} is stopped`));
    const args = ["-t", String(h.init), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "/bin/bash", "-c", command];
    return runProcess("nsenter", args, opts);
  }

  ssh(name: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const h = this.hostState(name);
    return runProcess("ssh", [...this.sshArgs(), `${this.user}@${h.spec.ip}`, command], opts);
  }

  /** ssh client options that use the lab's key and known_hosts and ignore any user configuration. */
  sshArgs(): string[] {
    return [
      "-F",
      "/dev/null",
      "-i",
      this.privateKeyPath,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${this.knownHostsPath}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=5",
      "-o",
      "LogLevel=ERROR",
    ];
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    for (const h of this.state.values()) {
      if (h.init !== undefined) {
        try {
          process.kill(h.init, "SIGKILL");
        } catch {
          // already gone
        }
      }
      h.init = undefined;
      h.proc = undefined;
    }
    cleanupByName(this.bridge, this.workDir);
    // Only now: until cleanup is done the watchdog is the fallback if this process is killed.
    if (this.watchdog !== undefined) stopWatchdog(this.watchdog);
    fs.rmSync(`${this.workDir}.watchdog`, { force: true });
  }

  destroy(): Promise<void> {
    this.destroySync();
    return Promise.resolve();
  }
}

function readChildren(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .split(/\s+/)
      .filter((p) => p !== "")
      .map(Number);
  } catch {
    return [];
  }
}

function netnsPids(ns: string): number[] {
  return run("ip", ["netns", "pids", ns], true)
    .split(/\s+/)
    .filter((p) => p !== "")
    .map(Number);
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

function runProcess(cmd: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: CLEAN_ENV, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, opts.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}[timed out]\n` });
      else resolve({ code: code ?? (signal !== null ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Creates the lab and boots every host (in parallel); resolves when sshd answers on each.
 * Stale namespaces, veths and bridge with the same bridge name (a crashed earlier run) are removed first.
 * The lab is destroyed on process exit, SIGINT, SIGTERM and SIGHUP if `destroy()` was not called.
 */
export async function createLab(opts: LabOptions): Promise<Lab> {
  checkPrerequisites();
  const bridge = opts.bridge ?? "mclab0";
  if (!/^[a-z][a-z0-9]{0,9}$/.test(bridge))
    throw new Error(`bridge name must match [a-z][a-z0-9]{0,9}: ${bridge}`);
  const [netStr, lenStr] = (opts.subnet ?? "10.99.0.0/24").split("/");
  const prefixLen = Number(lenStr);
  if (!Number.isInteger(prefixLen) || prefixLen < 8 || prefixLen > 29)
    throw new Error(`bad subnet ${opts.subnet}`);
  const mask = (0xffffffff << (32 - prefixLen)) >>> 0;
  const network = (ipToInt(netStr) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  const gateway = intToIp(network + 1);
  const names = new Set<string>();
  const ips = new Set<string>();
  for (const h of opts.hosts) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(h.name)) throw new Error(`bad host name ${h.name}`);
    const n = ipToInt(h.ip);
    if ((n & mask) >>> 0 !== network || n === network || n === broadcast || h.ip === gateway) {
      throw new Error(`host ${h.name}: ${h.ip} is not a free host address of ${netStr}/${prefixLen}`);
    }
    if (names.has(h.name) || ips.has(h.ip)) throw new Error(`duplicate host name or ip: ${h.name} ${h.ip}`);
    if (`${bridge}-${h.name}`.length > 60) throw new Error(`host name too long: ${h.name}`);
    names.add(h.name);
    ips.add(h.ip);
  }
  const workDir = path.resolve(opts.workDir ?? `/tmp/${bridge}-lab`);
  if (workDir === "/" || workDir.split("/").length < 3) throw new Error(`refusing work dir ${workDir}`);

  // A watchdog of a crashed run could still be cleaning up: stop it before building on the same names.
  try {
    stopWatchdog(Number(fs.readFileSync(`${workDir}.watchdog`, "utf8")));
  } catch {
    // no earlier watchdog
  }
  cleanupByName(bridge, workDir);
  installExitHandlers();
  const lab = new LabImpl(
    opts.hosts.map((h) => ({ ...h })),
    bridge,
    workDir,
    prefixLen,
    gateway,
  );
  liveLabs.add(lab);
  try {
    lab.watchdog = startWatchdog(bridge, workDir);
    lab.setupNetwork();
    for (const h of opts.hosts) lab.seedDisk(lab.hostState(h.name));
    await Promise.all(opts.hosts.map((h) => lab.startHost(h.name)));
  } catch (e) {
    lab.destroySync();
    throw e;
  }
  return lab;
}

/** `ssh` argument list for a lab (key, known_hosts, no user config), e.g. for scripts that call ssh themselves. */
export function labSshArgs(lab: Lab): string[] {
  return (lab as LabImpl).sshArgs();
}
