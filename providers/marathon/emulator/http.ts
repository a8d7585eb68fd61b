/** HTTP plumbing shared by the routes: bodies, query flags and Marathon's response headers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { marathonErrors } from "./errors";

/** Headers Marathon puts on every response from the leader. */
export function marathonHeaders(leader: string): Record<string, string> {
  return {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    Pragma: "no-cache",
    Expires: "0",
    "X-Marathon-Leader": `http://${leader}`,
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
  };
}

/** A response ready to be written (possibly after the latency fault's delay). */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON value; a string is sent as text when `contentType` says so. */
  body?: unknown;
  contentType?: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

export function writeReply(res: ServerResponse, reply: Reply, baseHeaders: Record<string, string>): void {
  const headers: Record<string, string> = { ...baseHeaders, ...reply.headers };
  let payload = "";
  if (reply.body !== undefined) {
    const contentType = reply.contentType ?? "application/json";
    headers["Content-Type"] = contentType;
    payload =
      contentType === "application/json" || typeof reply.body !== "string"
        ? JSON.stringify(reply.body)
        : reply.body;
  }
  headers["Content-Length"] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Parses a JSON request body with Marathon's 400 answers for empty and malformed bodies. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw marathonErrors.emptyBody();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw marathonErrors.malformedJson((e as Error).message);
  }
}

/** A boolean query parameter as Jersey reads it: "true" in any case is true, anything else false. */
export function flag(query: URLSearchParams, name: string, defaultValue: boolean): boolean {
  const value = query.get(name);
  return value === null ? defaultValue : value.toLowerCase() === "true";
}
