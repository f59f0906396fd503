/**
 * The topology picture: DOT from the model (every producer, topic, filter policy, queue, consumer,
 * DLQ, outbox and reply channel of the example), laid out by Graphviz, rendered in headless
 * Chromium; the screenshot must show the drawing, not a blank page.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { exampleTopology } from '../example/topology';
import { graphvizSource, renderHtml, renderSvg } from '../lib/topology/diagram';
import { screenshot } from './support/chromium';

const model = exampleTopology();
const dir = mkdtempSync(join(tmpdir(), 'switchyard-diagram-'));

/** Share of pixels that are not (near) white, and the number of distinct colours. */
function inkOf(pngFile: string): { ink: number; colours: number } {
  const png = PNG.sync.read(readFileSync(pngFile));
  let inked = 0;
  const colours = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    if (r < 240 || g < 240 || b < 240) inked += 1;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { ink: inked / (png.width * png.height), colours: colours.size };
}

describe('switchyard diagram', () => {
  test('draws every part of the topology from the model', () => {
    const dot = graphvizSource([model]);
    for (const label of [
      'order-events.fifo',
      'kitchen-commands',
      'message-type in [OrderCreated, OrderApproved]',
      'λ OrderOutbox/Relay',
      'outbox (in-item)',
      'DynamoDB stream',
      'KitchenCommandsDeadLetterQueue',
      'TicketCreated to reply-to',
      'DeliveryPriceQuoted to reply-to',
      'HTTPS function URL',
    ])
      expect(dot).toContain(label);
  });

  test('annotates edges with message counts when given', () => {
    const dot = graphvizSource([model], {
      channels: new Map([['kitchen-commands', 1000]]),
      consumers: new Map([['kitchen', 1002]]),
    });
    expect(dot).toMatch(/relay\\n1000 msgs/);
    expect(dot).toMatch(/kitchen\\n1002 msgs/);
  });

  test('the README picture is the one the constructs draw today (run `npm run docs`)', async () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'topology.svg'), 'utf8');
    expect(committed).toBe(await renderSvg([model]));
  });

  test('renders in headless Chromium as a picture, not a blank page', async () => {
    // GIVEN the HTML page `switchyard diagram --out file.html` writes
    const html = join(dir, 'topology.html');
    writeFileSync(html, await renderHtml([model]));
    // WHEN Chromium screenshots it
    const png = await screenshot(html, join(dir, 'topology.png'));
    // THEN a good part of it is drawn, in several colours (boxes, topics, queues, DLQs)
    const { ink, colours } = inkOf(png);
    expect(ink).toBeGreaterThan(0.02);
    expect(colours).toBeGreaterThan(20);
  });

  test('a blank page fails the same check (the check can fail)', async () => {
    const html = join(dir, 'blank.html');
    writeFileSync(html, '<!doctype html><html><body style="background:#fff"></body></html>');
    const { ink } = inkOf(await screenshot(html, join(dir, 'blank.png')));
    expect(ink).toBeLessThan(0.02);
  });
});
