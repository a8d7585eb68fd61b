/**
 * Readiness probes and the bounded waits built on them: a gate step of its own, or the wait a service
 * part runs after it restarted a service (rolling changes). They use bash's /dev/tcp and coreutils'
 * `timeout`, present on a minimal Ubuntu 14.04 and a minimal Debian 12 (no curl or nc assumed).
 */
import { bashCommand, shellQuote, type HostStep } from "./shell";

/** Seconds one probe may take. */
const PROBE_TIMEOUT = 5;
/** Seconds between probes. */
const PROBE_INTERVAL = 0.5;

/** What a wait asks an endpoint, and the answer it waits for. */
export interface Probe {
  /** What is waited for, for messages: e.g. `ZooKeeper 10.10.20.11:2181`. */
  readonly what: string;
  readonly ip: string;
  readonly port: number;
  /** bash that writes a request to fd 3 (connected to the endpoint); the answer is read from fd 3. */
  readonly request: string;
  /** An extended regular expression the answer must match. */
  readonly expect: string;
  /** What the expression means, for messages. */
  readonly expectation: string;
}

/**
 * bash that probes until the answer matches, then goes on; after `timeoutSeconds` it fails the script
 * with a message naming what it waited for and the last answer.
 */
export function waitFor(probe: Probe, timeoutSeconds: number): string {
  const connect = `exec 3<>/dev/tcp/${probe.ip}/${probe.port} && ${probe.request} && cat <&3`;
  return `deadline=$(( $(date +%s) + ${timeoutSeconds} ))
while :; do
  answer=$(timeout ${PROBE_TIMEOUT} bash -c ${shellQuote(connect)} 2>/dev/null || true)
  if printf '%s\\n' "$answer" | grep -Eq ${shellQuote(probe.expect)}; then
    echo "${probe.what} ready: $(printf '%s\\n' "$answer" | grep -Eo ${shellQuote(probe.expect)} | head -n 1)"
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "timeout after ${timeoutSeconds}s waiting for ${probe.what}: expected ${probe.expectation}; last answer: $(printf '%s' "$answer" | head -n 1)" >&2
    exit 1
  fi
  sleep ${PROBE_INTERVAL}
done`;
}

/** A gate: a step that only waits for `probe`. `converge`, when set, is a no-op line of its script. */
export function gateStep(probe: Probe, timeoutSeconds: number, converge?: string): HostStep {
  const stamp = converge ? `: converge ${shellQuote(converge)}\n` : "";
  // Probes only open TCP connections, so they run as the SSH user.
  return {
    create: bashCommand(`set -u\n${stamp}${waitFor(probe, timeoutSeconds)}`, false),
    logging: "stdoutAndStderr",
    addPreviousOutputInEnv: false,
  };
}

function httpGet(path: string, ip: string, port: number): string {
  return `printf 'GET ${path} HTTP/1.0\\r\\nHost: ${ip}:${port}\\r\\n\\r\\n' >&3`;
}

/** The ZooKeeper member answers `srvr` with a serving mode, i.e. it is part of a quorum. */
export function zooKeeperProbe(ip: string, clientPort: number): Probe {
  return {
    what: `ZooKeeper ${ip}:${clientPort}`,
    ip,
    port: clientPort,
    request: "printf srvr >&3",
    expect: "Mode: (leader|follower|standalone)",
    expectation: "'srvr' to report Mode: leader, follower or standalone",
  };
}

/** The Mesos master knows an elected leader: `/redirect` answers 307 (503 while none is elected). */
export function mesosElectedProbe(ip: string, port: number): Probe {
  return {
    what: `Mesos master ${ip}:${port}`,
    ip,
    port,
    request: httpGet("/redirect", ip, port),
    expect: "^HTTP/1\\.[01] 307",
    expectation: "/redirect to answer 307 (a leading master is elected)",
  };
}

/** Marathon answers `/ping` with 200. */
export function marathonPingProbe(ip: string, port: number): Probe {
  return {
    what: `Marathon ${ip}:${port}`,
    ip,
    port,
    request: httpGet("/ping", ip, port),
    expect: "^HTTP/1\\.[01] 200",
    expectation: "/ping to answer 200",
  };
}

/** The Mesos agent serves `/state` (it recovered, or registered afresh). */
export function agentStateProbe(ip: string, port: number): Probe {
  return {
    what: `Mesos agent ${ip}:${port}`,
    ip,
    port,
    request: httpGet("/state", ip, port),
    expect: "^HTTP/1\\.[01] 200",
    expectation: "/state to answer 200",
  };
}

/** Gate: the ZooKeeper member serves inside a quorum. */
export function zooKeeperReadyStep(
  ip: string,
  clientPort: number,
  timeoutSeconds: number,
  converge?: string,
): HostStep {
  return gateStep(zooKeeperProbe(ip, clientPort), timeoutSeconds, converge);
}

/** Gate: this Mesos master sees an elected leader. */
export function mesosMasterElectedStep(
  ip: string,
  port: number,
  timeoutSeconds: number,
  converge?: string,
): HostStep {
  return gateStep(mesosElectedProbe(ip, port), timeoutSeconds, converge);
}

/** Gate: Marathon on this master answers `/ping`. */
export function marathonPingStep(
  ip: string,
  port: number,
  timeoutSeconds: number,
  converge?: string,
): HostStep {
  return gateStep(marathonPingProbe(ip, port), timeoutSeconds, converge);
}
