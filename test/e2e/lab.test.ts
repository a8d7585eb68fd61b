/**
 * Smoke test of the host lab: three namespace hosts on a private bridge, reached over real ssh, with
 * isolated disks, and a Debian ZooKeeper ensemble that survives losing one host and stops serving after two.
 * Needs root and the Debian packages openssh-server, iproute2, zookeeperd and netcat-openbsd; fails (never
 * skips) without them. Run: npx jest test/e2e/lab.test.ts
 */
import * as crypto from "crypto";
import * as fs from "fs";
import { waitForModes, type Mode } from "./expectations";
import { createLab, Lab, LabHostSpec } from "./lab";
import { made } from "../helpers/setup";

// Its own bridge and subnet, so it never collides with a full e2e lab on the default ones.
const HOSTS: LabHostSpec[] = [
  { name: "zk1", ip: "10.98.0.11" },
  { name: "zk2", ip: "10.98.0.12" },
  { name: "zk3", ip: "10.98.0.13" },
];
const timings: Record<string, number> = {};
let lab: Lab | undefined;

jest.setTimeout(60_000);

function theLab(): Lab {
  return made(lab, "lab");
}

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await f();
  timings[label] = Date.now() - start;
  return result;
}

const sha = (file: string): string => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

beforeAll(async () => {
  lab = await timed("labCreateMs", () =>
    createLab({ hosts: HOSTS, bridge: "mclsmoke", subnet: "10.98.0.0/24" }),
  );
});

afterAll(async () => {
  await lab?.destroy();
  console.log(`lab timings (ms): ${JSON.stringify(timings)}`);
});

describe("host lab", () => {
  it("answers hostname over real ssh with each host's own name", async () => {
    const l = theLab();
    const results = await timed("sshHostnameAllMs", () =>
      Promise.all(HOSTS.map((h) => l.ssh(h.name, "hostname; echo $SSH_CONNECTION"))),
    );
    results.forEach((r, i) => {
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const [name, conn] = r.stdout.trim().split("\n");
      expect(name).toBe(HOSTS[i].name);
      // The server side of the connection is the host's own address on the bridge.
      expect(conn.split(" ")[2]).toBe(HOSTS[i].ip);
    });
    await timed("sshRoundTripMs", () => l.ssh("zk1", "true"));
    await timed("execRoundTripMs", () => l.exec("zk1", "true"));
  });

  it("keeps each host's disk to itself and leaves the machine's /etc untouched", async () => {
    const l = theLab();
    const marker = `lab-smoke-${process.pid}-${Date.now()}`;
    const before = { hosts: sha("/etc/hosts"), issue: sha("/etc/issue") };
    const write = await l.ssh(
      "zk1",
      `echo a > /etc/${marker} && echo a > /var/tmp/${marker} && echo a > /tmp/${marker} && ` +
        `echo 10.98.0.99 extra >> /etc/hosts && rm /etc/issue && cat /etc/${marker}`,
    );
    expect(write).toMatchObject({ code: 0, stdout: "a\n" });
    for (const other of ["zk2", "zk3"]) {
      const r = await l.exec(
        other,
        `ls /etc/${marker} /var/tmp/${marker} /tmp/${marker} 2>/dev/null; cat /etc/issue`,
      );
      expect(r.stdout).not.toContain(marker);
      expect(r.stdout).toBe(fs.readFileSync("/etc/issue", "utf8"));
    }
    for (const file of [`/etc/${marker}`, `/var/tmp/${marker}`, `/tmp/${marker}`]) {
      expect(fs.existsSync(file)).toBe(false);
    }
    expect({ hosts: sha("/etc/hosts"), issue: sha("/etc/issue") }).toEqual(before);
    // The machine's own home and the lab's key are not visible inside a host.
    const peek = await l.exec("zk2", `ls -A /root; test -e ${theLab().privateKeyPath} && echo key-visible`);
    expect(peek.stdout).not.toContain("key-visible");
    expect(peek.stdout.split("\n")).not.toContain(".npm");
  });

  it("lets one host reach another's address over the bridge, with the gateway as default route", async () => {
    const l = theLab();
    const r = await l.exec("zk1", "timeout 5 bash -c 'exec 3<>/dev/tcp/10.98.0.12/22 && head -c 7 <&3'");
    expect(r).toMatchObject({ code: 0, stdout: "SSH-2.0" });
    const route = await l.exec("zk1", "ip -4 route show default; ip -br -4 addr show eth0");
    expect(route.stdout).toContain("default via 10.98.0.1 dev eth0");
    expect(route.stdout).toContain("10.98.0.11/24");
  });

  it("stops and restarts a host with its disk intact", async () => {
    const l = theLab();
    await l.exec("zk3", "echo kept > /etc/lab-smoke-kept");
    await timed("stopHostMs", () => l.stopHost("zk3"));
    expect(l.isRunning("zk3")).toBe(false);
    await expect(l.exec("zk3", "true")).rejects.toThrow(/stopped/);
    const unreachable = await l.exec(
      "zk1",
      "timeout 2 bash -c '</dev/tcp/10.98.0.13/22' && echo up || echo down",
    );
    expect(unreachable.stdout.trim()).toBe("down");
    await timed("startHostMs", () => l.startHost("zk3"));
    const r = await l.ssh("zk3", "cat /etc/lab-smoke-kept");
    expect(r).toMatchObject({ code: 0, stdout: "kept\n" });
  });
});

describe("ZooKeeper ensemble on the lab", () => {
  /** ZooKeeper's modes on the named hosts, asked from outside at their addresses, once `ok` holds. */
  const waitFor = (names: string[], ok: (modes: Mode[]) => boolean, limitMs: number): Promise<Mode[]> =>
    waitForModes(
      names.map((n) => HOSTS.find((h) => h.name === n)!.ip),
      ok,
      limitMs,
    );

  const quorum = (modes: Mode[]): boolean =>
    modes.filter((m) => m === "leader").length === 1 && modes.filter((m) => m === "follower").length === 2;

  it("forms an ensemble, re-elects without its leader, and stops serving without quorum", async () => {
    for (const [file, pkg] of [
      ["/etc/init.d/zookeeper", "zookeeperd"],
      ["/bin/nc.openbsd", "netcat-openbsd"],
    ]) {
      if (!fs.existsSync(file)) throw new Error(`missing ${file}: apt-get install -y ${pkg}`);
    }
    const l = theLab();
    const names = HOSTS.map((h) => h.name);
    const zooCfg = [
      // Short ticks: a powered-off peer is noticed after syncLimit * tickTime = 2 s.
      "tickTime=500",
      "initLimit=20",
      "syncLimit=4",
      "dataDir=/var/lib/zookeeper",
      "clientPort=2181",
      "4lw.commands.whitelist=srvr",
      "admin.enableServer=false",
      // Becomes zookeeper.cnxTimeout: do not wait 5 s for a dead peer during elections.
      "cnxTimeout=1000",
      ...HOSTS.map((h, i) => `server.${i + 1}=${h.ip}:2888:3888`),
    ].join("\n");
    // Provisioned the way the program does it: over ssh, script on stdin, service started by its init script.
    await timed("zkProvisionAndStartMs", () =>
      Promise.all(
        HOSTS.map(async (h, i) => {
          const script = [
            "set -e",
            `cat > /etc/zookeeper/conf/zoo.cfg <<'EOF'\n${zooCfg}\nEOF`,
            `echo ${i + 1} > /etc/zookeeper/conf/myid`,
            // Small heap and C1 only: three JVMs start quickly on two cores.
            `echo 'JAVA_OPTS="-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"' >> /etc/default/zookeeper`,
            "service zookeeper start",
          ].join("\n");
          const r = await l.ssh(h.name, "bash -s", { input: script });
          expect(r).toMatchObject({ code: 0 });
        }),
      ),
    );
    const modes = await timed("zkElectionMs", () => waitFor(names, quorum, 40_000));
    const leader = names[modes.indexOf("leader")];
    const rest = names.filter((n) => n !== leader);

    await l.stopHost(leader);
    await timed("zkReelectionMs", () =>
      waitFor(rest, (m) => m.includes("leader") && m.includes("follower"), 30_000),
    );

    await l.stopHost(rest[0]);
    await timed("zkQuorumLossMs", () => waitFor([rest[1]], (m) => m[0] === "not serving", 30_000));
  });
});
