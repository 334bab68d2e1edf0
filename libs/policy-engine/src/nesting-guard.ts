import { CST, Lexer } from 'yaml';

/** Tokens the lexer emits that stand for no text (document and scalar markers, a flow error end). */
const MARKERS = new Set<string>([CST.DOCUMENT, CST.SCALAR, CST.FLOW_END]);

export interface NestingEstimate {
  depth: number;
  /** Offset in the text where that depth was reached. */
  offset: number;
}

/**
 * An estimate of how deeply a YAML or JSON text nests, taken with yaml's own lexer (which is
 * iterative) before anything is parsed. yaml's parser and composer recurse: a few hundred
 * levels overflow the stack, and two such documents in a row have aborted Node with a fatal
 * out-of-memory error inside V8's regex compiler, which no try/catch survives.
 *
 * Flow nesting is counted exactly from brackets. Block nesting is estimated from indentation
 * and the `-`, `?` and `:` indicators; zero-indented sequences are not counted, so it may be as
 * low as half the real depth. Callers compare it with a generous bound and leave the exact check
 * to the parsed value. Stops as soon as the depth passes `stopAbove`.
 */
export function estimateNesting(text: string, stopAbove = Number.POSITIVE_INFINITY): NestingEstimate {
  /** Columns where the block nodes enclosing the current position begin. */
  const columns: number[] = [];
  let flow = 0;
  let deepest: NestingEstimate = { depth: 0, offset: 0 };
  let offset = 0;
  let column = 0;
  let lineStart = true;
  /** Column of the node being written on this line (after the indentation or an indicator). */
  let nodeStart = -1;
  for (const token of new Lexer().lex(text)) {
    if (MARKERS.has(token)) continue;
    const here = offset;
    offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (newline >= 0) {
      // a newline, or a multi-line scalar / block scalar body: the next token's column starts over
      column = token.length - newline - 1;
      lineStart = token.slice(newline + 1).trim() === '';
      nodeStart = -1;
      continue;
    }
    const type = CST.tokenType(token);
    const at = column;
    column += token.length;
    if (type === 'space' || type === 'byte-order-mark' || type === 'comment') continue; // a comment closes nothing
    if (flow === 0) {
      if (lineStart) popFrom(columns, at);
      if (nodeStart < 0) nodeStart = at;
    }
    lineStart = false;
    switch (type) {
      case 'flow-map-start':
      case 'flow-seq-start':
        flow += 1;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        if (flow > 0) flow -= 1;
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        if (flow === 0) {
          popFrom(columns, at);
          columns.push(at);
          nodeStart = -1; // the item's own node begins after the indicator
        }
        break;
      case 'map-value-ind':
        if (flow === 0) {
          popFrom(columns, nodeStart);
          columns.push(nodeStart); // a mapping begins where its key does
          nodeStart = -1;
        }
        break;
    }
    const depth = columns.length + flow;
    if (depth > deepest.depth) {
      deepest = { depth, offset: here };
      if (depth > stopAbove) return deepest;
    }
  }
  return deepest;
}

/** Leaves the block levels that begin at or right of `column`: they are siblings, or closed. */
function popFrom(columns: number[], column: number): void {
  while (columns.length > 0 && columns[columns.length - 1] >= column) columns.pop();
}
