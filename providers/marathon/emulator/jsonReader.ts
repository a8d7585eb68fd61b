/**
 * Type and RAML-constraint checks of a JSON body, reporting Play-JSON error keys
 * (error.expected.jsstring, error.min, error.pattern, ...) the way Marathon 1.5+ reads its RAML models.
 */
import type { ErrorDetail } from "./errors";

/** Checks one value at a JSON path, adding Play error keys to the report. */
export type Rule = (report: ReadReport, path: string, value: unknown) => void;

/** Accumulates errors per path, in the order found. */
export class ReadReport {
  readonly details: ErrorDetail[] = [];

  add(path: string, error: string): void {
    const existing = this.details.find((d) => d.path === path);
    if (existing) existing.errors.push(error);
    else this.details.push({ path: path === "" ? "/" : path, errors: [error] });
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

interface StringOptions {
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** Accepted literals, matched case-insensitively as the generated enum readers do. */
  oneOf?: readonly string[];
}

export function str(options: StringOptions = {}): Rule {
  return (report, path, v) => {
    if (typeof v !== "string") return report.add(path, "error.expected.jsstring");
    if (options.oneOf && !options.oneOf.some((o) => o.toLowerCase() === v.toLowerCase())) {
      return report.add(path, "error.unknown.enum.literal");
    }
    if (options.minLength !== undefined && v.length < options.minLength) report.add(path, "error.minLength");
    if (options.maxLength !== undefined && v.length > options.maxLength) report.add(path, "error.maxLength");
    if (options.pattern && !options.pattern.test(v)) report.add(path, "error.pattern");
  };
}

interface NumberOptions {
  /** int32: fractions are rejected with error.expected.int. */
  int?: boolean;
  min?: number;
  max?: number;
}

export function num(options: NumberOptions = {}): Rule {
  return (report, path, v) => {
    if (typeof v !== "number") return report.add(path, "error.expected.jsnumber");
    if (options.int && !Number.isInteger(v)) return report.add(path, "error.expected.int");
    if (options.min !== undefined && v < options.min) report.add(path, "error.min");
    if (options.max !== undefined && v > options.max) report.add(path, "error.max");
  };
}

export const bool: Rule = (report, path, v) => {
  if (typeof v !== "boolean") report.add(path, "error.expected.jsboolean");
};

/** An array whose items follow `item`; item paths are written `path(i)` as Play does. */
export function arr(item: Rule): Rule {
  return (report, path, v) => {
    if (!Array.isArray(v)) return report.add(path, "error.expected.jsarray");
    v.forEach((x, i) => item(report, `${path}(${i})`, x));
  };
}

/** An object with known fields; unknown fields are ignored as Play does. */
export function obj(fields: Record<string, Rule>, required: readonly string[] = []): Rule {
  return (report, path, v) => {
    if (!isObject(v)) return report.add(path, "error.expected.jsobject");
    for (const key of required) {
      if (v[key] === undefined) report.add(`${path}/${key}`, "error.path.missing");
    }
    for (const [key, rule] of Object.entries(fields)) {
      if (v[key] !== undefined && v[key] !== null) rule(report, `${path}/${key}`, v[key]);
    }
  };
}

/** A map whose values follow `value`. */
export function mapOf(value: Rule): Rule {
  return (report, path, v) => {
    if (!isObject(v)) return report.add(path, "error.expected.jsobject");
    for (const [key, x] of Object.entries(v)) value(report, `${path}/${key}`, x);
  };
}

/** Accepts a value that satisfies any of the rules; otherwise reports the first rule's errors. */
export function anyOf(...rules: Rule[]): Rule {
  return (report, path, v) => {
    const attempts = rules.map((rule) => {
      const attempt = new ReadReport();
      rule(attempt, path, v);
      return attempt;
    });
    if (attempts.some((a) => a.details.length === 0)) return;
    for (const d of attempts[0].details) d.errors.forEach((e) => report.add(d.path, e));
  };
}
