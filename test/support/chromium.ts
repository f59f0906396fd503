/**
 * Headless Chromium (the Debian `chromium` package) for screenshot tests: the flags keep it from
 * reaching the network or touching the user's profile.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The chromium binary, or undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/** Screenshots `file` (HTML or SVG) at the given window size into a PNG and returns its path. */
export async function screenshot(file: string, png: string, width = 1600, height = 1000): Promise<string> {
  const binary = chromiumPath();
  if (!binary) throw new Error('chromium is not installed: apt-get install chromium (.ci/run does this).');
  const profile = mkdtempSync(join(tmpdir(), 'switchyard-chromium-'));
  try {
    await run(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        `--screenshot=${png}`,
        `file://${file}`,
      ],
      { timeout: 60_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return png;
}
