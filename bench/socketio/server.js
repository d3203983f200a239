"use strict";
// The Socket.IO peer of the Switchboard benchmark (docs/BENCHMARKS.md). It serves the same four
// events as src/test/java/dev/switchboard/bench/BenchServer.java:
//   join(room, ack)        joins the room, acks
//   echo(payload, ack)     acks with the payload
//   publish(room, payload) emits msg(payload) to everyone in the room
//   announce(n, ack)       acks; when this socket disconnects, emits notice(n) to everyone
//   stats(gc, ack)         acks {heap, queue, conns}, after full collections when gc
// Settings match Switchboard's defaults where Socket.IO has the same knob: WebSocket only, 25 s /
// 20 s heartbeat, no compression, connection-state recovery for 2 minutes.
// Usage: node --expose-gc server.js [port [redis|streams redis://HOST:PORT]]; prints "READY <port> ...";
// ends when stdin closes. With a Redis URL the node joins a cluster there: "redis" through
// @socket.io/redis-adapter (pub/sub), "streams" through @socket.io/redis-streams-adapter (the one
// that keeps connection-state recovery across nodes), both on the redis npm client.
const fs = require("fs");
const http = require("http");
const path = require("path");
const { Server } = require("socket.io");

// ws uses bufferutil when it loads; say whether its native build (a prebuild shipped in the npm
// package) or its JavaScript fallback is the one in use.
let bufferutil = "missing";
try {
  require("bufferutil");
  bufferutil = "fallback";
  require("node-gyp-build").path(path.join(__dirname, "node_modules", "bufferutil"));
  bufferutil = "native";
} catch (e) {
  // the banner says which
}

const [adapterName, redisUrl] = process.argv.slice(3);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  pingInterval: 25000,
  pingTimeout: 20000,
  perMessageDeflate: false,
  maxHttpBufferSize: 1 << 20,
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("echo", (payload, ack) => ack(payload));
  socket.on("publish", (room, payload) => io.to(room).emit("msg", payload));
  socket.on("announce", (departure, ack) => {
    socket.on("disconnect", () => io.emit("notice", departure));
    ack();
  });
  socket.on("stats", (gc, ack) => {
    if (gc && global.gc) {
      global.gc();
      global.gc();
    }
    ack({ heap: process.memoryUsage().heapUsed, queue: maxQueued(), conns: io.engine.clientsCount });
  });
});

// Bytes waiting for one client: packets Engine.IO holds while its transport is busy, plus what ws
// has not handed to the kernel.
function maxQueued() {
  let max = 0;
  for (const socket of io.of("/").sockets.values()) {
    const conn = socket.conn;
    let queued = conn.transport && conn.transport.socket ? conn.transport.socket.bufferedAmount : 0;
    for (const packet of conn.writeBuffer) {
      queued += typeof packet.data === "string" ? Buffer.byteLength(packet.data) : 0;
    }
    max = Math.max(max, queued);
  }
  return max;
}

function version(name) {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;
}

// Connects to Redis and installs the cluster adapter; says which, with its version, for the banner.
async function joinCluster() {
  if (!adapterName) {
    return "";
  }
  const { createClient } = require("redis");
  const client = createClient({ url: redisUrl });
  await client.connect();
  if (adapterName === "streams") {
    io.adapter(require("@socket.io/redis-streams-adapter").createAdapter(client));
    return ` redis-streams-adapter ${version("@socket.io/redis-streams-adapter")} redis ${version("redis")}`;
  }
  const subscriber = client.duplicate();
  await subscriber.connect();
  io.adapter(require("@socket.io/redis-adapter").createAdapter(client, subscriber));
  return ` redis-adapter ${version("@socket.io/redis-adapter")} redis ${version("redis")}`;
}

joinCluster().then((cluster) => {
  httpServer.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
    console.log(`READY ${httpServer.address().port} socket.io ${version("socket.io")} engine.io ${version("engine.io")}`
      + ` ws ${require("ws/package.json").version} bufferutil ${bufferutil}${cluster} node ${process.version}`);
  });
}, (error) => {
  console.error(error);
  process.exit(1);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
