import { fromSeed, type KeyPair } from '@nats-io/nkeys';

/** NKey seeds travel as text (JSON files, .creds); the nkeys API speaks bytes. */
export function seedText(kp: KeyPair): string {
  return new TextDecoder().decode(kp.getSeed());
}

export function keyPairFromSeed(seed: string): KeyPair {
  return fromSeed(new TextEncoder().encode(seed));
}
