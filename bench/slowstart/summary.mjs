// Per 5-second window after instance b's return: chats answered by a and by b, and each one's TTFT p50/p99 (ms).
// Windows start at b's first answered chat after the gap. Usage: node summary.mjs FILE.jsonl ...
import fs from 'node:fs';
const q = (xs, p) => { if (!xs.length) return '-'; const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1); };
for (const f of process.argv.slice(2)) {
  const rows = fs.readFileSync(f, 'utf8').trim().split('\n').map(l => JSON.parse(l));
  const errors = rows.filter(r => r.status !== 200).length;
  // b's return: its first chat after a gap of at least 1 s in b's chats
  const bs = rows.filter(r => r.s === 'b').map(r => r.t).sort((x, y) => x - y);
  let back = null;
  for (let i = 1; i < bs.length; i++) if (bs[i] - bs[i - 1] > 1000) { back = bs[i]; break; }
  console.log(`${f}: ${rows.length} chats, ${errors} not 200; b back at ${back} ms`);
  if (back === null) continue;
  console.log('window (s after b back) | a: chats, TTFT p50 / p99 | b: chats, TTFT p50 / p99');
  for (let w = 0; w < 60; w += 5) {
    const inW = rows.filter(r => r.status === 200 && r.t >= back + w * 1000 && r.t < back + (w + 5) * 1000);
    const a = inW.filter(r => r.s === 'a').map(r => r.ttft), b = inW.filter(r => r.s === 'b').map(r => r.ttft);
    if (!a.length && !b.length) break;
    console.log(`${String(w).padStart(2)}-${String(w + 5).padStart(2)} | ${String(a.length).padStart(5)}, ${q(a, .5)} / ${q(a, .99)} | ${String(b.length).padStart(5)}, ${q(b, .5)} / ${q(b, .99)}`);
  }
}
