// Progress for long loops: a redrawn bar with rate and ETA on a TTY, a plain line every `intervalMs`
// otherwise (CI logs, files). Writes to stderr so stdout stays clean for data. Not a logger.

export interface ProgressOptions {
  label: string;
  total: number;
  /** units already done before this process started (a resumed run): shown, but not counted in the rate */
  initial?: number;
  unit?: string; // what `tick` counts, e.g. "tok"
  intervalMs?: number; // plain-mode period
  stream?: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown };
  now?: () => number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export class Progress {
  private done: number;
  private readonly start: number;
  private lastPrint = -Infinity;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private extra = '';

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.done = opts.initial ?? 0;
  }

  /**
   * Count `n` more units done; `info` (such as "loss 3.21") is shown beside the bar. The count stops at the total (a
   * last piece that passes it, as a goal met by whole samples, reads as done, not past 100 %); the line that reaches
   * the total is printed at once, once.
   */
  tick(n = 1, info?: string): void {
    const before = this.done;
    this.done = Math.min(this.opts.total, this.done + n);
    if (info !== undefined) this.extra = info;
    const t = this.now();
    const tty = Boolean(this.stream.isTTY);
    const period = tty ? 100 : (this.opts.intervalMs ?? 10000);
    const finished = before < this.opts.total && this.done >= this.opts.total;
    if (t - this.lastPrint >= period || finished) {
      this.lastPrint = t;
      this.stream.write(this.render(t, tty));
    }
  }

  /** The current line, exposed for tests. */
  render(t = this.now(), tty = false): string {
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? (this.done - (this.opts.initial ?? 0)) / elapsed : 0;
    const eta = rate > 0 ? (this.opts.total - this.done) / rate : Infinity;
    const frac = this.opts.total > 0 ? Math.min(1, this.done / this.opts.total) : 1;
    const unit = this.opts.unit ?? 'it';
    const stats = `${this.done}/${this.opts.total} ${rate.toFixed(1)} ${unit}/s eta ${formatDuration(eta)}${this.extra ? ' ' + this.extra : ''}`;
    if (!tty) return `${this.opts.label}: ${(frac * 100).toFixed(1)}% ${stats}\n`;
    const width = 24;
    const filled = Math.round(frac * width);
    return `\r${this.opts.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}\x1b[K${frac >= 1 ? '\n' : ''}`;
  }
}
