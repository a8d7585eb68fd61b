/**
 * The provider run by the Pulumi SDK's own dynamic-provider host, as under `pulumi up`: serialized into
 * `__provider`, configured with secret stack config, and called over gRPC against the Marathon emulator.
 */
import { startEmulator } from "../../providers/marathon/emulator/server";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { MarathonAppProvider, marathonAppProvider } from "../../providers/marathon/provider";
import {
  dynamicUrn,
  HostCallError,
  serializeProvider,
  secretValue,
  startProviderHost,
  type ProviderHost,
} from "../helpers/provider-host";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy";

const CREDENTIALS = "marathon-admin:Pa55-w0rd-7f3c";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let marathon: MarathonEmulator;
let proxy: RecordingProxy;
let host: ProviderHost;

beforeAll(async () => {
  marathon = await startEmulator({ deploymentStepMs: 10, taskHosts: ["10.10.20.12"] });
  proxy = await startRecordingProxy(marathon.url);
  host = await startProviderHost(marathonAppProvider);
});

afterAll(async () => {
  await host?.stop();
  await proxy?.close();
  await marathon?.close();
});

function appInputs(appId: string, overrides: Record<string, unknown> = {}) {
  return {
    appId,
    cmd: "cd hello && bundle install && RAILS_ENV=production bundle exec unicorn -p 9999",
    uris: ["https://example.org/hello.tgz"],
    cpus: 0.5,
    mem: 256,
    instances: 1,
    marathonEndpoints: [proxy.url],
    owner: `mesos-cluster/test/${appId}`,
    ...overrides,
  };
}

describe("the serialized provider", () => {
  test("holds no credential, captures no secret and stays small", async () => {
    // Even a provider that has been configured in this process must not carry the credentials along.
    const configured = new MarathonAppProvider();
    await configured.configure({ config: { get: () => CREDENTIALS, require: () => CREDENTIALS } });
    const { text, containsSecrets } = await serializeProvider(marathonAppProvider);
    expect(containsSecrets).toBe(false);
    expect(text).not.toContain("Pa55-w0rd");
    expect(text).not.toContain(Buffer.from(CREDENTIALS).toString("base64"));
    expect(text.length).toBeLessThan(120_000);
    expect(host.providerText).toBe(text);
  });
});

describe("through the dynamic-provider host", () => {
  const name = "rails";
  const urn = dynamicUrn(name);
  let state: Record<string, unknown>;

  test("GetPluginInfo answers the SDK version", async () => {
    expect(await host.getPluginInfo()).toMatch(/^3\.\d+\.\d+/);
  });

  test("Configure takes the secret credentials from the stack config", async () => {
    const answer = await host.configure({
      "mesos-cluster:marathonCredentials": secretValue(CREDENTIALS),
      "mesos-cluster:apps": "{}",
    });
    expect(answer).toEqual({ acceptSecrets: false, supportsPreview: false });
  });

  test("Check passes valid inputs, names bad fields, and tolerates preview unknowns", async () => {
    const good = await host.check(urn, {}, appInputs("rails-app-on-mesos-marathon"));
    expect(good.failures).toEqual([]);
    expect(good.inputs.__provider).toBe(host.providerText);
    const bad = await host.check(
      urn,
      {},
      appInputs("Rails_App", { upgradeStrategy: { minimumHealthCapacity: 1.5 } }),
    );
    expect(bad.failures.map((f) => f.property)).toEqual(["appId", "upgradeStrategy.minimumHealthCapacity"]);
    expect(bad.failures[1].reason).toBe("must be a number from 0 to 1, got 1.5");
    const preview = await host.check(
      urn,
      {},
      appInputs(UNKNOWN, { instances: UNKNOWN, marathonEndpoints: UNKNOWN }),
    );
    expect(preview.failures).toEqual([]);
  });

  test("Create deploys the app with basic auth and returns plain outputs", async () => {
    const created = await host.create(urn, appInputs("rails-app-on-mesos-marathon"));
    expect(created.id).toBe("/rails-app-on-mesos-marathon");
    expect(created.properties).toMatchObject({
      appId: "/rails-app-on-mesos-marathon",
      instances: 1,
      tasksRunning: 1,
      endpoints: [expect.stringMatching(/^10\.10\.20\.12:\d+$/)],
      uiUrl: `${proxy.url}/ui/#/apps/%2Frails-app-on-mesos-marathon`,
      __provider: host.providerText,
    });
    const basic = `Basic ${Buffer.from(CREDENTIALS).toString("base64")}`;
    expect(proxy.headers.length).toBeGreaterThan(0);
    expect(proxy.headers.every((h) => h.authorization === basic)).toBe(true);
    expect(JSON.stringify(created.properties)).not.toContain("Pa55-w0rd");
    state = created.properties;
  });

  test("Diff: nothing changed, instances changed, id changed", async () => {
    const id = "/rails-app-on-mesos-marathon";
    expect(await host.diff(id, urn, state, appInputs("rails-app-on-mesos-marathon"))).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(
      (await host.diff(id, urn, state, appInputs("rails-app-on-mesos-marathon", { instances: 3 }))).changes,
    ).toBe("some");
    expect(await host.diff(id, urn, state, appInputs("rails-app-v2"))).toEqual({
      changes: "some",
      replaces: ["appId"],
      deleteBeforeReplace: true,
    });
  });

  test("Update scales the app to 3 with one PUT of {instances: 3}", async () => {
    const start = marathon.requests.length;
    const updated = await host.update(
      "/rails-app-on-mesos-marathon",
      urn,
      state,
      appInputs("rails-app-on-mesos-marathon", { instances: 3 }),
    );
    expect(updated.properties).toMatchObject({ instances: 3, tasksRunning: 3 });
    expect((updated.properties.endpoints as string[]).length).toBe(3);
    const puts = marathon.requests.slice(start).filter((r) => r.method === "PUT");
    expect(puts).toEqual([expect.objectContaining({ body: { instances: 3 } })]);
    state = updated.properties;
  });

  test("Read shows an app scaled in the Marathon UI, and an empty id once it is deleted there", async () => {
    marathon.scaleApp("/rails-app-on-mesos-marathon", 5);
    const read = await host.read("/rails-app-on-mesos-marathon", urn, state);
    expect(read.id).toBe("/rails-app-on-mesos-marathon");
    expect(read.properties.instances).toBe(5);
    expect(read.inputs).toMatchObject({ appId: "/rails-app-on-mesos-marathon", instances: 5 });
    state = read.properties;
  });

  test("Read by id with only inputs (the import resource option) adopts the live app", async () => {
    const read = await host.read(
      "/rails-app-on-mesos-marathon",
      urn,
      {},
      appInputs("rails-app-on-mesos-marathon"),
    );
    expect(read.id).toBe("/rails-app-on-mesos-marathon");
    expect(read.properties).toMatchObject({ appId: "/rails-app-on-mesos-marathon", instances: 5 });
  });

  test("Create of an app that exists fails with the command to adopt it", async () => {
    const error = (await host
      .create(
        dynamicUrn("other"),
        appInputs("rails-app-on-mesos-marathon", { owner: "mesos-cluster/test/other" }),
      )
      .catch((e: unknown) => e)) as HostCallError;
    expect(error).toBeInstanceOf(HostCallError);
    expect(error.code).toBe(2);
    expect(error.details).toContain(
      "`pulumi config set --path 'apps[\"rails-app-on-mesos-marathon\"].adopt' true`, then run `pulumi up`",
    );
    expect(error.initFailed).toBe(false);
  });

  test("Create with adopt: true takes the existing app over and scales it", async () => {
    // Let the scale made in the UI above finish, so that the adoption's scale is not locked by it.
    while ((marathon.getApp("/rails-app-on-mesos-marathon")?.deployments as unknown[]).length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const start = marathon.requests.length;
    const adopted = await host.create(
      dynamicUrn("other"),
      appInputs("rails-app-on-mesos-marathon", {
        owner: "mesos-cluster/test/other",
        adopt: true,
        instances: 2,
      }),
    );
    expect(adopted.id).toBe("/rails-app-on-mesos-marathon");
    expect(adopted.properties).toMatchObject({ instances: 2, tasksRunning: 2 });
    const changes = marathon.requests.slice(start).filter((r) => r.method !== "GET");
    expect(changes.map((r) => [r.method, r.body])).toEqual([
      ["POST", expect.objectContaining({ instances: 2 })],
      ["PUT", { instances: 2 }],
    ]);
    expect(changes[0].body).not.toHaveProperty("adopt");
    state = adopted.properties;
  });

  test("Delete removes the app; a second Delete of the missing app succeeds", async () => {
    await host.delete("/rails-app-on-mesos-marathon", urn, state);
    expect(marathon.getApp("/rails-app-on-mesos-marathon")).toBeUndefined();
    await expect(host.delete("/rails-app-on-mesos-marathon", urn, state)).resolves.toBeUndefined();
    const gone = await host.read("/rails-app-on-mesos-marathon", urn, state);
    expect(gone.id).toBe("");
  });

  test("nothing the host logged contains the credentials", () => {
    expect(host.stderr()).not.toContain("Pa55-w0rd");
  });
});
