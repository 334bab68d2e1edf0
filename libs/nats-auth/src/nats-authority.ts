import { encodeAccount, encodeOperator, type Account } from '@nats-io/jwt';
import { createAccount, createOperator, type KeyPair } from '@nats-io/nkeys';
import { keyPairFromSeed, seedText } from './nkey-text.js';
import { DEFAULT_SUBJECT_PREFIX } from './subject-permissions.js';

export interface NkeyText {
  publicKey: string;
  seed: string;
}

/** The user public key -> unix seconds: user JWTs of that key issued at or before it are refused. */
export type RevocationList = Record<string, number>;

/**
 * Everything needed to mint and revoke NATS credentials for one deployment. It holds seeds, so the
 * file it is saved to is a secret (mode 0600). The account JWTs inside are the current ones: after
 * a revocation the caller saves the new authority and pushes `account.jwt` to the servers.
 */
export interface NatsAuthority {
  kind: 'agentos-nats-authority';
  version: 1;
  subjectPrefix: string;
  /** Self-signed root of trust; nats-server is configured with its JWT (`operator:`). */
  operator: NkeyText & { name: string; jwt: string };
  /** The system account: its users may push account JWTs on `$SYS.REQ.CLAIMS.UPDATE`. */
  system: NkeyText & { name: string; jwt: string };
  /**
   * The application account every agent, tool and service lives in. Its identity seed is not
   * kept: the operator signs the account JWT and a separate signing key signs users, so rotating
   * a leaked signing key is an account JWT update, not a new account.
   */
  account: { name: string; publicKey: string; signingKey: NkeyText; jwt: string; revocations: RevocationList };
}

export interface CreateAuthorityOptions {
  subjectPrefix?: string;
  operatorName?: string;
}

export const APPLICATION_ACCOUNT = 'AGENTOS';
export const SYSTEM_ACCOUNT = 'SYS';

// No account-level caps: -1 is "unlimited" to nats-server, while a missing field would decode as 0.
const UNLIMITED: Account['limits'] = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

const text = (kp: KeyPair): NkeyText => ({ publicKey: kp.getPublicKey(), seed: seedText(kp) });

/** A new operator, system account and application account, with fresh keys. */
export async function createAuthority(o: CreateAuthorityOptions = {}): Promise<NatsAuthority> {
  const operator = createOperator();
  const sys = createAccount();
  const app = createAccount();
  const signing = createAccount();
  const operatorName = o.operatorName ?? 'agentos';
  const operatorJwt = await encodeOperator(operatorName, operator, { system_account: sys.getPublicKey() });
  const sysJwt = await encodeAccount(SYSTEM_ACCOUNT, sys.getPublicKey(), { limits: UNLIMITED }, { signer: operator });
  const account = {
    name: APPLICATION_ACCOUNT,
    publicKey: app.getPublicKey(),
    signingKey: text(signing),
    jwt: '',
    revocations: {},
  };
  const authority: NatsAuthority = {
    kind: 'agentos-nats-authority',
    version: 1,
    subjectPrefix: o.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
    operator: { name: operatorName, ...text(operator), jwt: operatorJwt },
    system: { name: SYSTEM_ACCOUNT, ...text(sys), jwt: sysJwt },
    account,
  };
  app.clear();
  account.jwt = await encodeApplicationAccount(authority, {});
  return authority;
}

/**
 * The application account JWT for the given revocation list, signed by the operator. Always built
 * from the authority (never by editing a decoded JWT), so every update carries the same signing
 * key and limits.
 */
export async function encodeApplicationAccount(a: NatsAuthority, revocations: RevocationList): Promise<string> {
  const claims: Partial<Account> = { signing_keys: [a.account.signingKey.publicKey], limits: UNLIMITED };
  if (Object.keys(revocations).length > 0) claims.revocations = revocations;
  return encodeAccount(a.account.name, a.account.publicKey, claims, { signer: keyPairFromSeed(a.operator.seed) });
}

export function authorityToJson(a: NatsAuthority): string {
  return JSON.stringify(a, null, 2) + '\n';
}

/** Parses and checks an authority file: the keys must be the ones the JWTs name. */
export function authorityFromJson(json: string): NatsAuthority {
  const a = JSON.parse(json) as NatsAuthority;
  if (a?.kind !== 'agentos-nats-authority' || a.version !== 1) throw new Error('not an agentos NATS authority file');
  const check = (what: string, k: NkeyText) => {
    if (keyPairFromSeed(k.seed).getPublicKey() !== k.publicKey)
      throw new Error(`${what}: seed does not match its public key`);
  };
  check('operator', a.operator);
  check('system account', a.system);
  check('account signing key', a.account.signingKey);
  if (typeof a.account.jwt !== 'string' || typeof a.account.revocations !== 'object' || !a.subjectPrefix) {
    throw new Error('authority file is incomplete');
  }
  return a;
}
