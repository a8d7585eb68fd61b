/** `npm run marathon:emulator`: prints its URL, serves, and stops cleanly on SIGINT and SIGTERM. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const MAIN = join(ROOT, "providers", "marathon", "emulator", "main.ts");

/** Runs main.ts under ts-node (transpile only, for speed) with the given arguments. */
function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ["-r", "ts-node/register/transpile-only", MAIN, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function output(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) resolve(match);
    });
    child.once("exit", (code) =>
      reject(new Error(`exited with ${code} before printing ${pattern}: ${text}`)),
    );
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("marathon:emulator CLI", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "prints the URL, serves the API and exits 0 on %s",
    async (signal) => {
      const child = runCli(["--host", "127.0.0.1", "--port", "0", "--step-ms", "5", "--leader", "m1:8080"]);
      children.push(child);
      const [, url] = await output(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const leader = await (await fetch(`${url}/v2/leader`)).json();
      expect(leader).toEqual({ leader: "m1:8080" });
      child.kill(signal);
      expect(await exitCode(child)).toBe(0);
    },
  );

  it("rejects a bad option with exit code 2 and the usage", async () => {
    const child = runCli(["--port", "abc"]);
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitCode(child)).toBe(2);
    expect(stderr).toContain("--port must be a non-negative integer");
    expect(stderr).toContain("Usage: marathon-emulator");
  });
});
