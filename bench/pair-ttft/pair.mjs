// Paired sequential time to first token of two gateways (A and B) on one machine, one database server (or an H2
// file each) and one fake provider: chats alternate A, B, B, A, ... so the host's drift hits both alike.
// Usage: node pair.mjs <port A> <port B> <CHAT_JWT_SECRET> <sessions> <warm-up chats> <measured chats>
//        node pair.mjs --fake <port>    (the fake provider: OpenAI-style SSE, 20 chunks at once, usage last)
import http from 'node:http';
import crypto from 'node:crypto';

if (process.argv[2] === '--fake') {
  const chunk = (delta, finish) => 'data: ' + JSON.stringify({id: 'c', object: 'chat.completion.chunk', created: 1,
    model: 'm', choices: [{index: 0, delta, finish_reason: finish}]}) + '\n\n';
  let body = chunk({role: 'assistant', content: ''}, null);
  for (let i = 0; i < 20; i++) body += chunk({content: 'tok' + i + ' '}, null);
  body += chunk({}, 'stop') + 'data: ' + JSON.stringify({id: 'c', object: 'chat.completion.chunk', created: 1,
    model: 'm', choices: [], usage: {prompt_tokens: 30, completion_tokens: 20, total_tokens: 50}}) + '\n\ndata: [DONE]\n\n';
  http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url.endsWith('/models')) { res.writeHead(404).end(); return; }
      res.writeHead(200, {'content-type': 'text/event-stream'});
      res.end(body);
    });
  }).listen(+process.argv[3], '127.0.0.1');
} else {
  const [,, pa, pb, secret, S, WARM, N] = process.argv;
  const b64 = x => Buffer.from(x).toString('base64url');
  const jwt = sub => {
    const h = b64(JSON.stringify({alg: 'HS256', typ: 'JWT'}));
    const p = b64(JSON.stringify({sub, exp: Math.floor(Date.now() / 1000) + 7200}));
    return `${h}.${p}.${crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
  };
  const agents = {};
  for (const port of [pa, pb]) agents[port] = new http.Agent({keepAlive: true, maxSockets: 1});
  const post = (port, path, token, payload) => new Promise((res, rej) => {
    const t0 = process.hrtime.bigint(); let first = null;
    const r = http.request({host: '127.0.0.1', port, path, method: 'POST', agent: agents[port], headers: {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: 'Bearer ' + token}},
    resp => {
      let text = '';
      resp.on('data', d => { if (first === null) first = process.hrtime.bigint(); text += d; });
      resp.on('end', () => res({status: resp.statusCode, ttft: Number(first - t0) / 1e6, text}));
    });
    r.on('error', rej); r.end(payload);
  });
  const users = Array.from({length: +S}, (_, i) => jwt('pair-user-' + i));
  const sessions = {};
  for (const port of [pa, pb]) {
    sessions[port] = [];
    for (let i = 0; i < +S; i++) {
      const r = await post(port, '/api/v1/chat/sessions', users[i], '{"title":"pair"}');
      if (r.status !== 201) throw new Error(`${port}: session ${r.status} ${r.text}`);
      sessions[port].push(JSON.parse(r.text).id);
    }
    for (let k = 0; k < 10; k++) for (let i = 0; i < +S; i++) {   // 20 stored messages in every session
      const r = await post(port, `/api/v1/chat/sessions/${sessions[port][i]}/messages`, users[i],
        JSON.stringify({content: `Prefill question ${k} about the weather in a city`}));
      if (r.status !== 200) throw new Error(`${port}: prefill ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  const ttft = {[pa]: [], [pb]: []};
  for (let j = 0; j < +WARM + +N; j++) {
    for (const port of (j % 2 ? [pb, pa] : [pa, pb])) {
      const i = j % +S;
      const r = await post(port, `/api/v1/chat/sessions/${sessions[port][i]}/messages`, users[i],
        JSON.stringify({content: 'What is the capital of France, and what is it known for?'}));
      if (r.status !== 200) throw new Error(`${port}: chat ${r.status} ${r.text.slice(0, 200)}`);
      if (j >= +WARM) ttft[port].push(r.ttft);
    }
  }
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  for (const [name, port] of [['A', pa], ['B', pb]]) {
    console.log(`${name}: session API TTFT p50 ${q(ttft[port], .5).toFixed(3)} ms, p90 ${q(ttft[port], .9).toFixed(3)}, `
      + `p99 ${q(ttft[port], .99).toFixed(3)} (${ttft[port].length} chats)`);
  }
  process.exit(0);   // the keep-alive connections would hold the process open
}
