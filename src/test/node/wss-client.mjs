// Connects to Switchboard over wss:// trusting only the given CA, opens the default namespace,
// emits "echo" with an ack and prints what came back. Usage: node wss-client.mjs <wss-url> <ca.pem>
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const [url, caFile] = process.argv.slice(2);
const ws = new WebSocket(url, { ca: readFileSync(caFile) });
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("no answer within 10 s"), 10_000).unref();
ws.on("error", (err) => fail("error: " + err.message));
ws.on("open", () => ws.send(JSON.stringify({ type: "connect" })));
ws.on("message", (data) => {
  const packet = JSON.parse(data);
  if (packet.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
  if (packet.type === "connect") ws.send(JSON.stringify({ type: "event", event: "echo", args: ["over wss from node"], ack: 1 }));
  if (packet.type === "ack") {
    console.log(JSON.stringify({ protocol: ws._socket.getProtocol(), args: packet.args }));
    ws.close(1000);
    process.exit(0);
  }
});
