/**
 * Secret canaries and the search for them, for every suite that audits where secrets end up (mocks,
 * the dynamic-provider host, and `pulumi stack export` in the engine suite). A canary is a realistic
 * secret holding a token unique to the run; `LeakAudit` searches text for each form a canary can take.
 */
import { randomBytes } from "node:crypto";
import { isSecretWrapper } from "./pulumi";

export interface Canary {
  /** What it is, e.g. "ssh private key". */
  readonly label: string;
  /** The secret as configured. */
  readonly value: string;
  /** Texts whose presence means the secret leaked: its unique token and its encodings. */
  readonly forms: readonly string[];
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const token = (prefix: string) => `${prefix}${randomBytes(8).toString("hex")}`;

/** An OpenSSH ed25519 private key text; one line of its body is a unique token. */
export function sshKeyCanary(): Canary {
  const marker = token("LeakCanarySshKey");
  const filler = (length: number) =>
    randomBytes(length).toString("base64").replace(/=+$/, "").slice(0, length);
  const lines = [
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    `QyNTUxOQAAACB${filler(57)}`,
    `${filler(70 - marker.length)}${marker}`,
    filler(70),
    `${filler(44)}AAAAEHVzZXJAbWVzb3MtY2x1c3RlcgECAwQFBg==`,
  ];
  const value = `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
  return { label: "ssh private key", value, forms: [marker, base64(value)] };
}

/** Marathon basic-auth credentials `user:password`; the password holds a unique token. */
export function marathonCredentialsCanary(user = "marathon-admin"): Canary & { password: string } {
  const marker = token("LeakCanaryMarathonPw");
  const password = `${marker}-S3cr3t!`;
  const value = `${user}:${password}`;
  // base64 of the whole value is what an `Authorization: Basic` header carries.
  return { label: "marathon password", value, password, forms: [marker, base64(value), base64(password)] };
}

/** JSON text of anything, with cycles and functions shown rather than failing. */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "function") return `[function ${v.name}]`;
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]";
        seen.add(v);
      }
      return v;
    }) ?? String(value)
  );
}

/** A value as stored in plain text: every secret-wrapped part replaced by a placeholder. */
export function plainPart(value: unknown): unknown {
  if (isSecretWrapper(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(plainPart);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainPart(v)]));
  }
  return value;
}

/** Whether `value` holds the canary in any of its forms. */
export function holds(value: unknown, canary: Canary): boolean {
  const text = textOf(value);
  return canary.forms.some((form) => text.includes(form));
}

/** Counts the places searched and records every canary found in one of them. */
export class LeakAudit {
  private searched = 0;
  private readonly found: string[] = [];

  constructor(private readonly canaries: readonly Canary[]) {}

  /** Searches `value` (text, or anything JSON-able) for every canary. */
  scan(where: string, value: unknown): void {
    this.searched++;
    for (const canary of this.canaries) {
      if (holds(value, canary)) this.found.push(`${canary.label} in ${where}`);
    }
  }

  /** How many places were searched. */
  get checks(): number {
    return this.searched;
  }

  /** `<label> in <where>` for each leak found. */
  get leaks(): readonly string[] {
    return this.found;
  }

  summary(): string {
    return `${this.searched} checks, ${this.found.length} leaks`;
  }
}
