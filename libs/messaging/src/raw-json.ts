/**
 * A reply that is already JSON text: the transport sends it as is. Replies built from stored
 * event text (reads, audit pages) use it, so no recorded value is parsed and serialised again,
 * which is faster and never overflows the stack on whatever depth a legacy event has.
 */
export class RawJson {
  constructor(readonly text: string) {}
}
