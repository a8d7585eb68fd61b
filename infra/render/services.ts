/**
 * Service control per init system. Each init system is a small table of shell snippets; two scripts are
 * built from it: keep a service enabled and running with a given config, and keep it stopped and disabled.
 */
import type { InitSystem } from "../config";
import { waitFor, type Probe } from "./readiness";
import type { ScriptOptions, ScriptPart } from "./shell";

interface InitCommands {
  /** Exit status 0 when the service is installed. */
  installed(svc: string): string;
  running(svc: string): string;
  start(svc: string): string;
  restart(svc: string): string;
  stop(svc: string): string;
  /** Let the service start at boot again; prints and counts what it changed. */
  enable(svc: string): string;
  /** Keep the service from starting at boot; prints and counts what it changed. */
  disable(svc: string): string;
  /** Whether `disable` also works for a service that is not installed yet (so a later install stays off). */
  disablesAbsent: boolean;
}

const upstartOverride = (svc: string) => `/etc/init/${svc}.override`;

const INIT_COMMANDS: Record<InitSystem, InitCommands> = {
  // Ubuntu 14.04, as in the seed: an override file holding `manual` keeps a job from starting.
  upstart: {
    installed: (svc) => `[ -f /etc/init/${svc}.conf ]`,
    running: (svc) => `status ${svc} 2>/dev/null | grep -q start/running`,
    start: (svc) => `service ${svc} start >/dev/null`,
    restart: (svc) => `service ${svc} restart >/dev/null`,
    stop: (svc) => `service ${svc} stop >/dev/null`,
    enable: (svc) =>
      `if [ -e ${upstartOverride(svc)} ]; then remove_file ${upstartOverride(svc)}; changed=$((changed + 1)); fi`,
    disable: (svc) => `printf 'manual\\n' | write_file ${upstartOverride(svc)}`,
    disablesAbsent: true,
  },
  systemd: {
    installed: (svc) => `! systemctl show -p LoadState ${svc}.service 2>/dev/null | grep -q '=not-found'`,
    running: (svc) => `systemctl is-active --quiet ${svc}.service`,
    start: (svc) => `systemctl start ${svc}.service`,
    restart: (svc) => `systemctl restart ${svc}.service`,
    stop: (svc) => `systemctl stop ${svc}.service`,
    enable: (svc) => `state=$(systemctl is-enabled ${svc}.service 2>/dev/null || true)
if [ "$state" = masked ]; then systemctl unmask ${svc}.service; echo "unmasked ${svc}"; changed=$((changed + 1)); state=$(systemctl is-enabled ${svc}.service 2>/dev/null || true); fi
case "$state" in enabled|static|generated|indirect|alias) ;; *) systemctl enable ${svc}.service >/dev/null 2>&1; echo "enabled ${svc}"; changed=$((changed + 1)) ;; esac`,
    disable: (svc) => `if [ "$(systemctl is-enabled ${svc}.service 2>/dev/null || true)" != masked ]; then
  systemctl disable --now ${svc}.service >/dev/null 2>&1 || true
  systemctl mask ${svc}.service >/dev/null; echo "masked ${svc}"; changed=$((changed + 1))
fi`,
    disablesAbsent: true,
  },
  sysv: {
    installed: (svc) => `[ -x /etc/init.d/${svc} ]`,
    running: (svc) => `service ${svc} status >/dev/null 2>&1`,
    start: (svc) => `service ${svc} start >/dev/null`,
    restart: (svc) => `service ${svc} restart >/dev/null`,
    stop: (svc) => `service ${svc} stop >/dev/null`,
    enable: (svc) => `if ! ls /etc/rc[2345].d/S[0-9][0-9]${svc} >/dev/null 2>&1; then
  update-rc.d ${svc} defaults >/dev/null; update-rc.d ${svc} enable >/dev/null; echo "enabled ${svc} at boot"; changed=$((changed + 1))
fi`,
    disable: (svc) => `if ls /etc/rc[2345].d/S[0-9][0-9]${svc} >/dev/null 2>&1; then
  update-rc.d ${svc} disable >/dev/null; echo "disabled ${svc} at boot"; changed=$((changed + 1))
fi`,
    disablesAbsent: false,
  },
};

export interface ServiceOptions extends ScriptOptions {
  readonly initSystem: InitSystem;
}

/** What a service part waits for after it (re)started a service that had run before. */
export interface Readiness {
  readonly probe: Probe;
  readonly timeoutSeconds: number;
}

function disableBody(svc: string, options: ServiceOptions): string {
  const init = INIT_COMMANDS[options.initSystem];
  const absent = init.disablesAbsent
    ? `${init.disable(svc)}\necho "${svc} is not installed; disabled it so a later install stays stopped"`
    : `echo "${svc} is not installed; nothing to disable"`;
  return `if ${init.installed(svc)}; then
  if ${init.running(svc)}; then ${init.stop(svc)}; echo "stopped ${svc}"; changed=$((changed + 1)); fi
  ${init.disable(svc).replace(/\n/g, "\n  ")}
else
  ${absent.replace(/\n/g, "\n  ")}
fi
rm -f "$STATE/services/${svc}" "$STATE/pending/${svc}"
if [ "$changed" -eq 0 ]; then echo "${svc} already stopped and disabled; nothing changed"; fi`;
}

/**
 * Keep `svc` enabled and running with the config whose digest is `configDigest`. The digest of the config
 * the service last (re)started with is kept in a stamp file, so a second run with the same config changes
 * nothing, and a changed config restarts a running service exactly once; so does a config file that a run
 * put back after it was edited on the host (its file set marks the service pending). After a (re)start of
 * a service that had run before, the part waits for `ready`: a step that restarts one master's service
 * finishes only once that service serves again, so the next master's step (which depends on it) restarts
 * its own only then. A first start does not wait: the members of a new ensemble must all start before any
 * of them serves. Delete stops and disables the service, when this step still owns it.
 */
export function serviceRunningPart(
  svc: string,
  configDigest: string,
  options: ServiceOptions,
  ready?: Readiness,
): ScriptPart {
  const init = INIT_COMMANDS[options.initSystem];
  const wait = ready
    ? `
if [ -n "$acted" ] && [ -n "$before" ]; then
  ${waitFor(ready.probe, ready.timeoutSeconds).replace(/\n/g, "\n  ")}
fi`
    : "";
  const body = `if ! ${init.installed(svc)}; then echo "${svc} is not installed; install its package first" >&2; exit 1; fi
own service ${svc}
${init.enable(svc)}
want=${configDigest}
stamp="$STATE/services/${svc}"
pending="$STATE/pending/${svc}"
before=$(cat "$stamp" 2>/dev/null || true)
acted=""
if ${init.running(svc)}; then
  if [ "$before" = "$want" ] && [ ! -e "$pending" ]; then
    echo "${svc} already running with this config"
  else
    ${init.restart(svc)}; echo "restarted ${svc} (config ${configDigest})"; acted=restarted
  fi
else
  ${init.start(svc)}; echo "started ${svc} (config ${configDigest})"; acted=started
fi
mkdir -p "$(dirname "$stamp")"
printf '%s\\n' "$want" > "$stamp"
rm -f "$pending"${wait}`;
  return { create: body, delete: owning(svc, disableBody(svc, options)) };
}

/** `body`, run only when this step still owns the service `svc`; it then gives the service up. */
function owning(svc: string, body: string): string {
  return `owned service ${svc} || exit 0
${body}
disown service ${svc}`;
}

/**
 * Keep `svc` stopped and from starting at boot (a service this role must not run). A service that is not
 * installed is reported and the step succeeds. Delete lets it start at boot again, without starting it,
 * when this step still owns it.
 */
export function serviceDisabledPart(svc: string, options: ServiceOptions): ScriptPart {
  const init = INIT_COMMANDS[options.initSystem];
  const allow = `if ${init.installed(svc)} || ${init.disablesAbsent}; then
${init.enable(svc)}
fi
if [ "$changed" -eq 0 ]; then echo "${svc} already allowed to start; nothing changed"; fi`;
  return { create: `own service ${svc}\n${disableBody(svc, options)}`, delete: owning(svc, allow) };
}

/** A shell condition: `svc` runs. */
export function serviceRunning(svc: string, options: ServiceOptions): string {
  return INIT_COMMANDS[options.initSystem].running(svc);
}

/** Stop `svc` when it runs (before work on its data); its service part starts it again. */
export function stopIfRunning(svc: string, options: ServiceOptions, why: string): string {
  const init = INIT_COMMANDS[options.initSystem];
  return `if ${init.running(svc)}; then ${init.stop(svc)}; echo "stopped ${svc} ${why}"; fi`;
}
