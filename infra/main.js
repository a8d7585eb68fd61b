/**
 * The program's entry for the Pulumi language host (`main` in Pulumi.yaml): runs infra/index.ts compiled
 * to JavaScript, compiling it first whenever one of its sources changed since the last compile. Compiling
 * once, instead of through ts-node on every `pulumi` run, takes the TypeScript compiler off every preview
 * and update (see README "Benchmarks"). The compile type-checks as `tsc` does, and a type error stops the
 * run as ts-node's would; PULUMI_NODEJS_TRANSPILE_ONLY=true skips the check, as it does for ts-node.
 *
 * The output lives in the user's cache folder, one folder per checkout. Not under node_modules: Pulumi
 * serializes the Marathon provider's code into the state by value only for modules outside node_modules.
 *
 * Plain JavaScript: this file is what runs before any TypeScript is compiled.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const ENTRY = path.join("infra", "index.ts");
const CACHE = path.join(
  process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"),
  "mesos-cluster",
  "program",
  crypto.createHash("sha256").update(ROOT).digest("hex").slice(0, 16),
);
/** The last compile: its digest (the name of its output folder) and the files it was made from. */
const RECORD = path.join(CACHE, "current.json");
/** Files that change the output besides the program's own sources: compiler options, packages, this file. */
const SETTINGS = ["tsconfig.json", "package-lock.json", path.relative(ROOT, __filename)];
/** Whether the compile type-checks (Pulumi's own switch for TypeScript programs). */
const TYPE_CHECK = process.env.PULUMI_NODEJS_TRANSPILE_ONLY !== "true";
/** Earlier outputs are removed once this old, so that a run that started on one can still finish. */
const KEEP_MS = 10 * 60 * 1000;

/**
 * @param {{ name: string, text: string | Buffer }[]} files
 * @returns {string}
 */
function digestOf(files) {
  const hash = crypto.createHash("sha256");
  for (const file of files) hash.update(`${file.name}\0`).update(file.text).update("\0");
  return hash.digest("hex");
}

/** @param {string[]} names */
function readAll(names) {
  return names.map((name) => ({ name, text: fs.readFileSync(path.join(ROOT, name)) }));
}

/**
 * The output folder of the last compile when no file it was made from has changed since, and it was
 * type-checked if this run must be.
 */
function upToDate() {
  try {
    const record = JSON.parse(fs.readFileSync(RECORD, "utf8"));
    const out = path.join(CACHE, record.digest);
    const current = digestOf(readAll(record.files)) === record.digest && fs.existsSync(out);
    return current && (record.typeChecked || !TYPE_CHECK) ? out : undefined;
  } catch {
    return undefined; // no record yet, or one of its files is gone
  }
}

/** The compiled modules find the project's packages through this link. */
function linkPackages() {
  const link = path.join(CACHE, "node_modules");
  const target = path.join(ROOT, "node_modules");
  try {
    if (fs.readlinkSync(link) === target) return;
    fs.rmSync(link, { force: true });
  } catch {
    // no link yet
  }
  try {
    fs.symlinkSync(target, link);
  } catch (e) {
    if (fs.readlinkSync(link) !== target) throw e; // else another run made the same link
  }
}

/** Type-checks (unless told not to) and compiles the program into a folder named by its digest. */
function compile() {
  const ts = require("typescript");
  const settings = readAll(SETTINGS);
  const configFile = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile);
  const config = ts.parseJsonConfigFileContent(configFile.config ?? {}, ts.sys, ROOT);
  const staging = fs.mkdtempSync(path.join(CACHE, "compiling-"));
  const program = ts.createProgram([path.join(ROOT, ENTRY)], {
    ...config.options,
    noEmit: false,
    rootDir: ROOT,
    outDir: staging,
    sourceMap: true,
  });
  const errors = [
    ...(configFile.error ? [configFile.error] : []),
    ...(TYPE_CHECK
      ? ts.getPreEmitDiagnostics(program)
      : [...program.getOptionsDiagnostics(), ...program.getSyntacticDiagnostics()]),
  ];
  if (errors.length === 0) errors.push(...program.emit().diagnostics);
  if (errors.length > 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    const host = {
      getCanonicalFileName: (/** @type {string} */ f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    };
    const error = new Error(`Unable to compile TypeScript:\n${ts.formatDiagnostics(errors, host)}`);
    error.name = "TSError"; // the language host then prints the message alone, as for ts-node's errors
    throw error;
  }
  // The digest of the texts the compiler read, so that an edit made during the compile shows as a change.
  const sources = program
    .getSourceFiles()
    .filter((f) => !f.isDeclarationFile && !f.fileName.includes("/node_modules/"))
    .map((f) => ({ name: path.relative(ROOT, f.fileName), text: f.text }));
  const files = [...settings, ...sources];
  const digest = digestOf(files);
  const out = path.join(CACHE, digest);
  try {
    fs.renameSync(staging, out);
  } catch (e) {
    // Another run compiled the same files at the same time: its output is this one.
    if (!fs.existsSync(out)) throw e;
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const record = `${RECORD}.${process.pid}`;
  fs.writeFileSync(
    record,
    JSON.stringify({ digest, typeChecked: TYPE_CHECK, files: files.map((f) => f.name) }),
  );
  fs.renameSync(record, RECORD);
  for (const entry of fs.readdirSync(CACHE)) {
    const old = path.join(CACHE, entry);
    if (/^([0-9a-f]{64}|compiling-.*)$/.test(entry) && entry !== digest) {
      if (Date.now() - fs.statSync(old).mtimeMs > KEEP_MS) fs.rmSync(old, { recursive: true, force: true });
    }
  }
  return out;
}

fs.mkdirSync(CACHE, { recursive: true });
linkPackages();
const out = upToDate() ?? compile();
module.exports = require(path.join(out, ENTRY.replace(/\.ts$/, ".js")));
