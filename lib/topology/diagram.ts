/**
 * The topology picture: producers -> topics -> subscriptions (filter policies) -> queues ->
 * consumers, with DLQs, outbox tables and their relays, HTTP endpoints and reply channels. Written
 * as Graphviz DOT from the topology model and laid out by Graphviz itself (@viz-js/viz, the
 * Graphviz WebAssembly build): no box is placed by hand.
 */
import type { TopologyModel } from './model';

/** Message counts of a run, to annotate edges: by channel name and by consumer name. */
export interface FlowCounts {
  /** Distinct messages seen on a channel (topic or queue), by channel name. */
  readonly channels: ReadonlyMap<string, number>;
  /** Records delivered to a consumer, by consumer name. */
  readonly consumers: ReadonlyMap<string, number>;
}

/** DOT string literal; `\\n` in labels stays a line break. */
const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

function filterLabel(filterPolicy: Record<string, unknown>): string {
  return Object.entries(filterPolicy)
    .map(
      ([k, v]) =>
        `${k} in [${(Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}]`,
    )
    .join('\\n');
}

/** The DOT source of the models' topology. */
export function toDot(models: readonly TopologyModel[], counts?: FlowCounts): string {
  const lines: string[] = [
    'digraph switchyard {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.7, bgcolor="white"];',
    '  node [fontname="Helvetica", fontsize=10, style="filled", penwidth=1.2];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
  ];
  const declared = new Set<string>();
  const node = (id: string, label: string, attributes: string) => {
    if (declared.has(id)) return;
    declared.add(id);
    lines.push(`  ${quote(id)} [label=${quote(label)}, ${attributes}];`);
  };
  const edge = (from: string, to: string, label?: string, attributes = '') => {
    lines.push(
      `  ${quote(from)} -> ${quote(to)} [${label ? `label=${quote(label)}` : ''}${label && attributes ? ', ' : ''}${attributes}];`,
    );
  };
  const count = (n: number | undefined) => (n === undefined ? '' : `${n} msg${n === 1 ? '' : 's'}`);
  const withCount = (label: string, n: number | undefined) => [label, count(n)].filter(Boolean).join('\\n');
  const fnNode = (name: string) => {
    node(
      `fn:${name}`,
      `λ ${name}`,
      'shape=box, style="rounded,filled", fillcolor="#fff4d6", color="#c28a00"',
    );
    return `fn:${name}`;
  };
  for (const model of models) {
    const channels = new Map(model.channels.map((c) => [c.name, c]));
    const channelNode = (name: string) => {
      const c = channels.get(name);
      const id = `ch:${name}`;
      if (c?.kind === 'publish-subscribe') {
        node(
          id,
          `${c.physicalName}\\nSNS topic${c.fifo ? ' (FIFO)' : ''}`,
          'shape=hexagon, fillcolor="#e3f0ff", color="#2f6db5"',
        );
      } else {
        node(
          id,
          `${c?.physicalName ?? name}\\nSQS queue${c?.fifo ? ' (FIFO)' : ''}`,
          'shape=cylinder, fillcolor="#e6f7e9", color="#2e8b57"',
        );
      }
      return id;
    };
    const dlqNode = (name: string) => {
      node(`dlq:${name}`, `${name}\\nDLQ`, 'shape=cylinder, fillcolor="#fde8e8", color="#c0392b"');
      return `dlq:${name}`;
    };
    for (const c of model.channels) {
      channelNode(c.name);
      if (c.deadLetterQueue)
        edge(
          channelNode(c.name),
          dlqNode(c.deadLetterQueue),
          'after max receives',
          'style=dashed, color="#c0392b"',
        );
    }
    for (const e of model.endpoints) {
      node(
        `http:${e.function}`,
        `HTTPS function URL\\nauth ${e.authType}`,
        'shape=cds, fillcolor="#efe6ff", color="#6f42c1"',
      );
      edge(`http:${e.function}`, fnNode(e.function), 'request -> 202 + status');
    }
    for (const p of model.producers)
      for (const c of p.channels)
        edge(fnNode(p.function), channelNode(c), withCount('', counts?.channels.get(c)));
    for (const o of model.outboxes) {
      const table = `outbox:${o.name}`;
      node(table, `${o.table}\\noutbox (${o.mode})`, 'shape=cylinder, fillcolor="#f2f2f2", color="#666666"');
      for (const w of o.writers) edge(fnNode(w), table, 'state + messages, one write');
      edge(table, fnNode(o.relayFunction), o.relay === 'log-tailing' ? 'DynamoDB stream' : 'polling');
      for (const c of o.channels)
        edge(fnNode(o.relayFunction), channelNode(c), withCount('relay', counts?.channels.get(c)));
      edge(
        fnNode(o.relayFunction),
        dlqNode(o.failureQueue),
        'parked records',
        'style=dashed, color="#c0392b"',
      );
    }
    for (const consumer of model.consumers) {
      const queue = channelNode(consumer.queue);
      for (const s of consumer.subscriptions) {
        edge(
          channelNode(s.topic),
          queue,
          withCount(filterLabel(s.filterPolicy), counts?.channels.get(`${s.topic}->${consumer.queue}`)),
          'color="#2f6db5"',
        );
      }
      edge(
        queue,
        fnNode(consumer.function),
        withCount(consumer.name, counts?.consumers.get(consumer.name)),
        'color="#2e8b57"',
      );
      const replies = consumer.handles.flatMap(
        (t) => model.messages.find((m) => m.type === t)?.replies ?? [],
      );
      for (const reply of new Set(replies)) {
        const replyChannel = model.channels.find((c) => c.messages.includes(reply));
        if (replyChannel)
          edge(
            fnNode(consumer.function),
            channelNode(replyChannel.name),
            `${reply} to reply-to`,
            'style=dotted, color="#6f42c1"',
          );
      }
    }
  }
  lines.push('}');
  return lines.join('\n');
}

/** Renders the topology as SVG with Graphviz (dot layout). */
export async function renderSvg(models: readonly TopologyModel[], counts?: FlowCounts): Promise<string> {
  // The CommonJS build; loaded lazily because it carries the 1 MB Graphviz WebAssembly module.
  const viz = await (require('@viz-js/viz') as typeof import('@viz-js/viz')).instance();
  return viz.renderString(toDot(models, counts), { format: 'svg', engine: 'dot' });
}

/** A standalone HTML page with the SVG (what `--out file.html` and `--report-html` write). */
export async function renderHtml(
  models: readonly TopologyModel[],
  options: { title?: string; counts?: FlowCounts; caption?: string } = {},
): Promise<string> {
  const svg = await renderSvg(models, options.counts);
  const title = options.title ?? `Switchyard topology: ${models.map((m) => m.stack).join(', ')}`;
  const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px;background:#fff}svg{max-width:100%;height:auto}</style>',
    '</head><body>',
    `<h1 style="font-size:18px">${escapeHtml(title)}</h1>`,
    options.caption ? `<p>${escapeHtml(options.caption)}</p>` : '',
    svg.replace(/^<\?xml[^>]*>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/, ''),
    '</body></html>',
  ].join('\n');
}
