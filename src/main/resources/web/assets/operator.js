// The operator view: each provider's breaker, cooldown, last error and counts, the switch of primary and
// fallback, and usage and cost from /api/v1/usage as a chart (uPlot) and a table.
import { ApiFailure, request } from './api.js';
import uPlot from './lib/uPlot.js';

const $ = (id) => document.getElementById(id);
let timer = null;
let wired = false;
let onAuthFailure = () => {};
let chart = null;

function showError(words) {
  $('operator-error').textContent = words ?? '';
  $('operator-error').hidden = !words;
}

function failure(e) {
  if (e instanceof ApiFailure && e.status === 401) {
    onAuthFailure(e.message);
  }
  showError(e.message);
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function when(iso) {
  if (!iso) {
    return '–';
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function option(value, text, selected) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  o.selected = selected;
  return o;
}

function showProviders(status) {
  $('current-primary').textContent = status.primary;
  $('current-fallback').textContent = status.fallback ?? 'none';
  const rows = status.providers.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.provider = p.name;
    const role = p.name === status.primary ? 'primary' : p.name === status.fallback ? 'fallback' : '–';
    const error = p.last_error_class ? `${p.last_error_class} at ${when(p.last_error_at)}` : '–';
    const breaker = cell(p.breaker_state);
    breaker.className = `breaker ${String(p.breaker_state).toLowerCase()}`;
    tr.append(cell(p.name), cell(role), breaker, cell(when(p.cooldown_until)), cell(error),
      cell(String(p.requests)), cell(String(p.failures)),
      cell(p.probe_ok === null || p.probe_ok === undefined ? 'off' : p.probe_ok ? 'ok' : 'failing'));
    return tr;
  });
  $('providers').tBodies[0].replaceChildren(...rows);
  const primary = $('switch-primary');
  const fallback = $('switch-fallback');
  if (!primary.matches(':focus') && !fallback.matches(':focus')) {
    primary.replaceChildren(...status.providers.map((p) => option(p.name, p.name, p.name === status.primary)));
    fallback.replaceChildren(option('', 'none', !status.fallback),
      ...status.providers.map((p) => option(p.name, p.name, p.name === status.fallback)));
  }
}

async function refreshProviders() {
  try {
    showProviders(await request('GET', '/api/v1/admin/providers'));
  } catch (e) {
    failure(e);
  }
}

async function switchProviders(e) {
  e.preventDefault();
  showError(null);
  const primary = $('switch-primary').value;
  const fallback = $('switch-fallback').value || null;
  try {
    const status = await request('PUT', '/api/v1/admin/providers/selection', { primary, fallback });
    showProviders(status);
    $('switch-result').textContent = `Switched: primary ${status.primary}, fallback ${status.fallback ?? 'none'}.`;
    $('switch-result').hidden = false;
  } catch (err) {
    $('switch-result').hidden = true;
    failure(err);
  }
}

// --- usage ---------------------------------------------------------------------------------------------------

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

async function usageGroups(query) {
  const groups = [];
  let total = null;
  let cursor = null;
  for (let page = 0; page < 25; page++) {
    const q = new URLSearchParams(query);
    q.set('limit', '200');
    if (cursor) {
      q.set('cursor', cursor);
      q.delete('from');
      q.delete('to');
      q.delete('group_by');
      q.delete('user');
    }
    const report = await request('GET', `/api/v1/usage?${q}`);
    groups.push(...report.groups);
    total = report.total;
    cursor = report.next_cursor;
    if (!cursor) {
      break;
    }
  }
  return { groups, total };
}

function money(v) {
  return v === null || v === undefined ? 'unknown' : Number(v).toFixed(4);
}

function usageRow(key, t, tag) {
  const tr = document.createElement(tag === 'th' ? 'tr' : 'tr');
  tr.append(cell(key), cell(String(t.answers)), cell(String(t.prompt_tokens)), cell(String(t.completion_tokens)),
    cell(money(t.cost_usd)), cell(String(t.unpriced_answers)));
  return tr;
}

function drawChart(groupBy, groups) {
  const box = $('usage-chart');
  chart?.destroy();
  chart = null;
  box.replaceChildren();
  if (groups.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'No answers in this window.';
    box.append(p);
    return;
  }
  const xs = groups.map((_, i) => i);
  const labels = groups.map((g) => g.key);
  const cost = groups.map((g) => (g.cost_usd === null ? null : Number(g.cost_usd)));
  const tokens = groups.map((g) => g.prompt_tokens + g.completion_tokens);
  // two bars per group, side by side: cost on the left axis, tokens on the right
  const costBars = uPlot.paths.bars({ size: [0.35, 40], align: -1 });
  const tokenBars = uPlot.paths.bars({ size: [0.35, 40], align: 1 });
  const upTo = (max) => [0, max > 0 ? max * 1.15 : 1];
  const width = Math.max(280, Math.min((box.clientWidth || 660) - 20, 960));
  chart = new uPlot({
    width,
    height: 260,
    title: `Cost and tokens by ${groupBy}`,
    scales: {
      x: { time: false, range: [-0.5, groups.length - 0.5] },
      usd: { range: (u, min, max) => upTo(max) },
      tok: { range: (u, min, max) => upTo(max) },
    },
    axes: [
      { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? labels[v] ?? '' : '')), splits: () => xs },
      { scale: 'usd', label: 'USD', values: (u, v) => v.map((n) => n.toFixed(2)), size: 60 },
      { scale: 'tok', label: 'tokens', side: 1, grid: { show: false }, size: 60 },
    ],
    series: [
      { label: groupBy, value: (u, v) => (v === null ? '' : labels[v] ?? '') },
      { label: 'cost (USD)', scale: 'usd', stroke: '#2563eb', fill: 'rgba(37,99,235,0.45)', paths: costBars,
        points: { show: false } },
      { label: 'tokens', scale: 'tok', stroke: '#d97706', fill: 'rgba(217,119,6,0.45)', paths: tokenBars,
        points: { show: false } },
    ],
  }, [xs, cost, tokens], box);
}

async function refreshUsage(e) {
  e?.preventDefault();
  showError(null);
  const groupBy = $('usage-group').value;
  const query = { group_by: groupBy, from: $('usage-from').value, to: $('usage-to').value };
  // everyone's usage unless a user is named (an administrator's report; user=* is every user)
  query.user = $('usage-user').value.trim() || '*';
  try {
    const { groups, total } = await usageGroups(query);
    $('usage-key').textContent = groupBy[0].toUpperCase() + groupBy.slice(1);
    $('usage').tBodies[0].replaceChildren(...groups.map((g) => usageRow(g.key, g)));
    $('usage').tFoot.replaceChildren(usageRow('Total', total));
    drawChart(groupBy, groups);
  } catch (err) {
    failure(err);
  }
}

export function start(authFailure) {
  onAuthFailure = authFailure;
  if (!wired) {
    wired = true;
    const today = new Date();
    $('usage-to').value = isoDay(today);
    $('usage-from').value = isoDay(new Date(today.getTime() - 29 * 86400000));
    $('switch-form').addEventListener('submit', switchProviders);
    $('usage-form').addEventListener('submit', refreshUsage);
  }
  refreshProviders();
  refreshUsage();
  clearInterval(timer);
  timer = setInterval(refreshProviders, 5000);
}

export function stop() {
  clearInterval(timer);
  timer = null;
}
