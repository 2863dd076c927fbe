import { describe, expect, it } from 'vitest';
import {
  ProgressDisplay,
  estimateEta,
  formatBar,
  formatDuration,
  formatProgressLine,
  formatProgressText,
  formatRate,
  type ProgressLine,
} from '../src/cli/progress.js';

describe('progress formatting', () => {
  it('formats durations as m:ss or h:mm:ss, unknown as --:--', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(5.4)).toBe('0:05');
    expect(formatDuration(123)).toBe('2:03');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(undefined)).toBe('--:--');
    expect(formatDuration(Infinity)).toBe('--:--');
    expect(formatDuration(-1)).toBe('--:--');
  });

  it('formats rates in the asked unit', () => {
    expect(formatRate(12.345)).toBe('12.3/s');
    expect(formatRate(1, 'h')).toBe('3,600/h');
    expect(formatRate(0.5, 'min')).toBe('30.0/min');
    expect(formatRate(undefined, 'h')).toBe('?/h');
  });

  it('draws bars of the asked width', () => {
    expect(formatBar(0, 12)).toBe('[..........]');
    expect(formatBar(0.5, 12)).toBe('[#####.....]');
    expect(formatBar(2, 6)).toBe('[####]');
    expect(formatBar(NaN, 4)).toBe('[..]');
  });

  it('estimates the time left from the rate', () => {
    expect(estimateEta(10, 100, 2)).toBe(45);
    expect(estimateEta(100, 100, undefined)).toBe(0);
    expect(estimateEta(10, 100, 0)).toBeUndefined();
  });

  const line: ProgressLine = { label: 'runs', done: 25, total: 100, ratePerSecond: 0.5, rateUnit: 'h', etaSeconds: 150, elapsedSeconds: 50, text: 'loss 0.123' };

  it('writes done/total, percent, rate, eta and the text', () => {
    expect(formatProgressText(line)).toBe('runs 25/100 (25%) 1,800/h eta 2:30 loss 0.123');
    expect(formatProgressText({ ...line, done: 100 })).toBe('runs 100/100 (100%) 1,800/h took 0:50 loss 0.123');
  });

  it('puts a bar in front when the terminal is wide enough, and cuts to its width', () => {
    const wide = formatProgressLine(line, 100);
    expect(wide).toMatch(/^\[#+\.+\] runs 25\/100/);
    expect(wide.length).toBeLessThan(100);
    const narrow = formatProgressLine(line, 30);
    expect(narrow).toBe(formatProgressText(line).slice(0, 29));
  });
});

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (t: string) => writes.push(t) } };
}

describe('ProgressDisplay', () => {
  it('redraws one line in place on a terminal, throttled, and ends it on finish', () => {
    let now = 0;
    const { writes, stream } = recorder(true);
    const display = new ProgressDisplay({ label: 'runs', total: 4, stream, now: () => now, redrawMs: 100 });
    now = 1000;
    display.update({ done: 1 });
    now = 1050;
    display.update({ done: 2 }); // within 100 ms: not drawn
    now = 2000;
    display.log('a warning');
    display.update({ done: 3, text: 'loss 0.5' }); // within 100 ms of the redraw after the log: drawn by finish
    display.finish();
    display.update({ done: 4 }); // after finish: ignored
    expect(writes[0]).toMatch(/^\r\[#+\.+\] runs 1\/4 \(25%\) 1\.00\/s eta 0:03\x1b\[K$/);
    expect(writes[1]).toBe('\r\x1b[K');
    expect(writes[2]).toBe('a warning\n');
    expect(writes[3]).toContain('runs 2/4');
    expect(writes[4]).toContain('runs 3/4 (75%) 1.50/s eta 0:01 loss 0.5');
    expect(writes.at(-1)).toBe('\n');
    expect(writes).toHaveLength(6);
  });

  it('prints plain lines every lineMs when not a terminal, rate counted from initialDone', () => {
    let now = 0;
    const { writes, stream } = recorder(false);
    const display = new ProgressDisplay({ label: 'runs', total: 20, initialDone: 10, rateUnit: 'h', stream, now: () => now, lineMs: 10_000 });
    now = 3600_000;
    display.update({ done: 11 });
    now = 3605_000;
    display.update({ done: 12 });
    now = 7200_000;
    display.update({ done: 15 });
    display.finish('done');
    expect(writes).toEqual([
      'runs 11/20 (55%) 1.00/h eta 9:00:00\n',
      'runs 15/20 (75%) 2.50/h eta 2:00:00\n',
      'runs 15/20 (75%) 2.50/h eta 2:00:00 done\n',
    ]);
    expect(writes.every((w) => !w.includes('\r') && !w.includes('\x1b'))).toBe(true);
  });

  it('uses the rate and eta the caller measured', () => {
    const { writes, stream } = recorder(false);
    const display = new ProgressDisplay({ total: 10, stream, now: () => 0, rateUnit: 'h' });
    display.update({ done: 2, ratePerSecond: 1, etaSeconds: 8 });
    expect(writes).toEqual(['2/10 (20%) 3,600/h eta 0:08\n']);
  });
});
