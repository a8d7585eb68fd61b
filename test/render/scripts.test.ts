/**
 * Host scripts: syntax of every script, and real runs (twice) of those that can run here against a
 * scratch directory and stub commands: the second run must change nothing and say so.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { fileSetPart } from "../../infra/render/files";
import { agentInfoPart } from "../../infra/render/mesos";
import { aptSourcePart, installPart } from "../../infra/render/packages";
import { marathonPingStep, mesosMasterElectedStep, zooKeeperReadyStep } from "../../infra/render/readiness";
import {
  serviceDisabledPart,
  serviceRunning,
  serviceRunningPart,
  stopIfRunning,
} from "../../infra/render/services";
import { hostStep, type HostStep, type ScriptPart, type StepOptions } from "../../infra/render/shell";
import { dataDirMovePart, dynamicZooCfgPart, ensembleMembersPart } from "../../infra/render/zookeeper";
import { zooKeeperSettings } from "../cluster/fixtures";

const run = promisify(execFile);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "host-scripts-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run a command line the way sshd would (through sh), as the current user. */
function runStep(command: string, stdin = "", env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync("sh", ["-c", command], { input: stdin, encoding: "utf8", env });
}

const opts = { sudo: false, owner: "step" } as const;
/** Options that keep the scripts' state in this test's scratch directory; the step is named `owner`. */
const scratch = (owner = "step"): StepOptions => ({ sudo: false, stateDir: `${dir}/state`, owner });
/** A step of the given parts, run as the current user with its state in the scratch directory. */
const stepOf = (parts: ScriptPart[], options: StepOptions = scratch()) => hostStep(parts, options);
const aptSource = {
  line: "deb http://repos.mesosphere.io/ubuntu trusty main",
  key: "E56151BF",
  keyserver: "keyserver.ubuntu.com",
};
const MEMBER = { ip: "10.10.20.11", zkId: 10 };
const ZK = zooKeeperSettings(true);
const myidLink = {
  link: "/var/lib/zookeeper/myid",
  target: "/etc/zookeeper/conf/myid",
  dirOwner: "zookeeper",
};
const steps: [string, HostStep][] = [
  ["file set", hostStep([fileSetPart("s", [{ path: "/etc/mesos/zk", content: "x\n" }], [myidLink])], opts)],
  [
    "packages",
    hostStep([aptSourcePart(aptSource), installPart([{ name: "mesos", version: "1.0.1" }])], opts),
  ],
  ...(["upstart", "systemd", "sysv"] as const).flatMap((initSystem): [string, HostStep][] => [
    [
      `${initSystem} running`,
      hostStep([serviceRunningPart("mesos-master", "0123456789abcdef", { sudo: true, initSystem })], {
        sudo: true,
        owner: "step",
      }),
    ],
    [
      `${initSystem} disabled`,
      hostStep([serviceDisabledPart("zookeeper", { sudo: true, initSystem })], { sudo: true, owner: "step" }),
    ],
  ]),
  [
    "zookeeper with reconfiguration",
    hostStep(
      [
        dataDirMovePart(
          "/var/lib/zookeeper",
          stopIfRunning("zookeeper", { sudo: true, initSystem: "upstart" }, "x"),
        ),
        dynamicZooCfgPart(
          MEMBER,
          [MEMBER],
          ZK,
          serviceRunning("zookeeper", { sudo: true, initSystem: "sysv" }),
        ),
      ],
      { ...opts, converge: "2024-05-01" },
    ),
  ],
  ["zookeeper members", hostStep([ensembleMembersPart(MEMBER, [MEMBER], ZK)], opts)],
  [
    "agent info",
    hostStep(
      [agentInfoPart("0123", stopIfRunning("mesos-slave", { sudo: true, initSystem: "systemd" }, "x"))],
      opts,
    ),
  ],
  ["zookeeper ready", zooKeeperReadyStep("10.10.20.11", 2181, 300, "2024-05-01")],
  ["mesos elected", mesosMasterElectedStep("10.10.20.11", 5050, 300)],
  ["marathon ping", marathonPingStep("10.10.20.11", 8080, 300)],
];

test.each(steps)("%s: create and delete are valid bash", (_name, step) => {
  for (const command of [step.create, step.delete].filter((c): c is string => c !== undefined)) {
    const script = /^(?:sudo -n )?bash -c '([\s\S]*)'$/.exec(command)?.[1].replace(/'\\''/g, "'");
    expect(script).toBeDefined();
    expect(() => execFileSync("bash", ["-n", "-c", script ?? ""])).not.toThrow();
  }
});

test("file set: first run changes, second run says unchanged, delete removes", () => {
  const file = `${dir}/etc/mesos/zk`;
  const step = stepOf([fileSetPart("mesos", [{ path: file, content: "zk://a/mesos\n" }])]);
  expect(runStep(step.create, step.stdin)).toBe(`changed ${file}\n`);
  expect(fs.readFileSync(file, "utf8")).toBe("zk://a/mesos\n");
  expect(runStep(step.create, step.stdin)).toBe(`unchanged ${file}\n`);
  expect(runStep(step.delete ?? "")).toBe(`removed ${file}\n`);
  expect(fs.existsSync(file)).toBe(false);
});

test("each file of a set gets exactly its own bytes of stdin, empty and multi-byte contents included", () => {
  const files = [
    { path: `${dir}/etc/a`, content: "first\nline two\n" },
    { path: `${dir}/etc/?switch`, content: "" },
    { path: `${dir}/etc/ü`, content: "grüße — ✓\n" },
    { path: `${dir}/etc/last`, content: "no newline at the end" },
  ];
  const step = stepOf([fileSetPart("set", files)]);
  runStep(step.create, step.stdin);
  for (const f of files) expect(fs.readFileSync(f.path, "utf8")).toBe(f.content);
});

test("a file dropped from the set is put back as it was; the others stay unchanged", () => {
  const kept = `${dir}/etc/mesos-master/quorum`;
  const dropped = `${dir}/etc/mesos-master/work_dir`;
  const preexisting = `${dir}/etc/mesos-master/ip`;
  fs.mkdirSync(path.dirname(kept), { recursive: true });
  fs.writeFileSync(preexisting, "127.0.0.1\n");
  const v1 = stepOf([
    fileSetPart("mesos-master", [
      { path: kept, content: "2\n" },
      { path: dropped, content: "/var/lib/mesos\n" },
      { path: preexisting, content: "10.0.0.1\n" },
    ]),
  ]);
  runStep(v1.create, v1.stdin);
  const v2 = stepOf([fileSetPart("mesos-master", [{ path: kept, content: "2\n" }])]);
  expect(runStep(v2.create, v2.stdin).split("\n").sort()).toEqual(
    ["", `removed ${dropped}`, `restored original ${preexisting}`, `unchanged ${kept}`].sort(),
  );
  expect(fs.existsSync(dropped)).toBe(false);
  expect(fs.readFileSync(preexisting, "utf8")).toBe("127.0.0.1\n");
  expect(runStep(v2.create, v2.stdin)).toBe(`unchanged ${kept}\n`);
  expect(runStep(v2.delete ?? "")).toBe(`removed ${kept}\n`);
  expect(fs.readdirSync(path.dirname(kept))).toEqual(["ip"]);
});

test("a replaced package file is restored on delete", () => {
  const file = `${dir}/etc/mesos-master/quorum`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "1\n");
  const step = stepOf([fileSetPart("m", [{ path: file, content: "2\n" }])]);
  expect(runStep(step.create, step.stdin)).toBe(`changed ${file}\n`);
  const again = stepOf([fileSetPart("m", [{ path: file, content: "3\n" }])]);
  expect(runStep(again.create, again.stdin)).toBe(`changed ${file}\n`);
  expect(runStep(again.delete ?? "")).toBe(`restored original ${file}\n`);
  expect(fs.readFileSync(file, "utf8")).toBe("1\n");
  // The original was kept outside the flag directory, where the Mesos wrapper would read it as a flag.
  expect(fs.readdirSync(path.dirname(file))).toEqual(["quorum"]);
});

test("link: second run unchanged", () => {
  const step = stepOf([
    fileSetPart("zk", [], [{ link: `${dir}/data/myid`, target: "/etc/zookeeper/conf/myid" }]),
  ]);
  expect(runStep(step.create)).toBe(`changed ${dir}/data/myid -> /etc/zookeeper/conf/myid\n`);
  expect(runStep(step.create)).toBe(`unchanged ${dir}/data/myid -> /etc/zookeeper/conf/myid\n`);
  expect(fs.readlinkSync(`${dir}/data/myid`)).toBe("/etc/zookeeper/conf/myid");
});

test("a file or link that was already as wanted survives delete", () => {
  const file = `${dir}/etc/mesos/zk`;
  fs.mkdirSync(`${dir}/etc/mesos`, { recursive: true });
  fs.writeFileSync(file, "zk://a:2181/mesos\n");
  fs.mkdirSync(`${dir}/data`, { recursive: true });
  fs.symlinkSync("/etc/zookeeper/conf/myid", `${dir}/data/myid`);
  const step = stepOf([
    fileSetPart(
      "zk",
      [{ path: file, content: "zk://a:2181/mesos\n" }],
      [{ link: `${dir}/data/myid`, target: "/etc/zookeeper/conf/myid" }],
    ),
  ]);
  expect(runStep(step.create, step.stdin)).toBe(
    `unchanged ${file}\nunchanged ${dir}/data/myid -> /etc/zookeeper/conf/myid\n`,
  );
  expect(runStep(step.delete!)).toContain(`restored original ${file}\n`);
  expect(fs.readFileSync(file, "utf8")).toBe("zk://a:2181/mesos\n");
  expect(fs.readlinkSync(`${dir}/data/myid`)).toBe("/etc/zookeeper/conf/myid");
});

test("parts run in order, undo in reverse, and a failing part fails the step", () => {
  const log = `${dir}/order.log`;
  const part = (n: number): ScriptPart => ({
    create: `echo create${n} >> ${log}`,
    delete: `echo delete${n} >> ${log}`,
  });
  const step = stepOf([part(1), { create: "exit 0" }, part(2)]);
  runStep(step.create);
  runStep(step.delete!);
  expect(fs.readFileSync(log, "utf8")).toBe("create1\ncreate2\ndelete2\ndelete1\n");
  const failing = stepOf([{ create: "false" }, part(3)]);
  expect(() => runStep(failing.create)).toThrow();
  expect(fs.readFileSync(log, "utf8")).not.toContain("create3");
});

/** A PATH with stub commands (bash scripts) ahead of the real one. */
function stubPath(stubs: Record<string, string>): NodeJS.ProcessEnv {
  const bin = `${dir}/bin`;
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(stubs)) {
    fs.writeFileSync(`${bin}/${name}`, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, LOG: `${dir}/calls.log` };
}

test("install skips packages already at the wanted version and installs the rest in one transaction", () => {
  const env = stubPath({
    "dpkg-query": `case "$3" in mesos) printf 'install ok installed 1.0.1';; *) exit 1;; esac`,
    "apt-get": `echo "apt-get $*" >> "$LOG"`,
  });
  const pinned = stepOf([installPart([{ name: "mesos", version: "1.0.1" }])]);
  expect(runStep(pinned.create, "", env)).toBe(
    "mesos 1.0.1 already installed\nall packages already installed; nothing changed\n",
  );
  const upgrade = stepOf([installPart([{ name: "mesos", version: "1.1.0" }, { name: "marathon" }])]);
  expect(runStep(upgrade.create, "", env)).toBe("installed mesos=1.1.0 marathon\n");
  expect(fs.readFileSync(`${dir}/calls.log`, "utf8")).toBe(
    "apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold mesos=1.1.0 marathon\n",
  );
});

test("delete removes the packages the step installed, never preinstalled ones", () => {
  const env = stubPath({
    "dpkg-query": `case "$3" in zookeeper) printf 'install ok installed 3.8.0';; *) exit 1;; esac`,
    "apt-get": `echo "apt-get $*" >> "$LOG"`,
  });
  const preinstalled = stepOf([installPart([{ name: "zookeeper" }])]);
  runStep(preinstalled.create, "", env);
  expect(runStep(preinstalled.delete!, "", env)).toBe("installed no packages; nothing to remove\n");
  expect(fs.existsSync(`${dir}/calls.log`)).toBe(false);

  const step = stepOf([installPart([{ name: "zookeeper" }, { name: "mesos" }, { name: "marathon" }])]);
  expect(runStep(step.create, "", env)).toBe("zookeeper 3.8.0 already installed\ninstalled mesos marathon\n");
  expect(runStep(step.delete!, "", env)).toBe("removed mesos marathon\n");
  expect(fs.readFileSync(`${dir}/calls.log`, "utf8").split("\n").slice(-2)[0]).toBe(
    "apt-get remove -y -q mesos marathon",
  );
});

test("systemd service: started once, unchanged on a second run, restarted on a new config, disabled once", () => {
  const env = stubPath({
    systemctl: `state="$LOG.state"
case "$1" in
  show) echo LoadState=loaded ;;
  is-active) [ -f "$state" ] ;;
  is-enabled) if [ -f "$state.masked" ]; then echo masked; else echo enabled; fi ;;
  start|restart) touch "$state"; echo "$1" >> "$LOG" ;;
  stop|disable) rm -f "$state"; echo "$1" >> "$LOG" ;;
  mask) touch "$state.masked" ;;
esac`,
  });
  const options = { sudo: false, initSystem: "systemd" as const, stateDir: `${dir}/state` };
  const v1 = stepOf([serviceRunningPart("mesos-master", "aaaa", options)]);
  expect(runStep(v1.create, "", env)).toBe("started mesos-master (config aaaa)\n");
  expect(runStep(v1.create, "", env)).toBe("mesos-master already running with this config\n");
  const v2 = stepOf([serviceRunningPart("mesos-master", "bbbb", options)]);
  expect(runStep(v2.create, "", env)).toBe("restarted mesos-master (config bbbb)\n");
  expect(runStep(v2.delete ?? "", "", env)).toBe("stopped mesos-master\nmasked mesos-master\n");
  expect(runStep(v2.delete ?? "", "", env)).toBe(
    "mesos-master already stopped and disabled; nothing changed\n",
  );
});

describe("readiness gates against a local listener", () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((socket) =>
      socket.once("data", (data) => {
        const request = data.toString();
        if (request === "srvr") socket.end("Zookeeper version: 3.4.5\nMode: follower\n");
        else if (request.startsWith("GET /redirect")) socket.end("HTTP/1.1 307 Temporary Redirect\r\n\r\n");
        else if (request.startsWith("GET /ping")) socket.end("HTTP/1.1 200 OK\r\n\r\npong\n");
        else socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each([
    [
      "zookeeper",
      () => zooKeeperReadyStep("127.0.0.1", port, 10),
      "ZooKeeper 127.0.0.1:PORT ready: Mode: follower",
    ],
    [
      "mesos",
      () => mesosMasterElectedStep("127.0.0.1", port, 10),
      "Mesos master 127.0.0.1:PORT ready: HTTP/1.1 307",
    ],
    [
      "marathon",
      () => marathonPingStep("127.0.0.1", port, 10),
      "Marathon 127.0.0.1:PORT ready: HTTP/1.1 200",
    ],
  ])("%s gate passes on the expected answer", async (_name, render, message) => {
    const { stdout } = await run("sh", ["-c", render().create]);
    expect(stdout).toBe(`${message.replace("PORT", String(port))}\n`);
  });

  test("a gate that never sees its answer fails with a timeout message", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      run("sh", ["-c", zooKeeperReadyStep("127.0.0.1", deadPort, 1).create]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining(
        `timeout after 1s waiting for ZooKeeper 127.0.0.1:${deadPort}: expected 'srvr' to report Mode`,
      ),
    });
  });
});
