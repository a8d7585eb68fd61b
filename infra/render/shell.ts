/**
 * Shell building blocks shared by every host script: quoting, running as root, and the small library of
 * idempotent file functions that each script starts with.
 */
import { createHash } from "crypto";

/** Where scripts keep what they need between runs: originals of replaced files, service config stamps. */
export const STATE_DIR = "/var/lib/mesos-cluster";

/** The arguments of one `remote.Command` step, minus the connection. */
export interface HostStep {
  readonly create: string;
  readonly delete?: string;
  readonly stdin?: string;
  /** Scripts print paths and states, never file contents, so both streams are safe to log. */
  readonly logging: "stdoutAndStderr";
  /**
   * No delete reads what its create printed; and sshd accepts no such variables unless configured to
   * (AcceptEnv), so the command provider would warn on every delete.
   */
  readonly addPreviousOutputInEnv: false;
}

/**
 * One part of a step: a script body, the body that undoes it on delete, and the bytes it reads from the
 * step's stdin (with `take`, so that each part reads only its own).
 */
export interface ScriptPart {
  readonly create: string;
  readonly delete?: string;
  readonly stdin?: string;
}

/** A config file a step writes. */
export interface ConfigFile {
  readonly path: string;
  readonly content: string;
}

/** Options every script renderer accepts. */
export interface ScriptOptions {
  /** Run with `sudo -n` (the SSH user is not root). */
  readonly sudo: boolean;
  /** Overrides {@link STATE_DIR}, e.g. to run a script against a scratch directory. */
  readonly stateDir?: string;
}

/** Options of a whole step. */
export interface StepOptions extends ScriptOptions {
  /**
   * The step's resource name: what the step creates on the host is recorded as owned by it, and its
   * delete undoes only what it still owns (see {@link library}).
   */
  readonly owner: string;
  /**
   * The stack's `converge` stamp, written into the script: a new stamp changes every step's script, so
   * that `pulumi up` updates each step, which runs its (idempotent) create again. @default - none
   */
  readonly converge?: string;
}

/** Single-quote `value` for any POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs `script` under bash, as root unless `sudo` is false. */
export function bashCommand(script: string, sudo: boolean): string {
  return `${sudo ? "sudo -n " : ""}bash -c ${shellQuote(script)}`;
}

/** A short, stable digest of the given files, used to tell a service that its config changed. */
export function configDigest(files: readonly ConfigFile[]): string {
  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.path}\0${f.content}\0`);
  return hash.digest("hex").slice(0, 16);
}

/**
 * Functions every script can call. `write_file PATH` installs stdin at PATH only when it differs, and
 * keeps the file it replaced (or the fact that there was none) so `remove_file PATH` can put it back.
 * Originals live under the state dir, never beside the file: the Mesos wrappers turn every file in
 * /etc/mesos-master and /etc/mesos-slave into a flag. `keep_set NAME PATH…` records the paths a step
 * manages and puts back those an earlier run managed and this one does not (a flag dropped from the
 * config); `drop_set NAME PATH…` puts back all of them. `take N` passes on the next N bytes of stdin.
 * `changed` counts what a run altered.
 *
 * Ownership: a host's state is keyed by the thing managed (a file's path, a service, a file set, a
 * package), never by the step, and each thing records the step that last took it (`own KIND KEY`). A
 * delete undoes only what its step still owns (`owned KIND KEY`), and says which step it left the thing
 * to otherwise. Pulumi runs the creates of new resources before the deletes of removed ones, so when a
 * host's steps are renamed (the host renamed, same address) the new steps take everything over and the
 * old steps' deletes leave it in place: no delete can undo what another step created.
 *
 * `mark_pending NAME` records that the config of service NAME changed on disk, so that the service's part
 * restarts it even when a run changed a file back after drift; within a part that sets `PENDING=NAME`,
 * every change a file function makes marks it (they often run in a pipeline's subshell, which keeps
 * `changed` to itself).
 */
function library(stateDir: string, owner: string): string {
  return `set -eu
STATE=${shellQuote(stateDir)}
OWNER=${shellQuote(owner)}
changed=0
owner_file() {
  printf '%s/owners/%s/%s' "$STATE" "$1" "\${2#/}"
}
own() {
  record=$(owner_file "$1" "$2")
  previous=$(cat "$record" 2>/dev/null || true)
  if [ "$previous" = "$OWNER" ]; then return 0; fi
  mkdir -p "$(dirname "$record")"
  printf '%s\\n' "$OWNER" > "$record"
  if [ -n "$previous" ]; then echo "took $1 $2 over from $previous"; fi
}
owned() {
  previous=$(cat "$(owner_file "$1" "$2")" 2>/dev/null || true)
  if [ -z "$previous" ] || [ "$previous" = "$OWNER" ]; then return 0; fi
  echo "left $1 $2 to $previous"
  return 1
}
disown() {
  record=$(owner_file "$1" "$2")
  if [ "$(cat "$record" 2>/dev/null || true)" = "$OWNER" ]; then rm -f "$record"; fi
}
mark_pending() {
  mkdir -p "$STATE/pending"
  : > "$STATE/pending/$1"
}
note_change() {
  changed=$((changed + 1))
  if [ -n "\${PENDING:-}" ]; then mark_pending "$PENDING"; fi
}
remember_original() {
  orig="$STATE/orig$1"
  if [ -e "$orig" ] || [ -L "$orig" ] || [ -e "$orig.absent" ]; then return 0; fi
  mkdir -p "$(dirname "$orig")"
  if [ -e "$1" ] || [ -L "$1" ]; then cp -P -p "$1" "$orig"; else : > "$orig.absent"; fi
}
write_file() {
  tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$1" ] && [ ! -L "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"; remember_original "$1"; own file "$1"; echo "unchanged $1"; return 0
  fi
  remember_original "$1"
  mkdir -p "$(dirname "$1")"
  install -m 0644 "$tmp" "$1"
  rm -f "$tmp"
  own file "$1"
  note_change; echo "changed $1"
}
link_file() {
  if [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; then remember_original "$1"; own file "$1"; echo "unchanged $1 -> $2"; return 0; fi
  remember_original "$1"
  mkdir -p "$(dirname "$1")"
  ln -sfn "$2" "$1"
  own file "$1"
  note_change; echo "changed $1 -> $2"
}
remove_file() {
  owned file "$1" || return 0
  orig="$STATE/orig$1"
  if [ -e "$orig" ] || [ -L "$orig" ]; then
    rm -f "$1"; cp -P -p "$orig" "$1"; rm -f "$orig"; echo "restored original $1"
  elif [ -e "$1" ] || [ -L "$1" ]; then
    rm -f "$1" "$orig.absent"; echo "removed $1"
  else
    rm -f "$orig.absent"; echo "absent $1"
  fi
  disown file "$1"
}
keep_set() {
  list="$STATE/sets/$1"; set_name=$1; shift
  if [ -f "$list" ]; then
    while IFS= read -r old; do
      [ -n "$old" ] || continue
      keep=no
      for path in "$@"; do if [ "$path" = "$old" ]; then keep=yes; fi; done
      if [ "$keep" = no ]; then remove_file "$old"; note_change; fi
    done < "$list"
  fi
  mkdir -p "$STATE/sets"
  printf '%s\\n' "$@" > "$list"
  own set "$set_name"
}
drop_set() {
  owned set "$1" || return 0
  list="$STATE/sets/$1"; set_name=$1; shift
  { if [ -f "$list" ]; then cat "$list"; fi; printf '%s\\n' "$@"; } | sort -u | while IFS= read -r path; do if [ -n "$path" ]; then remove_file "$path"; fi; done
  rm -f "$list"
  disown set "$set_name"
}
take() {
  head -c "$1"
}`;
}

/**
 * A complete script: the library, then `body`, run as root unless told otherwise. The converge stamp, when
 * set, is a no-op line of the script, so that a new stamp changes the script and nothing else.
 */
export function hostScript(body: string, options: StepOptions): string {
  const stamp = options.converge ? `: converge ${shellQuote(options.converge)}\n` : "";
  return bashCommand(
    `${library(options.stateDir ?? STATE_DIR, options.owner)}\n${stamp}${body}`,
    options.sudo,
  );
}

/** The library call that passes `content`, and nothing after it, from the step's stdin. */
export function takeStdin(content: string): string {
  return `take ${Buffer.byteLength(content, "utf8")}`;
}

/**
 * One step made of parts: create runs them in order, delete undoes them in reverse. Each part runs in a
 * subshell, so its count of changes and an early `exit 0` stay its own; a failing part fails the step.
 */
export function hostStep(parts: readonly ScriptPart[], options: StepOptions): HostStep {
  const script = (bodies: string[]) => hostScript(bodies.map((b) => `(\n${b}\n)`).join("\n"), options);
  const deletes = parts.flatMap((p) => (p.delete === undefined ? [] : [p.delete])).reverse();
  const stdin = parts.map((p) => p.stdin ?? "").join("");
  return {
    create: script(parts.map((p) => p.create)),
    ...(deletes.length > 0 ? { delete: script(deletes) } : {}),
    ...(stdin === "" ? {} : { stdin }),
    logging: "stdoutAndStderr",
    addPreviousOutputInEnv: false,
  };
}
