/**
 * Where each benchmark (and the end-to-end suite) leaves its final figures, so that `npm run bench:report`
 * can gather them into one report. Files live in `.bench/` (git-ignored), one per source.
 */
import * as fs from "fs";
import * as path from "path";

export type ResultSource = "program" | "provider" | "engine" | "e2e";

const DIR = path.join(__dirname, "..", ".bench");

export interface SavedResult {
  /** ISO time the figures were recorded. */
  recordedAt: string;
  figures: Record<string, unknown>;
}

export function saveResult(source: ResultSource, figures: Record<string, unknown>): void {
  fs.mkdirSync(DIR, { recursive: true });
  const saved: SavedResult = { recordedAt: new Date().toISOString(), figures };
  fs.writeFileSync(path.join(DIR, `${source}.json`), `${JSON.stringify(saved, null, 2)}\n`);
}

/** The figures `source` last saved, if any. */
export function loadResult(source: ResultSource): SavedResult | undefined {
  const file = path.join(DIR, `${source}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as SavedResult) : undefined;
}
