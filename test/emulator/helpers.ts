/** Shared helpers of the emulator tests: an HTTP call that returns status, headers and body, and polling. */
import {
  startEmulator,
  type EmulatorOptions,
  type MarathonEmulator,
} from "../../providers/marathon/emulator";

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, the text otherwise ("" when empty). */
  body: any;
}

/** Calls the emulator; `body` is sent as JSON unless it is a string (sent as is). */
export async function api(
  emulator: MarathonEmulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const isJson = (response.headers.get("content-type") ?? "").includes("application/json");
  return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
}

/** Polls `check` every 5 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 5000,
): Promise<Exclude<T, false | undefined | null | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | undefined | null | 0 | "">;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until GET /v2/deployments is empty. */
export async function waitForIdle(emulator: MarathonEmulator, timeoutMs = 5000): Promise<void> {
  await waitFor(async () => (await api(emulator, "GET", "/v2/deployments")).body.length === 0, timeoutMs);
}

/** Starts a fresh emulator before each test and closes it after, so tests never share state. */
export function useEmulator(options: EmulatorOptions = { deploymentStepMs: 10 }): () => MarathonEmulator {
  let emulator: MarathonEmulator | undefined;
  beforeEach(async () => {
    emulator = await startEmulator(options);
  });
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });
  return () => {
    if (!emulator) throw new Error("emulator not started");
    return emulator;
  };
}

/** The JSON type names of an object's keys, to compare response shapes with documented examples. */
export function shapeOf(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? "array" : v === null ? "null" : typeof v]),
  );
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
