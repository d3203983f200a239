/*
 * The server dashboard (dashboard.html). Server side: dev.switchboard.demo.DashboardFeed on the
 * namespace /dashboard, which sends "history" once and "stats" every second.
 */
'use strict';

const { $, el, clock } = demo;

const HISTORY = 60;
const SVG = 'http://www.w3.org/2000/svg';

const count = (value) => value.toLocaleString();
const bytes = (value) => (value < 1024 ? `${value} B`
  : value < 1048576 ? `${(value / 1024).toFixed(1)} KiB` : `${(value / 1048576).toFixed(1)} MiB`);

/**
 * The figures, in the order shown; `key` names a field of the server's stats, `of` one shown
 * after it as its bound.
 */
const FIGURES = [
  { key: 'connections', label: 'Connections', format: count,
    detail: (stats) => Object.entries(stats.connectionsByWire || {}).map(([wire, n]) => `${wire} ${count(n)}`).join(' · ') },
  { key: 'totalSockets', label: 'Connected sockets', format: count },
  { key: 'eventsInPerSecond', label: 'Events in / s', format: count },
  { key: 'framesOutPerSecond', label: 'Frames out / s', format: count },
  { key: 'queuedBytes', label: 'Queued for sending', format: bytes, of: 'queueBound' },
  { key: 'largestQueue', label: 'Deepest send queue', format: bytes },
  { key: 'slowConsumers', label: 'Slow consumers cut off', format: count },
  { key: 'recovering', label: 'Sessions awaiting recovery', format: count },
  { key: 'recoveries', label: 'Sessions recovered', format: count },
  { key: 'droppedVolatile', label: 'Volatile events dropped', format: count },
  { key: 'listenerFailures', label: 'Listener failures', format: count },
];

const history = []; // stats, oldest first

const socket = switchboard.connect({ namespace: '/dashboard' });
demo.showConnection(socket, $('status'));
demo.leaveWhileHidden(socket);

socket.on('history', (list) => {
  history.splice(0, history.length, ...list.slice(-HISTORY));
  render();
});

socket.on('stats', (stats) => {
  history.push(stats);
  if (history.length > HISTORY) {
    history.shift();
  }
  render();
});

$('figures').replaceChildren(...FIGURES.map(({ key, label, detail }) => el('div', { class: 'card figure', 'data-figure': key },
  el('h3', {}, label), el('div', { class: 'value' }, '–'), ...(detail ? [el('div', { class: 'muted detail' }, '')] : []),
  sparkline([]))));

function render() {
  const latest = history[history.length - 1];
  if (!latest) {
    return;
  }
  $('updated').textContent = clock(latest.time);
  for (const { key, format, of, detail } of FIGURES) {
    const card = document.querySelector(`[data-figure="${key}"]`);
    card.querySelector('.value').textContent = format(latest[key]) + (of ? ` of ${format(latest[of])}` : '');
    if (detail) {
      card.querySelector('.detail').textContent = detail(latest);
    }
    card.querySelector('svg').replaceWith(sparkline(history.map((stats) => stats[key])));
  }
  $('namespaces').replaceChildren(...Object.entries(latest.sockets).map(([namespace, sockets]) =>
    el('tr', { 'data-namespace': namespace },
      el('td', {}, namespace),
      el('td', { class: 'num' }, count(sockets)),
      el('td', {}, sparkline(history.map((stats) => (stats.sockets && stats.sockets[namespace]) || 0))))));
  const addresses = latest.topAddresses || [];
  const mostHeld = Math.max(1, ...addresses.map((address) => address.connections));
  $('addresses').replaceChildren(...addresses.map(({ address, connections }) =>
    el('tr', { 'data-address': address },
      el('td', {}, address),
      el('td', { class: 'num' }, count(connections)),
      el('td', {}, bar(connections, mostHeld)))));
  const most = Math.max(1, ...latest.rooms.map((room) => room.members));
  $('rooms').replaceChildren(...latest.rooms.map(({ namespace, name, members }) =>
    el('tr', {},
      el('td', { class: 'muted' }, namespace),
      el('td', {}, name),
      el('td', { class: 'num' }, count(members)),
      el('td', {}, bar(members, most)))));
  $('no-rooms').classList.toggle('hidden', latest.rooms.length > 0);
  $('cluster').textContent = clusterLine(latest.cluster);
  $('cluster-card').classList.toggle('down', latest.cluster.clustered && !latest.cluster.linkUp);
}

/** A bar as wide as `value` is of `most`. */
function bar(value, most) {
  return el('div', { class: 'bar', style: `width:${Math.round((value / most) * 100)}%` });
}

/** The cluster as the server sees it: its node count, its link to Redis and what publishing costs. */
function clusterLine(cluster) {
  if (!cluster.clustered) {
    return 'Single node · no Redis';
  }
  const parts = [`${count(cluster.nodes)} ${cluster.nodes === 1 ? 'node' : 'nodes'}`,
    `Redis link ${cluster.linkUp ? 'up' : 'down'}${cluster.fenced ? ' past the node timeout (nodes still on Redis count this one dead)' : ''}`,
    cluster.publishesPerSecond > 0
      ? `publish ${cluster.publishMillis.toFixed(2)} ms mean, 99 % ${cluster.publishP99Millis < 0 ? 'over 5 s'
        : `within ${cluster.publishP99Millis} ms`} (${count(cluster.publishesPerSecond)} emits / s)`
      : 'publish – (no emits this second)',
    `${count(cluster.failedEmits)} failed emits`,
    `${count(cluster.timedOutQueries)} timed-out queries`,
    `${count(cluster.refusedConnections)} connections refused while Redis was away`];
  return parts.join(' · ');
}

/** An SVG sparkline of `values` scaled to their own range: the shape matters, the card gives the number. */
function sparkline(values) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 100 30');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  if (values.length === 0) {
    return svg;
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  const step = 100 / Math.max(values.length - 1, 1);
  const points = values.map((value, i) =>
    `${(i * step).toFixed(2)},${(28 - ((value - low) / (high - low || 1)) * 26).toFixed(2)}`);
  if (values.length === 1) {
    points.push(`100,${points[0].split(',')[1]}`);
  }
  const area = document.createElementNS(SVG, 'polygon');
  area.setAttribute('points', `0,30 ${points.join(' ')} 100,30`);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.append(area, line);
  return svg;
}
