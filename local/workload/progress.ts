/** A progress bar on a terminal (cli-progress), periodic plain lines elsewhere (CI logs). */
import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(value: number, detail?: string): void;
  stop(): void;
}

export function consoleProgress(options: { tty?: boolean; write?: (line: string) => void } = {}): Progress {
  const write = options.write ?? ((line: string) => console.log(line));
  if (options.tty ?? Boolean(process.stdout.isTTY)) {
    const bar = new SingleBar(
      { format: '{label} [{bar}] {value}/{total} {detail}', hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
    return {
      start: (total, label) => bar.start(total, 0, { label, detail: '' }),
      update: (value, detail = '') => bar.update(value, { detail }),
      stop: () => bar.stop(),
    };
  }
  let total = 0;
  let label = '';
  let lastPrinted = 0;
  let last = -1;
  return {
    start: (t, l) => {
      total = t;
      label = l;
      lastPrinted = 0;
      last = -1;
    },
    update: (value, detail = '') => {
      // No terminal: one line every 2 s at most, and the final one.
      if (value === last || (Date.now() - lastPrinted < 2000 && value < total)) return;
      lastPrinted = Date.now();
      last = value;
      write(`${label}: ${value}/${total} ${detail}`.trimEnd());
    },
    stop: () => undefined,
  };
}

/** Progress that prints nothing (benchmarks, tests). */
export const silentProgress: Progress = {
  start: () => undefined,
  update: () => undefined,
  stop: () => undefined,
};
