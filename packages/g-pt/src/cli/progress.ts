// A progress display for long commands (`gpt data`, `gpt train`, ...). It never owns the
// work: the command feeds it what the API's progress events say (done, total, a short
// text such as "loss 0.123") and it draws. On a terminal it redraws one line in place
// (bar, done/total, rate, ETA, text); when the output is a file or a pipe (CI logs,
// `| tee`) it prints a plain line now and then instead, so logs stay readable.
// The formatting functions are pure and exported, so they are tested without a terminal.
// abortOnSigint is the other half of a long command's terminal manners: Ctrl-C aborts the
// work through an AbortSignal (so it can stop cleanly and say how to resume).

/** Where the display writes: process.stderr by default; tests pass their own. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** The unit time of the rate: "12.3/s", "45/min" or "3,210/h". */
export type RateUnit = 's' | 'min' | 'h';

export interface ProgressOptions {
  /** Shown first on the line, e.g. "runs" or "train". */
  readonly label?: string;
  readonly total: number;
  /** Work already done before this process started (resumed runs): not counted in the rate. */
  readonly initialDone?: number;
  readonly rateUnit?: RateUnit;
  readonly stream?: ProgressStream;
  /** Redraw (or print) even when the stream is not a TTY / is one. Default: stream.isTTY. */
  readonly tty?: boolean;
  /** Minimum time between two redraws on a terminal (default 100 ms). */
  readonly redrawMs?: number;
  /** Time between two plain lines when not a terminal (default 10 s). */
  readonly lineMs?: number;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

export interface ProgressUpdate {
  readonly done: number;
  /** A changed total (e.g. known only after a scan). */
  readonly total?: number;
  /** Free text after the numbers, e.g. "loss 0.123". */
  readonly text?: string;
  /** Rate in items per second, when the caller measures it better (default: since start). */
  readonly ratePerSecond?: number;
  /** Seconds left, when the caller knows better (default: from the rate). */
  readonly etaSeconds?: number;
}

/** What one line shows; the input of formatProgressLine. */
export interface ProgressLine {
  readonly label?: string;
  readonly done: number;
  readonly total: number;
  readonly ratePerSecond: number | undefined;
  readonly rateUnit: RateUnit;
  readonly etaSeconds: number | undefined;
  readonly elapsedSeconds: number;
  readonly text?: string;
}

const RATE_SCALE: Record<RateUnit, number> = { s: 1, min: 60, h: 3600 };

/** "1:02:03", "2:03", "0:05"; "--:--" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** "12.3/s", "3,210/h": three significant digits below 100, whole numbers with separators above. */
export function formatRate(perSecond: number | undefined, unit: RateUnit = 's'): string {
  if (perSecond === undefined || !Number.isFinite(perSecond) || perSecond < 0) return `?/${unit}`;
  const value = perSecond * RATE_SCALE[unit];
  const text = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
  return `${text}/${unit}`;
}

/** A bar of `width` cells, e.g. "[#####.....]"; fraction clamped to [0, 1]. */
export function formatBar(fraction: number, width: number): string {
  const inner = Math.max(0, width - 2);
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * inner);
  return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}]`;
}

/** Seconds left at `ratePerSecond` for the work not yet done; undefined while unknown. */
export function estimateEta(done: number, total: number, ratePerSecond: number | undefined): number | undefined {
  if (done >= total) return 0;
  if (ratePerSecond === undefined || !(ratePerSecond > 0)) return undefined;
  return (total - done) / ratePerSecond;
}

/** The numbers part: "label 12/100 (12%) 3.4/s eta 0:26 elapsed 0:04 text". */
export function formatProgressText(line: ProgressLine): string {
  const percent = line.total > 0 ? Math.floor((100 * line.done) / line.total) : 100;
  const parts = [
    ...(line.label ? [line.label] : []),
    `${line.done}/${line.total} (${percent}%)`,
    formatRate(line.ratePerSecond, line.rateUnit),
    line.done >= line.total ? `took ${formatDuration(line.elapsedSeconds)}` : `eta ${formatDuration(line.etaSeconds)}`,
    ...(line.text ? [line.text] : []),
  ];
  return parts.join(' ');
}

/**
 * The terminal line: a bar sized to what `columns` leaves after the numbers (no bar when
 * fewer than 12 cells remain), and the line cut to `columns`.
 */
export function formatProgressLine(line: ProgressLine, columns = 80): string {
  const text = formatProgressText(line);
  const barWidth = Math.min(40, columns - text.length - 2);
  const fraction = line.total > 0 ? line.done / line.total : 1;
  const full = barWidth >= 12 ? `${formatBar(fraction, barWidth)} ${text}` : text;
  return full.length > columns - 1 ? full.slice(0, Math.max(0, columns - 1)) : full;
}

/** Draws progress on a terminal, or prints plain periodic lines elsewhere. */
export class ProgressDisplay {
  private total: number;
  private done: number;
  private text: string | undefined;
  private ratePerSecond: number | undefined;
  private etaSeconds: number | undefined;
  private readonly initialDone: number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private finished = false;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    this.total = options.total;
    this.initialDone = options.initialDone ?? 0;
    this.done = this.initialDone;
  }

  /** The line as it would be drawn now (without the bar when not a terminal). */
  current(): ProgressLine {
    const elapsedSeconds = (this.now() - this.started) / 1000;
    const measured = elapsedSeconds > 0 && this.done > this.initialDone ? (this.done - this.initialDone) / elapsedSeconds : undefined;
    const ratePerSecond = this.ratePerSecond ?? measured;
    return {
      label: this.options.label,
      done: this.done,
      total: this.total,
      ratePerSecond,
      rateUnit: this.options.rateUnit ?? 's',
      etaSeconds: this.etaSeconds ?? estimateEta(this.done, this.total, ratePerSecond),
      elapsedSeconds,
      text: this.text,
    };
  }

  update(update: ProgressUpdate): void {
    if (this.finished) return;
    this.done = update.done;
    if (update.total !== undefined) this.total = update.total;
    if (update.text !== undefined) this.text = update.text;
    if (update.ratePerSecond !== undefined) this.ratePerSecond = update.ratePerSecond;
    this.etaSeconds = update.etaSeconds;
    const now = this.now();
    const interval = this.tty ? (this.options.redrawMs ?? 100) : (this.options.lineMs ?? 10_000);
    if (now - this.lastDraw >= interval) this.draw(now);
  }

  /** Prints a whole line (a warning, a result) without breaking the bar. */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    if (this.tty && this.drawn && !this.finished) this.draw(this.now());
  }

  /** Draws the last state and ends the line; later updates are ignored. */
  finish(text?: string): void {
    if (this.finished) return;
    if (text !== undefined) this.text = text;
    this.draw(this.now());
    if (this.tty) this.stream.write('\n');
    this.finished = true;
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const line = this.current();
    if (this.tty) {
      const columns = this.stream.columns || 80; // 0 or absent when the terminal does not say
      this.stream.write(`\r${formatProgressLine(line, columns)}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`${formatProgressText(line)}\n`);
    }
  }
}

/**
 * Ctrl-C as an AbortSignal for a long command: the first SIGINT aborts `signal` (the
 * command stops cleanly and can say how to resume); a second one exits at once with code
 * 130. `dispose()` removes the handler.
 */
export function abortOnSigint(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: do not wait
    controller.abort(new Error('interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
