/** GET /v2/apps filters: `cmd` and `id` substrings, `label` selectors, and the `embed` values. */
import type { Embed } from "./state";
import type { JsonObject } from "./types";

type LabelTest = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** One label requirement: `k`, `k==v`, `k!=v`, `k in (a,b)` or `k notin (a,b)`. */
function labelTest(requirement: string): LabelTest {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(requirement);
  if (set) {
    const [, key, op, values] = set;
    const allowed = values.split(",").map((v) => v.trim());
    return (labels) => (op === "in") === (key in labels && allowed.includes(labels[key]));
  }
  const comparison = /^([^!=]+)(==|!=)(.*)$/.exec(requirement);
  if (comparison) {
    const [, key, op, value] = comparison.map((s) => s.trim());
    return (labels) => (op === "==") === (labels[key] === value);
  }
  return (labels) => requirement in labels;
}

/** The app predicate of the list query parameters (all case-insensitive substrings, labels ANDed). */
export function appFilter(query: URLSearchParams): (app: JsonObject) => boolean {
  const cmd = query.get("cmd")?.toLowerCase();
  const id = query.get("id")?.toLowerCase();
  const label = query.get("label");
  const tests = label ? splitTopLevel(label).map(labelTest) : [];
  return (app) =>
    (!cmd || (typeof app.cmd === "string" && app.cmd.toLowerCase().includes(cmd))) &&
    (!id || (app.id as string).toLowerCase().includes(id)) &&
    tests.every((t) => t(app.labels as Record<string, string>));
}

/** Resolves `embed` values with any of the accepted prefixes (app., apps., group.apps.). */
export function parseEmbed(query: URLSearchParams): Embed {
  const values = new Set(query.getAll("embed").map((v) => v.replace(/^(group\.apps|apps|app)\./, "")));
  return {
    tasks: values.has("tasks") || values.has("failures"),
    lastTaskFailure: values.has("lastTaskFailure") || values.has("failures"),
    readiness: values.has("readiness"),
  };
}
