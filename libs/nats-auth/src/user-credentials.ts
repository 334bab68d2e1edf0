import { encodeUser, fmtCreds, type Permission, type User } from '@nats-io/jwt';
import { createUser } from '@nats-io/nkeys';
import type { NatsAuthority } from './nats-authority.js';
import { keyPairFromSeed, seedText } from './nkey-text.js';
import { permissionsFor, roleLabel, type NatsRole, type SubjectPermissions } from './subject-permissions.js';

export interface UserCredentials {
  /** The user's NKey (`U...`): what a revocation names, so keep it with the agent's record. */
  publicKey: string;
  jwt: string;
  seed: string;
  /** The standard `.creds` file text (JWT and seed), for `credsAuthenticator` or `nats --creds`. */
  creds: string;
}

export interface MintOptions {
  /** Seconds from now after which the server refuses (and disconnects) the user; default never. */
  expiresInSeconds?: number;
  /** Unix seconds "now" (tests); default the clock. */
  now?: number;
  /** How long a received request may still be answered; default nats-server's (2 minutes). */
  responseTtlMs?: number;
}

/**
 * Maps our permissions onto user JWT claims. In a JWT an empty allow list means "everything", so
 * "nothing" must be said with a deny of `>`; replies stay possible through `resp`.
 */
export function userClaims(p: SubjectPermissions, o: Pick<MintOptions, 'responseTtlMs'> = {}): Partial<User> {
  const side = (xs: string[]): Partial<Permission> => (xs.length > 0 ? { allow: xs } : { deny: ['>'] });
  const claims: Partial<User> = { pub: side(p.pub), sub: side(p.sub) };
  // max 1: one reply per request; ttl in nanoseconds (Go time.Duration), 0 = the server default.
  if (p.allowResponses) claims.resp = { max: 1, ttl: (o.responseTtlMs ?? 0) * 1_000_000 };
  return claims;
}

/** A new user of the application account for a role, signed by the account's signing key. */
export async function mintUser(a: NatsAuthority, role: NatsRole, o: MintOptions = {}): Promise<UserCredentials> {
  const claims = userClaims(permissionsFor(role, { subjectPrefix: a.subjectPrefix }), o);
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const opts = { signer: keyPairFromSeed(a.account.signingKey.seed), ...expiry(now, o.expiresInSeconds) };
  return sign(roleLabel(role), a.account.publicKey, claims, opts);
}

/**
 * A user of the system account, for pushing account JWTs (and monitoring). Signed by the system
 * account's own key; no subject limits, so treat its creds like the authority itself.
 */
export async function mintSystemUser(a: NatsAuthority, o: MintOptions = {}): Promise<UserCredentials> {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  return sign('sys', keyPairFromSeed(a.system.seed), {}, expiry(now, o.expiresInSeconds));
}

const expiry = (now: number, seconds?: number) => (seconds === undefined ? {} : { exp: now + seconds });

async function sign(
  name: string,
  issuer: string | ReturnType<typeof keyPairFromSeed>,
  claims: Partial<User>,
  opts: Parameters<typeof encodeUser>[4],
): Promise<UserCredentials> {
  const user = createUser();
  const jwt = await encodeUser(name, user, issuer, claims, opts);
  const creds = new TextDecoder().decode(fmtCreds(jwt, user));
  return { publicKey: user.getPublicKey(), jwt, seed: seedText(user), creds };
}
