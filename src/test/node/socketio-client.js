// A socket.io-client driven line by line: each line on stdin is a JSON command, each line on
// stdout a JSON report of what the client saw. Started by dev.switchboard.testing.NodeClient.
//   {"op":"open","name":"a","url":"http://127.0.0.1:8080/chat","options":{...},"ackReply":"ok","reportPings":true}
//   {"op":"emit","name":"a","event":"say","args":["hi"]}
//   {"op":"emitWithAck","name":"a","id":1,"event":"echo","args":[1],"timeout":1000}
//   {"op":"close","name":"a"}
// Reports: connect (id, recovered, transport), ping (with reportPings: the pong is sent), upgrade (transport), upgradeError (message),
// connect_error (message, data), disconnect (reason),
// event (event, args; an ack the server asked for is answered with ackReply and the arguments),
// ack (id, error, args).
// Binary values travel in these lines as {"$binary":"<base64>"}: sent as Buffers, reported back
// the same way (with "$type" saying what the client handed over: Buffer or ArrayBuffer).
"use strict";
const { io } = require("socket.io-client");
const readline = require("readline");

const sockets = new Map();

const isPlainObject = (value) => value !== null && typeof value === "object" && value.constructor === Object;

function toWire(value) {
  if (Array.isArray(value)) return value.map(toWire);
  if (isPlainObject(value)) {
    if (typeof value.$binary === "string") return Buffer.from(value.$binary, "base64");
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

function fromWire(value) {
  if (Buffer.isBuffer(value)) return { $binary: value.toString("base64"), $type: "Buffer" };
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("base64"), $type: "ArrayBuffer" };
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  return value;
}

const report = (message) => process.stdout.write(JSON.stringify(fromWire(message)) + "\n");

function open({ name, url, options, ackReply, reportPings }) {
  const socket = io(url, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 300, ...options });
  sockets.set(name, socket);
  socket.on("connect", () => report({ name, type: "connect", id: socket.id, recovered: socket.recovered,
    transport: socket.io.engine.transport.name }));
  socket.on("connect_error", (err) => report({ name, type: "connect_error", message: err.message, data: err.data }));
  socket.on("disconnect", (reason) => report({ name, type: "disconnect", reason }));
  if (reportPings) {
    // Engine.IO answers a ping with its pong before the manager emits this.
    socket.io.on("ping", () => report({ name, type: "ping" }));
  }
  socket.io.on("open", () => {
    socket.io.engine.on("upgrade", (transport) => report({ name, type: "upgrade", transport: transport.name }));
    socket.io.engine.on("upgradeError", (err) => report({ name, type: "upgradeError", message: err.message }));
  });
  socket.onAny((event, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    report({ name, type: "event", event, args });
    if (ack) {
      ack(ackReply, ...args);
    }
  });
}

const commands = {
  open,
  emit: ({ name, event, args }) => sockets.get(name).emit(event, ...toWire(args)),
  emitWithAck: ({ name, id, event, args, timeout }) => sockets.get(name).timeout(timeout)
    .emit(event, ...toWire(args), (err, ...answer) => report({ name, type: "ack", id, error: err ? err.message : null, args: answer })),
  close: ({ name }) => sockets.get(name).disconnect(),
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  commands[command.op](command);
});
process.stdin.on("end", () => process.exit(0));
