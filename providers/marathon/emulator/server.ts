/**
 * The emulator's HTTP server: listens, logs requests, applies the fault switches, routes, and
 * exposes the out-of-band operations tests use to act as a Marathon UI user.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { MarathonHttpError, marathonErrors } from "./errors";
import { json, marathonHeaders, readText, writeReply, type Reply } from "./http";
import { route, type RouteContext } from "./routes";
import { MarathonState } from "./state";
import type { EmulatorFaults, EmulatorOptions, MarathonEmulator, RequestLogEntry } from "./types";

export const DEFAULTS = { host: "127.0.0.1", port: 0, deploymentStepMs: 50, marathonVersion: "1.10.17" };

/** What Jetty's sendError writes when LeaderProxyFilter gives up finding a leader. */
function noLeaderPage(path: string): Reply {
  const reason = "Could not determine the current leader";
  const body =
    `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n` +
    `<title>Error 502 ${reason}</title>\n</head>\n<body><h2>HTTP ERROR 502</h2>\n` +
    `<p>Problem accessing ${path}. Reason:\n<pre>    ${reason}</pre></p>\n</body>\n</html>\n`;
  return { status: 502, body, contentType: "text/html;charset=utf-8" };
}

function parseLoggedBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Throws an out-of-band failure as a plain Error carrying Marathon's message. */
function unwrap<T>(operation: () => T): T {
  try {
    return operation();
  } catch (e) {
    if (e instanceof MarathonHttpError) throw new Error(`${e.status}: ${JSON.stringify(e.body)}`);
    throw e;
  }
}

class Emulator implements MarathonEmulator {
  readonly faults: EmulatorFaults = {
    down: false,
    noLeader: false,
    unavailable: false,
    latencyMs: 0,
    stuckDeployments: false,
  };
  readonly requests: RequestLogEntry[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly state: MarathonState;
  private boundPort = 0;
  private leader = "";

  constructor(private readonly options: EmulatorOptions) {
    this.state = new MarathonState({
      deploymentStepMs: options.deploymentStepMs ?? DEFAULTS.deploymentStepMs,
      taskHosts: options.taskHosts && options.taskHosts.length > 0 ? options.taskHosts : ["127.0.0.1"],
      stuck: () => this.faults.stuckDeployments,
    });
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket: Socket) => {
      if (this.faults.down) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  get host(): string {
    return this.options.host ?? DEFAULTS.host;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  get deploymentEvents() {
    return this.state.deployments.events;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.boundPort || (this.options.port ?? DEFAULTS.port), this.host, () => {
        this.server.off("error", reject);
        this.boundPort = (this.server.address() as { port: number }).port;
        this.leader = this.options.leader ?? `${this.host}:${this.boundPort}`;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    for (const socket of this.sockets) socket.destroy();
    return closed;
  }

  async close(): Promise<void> {
    this.state.deployments.stopAll();
    await this.stop();
  }

  scaleApp(id: string, instances: number): void {
    unwrap(() => this.state.patch(id, { instances }, true));
  }

  updateApp(id: string, patch: Record<string, unknown>): void {
    unwrap(() => this.state.patch(id, patch, true));
  }

  deleteApp(id: string): void {
    unwrap(() => this.state.delete(id, true));
  }

  createApp(definition: Record<string, unknown>): void {
    unwrap(() => this.state.create(definition, true));
  }

  getApp(id: string): Record<string, unknown> | undefined {
    try {
      return this.state.appInfo(id, { tasks: true, lastTaskFailure: true, readiness: false });
    } catch (e) {
      if (e instanceof MarathonHttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.faults.down) return void req.socket.destroy();
    const url = new URL(req.url ?? "/", "http://emulator");
    const bodyText = await readText(req);
    const method = req.method ?? "GET";
    this.requests.push({
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      body: parseLoggedBody(bodyText),
      at: Date.now(),
    });
    const reply = this.reply({
      method,
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      bodyText,
      accept: req.headers.accept ?? "",
    });
    const send = () => {
      if (this.faults.down) return void req.socket.destroy();
      writeReply(res, reply, marathonHeaders(this.leader));
    };
    if (this.faults.latencyMs <= 0) return send();
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      send();
    }, this.faults.latencyMs);
    this.delayed.add(timer);
  }

  private reply(request: Parameters<typeof route>[0]): Reply {
    if (this.faults.unavailable) return this.errorReply(marathonErrors.unavailable());
    if (this.faults.noLeader && request.path !== "/ping") {
      return request.path === "/v2/leader" && request.method === "GET"
        ? this.errorReply(marathonErrors.noLeader())
        : noLeaderPage(request.path);
    }
    const context: RouteContext = {
      state: this.state,
      leader: this.leader,
      port: this.boundPort,
      baseUrl: this.url,
      marathonVersion: this.options.marathonVersion ?? DEFAULTS.marathonVersion,
    };
    try {
      return route(request, context);
    } catch (e) {
      if (e instanceof MarathonHttpError) return this.errorReply(e);
      return json(500, { message: (e as Error).message });
    }
  }

  private errorReply(error: MarathonHttpError): Reply {
    return json(error.status, error.body);
  }
}

/**
 * Starts an in-memory Marathon on `opts.host`:`opts.port` (default 127.0.0.1, ephemeral port).
 * Close it with `close()`; it holds timers and sockets until then.
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<MarathonEmulator> {
  const emulator = new Emulator(opts);
  await emulator.start();
  return emulator;
}
