import Table from 'cli-table3';

/** Tables and sentences for people; one JSON document (or JSON lines) with --json for scripts. */
export class CliOutput {
  json = false;

  result(data: unknown, human: string | (() => void)): void {
    if (this.json) {
      process.stdout.write(JSON.stringify(data) + '\n');
    } else if (typeof human === 'string') {
      process.stdout.write(human + '\n');
    } else {
      human();
    }
  }

  table(head: string[], rows: (string | number | boolean | null | undefined)[][]): void {
    const tty = Boolean(process.stdout.isTTY);
    const t = new Table({ head, style: { head: tty ? ['cyan'] : [], border: tty ? ['grey'] : [] } });
    for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
    process.stdout.write(t.toString() + '\n');
  }

  /** Progress on stderr, so stdout stays clean for the result. */
  progress(line: string): void {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(line + '\n');
  }

  progressDone(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
