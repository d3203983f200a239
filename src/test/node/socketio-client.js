// A socket.io-client driven line by line: each line on stdin is a JSON command, each line on
// stdout a JSON report of what the client saw. Started by dev.switchboard.testing.NodeClient.
//   {"op":"open","name":"a","url":"http://127.0.0.1:8080/chat","options":{...},"ackReply":"ok","reportPings":true}
//   {"op":"open","name":"b","url":"http://127.0.0.1:8080/news","manager":"a"}   (b shares a's connection)
//   {"op":"emit","name":"a","event":"say","args":["hi"],"flags":{"volatile":true,"compress":false}}
//   {"op":"emitWithAck","name":"a","id":1,"event":"echo","args":[1],"timeout":1000}
//     (without "timeout", the socket's own ackTimeout and retries options apply)
//   {"op":"close","name":"a"}   socket.disconnect();  {"op":"connect","name":"a"}   socket.connect()
//   {"op":"closeEngine","name":"a"}   io.engine.close();  {"op":"reconnection","name":"a","value":false}
//   {"op":"setAuth","name":"a","auth":{...}}   what an "authFunction":true socket hands over from its next connect on
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

// With "authFunction", the auth a socket's next CONNECT carries (socket.io-client calls the function at each).
const auths = new Map();

function open({ name, url, options, ackReply, reportPings, manager, authFunction }) {
  const opts = { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 300, ...options };
  if (authFunction) {
    auths.set(name, opts.auth);
    opts.auth = (callback) => callback(auths.get(name));
  }
  const socket = manager ? sockets.get(manager).io.socket(new URL(url).pathname, opts) : io(url, opts);
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

function withFlags(socket, { volatile, compress } = {}) {
  const flagged = volatile ? socket.volatile : socket;
  return compress === undefined ? flagged : flagged.compress(compress);
}

const commands = {
  open,
  emit: ({ name, event, args, flags }) => withFlags(sockets.get(name), flags).emit(event, ...toWire(args)),
  emitWithAck: ({ name, id, event, args, timeout }) => {
    const socket = sockets.get(name);
    (timeout === undefined ? socket : socket.timeout(timeout)).emit(event, ...toWire(args),
      (err, ...answer) => report({ name, type: "ack", id, error: err ? err.message : null, args: answer }));
  },
  close: ({ name }) => sockets.get(name).disconnect(),
  connect: ({ name }) => sockets.get(name).connect(),
  closeEngine: ({ name }) => sockets.get(name).io.engine.close(),
  reconnection: ({ name, value }) => sockets.get(name).io.reconnection(value),
  setAuth: ({ name, auth }) => auths.set(name, auth),
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  commands[command.op](command);
});
process.stdin.on("end", () => process.exit(0));
