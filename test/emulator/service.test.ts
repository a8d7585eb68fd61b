/** /v2/info, /v2/leader, /ping, /v2/tasks and unknown routes. */
import infoExample from "../fixtures/marathon/info.json";
import appTasksExample from "../fixtures/marathon/app_tasks.json";
import { startEmulator } from "../../providers/marathon/emulator";
import { api, useEmulator, waitForIdle } from "./helpers";

const emulator = useEmulator();

describe("service endpoints", () => {
  it("GET /v2/info has every key of Marathon's example, including the three config objects", async () => {
    const res = await api(emulator(), "GET", "/v2/info");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(infoExample).sort());
    for (const section of ["marathon_config", "zookeeper_config", "http_config"] as const) {
      expect(Object.keys(res.body[section]).sort()).toEqual(
        expect.arrayContaining(Object.keys(infoExample[section])),
      );
    }
    expect(res.body).toMatchObject({ name: "marathon", version: "1.10.17", elected: true });
    expect(res.body.leader).toBe(`127.0.0.1:${emulator().port}`);
  });

  it("GET /v2/leader reports host:port; DELETE abdicates", async () => {
    expect((await api(emulator(), "GET", "/v2/leader")).body).toEqual({
      leader: `127.0.0.1:${emulator().port}`,
    });
    expect((await api(emulator(), "DELETE", "/v2/leader")).body).toEqual({ message: "Leadership abdicated" });
  });

  it("reports the configured leader", async () => {
    const other = await startEmulator({ leader: "master-2:8080" });
    try {
      expect((await api(other, "GET", "/v2/leader")).body).toEqual({ leader: "master-2:8080" });
      expect((await api(other, "GET", "/v2/leader")).headers.get("x-marathon-leader")).toBe(
        "http://master-2:8080",
      );
    } finally {
      await other.close();
    }
  });

  it("GET /ping answers by Accept: JSON string, plain text, or 204", async () => {
    const asJson = await api(emulator(), "GET", "/ping", undefined, { Accept: "application/json" });
    expect(asJson.status).toBe(200);
    expect(asJson.body).toBe("pong");
    expect(asJson.headers.get("content-type")).toBe("application/json");
    const asText = await api(emulator(), "GET", "/ping", undefined, { Accept: "*/*" });
    expect(asText.body).toBe("pong");
    expect(asText.headers.get("content-type")).toBe("text/plain");
    expect((await api(emulator(), "GET", "/ping", undefined, { Accept: "image/png" })).status).toBe(204);
  });

  it("GET /v2/tasks lists every task, filtered by status, shaped like Marathon's example", async () => {
    await api(emulator(), "POST", "/v2/apps", { id: "/a", cmd: "sleep 1", instances: 2 });
    await api(emulator(), "POST", "/v2/apps", { id: "/b", cmd: "sleep 1", instances: 1 });
    await waitForIdle(emulator());
    const all = (await api(emulator(), "GET", "/v2/tasks")).body.tasks;
    expect(all).toHaveLength(3);
    expect(Object.keys(all[0])).toEqual(
      expect.arrayContaining(
        Object.keys(appTasksExample.tasks[0]).filter((k) => k !== "region" && k !== "zone"),
      ),
    );
    expect((await api(emulator(), "GET", "/v2/tasks?status=running")).body.tasks).toHaveLength(3);
    expect((await api(emulator(), "GET", "/v2/tasks?status[]=staging")).body.tasks).toHaveLength(0);
  });

  it("places tasks round-robin on the task hosts", async () => {
    const spread = await startEmulator({ deploymentStepMs: 1, taskHosts: ["10.0.0.1", "10.0.0.2"] });
    try {
      await api(spread, "POST", "/v2/apps", {
        id: "/a",
        cmd: "sleep 1",
        instances: 3,
        requirePorts: true,
        portDefinitions: [{ port: 8000 }, { port: 0 }],
      });
      await waitForIdle(spread);
      const tasks = (await api(spread, "GET", "/v2/apps/a/tasks")).body.tasks;
      expect(tasks.map((t: { host: string }) => t.host)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.1"]);
      // requirePorts: host ports equal the service ports.
      expect(tasks[0].ports).toEqual([8000, 10000]);
    } finally {
      await spread.close();
    }
  });

  it("answers 500 URI not found for unknown routes", async () => {
    const res = await api(emulator(), "GET", "/v2/nothing");
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: "URI not found" });
  });
});
