/** Marathon's REST routes (AppsResource, AppTasksResource, DeploymentsResource, ...) over the state. */
import { appFilter, parseEmbed } from "./appFilters";
import { renderDeployment } from "./deployments";
import { marathonErrors } from "./errors";
import { flag, json, parseJsonBody, type Reply } from "./http";
import { infoBody } from "./info";
import { normalizeId } from "./pathId";
import type { DeploymentResult, MarathonState } from "./state";
import { renderTask } from "./tasks";

export interface RouteRequest {
  method: string;
  /** Decoded path without query, e.g. "/v2/apps//foo/tasks". */
  path: string;
  query: URLSearchParams;
  bodyText: string;
  accept: string;
}

export interface RouteContext {
  state: MarathonState;
  leader: string;
  port: number;
  baseUrl: string;
  marathonVersion: string;
}

/** 200 (or 201) with the DeploymentResult body and its Marathon-Deployment-Id header. */
function deploymentReply(
  result: DeploymentResult,
  status = 200,
  headers: Record<string, string> = {},
): Reply {
  return json(status, result, { "Marathon-Deployment-Id": result.deploymentId, ...headers });
}

/** /ping answers by Accept: "pong" as JSON, pong as text, or 204 when neither is acceptable. */
function ping(accept: string): Reply {
  if (accept.includes("application/json")) return { status: 200, body: "pong" };
  if (accept === "" || accept.includes("*/*") || accept.includes("text/")) {
    return { status: 200, body: "pong", contentType: "text/plain" };
  }
  return { status: 204 };
}

/** Routes under /v2/apps/{id...}: the id is greedy, so the suffixes are matched first, as JAX-RS does. */
function appRoute(req: RouteRequest, rest: string, ctx: RouteContext): Reply {
  const { state } = ctx;
  const { method, query } = req;
  const force = flag(query, "force", false);
  let m: RegExpExecArray | null;
  if ((m = /^(.+)\/tasks$/.exec(rest)) && method === "GET") return json(200, { tasks: state.appTasks(m[1]) });
  if ((m = /^(.+)\/versions\/([^/]+)$/.exec(rest)) && method === "GET")
    return json(200, state.version(m[1], m[2]));
  if ((m = /^(.+)\/versions$/.exec(rest)) && method === "GET")
    return json(200, { versions: state.versions(m[1]) });
  if ((m = /^(.+)\/restart$/.exec(rest)) && method === "POST")
    return deploymentReply(state.restart(m[1], force));
  if ((m = /^(.*)\*$/.exec(rest)) && method === "GET") {
    const group = normalizeId(m[1]);
    const prefix = group === "/" ? "/" : `${group}/`;
    return json(200, {
      "*": state.listApps((app) => (app.id as string).startsWith(prefix), parseEmbed(query)),
    });
  }
  switch (method) {
    case "GET":
      return json(200, { app: state.appInfo(rest, parseEmbed(query)) });
    case "PUT": {
      const partial = flag(query, "partialUpdate", true);
      const { created, result } = state.put(rest, parseJsonBody(req.bodyText), { partial, force });
      const location = { Location: `${ctx.baseUrl}${normalizeId(rest)}` };
      return created ? deploymentReply(result, 201, location) : deploymentReply(result);
    }
    case "PATCH":
      return deploymentReply(state.patch(rest, parseJsonBody(req.bodyText), force));
    case "DELETE":
      // DELETE defaults to force=true; marathon-python sends force=False explicitly.
      return deploymentReply(state.delete(rest, flag(query, "force", true)));
    default:
      throw marathonErrors.uriNotFound();
  }
}

/** Dispatches one request; MarathonHttpError thrown by the state is turned into its reply by the caller. */
export function route(req: RouteRequest, ctx: RouteContext): Reply {
  const { state } = ctx;
  const { method, path, query } = req;
  if (path === "/ping" && method === "GET") return ping(req.accept);
  if (path === "/v2/info" && method === "GET") {
    return json(200, infoBody({ version: ctx.marathonVersion, leader: ctx.leader, port: ctx.port }));
  }
  if (path === "/v2/leader" && method === "GET") return json(200, { leader: ctx.leader });
  if (path === "/v2/leader" && method === "DELETE") return json(200, { message: "Leadership abdicated" });
  if (path === "/v2/apps" || path === "/v2/apps/") {
    if (method === "GET") return json(200, { apps: state.listApps(appFilter(query), parseEmbed(query)) });
    if (method === "POST") {
      const { app, result } = state.create(parseJsonBody(req.bodyText), flag(query, "force", false));
      return json(201, app, {
        Location: `${ctx.baseUrl}${app.id as string}`,
        "Marathon-Deployment-Id": result.deploymentId,
      });
    }
  }
  if (path.startsWith("/v2/apps/")) return appRoute(req, path.slice("/v2/apps/".length), ctx);
  if (path === "/v2/tasks" && method === "GET") {
    const wanted = [...query.getAll("status"), ...query.getAll("status[]")].map(
      (s) => `TASK_${s.toUpperCase()}`,
    );
    const tasks = state.tasks.all().filter((t) => wanted.length === 0 || wanted.includes(t.state));
    return json(200, { tasks: tasks.map(renderTask) });
  }
  if (path === "/v2/deployments" && method === "GET")
    return json(200, state.deployments.list().map(renderDeployment));
  const deployment = /^\/v2\/deployments\/([^/]+)$/.exec(path);
  if (deployment && method === "DELETE") {
    const result = state.cancelDeployment(deployment[1], flag(query, "force", false));
    return result ? deploymentReply(result) : { status: 202 };
  }
  throw marathonErrors.uriNotFound();
}
