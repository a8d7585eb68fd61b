/**
 * Readiness gates: bounded waits that fail with a clear message. They use bash's /dev/tcp and coreutils'
 * `timeout`, present on a minimal Ubuntu 14.04 and a minimal Debian 12 (no curl or nc assumed).
 */
import { bashCommand, shellQuote, type HostStep } from "./shell";

/** Seconds one probe may take. */
const PROBE_TIMEOUT = 5;
/** Seconds between probes. */
const PROBE_INTERVAL = 0.5;

interface Probe {
  /** What is waited for, for messages: e.g. `ZooKeeper 10.10.20.11:2181`. */
  readonly what: string;
  /** bash that writes a request to fd 3 (connected to the endpoint); the answer is read from fd 3. */
  readonly request: string;
  /** An extended regular expression the answer must match. */
  readonly expect: string;
  /** What the expression means, for messages. */
  readonly expectation: string;
}

function waitStep(ip: string, port: number, probe: Probe, timeoutSeconds: number): HostStep {
  const connect = `exec 3<>/dev/tcp/${ip}/${port} && ${probe.request} && cat <&3`;
  const script = `set -u
deadline=$(( $(date +%s) + ${timeoutSeconds} ))
while :; do
  answer=$(timeout ${PROBE_TIMEOUT} bash -c ${shellQuote(connect)} 2>/dev/null || true)
  if printf '%s\\n' "$answer" | grep -Eq ${shellQuote(probe.expect)}; then
    echo "${probe.what} ready: $(printf '%s\\n' "$answer" | grep -Eo ${shellQuote(probe.expect)} | head -n 1)"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "timeout after ${timeoutSeconds}s waiting for ${probe.what}: expected ${probe.expectation}; last answer: $(printf '%s' "$answer" | head -n 1)" >&2
    exit 1
  fi
  sleep ${PROBE_INTERVAL}
done`;
  // Probes only open TCP connections, so they run as the SSH user.
  return { create: bashCommand(script, false), logging: "stdoutAndStderr", addPreviousOutputInEnv: false };
}

function httpGet(path: string, ip: string, port: number): string {
  return `printf 'GET ${path} HTTP/1.0\\r\\nHost: ${ip}:${port}\\r\\n\\r\\n' >&3`;
}

/** The ZooKeeper member answers `srvr` with a serving mode, i.e. the ensemble has a quorum. */
export function zooKeeperReadyStep(ip: string, clientPort: number, timeoutSeconds: number): HostStep {
  return waitStep(
    ip,
    clientPort,
    {
      what: `ZooKeeper ${ip}:${clientPort}`,
      request: "printf srvr >&3",
      expect: "Mode: (leader|follower|standalone)",
      expectation: "'srvr' to report Mode: leader, follower or standalone",
    },
    timeoutSeconds,
  );
}

/** The Mesos master knows an elected leader: `/redirect` answers 307 (503 while none is elected). */
export function mesosMasterElectedStep(ip: string, port: number, timeoutSeconds: number): HostStep {
  return waitStep(
    ip,
    port,
    {
      what: `Mesos master ${ip}:${port}`,
      request: httpGet("/redirect", ip, port),
      expect: "^HTTP/1\\.[01] 307",
      expectation: "/redirect to answer 307 (a leading master is elected)",
    },
    timeoutSeconds,
  );
}

/** Marathon answers `/ping` with 200. */
export function marathonPingStep(ip: string, port: number, timeoutSeconds: number): HostStep {
  return waitStep(
    ip,
    port,
    {
      what: `Marathon ${ip}:${port}`,
      request: httpGet("/ping", ip, port),
      expect: "^HTTP/1\\.[01] 200",
      expectation: "/ping to answer 200",
    },
    timeoutSeconds,
  );
}
