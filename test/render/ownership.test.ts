/**
 * Host identity in the host scripts: what a step creates is owned by the step, a later step that finds it
 * in place takes it over, and a delete undoes only what its step still owns. Run for real on a scratch host
 * (stub systemd, dpkg and apt): a host's steps renamed (same address) keep every file, service and package.
 */
import * as fs from "fs";
import { fileSetPart } from "../../infra/render/files";
import { installPart } from "../../infra/render/packages";
import { serviceDisabledPart, serviceRunningPart } from "../../infra/render/services";
import { hostStep, type ScriptPart } from "../../infra/render/shell";
import { ScratchHost } from "./scratch-host";

let host: ScratchHost;
beforeEach(() => (host = new ScratchHost()));
afterEach(() => host.dispose());

const OLD = "mesos-zookeeper-master1-zookeeper";
const NEW = "mesos-zookeeper-master1b-zookeeper";
const systemd = () => ({ sudo: false, initSystem: "systemd" as const });

/** The ZooKeeper step of one master, as named `owner`: its files, its link, the running service. */
function zooKeeperStep(owner: string) {
  const parts: ScriptPart[] = [
    fileSetPart(
      "zookeeper",
      [
        { path: host.path("/etc/zookeeper/conf/myid"), content: "10\n" },
        { path: host.path("/etc/zookeeper/conf/zoo.cfg"), content: "tickTime=2000\n" },
      ],
      [{ link: host.path("/var/lib/zookeeper/myid"), target: "/etc/zookeeper/conf/myid" }],
    ),
    serviceRunningPart("zookeeper", "digest1", systemd()),
  ];
  return hostStep(parts, host.options(owner));
}

test("renamed steps take the host over, and the old steps' deletes leave it running", () => {
  const old = zooKeeperStep(OLD);
  host.run(old.create, old.stdin);
  expect(host.services().running).toEqual(["zookeeper"]);

  const renamed = zooKeeperStep(NEW);
  const takeover = host.run(renamed.create, renamed.stdin);
  expect(takeover).toContain(`took file ${host.path("/etc/zookeeper/conf/zoo.cfg")} over from ${OLD}`);
  expect(takeover).toContain(`took service zookeeper over from ${OLD}`);
  expect(takeover).toContain("zookeeper already running with this config");
  expect(takeover).not.toMatch(/^(changed|restarted|started)/m);

  // Pulumi deletes the old steps after creating the new ones.
  const undone = host.run(old.delete, "");
  expect(undone.split("\n").filter(Boolean).sort()).toEqual(
    [`left service zookeeper to ${NEW}`, `left set zookeeper to ${NEW}`].sort(),
  );
  expect(host.services()).toEqual({ log: ["start zookeeper"], running: ["zookeeper"] });
  expect(fs.readFileSync(host.path("/etc/zookeeper/conf/myid"), "utf8")).toBe("10\n");
  expect(fs.readlinkSync(host.path("/var/lib/zookeeper/myid"))).toBe("/etc/zookeeper/conf/myid");

  // The owner's own delete still undoes everything.
  const destroyed = host.run(renamed.delete, "");
  expect(destroyed).toContain("stopped zookeeper");
  expect(destroyed).toContain(`removed ${host.path("/etc/zookeeper/conf/zoo.cfg")}`);
  expect(fs.existsSync(host.path("/etc/zookeeper/conf/myid"))).toBe(false);
  expect(host.services().running).toEqual([]);
});

test("a file taken over by another step's set is left by the first set's delete", () => {
  const shared = host.path("/etc/mesos/zk");
  const a = hostStep(
    [fileSetPart("mesos-master", [{ path: shared, content: "zk://a/mesos\n" }])],
    host.options("a"),
  );
  const b = hostStep(
    [fileSetPart("mesos-slave", [{ path: shared, content: "zk://a/mesos\n" }])],
    host.options("b"),
  );
  host.run(a.create, a.stdin);
  expect(host.run(b.create, b.stdin)).toBe(`took file ${shared} over from a\nunchanged ${shared}\n`);
  expect(host.run(a.delete, "")).toBe(`left file ${shared} to b\n`);
  expect(fs.readFileSync(shared, "utf8")).toBe("zk://a/mesos\n");
  expect(host.run(b.delete, "")).toBe(`removed ${shared}\n`);
});

test("a service kept disabled by a renamed step stays disabled after the old step's delete", () => {
  const disabled = (owner: string) =>
    hostStep([serviceDisabledPart("mesos-slave", systemd())], host.options(owner));
  host.startByHand("mesos-slave");
  host.run(disabled("mesos-master1-mesos-master").create);
  expect(host.run(disabled("mesos-master1b-mesos-master").create)).toContain(
    "took service mesos-slave over from mesos-master1-mesos-master",
  );
  expect(host.run(disabled("mesos-master1-mesos-master").delete)).toBe(
    "left service mesos-slave to mesos-master1b-mesos-master\n",
  );
  expect(fs.existsSync(host.path("systemd/mesos-slave.masked"))).toBe(true);
});

describe("packages", () => {
  const install = (owner: string) =>
    hostStep(
      [installPart([{ name: "zookeeper" }, { name: "mesos" }, { name: "marathon" }])],
      host.options(owner),
    );

  test("a renamed install step takes over what the program installed; the old delete removes nothing", () => {
    fs.writeFileSync(host.path("dpkg"), "zookeeper 3.8.0\n");
    expect(host.run(install("mesos-master1-packages-install").create)).toBe(
      "zookeeper 3.8.0 already installed\ninstalled mesos marathon\n",
    );
    const takeover = host.run(install("mesos-master1b-packages-install").create);
    expect(takeover).toContain("took package mesos over from mesos-master1-packages-install");
    expect(takeover).toContain("all packages already installed; nothing changed");
    expect(takeover).not.toContain("took package zookeeper");

    expect(host.run(install("mesos-master1-packages-install").delete)).toBe(
      [
        "left package mesos to mesos-master1b-packages-install",
        "left package marathon to mesos-master1b-packages-install",
        "installed no packages; nothing to remove",
        "",
      ].join("\n"),
    );
    expect(host.aptCalls().filter((c) => c.includes(" remove "))).toEqual([]);
    expect(host.packages()).toEqual(["marathon 1.0", "mesos 1.0", "zookeeper 3.8.0"]);

    // The new owner removes what the program installed, and never the preinstalled zookeeper.
    expect(host.run(install("mesos-master1b-packages-install").delete)).toBe("removed mesos marathon\n");
    expect(host.packages()).toEqual(["zookeeper 3.8.0"]);
  });

  test("packages recorded by earlier versions of the step are taken over and removed by its delete", () => {
    fs.writeFileSync(host.path("dpkg"), "mesos 1.0\nmarathon 1.0\nzookeeper 3.8.0\n");
    fs.mkdirSync(host.path("state"), { recursive: true });
    fs.writeFileSync(host.path("state/installed-packages"), "mesos\nmarathon\n");
    const step = install("mesos-master1-packages-install");
    expect(host.run(step.create)).toContain("all packages already installed; nothing changed");
    expect(fs.existsSync(host.path("state/installed-packages"))).toBe(false);
    expect(host.run(step.delete)).toBe("removed mesos marathon\n");
  });
});
