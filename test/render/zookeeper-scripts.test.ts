/**
 * ZooKeeper's scripts for changes, run for real on a scratch host: zoo.cfg managed by value with
 * `reconfigEnabled` (ZooKeeper rewrites it), the ensemble's members changed by `reconfig` as a member's
 * superuser (stub zkCli and a listener answering `conf`), and a dataDir change that copies the data.
 */
import * as fs from "fs";
import * as net from "net";
import type { ZooKeeperSettings } from "../../infra/config";
import { serviceRunning, stopIfRunning } from "../../infra/render/services";
import { hostStep } from "../../infra/render/shell";
import {
  dataDirMovePart,
  dynamicZooCfgPart,
  ensembleMembersPart,
  serverLines,
  zooCfgSettings,
} from "../../infra/render/zookeeper";
import { ScratchHost } from "./scratch-host";
import { zooKeeperSettings } from "../cluster/fixtures";

const ZK = zooKeeperSettings(true);
const MEMBERS = [
  { ip: "10.0.0.11", zkId: 1 },
  { ip: "10.0.0.12", zkId: 2 },
  { ip: "10.0.0.13", zkId: 3 },
];
const systemd = { sudo: false, initSystem: "systemd" as const };

let host: ScratchHost;
beforeEach(() => {
  host = new ScratchHost({
    // ZooKeeper's digest tool: `super:<password>->super:<digest>`.
    java: `echo "$4->super:digest-of-\${4#super:}"`,
    // zkCli: keeps what it was asked (stdin holds the password), and commits unless told to refuse.
    "zkCli.sh": `cat > "$SCRATCH/zkcli.stdin"; echo "$*" > "$SCRATCH/zkcli.args"
if [ -f "$SCRATCH/zkcli.refuse" ]; then echo "KeeperErrorCode = NewConfigNoQuorum"; exit 0; fi
echo "Committed new configuration:"`,
  });
});
afterEach(() => host.dispose());

describe("zoo.cfg with reconfigEnabled", () => {
  const cfg = () => host.path("/etc/zookeeper/conf/zoo.cfg");
  const paths = () => ({
    config: cfg(),
    cli: host.path("bin/zkCli.sh"),
    jar: "/usr/share/java/zookeeper.jar",
  });
  const step = (zk: ZooKeeperSettings = ZK) =>
    hostStep(
      [dynamicZooCfgPart(MEMBERS[0], MEMBERS, zk, serviceRunning("zookeeper", systemd), paths())],
      host.options("mesos-zookeeper-master1-zookeeper"),
    );
  const pending = () => fs.existsSync(host.path("state/pending/zookeeper"));
  const lines = () => fs.readFileSync(cfg(), "utf8").trim().split("\n");

  beforeEach(() => {
    fs.mkdirSync(host.path("/etc/zookeeper/conf"), { recursive: true });
    fs.writeFileSync(cfg(), "tickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort=2181\n");
  });

  test("the first run writes the settings, a superuser digest and the members, and marks ZooKeeper pending", () => {
    const s = step();
    expect(host.run(s.create, s.stdin)).toContain(`changed ${cfg()}`);
    const password = fs.readFileSync(host.path("state/zookeeper/super.password"), "utf8");
    expect(password).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(lines()).toEqual([
      ...[
        ...zooCfgSettings(ZK),
        `DigestAuthenticationProvider.superDigest=super:digest-of-${password}`,
      ].sort(),
      ...serverLines(MEMBERS, ZK),
    ]);
    expect(pending()).toBe(true);
  });

  test("ZooKeeper's own rewrite (order, members moved to a dynamic file) is no change; a setting is", () => {
    const s = step();
    host.run(s.create, s.stdin);
    host.startByHand("zookeeper");
    fs.rmSync(host.path("state/pending/zookeeper"));
    // What ZooKeeper does on its first election.
    const dynamic = `${cfg()}.dynamic.100000000`;
    fs.writeFileSync(dynamic, `${serverLines(MEMBERS, ZK).join("\n")}\n`);
    const settings = lines().filter((l) => !l.startsWith("server."));
    fs.writeFileSync(cfg(), `${[...settings].reverse().join("\n")}\ndynamicConfigFile=${dynamic}\n`);
    const rewritten = fs.readFileSync(cfg(), "utf8");

    expect(host.run(s.create, s.stdin)).toBe(`unchanged ${cfg()} (settings)\n`);
    expect(fs.readFileSync(cfg(), "utf8")).toBe(rewritten);
    expect(pending()).toBe(false);

    const slower = step({ ...ZK, tickTime: 3000 });
    expect(host.run(slower.create, slower.stdin)).toBe(`changed ${cfg()}\n`);
    expect(lines()).toContain("tickTime=3000");
    // ZooKeeper keeps its members: the file still points at its dynamic config.
    expect(lines()).toContain(`dynamicConfigFile=${dynamic}`);
    expect(lines().filter((l) => l.startsWith("server."))).toEqual([]);
    expect(pending()).toBe(true);
  });

  test("a stopped member whose members on disk lack it gets the wanted members", () => {
    const s = step();
    host.run(s.create, s.stdin);
    const dynamic = `${cfg()}.dynamic.100000004`;
    fs.writeFileSync(dynamic, `${serverLines(MEMBERS.slice(1), ZK).join("\n")}\n`);
    const settings = lines().filter((l) => !l.startsWith("server."));
    fs.writeFileSync(cfg(), `${settings.join("\n")}\ndynamicConfigFile=${dynamic}\n`);
    expect(host.run(s.create, s.stdin)).toBe(`changed ${cfg()}\n`);
    expect(lines().filter((l) => l.startsWith("server."))).toEqual(serverLines(MEMBERS, ZK));
  });

  test("delete removes ZooKeeper's dynamic files and puts the package's zoo.cfg back", () => {
    const s = step();
    host.run(s.create, s.stdin);
    fs.writeFileSync(`${cfg()}.dynamic.100000000`, "server.1=x\n");
    fs.writeFileSync(`${cfg()}.bak`, "old\n");
    const undone = host.run(s.delete, "");
    expect(undone).toContain(`removed ${cfg()}.dynamic.100000000`);
    expect(undone).toContain(`restored original ${cfg()}`);
    expect(fs.readdirSync(host.path("/etc/zookeeper/conf"))).toEqual(["zoo.cfg"]);
    expect(fs.existsSync(host.path("state/zookeeper/super.password"))).toBe(false);
    expect(fs.readFileSync(cfg(), "utf8")).toBe(
      "tickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort=2181\n",
    );
  });
});

describe("the ensemble's members", () => {
  let server: net.Server;
  let port: number;
  let inForce: string[];
  beforeEach(async () => {
    server = net.createServer((socket) =>
      socket.once("data", () =>
        socket.end(`clientPort=${port}\nmembership: \n${inForce.join("\n")}\nversion=100000000`),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
    fs.mkdirSync(host.path("state/zookeeper"), { recursive: true });
    fs.writeFileSync(host.path("state/zookeeper/super.password"), "pw123");
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const wanted = [...MEMBERS, { ip: "10.0.0.14", zkId: 4 }, { ip: "10.0.0.15", zkId: 5 }];
  const step = () =>
    hostStep(
      [
        ensembleMembersPart(
          { ip: "127.0.0.1" },
          wanted,
          { ...ZK, clientPort: port },
          host.path("bin/zkCli.sh"),
        ),
      ],
      host.options("mesos-zookeeper-members"),
    );

  test("members in force as wanted: nothing to do", async () => {
    inForce = serverLines(wanted, { ...ZK, clientPort: port });
    const s = step();
    expect(await host.runAsync(s.create, s.stdin)).toBe(
      "ZooKeeper members already as wanted; nothing changed\n",
    );
    expect(fs.existsSync(host.path("zkcli.args"))).toBe(false);
  });

  test("new members: one reconfig -members as the member's superuser, the password on stdin only", async () => {
    const zk = { ...ZK, clientPort: port };
    inForce = serverLines(MEMBERS, zk);
    const s = step();
    expect(await host.runAsync(s.create, s.stdin)).toBe(
      "reconfigured ZooKeeper members: server.1 server.2 server.3 -> server.1 server.2 server.3 server.4 server.5\n",
    );
    expect(fs.readFileSync(host.path("zkcli.args"), "utf8")).toBe(`-server 127.0.0.1:${port}\n`);
    expect(fs.readFileSync(host.path("zkcli.stdin"), "utf8")).toBe(
      `addauth digest super:pw123\nreconfig -members ${serverLines(wanted, zk).join(",")}\nquit\n`,
    );
  });

  test("a reconfiguration ZooKeeper refuses fails the step with ZooKeeper's words", async () => {
    inForce = serverLines(MEMBERS, { ...ZK, clientPort: port });
    fs.writeFileSync(host.path("zkcli.refuse"), "");
    const s = step();
    await expect(host.runAsync(s.create, s.stdin)).rejects.toMatchObject({
      stderr: expect.stringContaining(
        "ZooKeeper refused the new members: KeeperErrorCode = NewConfigNoQuorum",
      ),
    });
  });
});

describe("dataDir", () => {
  const cfg = () => host.path("/etc/zookeeper/conf/zoo.cfg");
  const step = (dataDir: string) =>
    hostStep(
      [dataDirMovePart(dataDir, stopIfRunning("zookeeper", systemd, "to move its data"), cfg())],
      host.options("mesos-zookeeper-master1-zookeeper"),
    );
  beforeEach(() => {
    fs.mkdirSync(host.path("/old/version-2"), { recursive: true });
    fs.writeFileSync(host.path("/old/version-2/snapshot.0"), "data");
    fs.mkdirSync(host.path("/etc/zookeeper/conf"), { recursive: true });
    fs.writeFileSync(cfg(), `tickTime=2000\ndataDir=${host.path("/old")}\n`);
    host.startByHand("zookeeper");
  });

  test("an unchanged dataDir moves nothing", () => {
    expect(host.run(step(host.path("/old")).create)).toBe(`ZooKeeper data stays in ${host.path("/old")}\n`);
    expect(host.services().running).toEqual(["zookeeper"]);
  });

  test("a new dataDir: ZooKeeper stops, the data is copied (the old copy kept), ZooKeeper is pending", () => {
    expect(host.run(step(host.path("/new")).create)).toBe(
      `stopped zookeeper to move its data\ncopied ZooKeeper data from ${host.path("/old")} to ${host.path("/new")} (the old copy is kept)\n`,
    );
    expect(fs.readFileSync(host.path("/new/version-2/snapshot.0"), "utf8")).toBe("data");
    expect(fs.existsSync(host.path("/old/version-2/snapshot.0"))).toBe(true);
    expect(fs.existsSync(host.path("state/pending/zookeeper"))).toBe(true);
  });

  test("a new dataDir that already holds data is used as it is", () => {
    fs.mkdirSync(host.path("/new/version-2"), { recursive: true });
    expect(host.run(step(host.path("/new")).create)).toContain("already holds data; kept it");
    expect(fs.existsSync(host.path("/new/version-2/snapshot.0"))).toBe(false);
  });
});
