/*
 * The live graph page (graph.html). Server side: dev.switchboard.demo.GraphFeed on the namespace
 * /graph. Drawn on a canvas, no chart library.
 */
'use strict';

const { $, el } = demo;

const WINDOW = 30000; // ms of history on screen
const COLORS = ['#e4572e', '#17a2b8', '#4f46e5'];
const GRID = '#e3e6ec';
const LABEL = '#687083';

const graph = {
  series: [],
  points: [], // {time, values}, oldest first
  paused: false,
  received: 0,
  arrivals: [], // arrival times of the last few live points, for the rate
  drawing: false,
};

const socket = switchboard.connect({ namespace: '/graph' });
demo.showConnection(socket, $('status'));
demo.leaveWhileHidden(socket);

// A recovered socket is still subscribed (its rooms survived); a new one must ask again.
socket.on('connect', () => {
  if (!graph.paused && !socket.recovered) {
    subscribe();
  }
});

socket.on('point', (point) => {
  graph.received++;
  $('received').textContent = graph.received;
  graph.arrivals.push(performance.now());
  add(point);
});

async function subscribe() {
  $('toggle').disabled = true;
  let reply;
  try {
    reply = await socket.timeout(5000).emitWithAck('subscribe');
  } catch (_) {
    return; // disconnected meanwhile: the next connect subscribes again
  } finally {
    $('toggle').disabled = false;
  }
  graph.series = reply.series;
  // The history covers the pause; live points that beat the answer here come after it.
  const last = reply.points.length ? reply.points[reply.points.length - 1].time : 0;
  graph.points = reply.points.concat(graph.points.filter((point) => point.time > last));
  graph.paused = false;
  $('toggle').textContent = 'Pause';
  showLegend();
  scheduleDraw();
}

async function pause() {
  $('toggle').disabled = true;
  try {
    await socket.timeout(5000).emitWithAck('unsubscribe');
    graph.paused = true;
    $('toggle').textContent = 'Resume';
  } catch (_) {
    // not paused; the button says so
  } finally {
    $('toggle').disabled = false;
  }
}

$('toggle').addEventListener('click', () => (graph.paused ? subscribe() : pause()));

function add(point) {
  graph.points.push(point);
  const oldest = point.time - WINDOW - 1000;
  while (graph.points.length && graph.points[0].time < oldest) {
    graph.points.shift();
  }
  scheduleDraw();
}

function scheduleDraw() {
  if (!graph.drawing) {
    graph.drawing = true;
    requestAnimationFrame(() => {
      graph.drawing = false;
      draw();
      showFacts();
    });
  }
}

function showLegend() {
  const latest = graph.points[graph.points.length - 1];
  $('legend').replaceChildren(...graph.series.map((name, i) => el('li', {},
    el('span', { class: 'swatch', style: `background:${COLORS[i % COLORS.length]}` }),
    name,
    el('span', { class: 'value' }, latest ? latest.values[i].toFixed(1) : '–'))));
}

function showFacts() {
  const now = performance.now();
  graph.arrivals = graph.arrivals.filter((time) => now - time < 2000);
  $('rate').textContent = graph.paused ? 0 : Math.round(graph.arrivals.length / 2);
  showLegend();
}

// Sharp on any screen: the canvas has as many pixels as the screen shows, drawing stays in CSS px.
function canvasContext(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { context, width, height };
}

function draw() {
  const { context, width, height } = canvasContext($('chart'));
  const box = { left: 40, right: width - 12, top: 8, bottom: height - 24 };
  const end = graph.points.length ? graph.points[graph.points.length - 1].time : Date.now();
  const x = (time) => box.left + ((time - (end - WINDOW)) / WINDOW) * (box.right - box.left);
  const y = (value) => box.bottom - (Math.min(Math.max(value, 0), 100) / 100) * (box.bottom - box.top);

  context.font = '12px system-ui, sans-serif';
  context.fillStyle = LABEL;
  context.strokeStyle = GRID;
  context.lineWidth = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (let value = 0; value <= 100; value += 25) {
    context.beginPath();
    context.moveTo(box.left, Math.round(y(value)) + 0.5);
    context.lineTo(box.right, Math.round(y(value)) + 0.5);
    context.stroke();
    context.fillText(String(value), box.left - 8, y(value));
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (let seconds = 0; seconds <= WINDOW / 1000; seconds += 5) {
    context.fillText(seconds === 0 ? 'now' : `−${seconds} s`, x(end - seconds * 1000), box.bottom + 6);
  }

  context.save();
  context.beginPath();
  context.rect(box.left, box.top - 2, box.right - box.left, box.bottom - box.top + 4);
  context.clip();
  context.lineWidth = 2;
  context.lineJoin = 'round';
  graph.series.forEach((_, i) => {
    context.strokeStyle = COLORS[i % COLORS.length];
    context.beginPath();
    graph.points.forEach((point, n) => {
      const method = n === 0 ? 'moveTo' : 'lineTo';
      context[method](x(point.time), y(point.values[i]));
    });
    context.stroke();
  });
  context.restore();
}

window.addEventListener('resize', scheduleDraw);
