import { decode, type Account } from '@nats-io/jwt';
import { RequestError, TimeoutError, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { encodeApplicationAccount, type NatsAuthority, type RevocationList } from './nats-authority.js';

export interface RevokeOptions {
  /** Unix seconds of the revocation; default now. Every JWT of the key issued at or before it is refused. */
  at?: number;
  /**
   * Drop revocations made before this time (unix seconds). Safe only once every user JWT issued
   * before it has expired (mint with `expiresInSeconds`); keeps the account JWT from growing
   * without bound in a long-lived fleet.
   */
  forgetBefore?: number;
}

/**
 * A new authority whose application account JWT revokes the given user keys. Pure: nothing is
 * sent; push `next.account.jwt` with pushAccountJwt, then persist `next` (in that order, so a
 * failed push is retried from the old state rather than forgotten).
 */
export async function revokeUsers(
  a: NatsAuthority,
  userPublicKeys: string[],
  o: RevokeOptions = {},
): Promise<NatsAuthority> {
  const at = o.at ?? Math.floor(Date.now() / 1000);
  const revocations: RevocationList = {};
  for (const [k, t] of Object.entries(a.account.revocations)) {
    if (o.forgetBefore === undefined || t >= o.forgetBefore) revocations[k] = t;
  }
  for (const k of userPublicKeys) {
    if (!/^U[A-Z2-7]{55}$/.test(k)) throw new Error(`not a user public key: ${k}`);
    revocations[k] = Math.max(at, revocations[k] ?? 0);
  }
  const jwt = await encodeApplicationAccount(a, revocations);
  return { ...a, account: { ...a.account, revocations, jwt } };
}

/** The subject on which a system-account user updates an account JWT on every server of the cluster. */
export const CLAIMS_UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE';

interface ClaimsUpdateReply {
  data?: { account?: string; code?: number; message?: string };
  error?: { account?: string; code?: number; description?: string };
}

export interface PushOptions {
  /** Per attempt; default 5000. */
  timeoutMs?: number;
  /**
   * Attempts when the server does not answer (default 3). Pushing the same JWT again is harmless,
   * and a request sent while the connection was reconnecting can be lost.
   */
  attempts?: number;
  /**
   * The operator that must have signed the JWT (NatsAuthority.operator.publicKey); checked here
   * before sending, because nats-server 2.9's full resolver stores an account JWT from an unknown
   * issuer (answering "jwt updated") and only declines to apply it, which would break the
   * account at the next restart.
   */
  operatorPublicKey?: string;
}

/**
 * Sends an account JWT to the NATS resolver (no restart, no reconfiguration): the server stores it
 * and applies it at once, closing connections of newly revoked users. `nc` must be a connection
 * of a system-account user (mintSystemUser). Throws with the server's message if it refused.
 * With a cluster, each server answers; the first answer is checked.
 */
export async function pushAccountJwt(nc: NatsConnection, accountJwt: string, o: PushOptions = {}): Promise<void> {
  if (o.operatorPublicKey !== undefined) {
    const c = decode<Account>(accountJwt); // verifies the signature
    if (c.nats.type !== 'account') throw new Error(`not an account JWT (type ${String(c.nats.type)})`);
    if (c.iss !== o.operatorPublicKey) throw new Error(`account JWT signed by ${c.iss}, not by the operator`);
  }
  const msg = await requestWithRetries(nc, accountJwt, o.timeoutMs ?? 5000, Math.max(1, o.attempts ?? 3));
  let reply: ClaimsUpdateReply;
  try {
    reply = JSON.parse(msg.string()) as ClaimsUpdateReply;
  } catch {
    throw new Error(`unexpected reply to ${CLAIMS_UPDATE_SUBJECT}: ${msg.string()}`);
  }
  if (reply.error) {
    throw new Error(`nats-server refused the account JWT: ${reply.error.description ?? JSON.stringify(reply.error)}`);
  }
  if (!reply.data || (reply.data.code !== undefined && reply.data.code !== 200)) {
    throw new Error(`unexpected reply to ${CLAIMS_UPDATE_SUBJECT}: ${msg.string()}`);
  }
}

async function requestWithRetries(
  nc: NatsConnection,
  payload: string,
  timeout: number,
  attempts: number,
): Promise<Msg> {
  for (let i = 1; ; i++) {
    try {
      return await nc.request(CLAIMS_UPDATE_SUBJECT, payload, { timeout });
    } catch (e) {
      const unanswered = e instanceof TimeoutError || (e instanceof RequestError && e.isNoResponders());
      if (!unanswered || i >= attempts) throw e;
    }
  }
}
