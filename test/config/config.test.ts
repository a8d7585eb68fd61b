import { ConfigError, inNetwork, parseClusterConfig } from "../../infra/config";
import { strictMajority } from "../../infra/render/layout";
import { readProjectDefaults, readStackConfig } from "../helpers/stack-config";

const dev = readStackConfig("dev");

/** The dev stack with one change applied; `undefined` values remove the key. */
function devWith(change: (raw: Record<string, any>) => void): Record<string, unknown> {
  const raw = structuredClone(dev) as Record<string, any>;
  change(raw);
  return raw;
}

function issuesOf(raw: Record<string, unknown>): string[] {
  try {
    parseClusterConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error("the config was accepted");
}

describe("the dev stack", () => {
  const config = parseClusterConfig(dev);

  it("is the cluster of the walkthrough", () => {
    expect(config.masters).toEqual([
      { name: "master1", ip: "10.10.20.11", zkId: 10 },
      { name: "master2", ip: "10.10.20.12", zkId: 30 },
      { name: "master3", ip: "10.10.20.13", zkId: 50 },
    ]);
    expect(config.slaves.map((s) => s.ip)).toEqual(["10.10.20.14", "10.10.20.15", "10.10.20.16"]);
    expect(config.quorum).toBe(2);
    expect(config.initSystem).toBe("upstart");
    expect(config.packages.source).toBe("deb http://repos.mesosphere.io/ubuntu trusty main");
    expect(config.packages.key).toBe("E56151BF");
    expect(config.marathon.configStyle).toBe("conf-dir");
    expect(config.marathon.version).toBe("1.4");
    expect(config.warnings).toEqual([]);
  });

  it("holds the Rails app with one instance", () => {
    const app = config.apps["rails-app-on-mesos-marathon"];
    expect(app.id).toMatch(/^\/?rails-app-on-mesos-marathon$/);
    expect(app.cmd).toBe("cd hello && bundle install && RAILS_ENV=production bundle exec unicorn -p 9999");
    expect(app.instances).toBe(1);
  });
});

describe("defaults", () => {
  it("Pulumi.yaml declares the same defaults the program applies", () => {
    const declared = readProjectDefaults();
    const minimal = { masters: dev.masters, ssh: { privateKeyPath: "/k" } };
    const fromCode = parseClusterConfig(minimal);
    const fromYaml = parseClusterConfig({ ...declared, ...minimal });
    expect(fromYaml).toEqual(fromCode);
  });

  it("an existing Marathon alone needs no hosts", () => {
    const config = parseClusterConfig({
      marathon: { endpoints: ["http://127.0.0.1:8080"] },
      apps: dev.apps,
    });
    expect(config.masters).toEqual([]);
    expect(config.marathon.endpoints).toEqual(["http://127.0.0.1:8080"]);
    expect(Object.keys(config.apps)).toEqual(["rails-app-on-mesos-marathon"]);
  });

  it("takes app numbers that `pulumi config set --path` stored as text", () => {
    const config = parseClusterConfig(
      devWith((c) => {
        c.apps["rails-app-on-mesos-marathon"].cpus = "0.25";
        c.apps["rails-app-on-mesos-marathon"].instances = "3";
      }),
    );
    expect(config.apps["rails-app-on-mesos-marathon"]).toMatchObject({ cpus: 0.25, instances: 3 });
  });

  it("quorum 0 (the default) is the strict majority", () => {
    expect(parseClusterConfig(devWith((c) => delete c.quorum)).quorum).toBe(2);
    expect(strictMajority(3)).toBe(2);
    expect(strictMajority(5)).toBe(3);
    expect(strictMajority(4)).toBe(3);
  });

  it("warns on an even number of masters", () => {
    const config = parseClusterConfig(
      devWith((c) => {
        c.masters.push({ name: "master4", ip: "10.10.20.17", zkId: 70 });
        c.quorum = 3;
      }),
    );
    expect(config.warnings).toEqual([
      "4 masters: an even number tolerates no more failures than 3; use an odd number",
    ]);
  });

  it("the Marathon release line follows the config style", () => {
    expect(
      parseClusterConfig(devWith((c) => (c.marathon = { configStyle: "env-file" }))).marathon.version,
    ).toBe("1.10");
  });

  it("accepts known flags, switches and agent attributes", () => {
    const config = parseClusterConfig(
      devWith((c) => {
        c.mesos = {
          masterFlags: { cluster: "seed", log_auto_initialize: true },
          agentFlags: { containerizers: "mesos", switch_user: false },
          attributes: { rack: "r1" },
          resources: { ports: "[31000-32000]" },
        };
        c.marathon = { configStyle: "conf-dir", flags: { task_launch_timeout: "300000", ha: false } };
      }),
    );
    expect(config.mesos.agentFlags).toEqual({ containerizers: "mesos", switch_user: false });
    expect(config.marathon.flags.ha).toBe(false);
  });
});

describe("changes", () => {
  it("converge defaults to no stamp and takes a date", () => {
    expect(parseClusterConfig(dev).converge).toBe("");
    expect(parseClusterConfig(devWith((c) => (c.converge = "2024-05-01T10:00"))).converge).toBe(
      "2024-05-01T10:00",
    );
  });

  it("zookeeper.reconfigEnabled defaults to false (ZooKeeper 3.4) and can be turned on", () => {
    expect(parseClusterConfig(dev).zookeeper.reconfigEnabled).toBe(false);
    const on = parseClusterConfig(devWith((c) => (c.zookeeper = { reconfigEnabled: true })));
    expect(on.zookeeper).toMatchObject({ reconfigEnabled: true, dataDir: "/var/lib/zookeeper" });
  });
});

describe("network", () => {
  it.each([
    ["10.10.20.11", "10.10.20.0/24", true],
    ["10.10.21.11", "10.10.20.0/24", false],
    ["10.10.20.255", "10.10.20.0/24", true],
    ["192.168.1.5", "192.168.0.0/16", true],
    ["10.0.2.15", "10.10.20.0/24", false],
  ])("%s in %s is %s", (ip, cidr, inside) => {
    expect(inNetwork(ip, cidr)).toBe(inside);
  });
});

// Each invalid config is rejected with a message that names the key and what is allowed.
const invalid: [string, (c: Record<string, any>) => void, string][] = [
  [
    "zkId out of range",
    (c) => (c.masters[1].zkId = 300),
    "masters[1].zkId must be an integer from 1 to 255, got 300",
  ],
  [
    "zkId not an integer",
    (c) => (c.masters[0].zkId = 1.5),
    "masters[0].zkId must be an integer from 1 to 255, got 1.5",
  ],
  [
    "zkId as text",
    (c) => (c.masters[2].zkId = "fifty"),
    'masters[2].zkId must be an integer from 1 to 255, got "fifty"',
  ],
  [
    "duplicate zkId",
    (c) => (c.masters[2].zkId = 10),
    'masters[2].zkId must be unique, got "10" again (first at masters[0])',
  ],
  [
    "duplicate master name",
    (c) => (c.masters[1].name = "master1"),
    'masters[1].name must be unique, got "master1" again (first at masters[0])',
  ],
  [
    "duplicate master ip",
    (c) => (c.masters[1].ip = "10.10.20.11"),
    'masters[1].ip must be unique, got "10.10.20.11" again (first at masters[0])',
  ],
  [
    "duplicate slave ip",
    (c) => (c.slaves[2].ip = "10.10.20.14"),
    'slaves[2].ip must be unique, got "10.10.20.14" again (first at slaves[0])',
  ],
  [
    "duplicate slave name",
    (c) => (c.slaves[1].name = "slave1"),
    'slaves[1].name must be unique, got "slave1" again (first at slaves[0])',
  ],
  [
    "a master listed as a slave",
    (c) => c.slaves.push({ name: "master2", ip: "10.10.20.12" }),
    "slaves[3] (master2, 10.10.20.12) is also masters[1]; a host is either a master or a slave",
  ],
  [
    "an IP outside the private network",
    (c) => (c.slaves[0].ip = "192.168.1.14"),
    'slaves[0].ip must be inside network 10.10.20.0/24, got "192.168.1.14"',
  ],
  [
    "Vagrant's NAT address",
    (c) => (c.masters[0].ip = "10.0.2.15"),
    'masters[0].ip must be inside network 10.10.20.0/24, got "10.0.2.15"',
  ],
  [
    "a malformed IP",
    (c) => (c.masters[0].ip = "10.10.20.256"),
    'masters[0].ip must be an IPv4 address like 10.10.20.11, got "10.10.20.256"',
  ],
  [
    "an uppercase host name",
    (c) => (c.slaves[0].name = "Slave_1"),
    "slaves[0].name must be a lowercase host name (letters, digits, '-'), got \"Slave_1\"",
  ],
  ["no masters", (c) => (c.masters = []), "masters must list at least one master, or marathon.endpoints"],
  [
    "masters that are not a list",
    (c) => (c.masters = "master1"),
    'masters must be a list of {name, ip, zkId}, got "master1"',
  ],
  [
    "slaves without masters",
    (c) => {
      c.masters = [];
      c.marathon = { endpoints: ["http://127.0.0.1:8080"] };
    },
    "slaves need masters: list the masters too",
  ],
  [
    "an unknown key in a master",
    (c) => (c.masters[0].zk_id = 10),
    'masters[0] has unknown key(s) "zk_id"; allowed: name, ip, zkId',
  ],
  [
    "quorum below a majority",
    (c) => (c.quorum = 1),
    "quorum must be a strict majority of the 3 masters (from 2 to 3), got 1",
  ],
  [
    "quorum above the masters",
    (c) => (c.quorum = 4),
    "quorum must be a strict majority of the 3 masters (from 2 to 3), got 4",
  ],
  [
    "an unknown init system",
    (c) => (c.initSystem = "runit"),
    'initSystem must be one of "upstart", "systemd", "sysv", got "runit"',
  ],
  [
    "an unknown hosts mode",
    (c) => (c.hosts = "docker"),
    'hosts must be one of "existing", "vagrant", got "docker"',
  ],
  [
    "a network that is not CIDR",
    (c) => (c.network = "10.10.20.0"),
    'network must be an IPv4 network in CIDR form like 10.10.20.0/24, got "10.10.20.0"',
  ],
  [
    "an SSH port out of range",
    (c) => (c.ssh.port = 70000),
    "ssh.port must be an integer from 1 to 65535, got 70000",
  ],
  [
    "no SSH key for existing hosts",
    (c) => (c.hosts = "existing"),
    'ssh.privateKey (a secret: pulumi config set --secret --path ssh.privateKey < key) or ssh.privateKeyPath is required with hosts "existing"',
  ],
  [
    "both SSH key forms",
    (c) => (c.ssh = { privateKey: "-----BEGIN KEY-----", privateKeyPath: "/k" }),
    "ssh.privateKey and ssh.privateKeyPath are exclusive; set one",
  ],
  [
    "a bad apt key id",
    (c) => (c.packages.key = "not-a-key"),
    'packages.key must be an apt key id (8 to 40 hex digits), got "not-a-key"',
  ],
  [
    "an apt source that is not a deb line",
    (c) => (c.packages.source = "http://repos.mesosphere.io/ubuntu"),
    "packages.source must be an apt source line starting with 'deb ', got \"http://repos.mesosphere.io/ubuntu\"",
  ],
  [
    "a package install that is not a boolean",
    (c) => (c.packages.mesos = { install: "yes" }),
    'packages.mesos.install must be true or false, got "yes"',
  ],
  [
    "ZooKeeper ports that clash",
    (c) => (c.zookeeper = { peerPort: 2181 }),
    "zookeeper.clientPort, peerPort and electionPort must differ, got 2181, 2181, 3888",
  ],
  [
    "syncLimit above initLimit",
    (c) => (c.zookeeper = { initLimit: 2, syncLimit: 5 }),
    "zookeeper.syncLimit must not exceed zookeeper.initLimit (2), got 5",
  ],
  [
    "a relative dataDir",
    (c) => (c.zookeeper = { dataDir: "var/lib/zk" }),
    'zookeeper.dataDir must be an absolute path of letters, digits and . _ + - /, got "var/lib/zk"',
  ],
  [
    "a dataDir a shell would expand",
    (c) => (c.zookeeper = { dataDir: "/var/lib/$(reboot)" }),
    'zookeeper.dataDir must be an absolute path of letters, digits and . _ + - /, got "/var/lib/$(reboot)"',
  ],
  [
    "reconfigEnabled that is not a boolean",
    (c) => (c.zookeeper = { reconfigEnabled: "yes" }),
    'zookeeper.reconfigEnabled must be true or false (true needs ZooKeeper 3.5 or later), got "yes"',
  ],
  [
    "a converge stamp with a quote",
    (c) => (c.converge = "it's time"),
    `converge must be at most 64 letters, digits and . _ : + - (e.g. a date like 2024-05-01T10:00), got "it's time"`,
  ],
  [
    "a converge stamp that is not text",
    (c) => (c.converge = 20240501),
    "converge must be a text of letters, digits and . _ : + -, got 20240501",
  ],
  [
    "an unknown Mesos master flag",
    (c) => (c.mesos = { masterFlags: { quorom: "2" } }),
    "mesos.masterFlags.quorom is not a mesos-master 1.11 flag; see --help of that release for the accepted flags",
  ],
  [
    "an unknown Mesos agent flag",
    (c) => (c.mesos = { agentFlags: { containerisers: "mesos" } }),
    "mesos.agentFlags.containerisers is not a mesos-agent 1.11 flag; see --help of that release for the accepted flags",
  ],
  [
    "a flag the program manages",
    (c) => (c.mesos = { masterFlags: { quorum: "1" } }),
    "mesos.masterFlags.quorum is set by the program from the cluster layout; remove it from mesos.masterFlags",
  ],
  [
    "a flag of a later Mesos",
    (c) => (c.mesos = { version: "0.28", agentFlags: { http_credentials: "/x" } }),
    "mesos.agentFlags.http_credentials is not a mesos-agent 0.28 flag; see --help of that release for the accepted flags",
  ],
  ["an unknown Mesos release line", (c) => (c.mesos = { version: "2.0" }), "mesos.version must be one of"],
  [
    "an unknown Marathon flag",
    (c) => (c.marathon = { flags: { http_prot: "8081" } }),
    "marathon.flags.http_prot is not a marathon 1.4 flag; see --help of that release for the accepted flags",
  ],
  [
    "conf-dir with Marathon 1.6",
    (c) => (c.marathon = { configStyle: "conf-dir", version: "1.6" }),
    'marathon.configStyle must be "env-file" for Marathon 1.6 (1.5 and later ignore /etc/marathon/conf)',
  ],
  [
    "an unknown config style",
    (c) => (c.marathon = { configStyle: "properties" }),
    'marathon.configStyle must be one of "conf-dir", "env-file", got "properties"',
  ],
  [
    "a Marathon endpoint that is not a URL",
    (c) => (c.marathon = { endpoints: ["10.10.20.11:8080"] }),
    'marathon.endpoints[0] must be an http(s) URL, got "10.10.20.11:8080"',
  ],
  [
    "credentials without a password",
    (c) => (c.marathonCredentials = "admin"),
    "marathonCredentials must be 'user:password' (or empty for none)",
  ],
  [
    "a misspelled top-level key",
    (c) => (c.slave = c.slaves),
    "slave is not a mesos-cluster config key; allowed: hosts, vagrant, network, masters, slaves",
  ],
  [
    "an app whose key and id differ",
    (c) => (c.apps["rails-app-on-mesos-marathon"].id = "/other"),
    'apps["rails-app-on-mesos-marathon"].id must match its key "rails-app-on-mesos-marathon", got "/other"',
  ],
  [
    "an app with an uppercase id",
    (c) => (c.apps = { Rails_App: { cmd: "x", instances: 1 } }),
    'apps["Rails_App"].id',
  ],
  [
    "an app with cmd and args",
    (c) => (c.apps["rails-app-on-mesos-marathon"].args = ["unicorn"]),
    'apps["rails-app-on-mesos-marathon"].',
  ],
  [
    "an app with negative instances",
    (c) => (c.apps["rails-app-on-mesos-marathon"].instances = -1),
    'apps["rails-app-on-mesos-marathon"].instances',
  ],
  [
    "readiness timeout of zero",
    (c) => (c.readinessTimeoutSeconds = 0),
    "readinessTimeoutSeconds must be an integer from 1 to 3600, got 0",
  ],
];

describe("invalid stack configs", () => {
  it("are at least 30", () => {
    expect(invalid.length).toBeGreaterThanOrEqual(30);
  });

  it.each(invalid)("rejects %s", (_what, change, message) => {
    const startsWithMessage = new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
    expect(issuesOf(devWith(change))).toEqual(
      expect.arrayContaining([expect.stringMatching(startsWithMessage)]),
    );
  });

  it("lists every problem at once", () => {
    const issues = issuesOf(
      devWith((c) => {
        c.masters[0].zkId = 0;
        c.ssh.port = 0;
      }),
    );
    expect(issues).toEqual([
      "masters[0].zkId must be an integer from 1 to 255, got 0",
      "ssh.port must be an integer from 1 to 65535, got 0",
    ]);
  });

  it("the error message names the namespace and every issue", () => {
    expect(() => parseClusterConfig(devWith((c) => (c.quorum = 1)))).toThrow(
      "invalid stack config (mesos-cluster):\n  - quorum must be a strict majority of the 3 masters (from 2 to 3), got 1",
    );
  });
});
