/**
 * Holds the emulator honest with a real client: Debian's python3-marathon (/usr/bin/python3) drives it
 * through create, get, scale, list apps, list deployments, list tasks and delete, parsing every response.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEmulator, type MarathonEmulator } from "../../providers/marathon/emulator";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(__dirname, "python_client.py");
const MISSING_MODULE_EXIT = 3;

interface ClientReport {
  ping: string;
  info_version: string;
  created_id: string;
  created_deployments: string[];
  create_deployments_listed: string[];
  get_instances: number;
  get_tasks_running: number;
  scale_deployment_id: string;
  scale_deployments_seen: string[];
  listed: Array<{ id: string; instances: number; tasks_running: number }>;
  tasks: Array<{ app_id: string; host: string; ports: number[]; state: string }>;
  all_tasks_count: number;
  delete_deployment_id: string;
  get_after_delete: string;
}

describe("python3-marathon against the emulator", () => {
  let emulator: MarathonEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ deploymentStepMs: 20 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("parses every response of create, get, scale, list, deployments, tasks and delete", async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install python3 and python3-marathon`);
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(PYTHON, [SCRIPT, emulator.url], { timeout: 60_000 }));
    } catch (e) {
      const failure = e as { code?: number; stderr?: string };
      if (failure.code === MISSING_MODULE_EXIT) {
        throw new Error(
          `python3-marathon is required (apt-get install -y python3-marathon): ${failure.stderr}`,
        );
      }
      throw new Error(`python client failed: ${failure.stderr ?? String(e)}`);
    }
    const report = JSON.parse(stdout) as ClientReport;
    const deploymentIds = emulator.deploymentEvents.map((d) => d.id);

    expect(report.ping).toBe('"pong"');
    expect(report.info_version).toBe("1.10.17");
    expect(report.created_id).toBe("/python-client-app");
    expect(report.created_deployments).toEqual([deploymentIds[0]]);
    expect(report.create_deployments_listed).toEqual([deploymentIds[0]]);
    expect(report.get_instances).toBe(1);
    expect(report.get_tasks_running).toBe(1);
    expect(report.scale_deployment_id).toBe(deploymentIds[1]);
    expect(report.scale_deployments_seen).toContain(deploymentIds[1]);
    expect(report.listed).toEqual([{ id: "/python-client-app", instances: 3, tasks_running: 3 }]);
    expect(report.tasks).toHaveLength(3);
    for (const task of report.tasks) {
      expect(task).toEqual({
        app_id: "/python-client-app",
        host: "127.0.0.1",
        ports: [expect.any(Number)],
        state: "TASK_RUNNING",
      });
    }
    expect(report.all_tasks_count).toBe(3);
    expect(report.delete_deployment_id).toBe(deploymentIds[2]);
    expect(report.get_after_delete).toContain("NotFoundError");
    expect(report.get_after_delete).toContain("App '/python-client-app' does not exist");

    // The client's own wire calls, as REFERENCE §7.2 describes them.
    const calls = emulator.requests.map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ""}`);
    expect(calls).toContain("POST /v2/apps");
    expect(calls).toContain("PUT /v2/apps//python-client-app?force=False");
    expect(calls).toContain("DELETE /v2/apps/python-client-app?force=False");
    expect(emulator.requests.find((r) => r.method === "PUT")?.body).toEqual({ instances: 3 });
  });
});
