// Closed-loop streamed /v1 chats through a balancer for SECS seconds with C clients; for every chat: when it
// started (ms since this script started), which instance answered (the balancer's X-Served-By header) and its time
// to first byte of the answer. Prints one JSON line per chat. Usage: node ttft-by-server.mjs URL C SECS
import http from 'node:http';
const url = new URL(process.argv[2]); const C = +(process.argv[3] || 20); const SECS = +(process.argv[4] || 60);
const body = JSON.stringify({model: 'm', stream: true, messages: [{role: 'user', content: 'hi'}]});
const agent = new http.Agent({keepAlive: true, maxSockets: C});
const t0 = process.hrtime.bigint(); const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
const end = Date.now() + SECS * 1000;
const one = () => new Promise((res) => {
  const start = ms(); let first = null;
  const r = http.request({host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
    headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}}, resp => {
    resp.on('data', () => { if (first === null) first = ms(); });
    resp.on('end', () => { console.log(JSON.stringify({t: Math.round(start), s: resp.headers['x-served-by'] || '?',
      status: resp.statusCode, ttft: first === null ? null : +(first - start).toFixed(2)})); res(); });
  });
  r.on('error', () => { console.log(JSON.stringify({t: Math.round(start), s: '?', status: 0, ttft: null})); res(); });
  r.end(body);
});
await Promise.all(Array.from({length: C}, async () => { while (Date.now() < end) await one(); }));
agent.destroy();
