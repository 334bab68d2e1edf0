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
    const t = new Table({
      head,
      style: { head: tty ? ['cyan'] : [], border: tty ? ['grey'] : [] },
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
    process.stdout.write(t.toString() + '\n');
  }

  /** Progress on stderr, so stdout stays clean for the result. */
  progress(line: string): void {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(line + '\n');
  }

  /** A progress bar on stderr, redrawn at most a few times a second. */
  progressBar(label: string, done: number, total: number, startedAt: number): void {
    const now = performance.now();
    if (done < total && now - this.lastBar < 200) return;
    this.lastBar = now;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    const rate = Math.round(done / Math.max(0.001, (now - startedAt) / 1000));
    this.progress(
      `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${rate.toLocaleString('en-US')}/s)`,
    );
  }

  private lastBar = 0;

  progressDone(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
