/**
 * Service parts for rolling changes and drift, run for real on a scratch host: a restart of a service that
 * ran before waits until it answers again, a first start does not; a file put back after an edit restarts
 * its service; a service stopped by hand is started; the converge stamp changes a script by one no-op line;
 * a change of an agent's agent info removes its checkpointed agent info before mesos-slave starts again.
 */
import * as fs from "fs";
import * as net from "net";
import { fileSetPart } from "../../infra/render/files";
import { agentInfoPart } from "../../infra/render/mesos";
import { zooKeeperProbe } from "../../infra/render/readiness";
import { serviceRunningPart, stopIfRunning } from "../../infra/render/services";
import { hostStep, type ScriptPart } from "../../infra/render/shell";
import { ScratchHost } from "./scratch-host";

let host: ScratchHost;
beforeEach(() => (host = new ScratchHost()));
afterEach(() => host.dispose());

const systemd = { sudo: false, initSystem: "systemd" as const };

/** A ZooKeeper-like listener that is "not serving" for its first `notServing` probes, then a follower. */
async function zooKeeperListener(
  notServing: number,
): Promise<{ port: number; probes: () => number; close: () => Promise<void> }> {
  let probes = 0;
  const server = net.createServer((socket) =>
    socket.once("data", () => {
      probes += 1;
      socket.end(
        probes > notServing
          ? "Mode: follower\n"
          : "This ZooKeeper instance is not currently serving requests\n",
      );
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    probes: () => probes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("a restart waits for the service to serve again", () => {
  test("first start: no wait; a config change: restart, then the wait; same config: nothing", async () => {
    const zk = await zooKeeperListener(2);
    try {
      const step = (digest: string, timeoutSeconds = 20) =>
        hostStep(
          [
            serviceRunningPart("zookeeper", digest, systemd, {
              probe: zooKeeperProbe("127.0.0.1", zk.port),
              timeoutSeconds,
            }),
          ],
          host.options("zk"),
        );
      expect(await host.runAsync(step("aaaa").create)).toBe("started zookeeper (config aaaa)\n");
      expect(zk.probes()).toBe(0);

      const restart = await host.runAsync(step("bbbb").create);
      expect(restart).toBe(
        `restarted zookeeper (config bbbb)\nZooKeeper 127.0.0.1:${zk.port} ready: Mode: follower\n`,
      );
      expect(zk.probes()).toBe(3);
      expect(await host.runAsync(step("bbbb").create)).toBe("zookeeper already running with this config\n");
      expect(zk.probes()).toBe(3);
    } finally {
      await zk.close();
    }
  });

  test("a restarted service that never serves fails the step, naming what it waited for", async () => {
    const zk = await zooKeeperListener(Number.MAX_SAFE_INTEGER);
    try {
      const step = (digest: string) =>
        hostStep(
          [
            serviceRunningPart("zookeeper", digest, systemd, {
              probe: zooKeeperProbe("127.0.0.1", zk.port),
              timeoutSeconds: 1,
            }),
          ],
          host.options("zk"),
        );
      await host.runAsync(step("aaaa").create);
      await expect(host.runAsync(step("bbbb").create)).rejects.toMatchObject({
        stderr: expect.stringContaining(`timeout after 1s waiting for ZooKeeper 127.0.0.1:${zk.port}`),
      });
    } finally {
      await zk.close();
    }
  });
});

describe("drift", () => {
  const conf = () => host.path("/etc/marathon/conf/hostname");
  const marathon = () =>
    hostStep(
      [
        fileSetPart("marathon", [{ path: conf(), content: "10.0.0.11\n" }]),
        serviceRunningPart("marathon", "cccc", systemd),
      ],
      host.options("mesos-master1-marathon"),
    );

  test("a config file edited on the host is put back and its service restarted, once", () => {
    const step = marathon();
    host.run(step.create, step.stdin);
    fs.writeFileSync(conf(), "edited by hand\n");
    expect(host.run(step.create, step.stdin)).toBe(`changed ${conf()}\nrestarted marathon (config cccc)\n`);
    expect(fs.readFileSync(conf(), "utf8")).toBe("10.0.0.11\n");
    expect(host.run(step.create, step.stdin)).toBe(
      `unchanged ${conf()}\nmarathon already running with this config\n`,
    );
    expect(host.services().log).toEqual(["start marathon", "restart marathon"]);
  });

  test("a service stopped on the host is started again, and nothing else is done", () => {
    const step = marathon();
    host.run(step.create, step.stdin);
    host.stopByHand("marathon");
    expect(host.run(step.create, step.stdin)).toBe(`unchanged ${conf()}\nstarted marathon (config cccc)\n`);
    expect(host.services().running).toEqual(["marathon"]);
  });
});

test("the converge stamp is one no-op line of every script: stdin and every other line stay the same", () => {
  const parts: ScriptPart[] = [
    fileSetPart("mesos-slave", [{ path: "/etc/mesos-slave/ip", content: "10.0.0.14\n" }]),
  ];
  const plain = hostStep(parts, { sudo: true, owner: "s" });
  const stamped = hostStep(parts, { sudo: true, owner: "s", converge: "2024-05-01T10:00" });
  const lines = (command: string) => command.split("\n");
  const added = lines(stamped.create).filter((l) => !lines(plain.create).includes(l));
  expect(added).toEqual([`: converge '\\''2024-05-01T10:00'\\''`]);
  expect(lines(stamped.create).length).toBe(lines(plain.create).length + 1);
  expect(stamped.stdin).toBe(plain.stdin);
});

describe("agent info", () => {
  const flagDir = () => host.path("/etc/mesos-slave");
  const latest = () => host.path("/work/meta/slaves/latest");
  const step = (digest: string) =>
    hostStep(
      [
        agentInfoPart(digest, stopIfRunning("mesos-slave", systemd, "to reset its agent info"), flagDir()),
        serviceRunningPart("mesos-slave", `config-${digest}`, systemd),
      ],
      host.options("mesos-slave1-mesos-slave"),
    );

  beforeEach(() => {
    fs.mkdirSync(flagDir(), { recursive: true });
    fs.writeFileSync(`${flagDir()}/work_dir`, `${host.path("/work")}\n`);
    fs.mkdirSync(host.path("/work/meta/slaves/S0"), { recursive: true });
    fs.symlinkSync("S0", latest());
  });

  test("unchanged agent info keeps the checkpoint; a change stops the agent, removes it, and starts it", () => {
    expect(host.run(step("info1").create)).toBe("started mesos-slave (config config-info1)\n");
    expect(host.run(step("info1").create)).toBe("mesos-slave already running with this config\n");
    expect(fs.existsSync(latest())).toBe(true);

    expect(host.run(step("info2").create)).toBe(
      [
        "stopped mesos-slave to reset its agent info",
        `agent info changed (attributes, resources or address): removed ${host.path("/work")}/meta/slaves/latest; the agent registers anew and its tasks are restarted`,
        "started mesos-slave (config config-info2)",
        "",
      ].join("\n"),
    );
    expect(fs.existsSync(latest())).toBe(false);
    // The old agent's own directory is left for Mesos to clean up.
    expect(fs.existsSync(host.path("/work/meta/slaves/S0"))).toBe(true);
    expect(host.services().log).toEqual(["start mesos-slave", "stop mesos-slave", "start mesos-slave"]);
  });
});
