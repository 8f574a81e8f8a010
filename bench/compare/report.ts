/**
 * Turns the compare benchmark's step results into the two artefacts issue #8 asks for beside
 * the JSON lines: a Markdown report (machine, per-system summary at the highest sustained rate,
 * every step) and a PNG chart (accepted spans/s and p99 latency against offered rate). No
 * charting package is installed and none may be added, so the PNG is drawn into an RGB buffer
 * with a 3×5 pixel font and encoded here (IHDR, one zlib-deflated IDAT, IEND; CRC-32 per chunk).
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

export type SystemName = 'collector' | 'custodian';

interface Latency {
  n: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** One (system, offered rate) step of bench/compare/compare.bench.ts. */
export interface StepResult {
  system: SystemName;
  offered_spans_per_sec: number;
  step_seconds: number;
  /** Untimed load before the step (the system measured warm); absent in older results: 0. */
  warmup_seconds?: number;
  sent_spans: number;
  accepted_spans: number;
  accepted_spans_per_sec: number;
  exported_spans: number;
  sink_spans: number;
  refused_or_dropped_spans: number;
  cpu_seconds: number;
  cpu_utilization: number;
  /** CPU use of the idle system (3 s before the load), share of one core. */
  idle_cpu_utilization: number;
  spans_per_cpu_second: number;
  cpu_seconds_per_million_spans: number;
  kafka_broker_cpu_seconds_per_million_spans: number | null;
  peak_rss_mb: number;
  latency_ms: Latency;
  latency_ms_by_category: Record<'error' | 'slow' | 'ok', Latency>;
  traces_sent: Record<'error' | 'slow' | 'ok', number>;
  traces_kept: Record<'error' | 'slow' | 'ok', number>;
  kept_ratio: Record<'error' | 'slow' | 'ok', number | null>;
  incomplete_kept_traces: number;
  traces_with_leaked_secret: number;
  generator_seconds: number;
  sustained: boolean;
  not_sustained_because: string[];
  generator_errors: string[];
}

const LABEL: Record<SystemName, string> = {
  collector: 'OpenTelemetry Collector',
  custodian: 'Custodian (gateway+worker, Kafka)',
};
const COLOR: Record<SystemName, [number, number, number]> = {
  collector: [230, 120, 20],
  custodian: [30, 90, 200],
};

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 1000) / 10}%`);

/** The latest result per (system, rate), ascending by rate. */
function latest(steps: StepResult[]): StepResult[] {
  const m = new Map<string, StepResult>();
  for (const s of steps) m.set(`${s.system}/${s.offered_spans_per_sec}`, s);
  return [...m.values()].sort(
    (a, b) => a.system.localeCompare(b.system) || a.offered_spans_per_sec - b.offered_spans_per_sec,
  );
}

export function markdown(
  steps: StepResult[],
  machine: Record<string, unknown>,
  decisionWait: string,
): string {
  const rows = latest(steps);
  const systems = [...new Set(rows.map((r) => r.system))];
  const lines: string[] = [];
  lines.push('### Custodian and the OpenTelemetry Collector, side by side');
  lines.push('');
  lines.push(
    `Machine: ${String(machine.cpu)}, ${String(machine.cores)} cores, ${String(machine.ram_gb)} GB RAM, ` +
      `kernel ${String(machine.kernel)}, Node ${String(machine.node)}, Kafka ${String(machine.kafka)}, ` +
      `Collector ${String(machine.collector)}, telemetrygen ${String(machine.telemetrygen)}. ` +
      `Each system pinned to one core; decision_wait ${decisionWait}; 10 spans per agent run, ` +
      `5% failed and 5% slow runs.` +
      (rows.some((r) => r.warmup_seconds)
        ? ` Each step measured after ${Math.max(...rows.map((r) => r.warmup_seconds ?? 0))} s of ` +
          `untimed load at its rate, drained and discarded (both systems measured warm).`
        : ' Each step measured from the first span of a fresh process (cold).'),
  );
  lines.push('');
  lines.push(
    '| system | highest sustained offered spans/s | spans per CPU-second (1 core) | CPU s per 1M spans | + Kafka broker CPU s per 1M | peak RSS | latency p50 / p99 (generator → sink) | failed / slow runs kept | healthy kept | secrets leaked |',
  );
  lines.push('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (const sys of systems) {
    const mine = rows.filter((r) => r.system === sys);
    const sustained = mine.filter((r) => r.sustained);
    const best = sustained[sustained.length - 1];
    const shown = best ?? mine[0];
    lines.push(
      `| ${LABEL[sys]} | ${best ? n(best.offered_spans_per_sec) : `none (lowest tried ${n(mine[0].offered_spans_per_sec)})`} | ` +
        `${n(shown.spans_per_cpu_second)} | ${shown.cpu_seconds_per_million_spans} | ` +
        `${shown.kafka_broker_cpu_seconds_per_million_spans ?? '–'} | ${shown.peak_rss_mb} MB | ` +
        `${n(shown.latency_ms.p50_ms)} / ${n(shown.latency_ms.p99_ms)} ms | ` +
        `${pct(shown.kept_ratio.error)} / ${pct(shown.kept_ratio.slow)} | ${pct(shown.kept_ratio.ok)} | ` +
        `${shown.traces_with_leaked_secret} |`,
    );
  }
  lines.push('');
  lines.push('Every step:');
  lines.push('');
  lines.push(
    '| system | offered spans/s | accepted spans/s | CPU use | spans per CPU-s | CPU s / 1M | peak RSS | p50 / p99 ms | kept failed / slow / healthy | sustained |',
  );
  lines.push('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |');
  for (const r of rows) {
    lines.push(
      `| ${r.system} | ${n(r.offered_spans_per_sec)} | ${n(r.accepted_spans_per_sec)} | ` +
        `${Math.round(r.cpu_utilization * 100)}% | ${n(r.spans_per_cpu_second)} | ` +
        `${r.cpu_seconds_per_million_spans} | ${r.peak_rss_mb} MB | ` +
        `${n(r.latency_ms.p50_ms)} / ${n(r.latency_ms.p99_ms)} | ` +
        `${pct(r.kept_ratio.error)} / ${pct(r.kept_ratio.slow)} / ${pct(r.kept_ratio.ok)} | ` +
        `${r.sustained ? 'yes' : `no: ${r.not_sustained_because.join('; ')}`} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// PNG

const FONT: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001010010',
  '8': '111101111101111',
  '9': '111101111001111',
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  D: '110101101101110',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  H: '101101111101101',
  I: '111010010010111',
  J: '001001001101010',
  K: '101101110101101',
  L: '100100100100111',
  M: '101111111101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  Q: '010101101110011',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
  V: '101101101101010',
  W: '101101111111101',
  X: '101101010101101',
  Y: '101101010010010',
  Z: '111001010100111',
  ' ': '000000000000000',
  '.': '000000000000010',
  '/': '001001010100100',
  '-': '000000111000000',
  ':': '000010000010000',
  '%': '101001010100101',
  '(': '010100100100010',
  ')': '010001001001010',
  ',': '000000000010100',
  '+': '000010111010000',
  '=': '000111000111000',
};

class Canvas {
  readonly px: Buffer;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.px = Buffer.alloc(w * h * 3, 255);
  }

  set(x: number, y: number, c: readonly number[]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const o = (y * this.w + x) * 3;
    this.px[o] = c[0];
    this.px[o + 1] = c[1];
    this.px[o + 2] = c[2];
  }

  rect(x: number, y: number, w: number, h: number, c: readonly number[]): void {
    for (let i = 0; i < w; i++) for (let j = 0; j < h; j++) this.set(x + i, y + j, c);
  }

  line(x0: number, y0: number, x1: number, y1: number, c: readonly number[], width = 1, dash = 0) {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= steps; i++) {
      if (dash && Math.floor(i / dash) % 2 === 1) continue;
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.rect(x - Math.floor(width / 2), y - Math.floor(width / 2), width, width, c);
    }
  }

  text(x: number, y: number, s: string, c: readonly number[], scale = 2): void {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[' '];
      for (let r = 0; r < 5; r++)
        for (let col = 0; col < 3; col++)
          if (g[r * 3 + col] === '1') this.rect(cx + col * scale, y + r * scale, scale, scale, c);
      cx += 4 * scale;
    }
  }

  static textWidth(s: string, scale = 2): number {
    return s.length * 4 * scale;
  }

  png(): Buffer {
    const raw = Buffer.alloc((this.w * 3 + 1) * this.h);
    for (let y = 0; y < this.h; y++) {
      raw[y * (this.w * 3 + 1)] = 0; // filter: none
      this.px.copy(raw, y * (this.w * 3 + 1) + 1, y * this.w * 3, (y + 1) * this.w * 3);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.w, 0);
    ihdr.writeUInt32BE(this.h, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method, no interlace
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, k) => {
  let c = k;
  for (let i = 0; i < 8; i++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function short(v: number): string {
  if (v >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (v >= 1e3) return `${Math.round(v / 100) / 10}K`;
  return String(Math.round(v));
}

/** Two panels: accepted spans/s and p99 latency (ms), both against offered spans/s. */
export function chart(steps: StepResult[]): Buffer {
  const rows = latest(steps);
  const W = 1100;
  const H = 460;
  const c = new Canvas(W, H);
  const ink = [40, 40, 40];
  const grid = [225, 225, 225];
  const systems = [...new Set(rows.map((r) => r.system))];
  // Legend.
  let lx = 70;
  for (const s of systems) {
    c.rect(lx, 14, 14, 14, COLOR[s]);
    c.text(lx + 20, 16, LABEL[s], ink);
    lx += 40 + Canvas.textWidth(LABEL[s]);
  }
  c.text(lx, 16, 'X = NOT SUSTAINED', ink);
  const xMax = niceMax(Math.max(1, ...rows.map((r) => r.offered_spans_per_sec)));
  const panels = [
    {
      title: 'ACCEPTED SPANS/S VS OFFERED SPANS/S',
      y: (r: StepResult) => r.accepted_spans_per_sec,
      yMax: niceMax(
        Math.max(
          1,
          ...rows.map((r) => Math.max(r.accepted_spans_per_sec, r.offered_spans_per_sec)),
        ),
      ),
      diagonal: true,
    },
    {
      title: 'P99 LATENCY MS VS OFFERED SPANS/S',
      y: (r: StepResult) => r.latency_ms.p99_ms,
      yMax: niceMax(Math.max(1, ...rows.map((r) => r.latency_ms.p99_ms))),
      diagonal: false,
    },
  ];
  panels.forEach((p, i) => {
    const left = 80 + i * 550;
    const top = 70;
    const pw = 440;
    const ph = 320;
    const X = (v: number) => left + (v / xMax) * pw;
    const Y = (v: number) => top + ph - (v / p.yMax) * ph;
    c.text(left, top - 22, p.title, ink);
    for (let t = 0; t <= 5; t++) {
      const yv = (p.yMax * t) / 5;
      const xv = (xMax * t) / 5;
      c.line(left, Y(yv), left + pw, Y(yv), grid);
      c.line(X(xv), top, X(xv), top + ph, grid);
      const yl = short(yv);
      c.text(left - 8 - Canvas.textWidth(yl), Y(yv) - 5, yl, ink);
      const xl = short(xv);
      c.text(X(xv) - Canvas.textWidth(xl) / 2, top + ph + 10, xl, ink);
    }
    c.line(left, top, left, top + ph, ink, 2);
    c.line(left, top + ph, left + pw, top + ph, ink, 2);
    c.text(
      left + pw / 2 - Canvas.textWidth('OFFERED SPANS/S') / 2,
      top + ph + 30,
      'OFFERED SPANS/S',
      ink,
    );
    if (p.diagonal)
      c.line(
        X(0),
        Y(0),
        X(Math.min(xMax, p.yMax)),
        Y(Math.min(xMax, p.yMax)),
        [160, 160, 160],
        1,
        6,
      );
    for (const s of systems) {
      const pts = rows.filter((r) => r.system === s);
      for (let k = 1; k < pts.length; k++)
        c.line(
          X(pts[k - 1].offered_spans_per_sec),
          Y(p.y(pts[k - 1])),
          X(pts[k].offered_spans_per_sec),
          Y(p.y(pts[k])),
          COLOR[s],
          3,
        );
      for (const r of pts) {
        const x = X(r.offered_spans_per_sec);
        const y = Y(p.y(r));
        if (r.sustained) c.rect(x - 4, y - 4, 9, 9, COLOR[s]);
        else {
          c.line(x - 6, y - 6, x + 6, y + 6, COLOR[s], 3);
          c.line(x - 6, y + 6, x + 6, y - 6, COLOR[s], 3);
        }
      }
    }
  });
  return c.png();
}

/** Writes <out>.md and <out>.png beside <out>.jsonl; returns the Markdown. */
export function writeReport(
  outJsonl: string,
  steps: StepResult[],
  machine: Record<string, unknown>,
  decisionWait: string,
): string {
  const base = outJsonl.replace(/\.jsonl$/, '');
  const md = markdown(steps, machine, decisionWait);
  writeFileSync(`${base}.md`, `${md}\n![throughput and latency](./${base.split('/').pop()}.png)\n`);
  writeFileSync(`${base}.png`, chart(steps));
  return md;
}
