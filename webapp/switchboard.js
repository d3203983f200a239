/*!
 * switchboard.js - browser client for the Switchboard event server, wire protocol v1.1
 * (docs/PROTOCOL.md). Plain ES2020, no dependencies, no build step.
 *
 * HOW TO USE
 *
 *   <script src="switchboard.js"></script>
 *   <script>
 *     // No URL: ws(s)://<host><directory of this page>switchboard, so the page also works
 *     // under a context path (/myapp/index.html -> ws://host/myapp/switchboard).
 *     const socket = switchboard.connect();                  // namespace "/"
 *     const chat = switchboard.connect({ namespace: "/chat", auth: { token: "s3cret" } });
 *     // Both share one WebSocket; pass { forceNew: true } for a separate one.
 *
 *     socket.on("connect", () => console.log("connected as", socket.id, socket.recovered));
 *     socket.on("disconnect", (reason) => console.log("gone:", reason));
 *     socket.on("connect_error", (err) => console.log(err.message, err.data));
 *     socket.on("error", (packet) => console.warn(packet.code, packet.message));
 *
 *     socket.on("message", (from, text, ack) => { ack && ack("got it"); });
 *     socket.emit("message", "hi");                          // buffered while offline
 *     socket.emit("store", { x: 1 }, (reply) => {});         // ack callback: fn(...reply)
 *     socket.timeout(5000).emit("store", 1, (err, reply) => {});  // err on timeout
 *     socket.emitWithAck("store", 1).then((reply) => {});   // rejects on timeout/error
 *     socket.volatile.emit("cursor", 10, 20);                // dropped while offline
 *     socket.emit("upload", file.name, new Uint8Array(bytes)); // binary: ArrayBuffer or any typed
 *                                                            // array, nested too; received as ArrayBuffer
 *
 *     const lobby = socket.presence("lobby", (room) => show(room.members));  // [{ userId, info, away }]
 *     const secure = switchboard.connect({ namespace: "/chat", token: () => fetchToken() });
 *
 *     socket.disconnect();   // leaves the namespace; no reconnection for this socket
 *     socket.connect();      // opens it again
 *   </script>
 *
 * Options of connect(url, options) (the reconnection options and timeout belong to the
 * WebSocket, so the call that creates it decides them):
 *   namespace "/", auth (JSON value, or function(cb) that calls cb(value)), token (a function
 *   returning a token or a promise of one: sent as auth { token } at every connect, and asked for
 *   again when the server wants a fresh one before expiry), autoConnect true,
 *   forceNew false, reconnection true, reconnectionDelay 1000, reconnectionDelayMax 5000,
 *   randomizationFactor 0.5, reconnectionAttempts Infinity, timeout 20000 (to get "hello", and
 *   then the answer of an auth function or token provider: past it, connect_error "token provider
 *   did not answer within 20000 ms" ("auth did not answer ..."); the socket then waits for
 *   connect(), or at a reconnection asks again after the reconnection backoff and keeps its session;
 *   a refresh waits for the provider until the token expires),
 *   sendQueueBytes 4 MiB (what the WebSocket may hold unwritten, bufferedAmount; past it events
 *   wait in the sockets' buffers, so a server that stops reading fills them and emits are refused),
 *   maxBufferedEmits 1000 (emits waiting to be sent, offline or paced to the server's rate limit,
 *   or to be acknowledged; past it an emit is refused: socket "error" with code "buffer_full",
 *   and its ack callback or promise gets the Error),
 *   ackTimeout 10000, retries 0 (> 0: at-least-once, every ack callback becomes fn(err, ...reply);
 *   an emit already sent when the socket comes back with recovered: false is not resent, its
 *   callback gets an Error with code "session_lost").
 */
(function (global) {
  'use strict';

  const PROTOCOL_VERSION = 1;
  const ROOT = '/';
  const MAX_EVENT_NAME = 128;
  // setTimeout fires at once for delays past 2^31-1 ms, which would turn a long backoff into a storm.
  const MAX_DELAY = 2147483647;

  // The wire facts below are the Java side's too (protocol.ReservedEvents and
  // protocol.DisconnectReason); WireFactsTest reads these constants as text, so keep them literals.

  /** Event names the server refuses from clients (docs/PROTOCOL.md). */
  const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'error',
    'ping', 'pong', 'hello', 'newListener', 'removeListener', 'refresh']);

  // The server keeps the session for these (docs/PROTOCOL.md, Recovery), so a socket told this
  // reason must come back with its pid rather than stay down.
  const RECOVERABLE_REASONS = new Set(['transport close', 'transport error', 'ping timeout',
    'slow consumer', 'server shutting down', 'server restarting', 'cluster unavailable']);

  // Close codes that name a reason of the server's closed set on their own: 1000 is shared, 1006
  // never travels in a close frame, 1011 is also what a failing container sends, and 1013 also
  // refuses a connection over a cap.
  const CLOSE_REASONS = new Map([[1001, 'server shutting down'], [1008, 'policy violation'],
    [1012, 'server restarting'], [4000, 'ping timeout'], [4001, 'slow consumer'], [4002, 'token expired']]);

  const MANAGER_DEFAULTS = {
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    reconnectionAttempts: Infinity,
    timeout: 20000,
    sendQueueBytes: 4 * 1024 * 1024,
  };

  // The WebSocket says nothing when its bufferedAmount goes down, so a full one is looked at again after this.
  const DRAIN_CHECK_MS = 20;

  const SOCKET_DEFAULTS = { ackTimeout: 10000, retries: 0, maxBufferedEmits: 1000 };

  // ---------------------------------------------------------------------------------------------
  // Helpers

  // A listener's bug must not break the connection for everybody else, so it is reported the
  // way an uncaught error would be and the dispatch goes on.
  function report(err) {
    try {
      if (typeof global.reportError === 'function') {
        global.reportError(err);
      } else if (global.console) {
        global.console.error(err);
      }
    } catch (_) {
      // nothing left to tell
    }
  }

  function invoke(fn, args) {
    try {
      fn(...args);
    } catch (err) {
      report(err);
    }
  }

  // Every WebSocket callback and timer runs through this: nothing may escape into the browser's
  // event loop half-way through a state change.
  function guard(fn) {
    try {
      fn();
    } catch (err) {
      report(err);
    }
  }

  function makeError(message, data) {
    const err = new Error(message);
    if (data !== undefined) {
      err.data = data;
    }
    return err;
  }

  function nonNegative(value, fallback) {
    return typeof value === 'number' && value >= 0 ? value : fallback;
  }

  function isAckId(value) {
    return Number.isSafeInteger(value) && value > 0;
  }

  function randomId() {
    const bytes = new Uint8Array(8);
    if (global.crypto && typeof global.crypto.getRandomValues === 'function') {
      global.crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // The server counts maxPayload in UTF-8 bytes; counting avoids encoding every frame.
  function utf8Length(text) {
    let bytes = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          bytes += 1;
        } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
          bytes += 2;
          i++;
        } else {
          bytes += 2;
        }
      }
    }
    return bytes;
  }

  // -- binary arguments (protocol 1.1): placeholders in the JSON, one binary frame each after it --

  function isBinary(value) {
    return (typeof ArrayBuffer !== 'undefined') && (value instanceof ArrayBuffer || ArrayBuffer.isView(value));
  }

  // Replaces each ArrayBuffer or typed array in `value` (at any depth of arrays and plain
  // objects) by {"_placeholder":true,"num":N}, collecting the bytes in `attachments`.
  function deconstruct(value, attachments) {
    if (isBinary(value)) {
      attachments.push(value);
      return { _placeholder: true, num: attachments.length - 1 };
    }
    if (Array.isArray(value)) {
      return value.map((element) => deconstruct(element, attachments));
    }
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out = {};
      for (const key of Object.keys(value)) {
        out[key] = deconstruct(value[key], attachments);
      }
      return out;
    }
    return value;
  }

  // Puts the received ArrayBuffers back where their placeholders stand.
  function reconstruct(value, attachments) {
    if (Array.isArray(value)) {
      return value.map((element) => reconstruct(element, attachments));
    }
    if (value !== null && typeof value === 'object') {
      if (value._placeholder === true && Number.isInteger(value.num) && value.num >= 0 && value.num < attachments.length) {
        return attachments[value.num];
      }
      const out = {};
      for (const key of Object.keys(value)) {
        out[key] = reconstruct(value[key], attachments);
      }
      return out;
    }
    return value;
  }

  // A packet as the frames it travels in: its JSON text alone, or { text, attachments } when
  // its arguments hold binary values.
  function encodeFrame(packet) {
    if (!packet.args) {
      return JSON.stringify(packet);
    }
    const attachments = [];
    const args = deconstruct(packet.args, attachments);
    if (attachments.length === 0) {
      return JSON.stringify(packet);
    }
    return { text: JSON.stringify(Object.assign({}, packet, { args, attachments: attachments.length })), attachments };
  }

  function frameBytes(frame) {
    if (typeof frame === 'string') {
      return utf8Length(frame);
    }
    return frame.attachments.reduce((sum, attachment) => sum + attachment.byteLength, utf8Length(frame.text));
  }

  function parsePacket(data) {
    if (typeof data !== 'string') {
      return null;
    }
    let packet;
    try {
      packet = JSON.parse(data);
    } catch (_) {
      return null;
    }
    const isObject = packet !== null && typeof packet === 'object' && !Array.isArray(packet);
    return isObject && typeof packet.type === 'string' ? packet : null;
  }

  function checkEventName(event) {
    if (typeof event !== 'string' || event.length === 0 || event.length > MAX_EVENT_NAME) {
      throw new TypeError('event names are strings of 1 to ' + MAX_EVENT_NAME + ' characters');
    }
    if (RESERVED_EVENTS.has(event)) {
      throw new Error('"' + event + '" is a reserved event name');
    }
  }

  function normalizeNamespace(namespace) {
    if (namespace === undefined || namespace === null || namespace === '') {
      return ROOT;
    }
    const text = String(namespace);
    return text.charAt(0) === '/' ? text : '/' + text;
  }

  /**
   * The WebSocket URL for `url`: ws(s) URLs as given, http(s) URLs mapped to ws(s), relative ones
   * (and none at all, meaning "switchboard") resolved against the page, so that a page under a
   * context path talks to the endpoint under the same path.
   */
  function resolveUrl(url) {
    const location = global.location;
    const spec = url === undefined || url === null || url === '' ? 'switchboard' : String(url);
    const resolved = location && location.href ? new URL(spec, location.href) : new URL(spec);
    if (resolved.protocol === 'http:') {
      resolved.protocol = 'ws:';
    } else if (resolved.protocol === 'https:') {
      resolved.protocol = 'wss:';
    } else if (resolved.protocol !== 'ws:' && resolved.protocol !== 'wss:') {
      throw new TypeError('switchboard needs an http(s) or ws(s) URL, not ' + resolved.href);
    }
    resolved.hash = '';
    return resolved.href;
  }

  /**
   * Reconnection delay before attempt number `attempt` (0 first): the exponential base is capped
   * first and jittered afterwards, so that clients which all reached the cap still spread out
   * instead of reconnecting in lockstep.
   */
  function backoffDelay(attempt, options) {
    const exponential = options.reconnectionDelay * Math.pow(2, Math.min(attempt, 32));
    const base = Math.min(exponential, options.reconnectionDelayMax);
    const factor = Math.min(Math.max(options.randomizationFactor, 0), 1);
    const jittered = base * (1 + factor * (2 * Math.random() - 1));
    return Math.min(Math.max(Math.round(jittered), 0), MAX_DELAY);
  }

  function closeQuietly(ws, code, reason) {
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch (_) {
      // Browsers only let scripts close with 1000 or 3000-4999 (1002 throws); say it in words.
      try {
        ws.close(1000, reason);
      } catch (ignored) {
        // already closed
      }
    }
  }

  function monotonicNow() {
    return global.performance ? global.performance.now() : Date.now();
  }

  /**
   * The server's event rate limit as this client keeps to it: a token bucket refilled at the rate
   * announced in hello, holding half the announced burst. The other half stays in reserve at the
   * server for frames that the network delays and then delivers together.
   */
  class SendPace {
    constructor(perSecond, serverBurst) {
      this._perMs = perSecond / 1000;
      this._burst = Math.max(1, Math.floor(serverBurst / 2));
      this._tokens = this._burst;
      this._lastRefill = monotonicNow();
    }

    tryTake() {
      const now = monotonicNow();
      this._tokens = Math.min(this._burst, this._tokens + (now - this._lastRefill) * this._perMs);
      this._lastRefill = now;
      if (this._tokens < 1) {
        return false;
      }
      this._tokens -= 1;
      return true;
    }

    // After a tryTake() that found no token.
    msUntilNext() {
      return Math.ceil((1 - this._tokens) / this._perMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Emitter

  /** Local listeners; a throwing listener is reported and does not stop the others. */
  class Emitter {
    constructor() {
      this._listeners = new Map();
    }

    /**
     * Calls `fn` on every `event`.
     * @param {string} event
     * @param {Function} fn
     * @returns {this}
     */
    on(event, fn) {
      return this._add(event, fn, false);
    }

    /**
     * Calls `fn` on the next `event` only.
     * @param {string} event
     * @param {Function} fn
     * @returns {this}
     */
    once(event, fn) {
      return this._add(event, fn, true);
    }

    /**
     * Removes `fn` from `event`, every listener of `event` without `fn`, or every listener of
     * every event without arguments.
     * @param {string} [event]
     * @param {Function} [fn]
     * @returns {this}
     */
    off(event, fn) {
      if (event === undefined) {
        this._listeners.clear();
      } else if (fn === undefined) {
        this._listeners.delete(event);
      } else {
        const kept = (this._listeners.get(event) || []).filter((entry) => entry.fn !== fn);
        if (kept.length) {
          this._listeners.set(event, kept);
        } else {
          this._listeners.delete(event);
        }
      }
      return this;
    }

    /**
     * @param {string} event
     * @returns {Function[]} the listeners of `event`
     */
    listeners(event) {
      return (this._listeners.get(event) || []).map((entry) => entry.fn);
    }

    /**
     * @param {string} event
     * @returns {boolean} whether `event` has a listener
     */
    hasListeners(event) {
      return this._listeners.has(event);
    }

    _add(event, fn, once) {
      if (typeof fn !== 'function') {
        throw new TypeError('listener must be a function');
      }
      const list = this._listeners.get(event) || [];
      list.push({ fn, once });
      this._listeners.set(event, list);
      return this;
    }

    _emitLocal(event, ...args) {
      const list = this._listeners.get(event);
      if (!list) {
        return;
      }
      // A listener may add or remove listeners; this dispatch sees the list as it was.
      for (const entry of list.slice()) {
        if (entry.once) {
          this._removeEntry(event, entry);
        }
        invoke(entry.fn, args);
      }
    }

    _removeEntry(event, entry) {
      const list = this._listeners.get(event);
      const index = list ? list.indexOf(entry) : -1;
      if (index >= 0) {
        list.splice(index, 1);
        if (!list.length) {
          this._listeners.delete(event);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Manager: one WebSocket, its heartbeat and its reconnection

  /**
   * One WebSocket connection shared by the namespace sockets of one URL. Emits `open`,
   * `close` (reason), `ping`, and `reconnect_attempt` (attempt), `reconnect` (attempts),
   * `reconnect_error` (err), `reconnect_failed`, the last four also on every active socket.
   */
  class Manager extends Emitter {
    /**
     * @param {string} url the ws:// or wss:// URL
     * @param {object} [options] see connect()
     */
    constructor(url, options) {
      super();
      const opts = options || {};
      /** The WebSocket URL. */
      this.url = url;
      /** The connection id from the last hello, or undefined. */
      this.sid = undefined;
      this._opts = {
        reconnection: opts.reconnection !== false,
        reconnectionDelay: nonNegative(opts.reconnectionDelay, MANAGER_DEFAULTS.reconnectionDelay),
        reconnectionDelayMax: nonNegative(opts.reconnectionDelayMax, MANAGER_DEFAULTS.reconnectionDelayMax),
        randomizationFactor: nonNegative(opts.randomizationFactor, MANAGER_DEFAULTS.randomizationFactor),
        reconnectionAttempts: nonNegative(opts.reconnectionAttempts, MANAGER_DEFAULTS.reconnectionAttempts),
        timeout: nonNegative(opts.timeout, MANAGER_DEFAULTS.timeout),
        // Positive: with 0 no event would ever leave.
        sendQueueBytes: opts.sendQueueBytes > 0 ? opts.sendQueueBytes : MANAGER_DEFAULTS.sendQueueBytes,
        WebSocket: opts.WebSocket,
      };
      this._nsps = new Map();
      this._ws = null;
      this._open = false; // hello received on this._ws
      this._generation = 0; // tells stale ack callbacks and auth answers from current ones
      this._sawError = false;
      this._attempts = 0;
      this._reconnectTimer = null;
      this._skipReconnect = false;
      this._handshakeTimer = null;
      this._heartbeatTimer = null;
      this._pingInterval = 25000;
      this._pingTimeout = 20000;
      this._maxPayload = 0;
      this._lastAckId = 0;
      this._lastOffset = undefined;
      this._pace = null; // the server's event rate limit, once hello announces one
      this._paceTimer = null;
      this._emitSequence = 0; // orders the emits waiting on all sockets
    }

    /** Whether the connection is open (hello received). */
    get connected() {
      return this._open;
    }

    /**
     * The socket of namespace `nsp` on this connection, created on first use.
     * @param {string} nsp
     * @param {object} [options] socket options (auth, ackTimeout, retries)
     * @returns {Socket}
     */
    socket(nsp, options) {
      const name = normalizeNamespace(nsp);
      let socket = this._nsps.get(name);
      if (!socket) {
        socket = new Socket(this, name, options);
        this._nsps.set(name, socket);
      }
      return socket;
    }

    /**
     * Opens the WebSocket unless it is open or opening.
     * @returns {this}
     */
    open() {
      if (this._ws) {
        return this;
      }
      this._skipReconnect = false;
      this._generation++;
      this._sawError = false;
      const Ctor = this._opts.WebSocket || global.WebSocket;
      let ws;
      try {
        if (typeof Ctor !== 'function') {
          throw new Error('WebSocket is not available');
        }
        ws = new Ctor(this.url);
      } catch (err) {
        this._failUnopened(err);
        return this;
      }
      this._ws = ws;
      // Binary arguments arrive as ArrayBuffers (docs/PROTOCOL.md, "Binary arguments").
      ws.binaryType = 'arraybuffer';
      this._pending = null;
      ws.onmessage = (event) => guard(() => this._onFrame(ws, event));
      ws.onerror = () => {
        if (this._ws === ws) {
          this._sawError = true;
        }
      };
      ws.onclose = (event) => guard(() => this._onWsClose(ws, event));
      if (this._opts.timeout > 0) {
        this._handshakeTimer = setTimeout(() => guard(() => this._drop('timeout')),
          Math.min(this._opts.timeout, MAX_DELAY));
      }
      return this;
    }

    // A constructor that throws (bad URL, blocked by policy) is reported asynchronously like any
    // other failure, so that listeners attached right after connect() hear about it.
    _failUnopened(err) {
      const placeholder = { close() {} };
      this._ws = placeholder;
      setTimeout(() => guard(() => {
        if (this._ws === placeholder) {
          this._onTransportClosed('transport error', { error: err });
        }
      }), 0);
    }

    _onWsClose(ws, event) {
      if (this._ws !== ws) {
        return;
      }
      const code = event ? event.code : undefined;
      const reason = CLOSE_REASONS.get(code) || (this._sawError ? 'transport error' : 'transport close');
      this._onTransportClosed(reason, { code, reason: event ? event.reason : undefined });
    }

    // Closes the WebSocket from this side without waiting for the closing handshake, which a
    // dead server never completes.
    _drop(reason, code) {
      const ws = this._ws;
      if (!ws) {
        return;
      }
      closeQuietly(ws, code, code ? reason : undefined);
      this._onTransportClosed(reason);
    }

    _onFrame(ws, event) {
      if (this._ws !== ws) {
        return;
      }
      const packet = this._assemble(event.data);
      if (!packet) {
        return;
      }
      if (!this._open) {
        if (packet.type === 'hello') {
          this._onHello(packet);
        }
        return;
      }
      switch (packet.type) {
        case 'ping':
          this._onPing();
          return;
        case 'error':
          this._onErrorPacket(packet);
          return;
        default:
          this._dispatchToSocket(packet);
      }
    }

    _dispatchToSocket(packet) {
      const socket = this._nsps.get(typeof packet.nsp === 'string' ? packet.nsp : ROOT);
      if (!socket) {
        return;
      }
      switch (packet.type) {
        case 'connect':
          socket._onConnectPacket(packet);
          break;
        case 'connect_error':
          socket._onConnectErrorPacket(packet);
          break;
        case 'disconnect':
          socket._onDisconnectPacket(packet);
          break;
        case 'event':
          socket._onEventPacket(packet);
          break;
        case 'ack':
          socket._onAckPacket(packet);
          break;
        default:
          // unknown types come from newer minor versions; ignoring them is the contract
      }
    }

    // A whole packet, or null while a packet waits for its binary frames (or for a frame that
    // fits nowhere, which is dropped with the packet it interrupts).
    _assemble(data) {
      if (typeof data !== 'string') {
        const pending = this._pending;
        if (!pending) {
          return null;
        }
        pending.attachments.push(data);
        if (pending.attachments.length < pending.packet.attachments) {
          return null;
        }
        this._pending = null;
        pending.packet.args = reconstruct(pending.packet.args, pending.attachments);
        return pending.packet;
      }
      this._pending = null;
      const packet = parsePacket(data);
      if (packet && Number.isInteger(packet.attachments) && packet.attachments > 0) {
        this._pending = { packet, attachments: [] };
        return null;
      }
      return packet;
    }

    _onHello(packet) {
      if (packet.v !== PROTOCOL_VERSION) {
        // Retrying cannot fix a version mismatch; the page needs a client that speaks it.
        this._skipReconnect = true;
        this._drop('unsupported protocol version ' + packet.v, 1002);
        return;
      }
      clearTimeout(this._handshakeTimer);
      this._handshakeTimer = null;
      this._open = true;
      this.sid = typeof packet.sid === 'string' ? packet.sid : undefined;
      this._pingInterval = nonNegative(packet.pingInterval, 25000);
      this._pingTimeout = nonNegative(packet.pingTimeout, 20000);
      this._maxPayload = nonNegative(packet.maxPayload, 0);
      const perSecond = nonNegative(packet.eventsPerSecond, 0);
      const burst = nonNegative(packet.eventBurst, 0);
      this._pace = perSecond > 0 && burst > 0 ? new SendPace(perSecond, burst) : null;
      this._lastOffset = undefined;
      this._resetHeartbeat();

      const ws = this._ws;
      this._emitLocal('open');
      if (this._ws !== ws || !this._open) {
        return; // a listener closed it
      }
      for (const socket of this._activeSockets()) {
        socket._onTransportOpen();
      }
    }

    _resetHeartbeat() {
      clearTimeout(this._heartbeatTimer);
      const limit = this._pingInterval + this._pingTimeout;
      this._heartbeatTimer = limit > 0
        ? setTimeout(() => guard(() => this._drop('ping timeout')), Math.min(limit, MAX_DELAY))
        : null;
    }

    _onPing() {
      this._resetHeartbeat();
      const pong = { type: 'pong' };
      if (this._lastOffset !== undefined) {
        pong.offset = this._lastOffset;
      }
      this._sendFrame(JSON.stringify(pong));
      this._emitLocal('ping');
    }

    _onErrorPacket(packet) {
      // Ack ids are unique on the connection, so they name the socket even when `nsp` is
      // missing (which means both "/" and "the whole connection").
      const owner = isAckId(packet.ack) ? this._ackOwner(packet.ack) : undefined;
      let targets;
      if (owner) {
        targets = [owner];
      } else if (typeof packet.nsp === 'string') {
        targets = this._nsps.has(packet.nsp) ? [this._nsps.get(packet.nsp)] : [];
      } else {
        targets = this._activeSockets();
      }
      for (const socket of targets) {
        socket._onErrorPacket(packet);
      }
    }

    _ackOwner(id) {
      for (const socket of this._nsps.values()) {
        if (socket._acks.has(id)) {
          return socket;
        }
      }
      return undefined;
    }

    _onTransportClosed(reason, details) {
      const wasOpen = this._open;
      clearTimeout(this._handshakeTimer);
      clearTimeout(this._heartbeatTimer);
      clearTimeout(this._paceTimer);
      this._handshakeTimer = this._heartbeatTimer = this._paceTimer = null;
      this._pace = null; // the next connection announces its own
      this._ws = null;
      this._open = false;
      this._lastOffset = undefined;

      const failure = wasOpen ? undefined : makeError(reason, details);
      this._emitLocal('close', reason, details);
      for (const socket of this._activeSockets()) {
        socket._onTransportClose(reason, details, failure);
      }
      if (failure && this._attempts > 0) {
        this._broadcast('reconnect_error', failure);
      }
      if (this._ws) {
        return; // a listener called connect() again
      }
      if (!this._skipReconnect && this._opts.reconnection && this._activeSockets().length) {
        this._scheduleReconnect();
      }
    }

    _scheduleReconnect() {
      if (this._reconnectTimer) {
        return;
      }
      if (this._attempts >= this._opts.reconnectionAttempts) {
        this._attempts = 0;
        this._broadcast('reconnect_failed');
        return;
      }
      const delay = backoffDelay(this._attempts, this._opts);
      this._attempts++;
      this._reconnectTimer = setTimeout(() => guard(() => this._reconnectNow()), delay);
    }

    _reconnectNow() {
      this._reconnectTimer = null;
      if (this._skipReconnect || this._ws) {
        return;
      }
      this._broadcast('reconnect_attempt', this._attempts);
      if (this._skipReconnect || this._ws) {
        return; // a listener disconnected or reconnected
      }
      this.open();
    }

    // A socket asks for the connection: send its connect now if hello is in, else open (unless
    // a reconnection is already scheduled, which will pick the socket up).
    _socketWantsOpen(socket) {
      if (this._open) {
        if (!socket._connectToken) {
          socket._sendConnect();
        }
      } else if (!this._ws && !this._reconnectTimer) {
        this.open();
      }
    }

    // A socket connected: the reconnection, if this was one, succeeded. Not at hello: a cluster
    // node that cannot claim the session says hello, then refuses with 1013, and that must back
    // off and give up like any failed attempt.
    _socketConnected() {
      const attempts = this._attempts;
      this._attempts = 0;
      if (attempts > 0) {
        this._broadcast('reconnect', attempts);
      }
    }

    // A socket no longer wants the connection; close it when nobody does.
    _socketDone() {
      if (!this._activeSockets().length) {
        this._close();
      }
    }

    _close() {
      this._skipReconnect = true;
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
      this._attempts = 0;
      if (this._ws) {
        this._drop('io client disconnect', 1000);
      }
    }

    _activeSockets() {
      return Array.from(this._nsps.values()).filter((socket) => socket._active);
    }

    _broadcast(event, ...args) {
      this._emitLocal(event, ...args);
      for (const socket of this._activeSockets()) {
        socket._emitLocal(event, ...args);
      }
    }

    _nextAckId() {
      this._lastAckId++;
      return this._lastAckId;
    }

    _nextEmitSequence() {
      this._emitSequence++;
      return this._emitSequence;
    }

    // Whether the server's rate limit lets one more event go now; takes it if so.
    _takeEventToken() {
      return !this._pace || this._pace.tryTake();
    }

    // Whether the WebSocket holds less than sendQueueBytes unwritten. Past it the server is not
    // reading: events wait in their sockets' bounded buffers, which fill so that emits are refused
    // (buffer_full) instead of the page's memory growing, as in the Java client.
    _writable() {
      return this._ws.bufferedAmount < this._opts.sendQueueBytes;
    }

    _sendEventsLater(delay) {
      if (!this._paceTimer) {
        this._paceTimer = setTimeout(() => guard(() => {
          this._paceTimer = null;
          this._sendEvents();
        }), delay);
      }
    }

    // Sends the events the sockets have waiting, oldest first, as fast as the server's rate limit
    // and the WebSocket's queue allow, and comes back when they allow more: a flush of what was
    // emitted offline must not get the connection closed for flooding.
    _sendEvents() {
      while (this._open) {
        let oldest;
        let oldestSince = Infinity;
        for (const socket of this._nsps.values()) {
          const since = socket._readySince();
          if (since < oldestSince) {
            oldest = socket;
            oldestSince = since;
          }
        }
        if (!oldest) {
          return;
        }
        if (!this._writable()) {
          this._sendEventsLater(DRAIN_CHECK_MS);
          return;
        }
        if (!this._takeEventToken()) {
          this._sendEventsLater(this._pace.msUntilNext());
          return;
        }
        oldest._sendReadyEvent();
      }
    }

    _fits(frame) {
      const max = this._maxPayload;
      return !max || (typeof frame === 'string' && frame.length * 3 <= max) || frameBytes(frame) <= max;
    }

    _sendFrame(frame) {
      if (!this._open) {
        return false;
      }
      try {
        if (typeof frame === 'string') {
          this._ws.send(frame);
        } else {
          // Back to back, as the protocol wants them: nothing else can come in between.
          this._ws.send(frame.text);
          frame.attachments.forEach((attachment) => this._ws.send(attachment));
        }
        return true;
      } catch (err) {
        report(err);
        return false;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // AckTable: the answers one socket waits for

  /**
   * The acks a socket waits for, by ack id (the manager hands the ids out, unique on the
   * connection). A plain entry fails at its timeout, and at a drop once its event was sent: the
   * next connection never answers it. A kept entry (the at-least-once queue's) only ends with the
   * server's answer or when the queue settles it, since the queue resends its event.
   * Owned by one Socket; like everything here it runs on the page's event loop.
   */
  class AckTable {
    constructor() {
      this._entries = new Map(); // ack id -> { answer(err, reply), errFirst, timer, sent, kept }
    }

    has(id) {
      return this._entries.has(id);
    }

    // cb(...reply), or cb(err, ...reply) when a timeout is given; onTimeout runs after `timeout` ms.
    wait(id, cb, timeout, onTimeout) {
      const errFirst = timeout !== undefined;
      const answer = (err, reply) => {
        if (errFirst) {
          invoke(cb, err ? [err] : [null].concat(reply));
        } else if (!err) {
          invoke(cb, reply);
        }
      };
      const timer = errFirst ? setTimeout(() => guard(onTimeout), timeout) : null;
      this._entries.set(id, { answer, errFirst, timer, sent: false, kept: false });
    }

    // answer(err, reply) once the server answers or the owner settles it; survives a drop.
    keep(id, answer) {
      this._entries.set(id, { answer, errFirst: true, timer: null, sent: false, kept: true });
    }

    markSent(id) {
      const entry = this._entries.get(id);
      if (entry) {
        entry.sent = true;
      }
    }

    // Plain callbacks have no way to hear about a failure, so an emit that can no longer be
    // answered just forgets them; timed ones still fail at their timeout.
    forgetPlain(id) {
      const entry = this._entries.get(id);
      if (entry && !entry.errFirst) {
        this._entries.delete(id);
      }
    }

    settle(id, err, reply) {
      const entry = this._entries.get(id);
      if (!entry) {
        return;
      }
      this._entries.delete(id);
      clearTimeout(entry.timer);
      entry.answer(err, reply);
    }

    // The answer to an event sent on a dead connection never comes: the new one does not know it.
    failSent() {
      for (const [id, entry] of Array.from(this._entries)) {
        if (entry.sent && !entry.kept) {
          this.settle(id, makeError('socket has been disconnected'));
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // AtLeastOnceQueue: emits kept until the server acknowledges them (retries > 0)

  /**
   * The at-least-once emits of one socket, in emit order. Only the head is ever sent, one at a
   * time, so that the server sees the emits in order, resends included; each carries a msgId
   * the server uses to run its handler once. An emit stays queued until its ack comes, its tries
   * run out, or the session it was sent to is lost; after a drop the head is resent (same msgId)
   * on the next connect. Owned by one Socket, on the page's event loop.
   */
  class AtLeastOnceQueue {
    /** @param {Socket} socket the owner: its acks, its manager, its writer */
    constructor(socket) {
      this._socket = socket;
      this._items = []; // { id, frame, callback, tries, timer, inFlight, timeout, seq }
      this._msgPrefix = randomId();
      this._msgCount = 0;
    }

    get size() {
      return this._items.length;
    }

    add(event, args, callback, timeout) {
      const socket = this._socket;
      const id = socket.io._nextAckId();
      this._msgCount++;
      const msgId = this._msgPrefix + '-' + this._msgCount;
      const frame = encodeFrame(socket._packet('event', { event, args, ack: id, msgId }));
      const item = { id, frame, callback, tries: 0, timer: null, inFlight: false,
        timeout: timeout !== undefined ? timeout : socket._opts.ackTimeout, seq: 0 };
      socket._acks.keep(id, (err, reply) => this._finish(item, err, reply));
      if (socket._bufferFull()) {
        socket._refuseBufferFull(id);
        return;
      }
      item.seq = socket.io._nextEmitSequence();
      this._items.push(item);
      socket.io._sendEvents();
    }

    // The place in the order of emits of the head when it may be sent now, else Infinity.
    readySince() {
      const item = this._items[0];
      return item && !item.inFlight ? item.seq : Infinity;
    }

    // Sends the head; the manager took a rate token for it.
    sendHead() {
      const item = this._items[0];
      if (item.tries > this._socket._opts.retries) {
        // Its tries ran out in drops rather than timeouts (the timer stops at a drop): an event
        // that makes the connection drop must not be resent after every reconnection forever.
        this._socket._acks.settle(item.id, makeError('operation has timed out'));
        return;
      }
      item.tries++;
      item.inFlight = true;
      item.timer = setTimeout(() => guard(() => this._onTimeout(item)), item.timeout);
      this._socket._write(item.frame, item.id);
    }

    _onTimeout(item) {
      item.timer = null;
      item.inFlight = false;
      if (item.tries > this._socket._opts.retries) {
        this._socket._acks.settle(item.id, makeError('operation has timed out'));
      } else {
        this._socket.io._sendEvents();
      }
    }

    _finish(item, err, reply) {
      clearTimeout(item.timer);
      const index = this._items.indexOf(item);
      if (index >= 0) {
        this._items.splice(index, 1);
      }
      if (item.callback) {
        invoke(item.callback, err ? [err] : [null].concat(reply));
      }
      this._socket.io._sendEvents();
    }

    // The new session knows none of the old one's msgIds: an emit already sent there may have
    // been handled, and resending it could run the handler twice.
    failSentToLostSession() {
      for (const item of this._items.filter((queued) => queued.tries > 0)) {
        const err = makeError('session lost: the server may or may not have handled it');
        err.code = 'session_lost';
        this._socket._acks.settle(item.id, err);
      }
    }

    pause() {
      const item = this._items[0];
      if (item) {
        clearTimeout(item.timer);
        item.timer = null;
        item.inFlight = false; // resent, same msgId, after the next connect
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Socket: one namespace on a Manager

  /**
   * Emit modifiers: `socket.volatile`, `socket.timeout(ms)`, chainable in any order.
   */
  class Emission {
    constructor(socket, flags) {
      this._socket = socket;
      this._flags = flags;
    }

    /** Drops the emit instead of buffering it while disconnected or while the rate limit allows none. */
    get volatile() {
      return new Emission(this._socket, Object.assign({}, this._flags, { volatile: true }));
    }

    /**
     * Fails the ack callback with an Error after `ms`; the callback becomes fn(err, ...reply).
     * @param {number} ms
     */
    timeout(ms) {
      return new Emission(this._socket, Object.assign({}, this._flags, { timeout: checkTimeout(ms) }));
    }

    /** See Socket#emit. */
    emit(event, ...args) {
      this._socket._emitWith(this._flags, event, args);
      return this._socket;
    }

    /** See Socket#emitWithAck. */
    emitWithAck(event, ...args) {
      return this._socket._emitWithAck(this._flags, event, args);
    }
  }

  function checkTimeout(ms) {
    if (typeof ms !== 'number' || !(ms >= 0)) {
      throw new TypeError('timeout must be a number of milliseconds');
    }
    return Math.min(ms, MAX_DELAY);
  }

  /**
   * A namespace socket. Local events: `connect`, `connect_error` (Error with `.data`),
   * `disconnect` (reason, details), `error` (the server's error packet), the manager's
   * `reconnect_attempt`, `reconnect`, `reconnect_error`, `reconnect_failed`, and the server's
   * events.
   */
  class Socket extends Emitter {
    /**
     * Use switchboard.connect() or manager.socket() rather than this constructor.
     * @param {Manager} io
     * @param {string} nsp
     * @param {object} [options]
     */
    constructor(io, nsp, options) {
      super();
      const opts = options || {};
      /** The Manager (the shared WebSocket). */
      this.io = io;
      /** The namespace, "/" by default. */
      this.nsp = nsp;
      /** Sent with every connect; may be replaced, or be a function(cb) that calls cb(value). */
      this.auth = typeof opts.token === 'function' ? tokenAuth(opts.token) : opts.auth;
      this._tokenProvider = opts.token;
      /** Whether the namespace is open: the server answered connect. */
      this.connected = false;
      /** The public id the server gave this socket, or undefined while disconnected. */
      this.id = undefined;
      /** Whether the last connect recovered the previous session (no event was missed). */
      this.recovered = false;
      this._opts = {
        ackTimeout: checkTimeout(nonNegative(opts.ackTimeout, SOCKET_DEFAULTS.ackTimeout)),
        retries: Math.floor(nonNegative(opts.retries, SOCKET_DEFAULTS.retries)),
        maxBufferedEmits: Math.max(1, Math.floor(nonNegative(opts.maxBufferedEmits, SOCKET_DEFAULTS.maxBufferedEmits))),
      };
      this._active = false; // wants to be connected: not disconnected by either side
      this._connectToken = null; // a connect is under way or done on the current transport
      this._reconnecting = false; // connected since the application last made it active
      this._pending = false; // the connect packet is out, its answer is not in yet
      this._voidAnswers = 0; // answers still due to connects left before they were answered
      this._voidGeneration = 0; // the transport those connects went out on
      this._pid = undefined;
      this._offset = undefined;
      this._sendBuffer = []; // { frame, ackId, seq } plain emits not sent yet
      this._acks = new AckTable();
      this._queue = new AtLeastOnceQueue(this); // emits with retries > 0
      this._anyListeners = [];
      this._presence = new PresenceSets(this);
    }

    /** Whether the socket is not connected. */
    get disconnected() {
      return !this.connected;
    }

    /** Whether the socket tries to be connected (it was not disconnected on purpose). */
    get active() {
      return this._active;
    }

    /**
     * Opens the namespace (again after disconnect()). Emits `connect` or `connect_error`.
     * @returns {this}
     */
    connect() {
      if (!this.connected) {
        if (!this._active) {
          this._reconnecting = false;
        }
        this._active = true;
        this.io._socketWantsOpen(this);
      }
      return this;
    }

    /** Same as connect(). */
    open() {
      return this.connect();
    }

    /**
     * Leaves the namespace: tells the server, stops reconnecting this socket, and closes the
     * WebSocket when no other socket uses it. Emits `disconnect` with "io client disconnect".
     * @returns {this}
     */
    disconnect() {
      const wasConnected = this.connected;
      if (this.connected || this._pending) {
        this.io._sendFrame(JSON.stringify(this._packet('disconnect')));
      }
      if (this._pending) {
        // The server answers that connect before it reads the disconnect; the answer names a
        // socket that is gone, and must not be taken for the answer to a connect() made next.
        const same = this._voidGeneration === this.io._generation;
        this._voidAnswers = (same ? this._voidAnswers : 0) + 1;
        this._voidGeneration = this.io._generation;
      }
      this._active = false;
      // The server ends the session on a client disconnect, so the token is worth nothing now.
      this._pid = undefined;
      this._offset = undefined;
      this._resetConnection();
      if (wasConnected) {
        this._emitLocal('disconnect', 'io client disconnect');
      }
      if (!this._active) { // a disconnect listener may have called connect() again
        this.io._socketDone();
      }
      return this;
    }

    /** Same as disconnect(). */
    close() {
      return this.disconnect();
    }

    /** Emit modifier: the next emit is dropped instead of buffered while disconnected or rate limited. */
    get volatile() {
      return new Emission(this, { volatile: true });
    }

    /**
     * Emit modifier: `socket.timeout(ms).emit(event, ...args, (err, ...reply) => {})` calls back
     * with an Error when no ack arrives within `ms`.
     * @param {number} ms
     * @returns {Emission}
     */
    timeout(ms) {
      return new Emission(this, { timeout: checkTimeout(ms) });
    }

    /**
     * Sends `event` with `args` to the server. A function as last argument asks for an ack and
     * receives the server's answer: fn(...reply) (fn(err, ...reply) with timeout() or retries).
     * Emits made while disconnected are buffered and sent in order after the next connect, and
     * every event leaves within the rate limit the server announced (faster emits wait in the
     * same buffer). Past maxBufferedEmits waiting emits, a new one is refused: the socket emits
     * `error` with code "buffer_full" and an err-first callback gets that Error.
     * @param {string} event
     * @param {...*} args JSON values, optionally followed by the ack callback
     * @returns {this}
     */
    emit(event, ...args) {
      this._emitWith({}, event, args);
      return this;
    }

    /**
     * Like emit() with an ack; resolves with the first value of the answer, rejects when the
     * server answers with an error or nothing comes within the timeout (ackTimeout by default).
     * @param {string} event
     * @param {...*} args
     * @returns {Promise<*>}
     */
    emitWithAck(event, ...args) {
      return this._emitWithAck({}, event, args);
    }

    /**
     * Calls `fn(event, ...args)` for every event from the server, before its own listeners.
     * @param {Function} fn
     * @returns {this}
     */
    onAny(fn) {
      if (typeof fn !== 'function') {
        throw new TypeError('listener must be a function');
      }
      this._anyListeners.push(fn);
      return this;
    }

    /**
     * Removes `fn`, or every catch-all listener without argument.
     * @param {Function} [fn]
     * @returns {this}
     */
    offAny(fn) {
      this._anyListeners = fn === undefined ? [] : this._anyListeners.filter((any) => any !== fn);
      return this;
    }

    /** @returns {Function[]} the catch-all listeners */
    listenersAny() {
      return this._anyListeners.slice();
    }

    // -- sending ---------------------------------------------------------------------------------

    _packet(type, fields) {
      const packet = { type };
      if (this.nsp !== ROOT) {
        packet.nsp = this.nsp;
      }
      return Object.assign(packet, fields);
    }

    _emitWith(flags, event, argList) {
      checkEventName(event);
      const args = argList.slice();
      const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
      if (this._opts.retries > 0 && !flags.volatile) {
        this._queue.add(event, args, callback, flags.timeout);
        return;
      }
      const ackId = callback ? this.io._nextAckId() : undefined;
      // Encoding now snapshots the arguments and throws (cycles, BigInt) to the caller of emit.
      const frame = encodeFrame(this._packet('event', ackId ? { event, args, ack: ackId } : { event, args }));
      if (callback) {
        this._acks.wait(ackId, callback, flags.timeout, () => this._onAckTimeout(ackId));
      }
      if (flags.volatile) {
        // Dropped rather than kept waiting, offline, when the rate limit allows nothing now, or
        // when the WebSocket's queue is full.
        if (this.connected && this.io._writable() && this.io._takeEventToken()) {
          this._write(frame, ackId);
        } else {
          this._acks.forgetPlain(ackId);
        }
      } else if (this._bufferFull()) {
        this._refuseBufferFull(ackId);
      } else {
        this._sendBuffer.push({ frame, ackId, seq: this.io._nextEmitSequence() });
        this.io._sendEvents();
      }
    }

    _bufferFull() {
      return this._sendBuffer.length + this._queue.size >= this._opts.maxBufferedEmits;
    }

    // The emits already buffered keep their place; the new one is not sent at all.
    _refuseBufferFull(ackId) {
      this._refuse(ackId, 'buffer_full', 'the send buffer is full: ' + this._opts.maxBufferedEmits
        + ' emits are waiting to be sent or acknowledged');
    }

    // An emit this client will not send: its ack callback hears why (if it takes an error), and
    // so do the socket's error listeners.
    _refuse(ackId, code, message) {
      const err = makeError(message);
      err.code = code;
      if (ackId !== undefined) {
        this._settleAck(ackId, err);
      }
      this._emitLocal('error', { type: 'error', code, message });
    }

    _emitWithAck(flags, event, args) {
      return new Promise((resolve, reject) => {
        const timeout = flags.timeout !== undefined ? flags.timeout : this._opts.ackTimeout;
        const callback = (err, ...reply) => (err ? reject(err) : resolve(reply[0]));
        this._emitWith(Object.assign({}, flags, { timeout }), event, args.concat([callback]));
      });
    }

    _onAckTimeout(id) {
      // A packet still waiting in the buffer is not worth sending once its caller gave up.
      this._sendBuffer = this._sendBuffer.filter((buffered) => buffered.ackId !== id);
      this._settleAck(id, makeError('operation has timed out'));
    }

    _settleAck(id, err, reply) {
      this._acks.settle(id, err, reply);
    }

    _write(frame, ackId) {
      if (!this.io._fits(frame)) {
        // The server would close the whole connection with 1009; refuse this one emit instead.
        this._refuse(ackId, 'payload_too_large',
          'packet of ' + frameBytes(frame) + ' bytes exceeds maxPayload ' + this.io._maxPayload);
        return false;
      }
      this._acks.markSent(ackId);
      return this.io._sendFrame(frame);
    }

    // The place in the order of emits of the oldest event this socket could send now, or
    // Infinity when it has none (or is not connected).
    _readySince() {
      if (!this.connected) {
        return Infinity;
      }
      const buffered = this._sendBuffer[0];
      return Math.min(buffered ? buffered.seq : Infinity, this._queue.readySince());
    }

    // Sends the event _readySince() names; the manager took a rate token for it.
    _sendReadyEvent() {
      if (this._queue.readySince() === this._readySince()) {
        this._queue.sendHead();
      } else {
        const buffered = this._sendBuffer.shift();
        this._write(buffered.frame, buffered.ackId);
      }
    }

    // -- connection lifecycle ------------------------------------------------------------------------

    _sendConnect() {
      const attempt = { sent: false };
      this._connectToken = attempt;
      const generation = this.io._generation;
      const send = (auth) => {
        if (attempt.sent || this._connectToken !== attempt || this.io._generation !== generation || !this.io._open) {
          return; // sent already, or the transport or the socket moved on while auth was computed
        }
        attempt.sent = true;
        this._writeConnect(auth);
      };
      if (typeof this.auth === 'function') {
        this._askAuth(attempt, send, 0);
      } else {
        send(this.auth);
      }
    }

    // Asks the auth function (or token provider) for a connect attempt, of which `timedOut` asks
    // went unanswered within the timeout; an answer that comes late is still sent while the attempt
    // waits for one. A provider that never answers (a login service that hangs) would hold the
    // connect for good on a WebSocket that stays up: bounded by the timeout that bounds the hello.
    // At a reconnection the timeout is retried after the reconnection backoff, so that a slow login
    // service does not cost the socket its session; at a connect the application asked for, it is
    // a connect error and the socket waits for connect().
    _askAuth(attempt, send, timedOut) {
      const waiting = () => this._connectToken === attempt && !attempt.sent;
      const what = typeof this._tokenProvider === 'function' ? 'token provider' : 'auth';
      const opts = this.io._opts;
      const timer = opts.timeout > 0 ? setTimeout(() => guard(() => {
        if (!waiting()) {
          return;
        }
        const err = makeError(what + ' did not answer within ' + opts.timeout + ' ms');
        if (!this._reconnecting || !opts.reconnection || timedOut >= opts.reconnectionAttempts) {
          this._failConnect(err);
          return;
        }
        this._emitLocal('connect_error', err);
        setTimeout(() => guard(() => waiting() && this._askAuth(attempt, send, timedOut + 1)),
          backoffDelay(timedOut, opts));
      }), Math.min(opts.timeout, MAX_DELAY)) : null;
      const answer = (value) => {
        clearTimeout(timer);
        send(value);
      };
      try {
        const result = this.auth(answer);
        if (result && typeof result.then === 'function') { // a token provider's promise
          result.then(answer, (err) => waiting() && this._failConnect(err));
        }
      } catch (err) {
        this._failConnect(err);
      }
    }

    _writeConnect(auth) {
      const fields = {};
      if (auth !== undefined) {
        fields.auth = auth;
      }
      if (this._pid !== undefined) {
        fields.pid = this._pid;
        if (this._offset !== undefined) {
          fields.offset = this._offset;
        }
      }
      let frame;
      try {
        frame = JSON.stringify(this._packet('connect', fields));
      } catch (err) {
        this._failConnect(err);
        return;
      }
      if (!this.io._fits(frame)) {
        this._failConnect(makeError('connect packet exceeds maxPayload ' + this.io._maxPayload));
        return;
      }
      this._pending = true;
      this.io._sendFrame(frame);
    }

    // A connect this client cannot even send will not work on retry either.
    _failConnect(err) {
      this._connectToken = null;
      this._pending = false;
      this._active = false;
      this._emitLocal('connect_error', err);
      this.io._socketDone();
    }

    _onTransportOpen() {
      if (this._active && !this._connectToken) {
        this._sendConnect();
      }
    }

    _onTransportClose(reason, details, failure) {
      const wasConnected = this.connected;
      const wasPending = this._pending;
      this._resetConnection();
      if (wasConnected) {
        this._emitLocal('disconnect', reason, details);
      } else if (failure || wasPending) {
        this._emitLocal('connect_error', failure || makeError(reason, details));
      }
    }

    // Forgets the current transport's state; pid, offset, buffer and queue outlive it.
    _resetConnection() {
      this.connected = false;
      this.id = undefined;
      this._connectToken = null;
      this._pending = false;
      this._queue.pause();
      this._acks.failSent();
    }

    // -- incoming packets --------------------------------------------------------------------------

    // Whether a connect answer is the one due to a connect left before it was answered; answers
    // on a newer transport never are.
    _voidAnswer() {
      if (this._voidAnswers > 0 && this._voidGeneration === this.io._generation) {
        this._voidAnswers--;
        return true;
      }
      return false;
    }

    _onConnectPacket(packet) {
      if (this._voidAnswer() || !this._pending) {
        return; // not asked for, or disconnect() came first (its disconnect packet is on the way)
      }
      this._pending = false;
      this.connected = true;
      this._reconnecting = true;
      this.id = typeof packet.id === 'string' ? packet.id : undefined;
      this.recovered = packet.recovered === true;
      if (typeof packet.pid === 'string') {
        this._pid = packet.pid;
      }
      if (!this.recovered) {
        // A fresh session: offsets of the old one mean nothing to it, and would make the next
        // recovery fail.
        this._offset = undefined;
        this._queue.failSentToLostSession();
      }
      this.io._sendEvents();
      this.io._socketConnected();
      if (this.connected) {
        this._emitLocal('connect');
      }
    }

    _onConnectErrorPacket(packet) {
      if (this._voidAnswer() || !this._pending) {
        return;
      }
      const message = typeof packet.message === 'string' ? packet.message : 'connection refused';
      // Like socket.io: a refused socket waits for the application (new auth, then connect()).
      this._failConnect(makeError(message, packet.data));
    }

    _onDisconnectPacket(packet) {
      if (!this.connected && !this._pending) {
        return;
      }
      const reason = typeof packet.reason === 'string' && packet.reason ? packet.reason : 'io server disconnect';
      // For a connection-level reason the transport is about to drop and the session is kept:
      // stay active, keep pid and offset, and reconnection brings the socket back.
      const recoverable = RECOVERABLE_REASONS.has(reason);
      const wasConnected = this.connected;
      if (!recoverable) {
        this._active = false;
        this._pid = undefined;
        this._offset = undefined;
      }
      this._resetConnection();
      if (wasConnected) {
        this._emitLocal('disconnect', reason);
      }
      if (!recoverable && !this._active) {
        this.io._socketDone();
      }
    }

    _onEventPacket(packet) {
      if (!this.connected || typeof packet.event !== 'string') {
        return;
      }
      // Volatile events carry no offset: the last one seen stays the one to recover from.
      if (typeof packet.offset === 'string') {
        this._offset = packet.offset;
        this.io._lastOffset = packet.offset;
      }
      const ackId = isAckId(packet.ack) ? packet.ack : undefined;
      const event = packet.event;
      if (event === 'refresh') {
        answerRefresh(this, ackId);
        return;
      }
      const heard = !RESERVED_EVENTS.has(event) && (this._anyListeners.length > 0 || this.hasListeners(event));
      if (!heard) {
        // Answer like the server does, so that the sender does not wait for its timeout.
        if (ackId !== undefined) {
          this._sendAck(ackId, []);
        }
        return;
      }
      const args = Array.isArray(packet.args) ? packet.args.slice() : [];
      if (ackId !== undefined) {
        args.push(this._ackCallback(ackId));
      }
      for (const any of this._anyListeners.slice()) {
        invoke(any, [event].concat(args));
      }
      this._emitLocal(event, ...args);
    }

    _ackCallback(id) {
      const generation = this.io._generation;
      let answered = false;
      return (...args) => {
        if (answered) {
          return;
        }
        answered = true;
        // The server failed its pending acks when the old connection dropped; this one is moot.
        if (this.io._generation === generation && this.connected) {
          this._sendAck(id, args);
        }
      };
    }

    _sendAck(id, args) {
      this._write(encodeFrame(this._packet('ack', { ack: id, args })));
    }

    _onAckPacket(packet) {
      if (!isAckId(packet.ack)) {
        return;
      }
      if (packet.error !== undefined && packet.error !== null) {
        const error = packet.error;
        const message = error && typeof error.message === 'string' ? error.message
          : typeof error === 'string' ? error : 'the server answered with an error';
        this._settleAck(packet.ack, makeError(message, error));
      } else {
        this._settleAck(packet.ack, null, Array.isArray(packet.args) ? packet.args : []);
      }
    }

    _onErrorPacket(packet) {
      if (isAckId(packet.ack)) {
        const err = makeError(typeof packet.message === 'string' ? packet.message : 'refused', packet);
        err.code = packet.code;
        this._settleAck(packet.ack, err);
      }
      this._emitLocal('error', packet);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Presence and tokens (docs/PROTOCOL.md, "Presence" and "Token refresh")

  function presentUser(user) {
    const ok = user !== null && typeof user === 'object' && typeof user.userId === 'string';
    return ok ? {
      userId: user.userId,
      info: user.info !== null && typeof user.info === 'object' ? user.info : {},
      away: user.away === true,
    } : null;
  }

  /**
   * Who is in one room, from the server's presence events: the list the socket gets when it
   * enters the room, then the diffs. Emits `change` (this) after each change.
   */
  class RoomPresence extends Emitter {
    constructor(room) {
      super();
      /** The room. */
      this.room = room;
      this._members = new Map();
    }

    /** The users present, sorted by id: { userId, info, away }. */
    get members() {
      return Array.from(this._members.values()).sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    }

    /** The user with this id, or undefined. */
    member(userId) {
      return this._members.get(userId);
    }

    _replace(users) {
      this._members.clear();
      users.map(presentUser).filter(Boolean).forEach((user) => this._members.set(user.userId, user));
      this._emitLocal('change', this);
    }

    _put(user) {
      this._members.set(user.userId, user);
      this._emitLocal('change', this);
    }

    _remove(userId) {
      if (this._members.delete(userId)) {
        this._emitLocal('change', this);
      }
    }
  }

  /**
   * A socket's presence sets, one per room, kept from the socket's start so that a list that
   * comes before the page asks for its room is not lost. A fresh session (not recovered) starts
   * them empty: the server sends each room's list again when the socket enters it.
   */
  class PresenceSets {
    constructor(socket) {
      this._rooms = new Map();
      const change = (apply) => (payload) => {
        const user = payload && presentUser(payload.user);
        if (user && typeof payload.room === 'string') {
          apply(this.room(payload.room), user);
        }
      };
      socket.on('presence:list', (payload) => {
        if (payload && typeof payload.room === 'string' && Array.isArray(payload.users)) {
          this.room(payload.room)._replace(payload.users);
        }
      });
      for (const event of ['presence:join', 'presence:away', 'presence:back', 'presence:update']) {
        socket.on(event, change((room, user) => room._put(user)));
      }
      socket.on('presence:leave', change((room, user) => room._remove(user.userId)));
      socket.on('connect', () => {
        if (!socket.recovered) {
          this._rooms.forEach((room) => room._replace([]));
        }
      });
    }

    room(name) {
      let room = this._rooms.get(name);
      if (!room) {
        room = new RoomPresence(name);
        this._rooms.set(name, room);
      }
      return room;
    }
  }

  /**
   * Who is in `room` (a room the server tracks presence in), kept up to date.
   * @param {string} room
   * @param {Function} [onChange] called with the RoomPresence after every change
   * @returns {RoomPresence}
   */
  Socket.prototype.presence = function presence(room, onChange) {
    const set = this._presence.room(String(room));
    if (typeof onChange === 'function') {
      set.on('change', onChange);
    }
    return set;
  };

  // The `token` option: a function returning a token, or a promise of one, called for every
  // connect and every refresh; the server gets { token } as auth.
  function tokenAuth(provider) {
    return () => Promise.resolve().then(provider).then((token) => ({ token }));
  }

  // The server asks for a fresh token before the current one expires; no answer, or no provider,
  // and it ends the socket with "token expired" at expiry. A replayed request has no ack id.
  function answerRefresh(socket, ackId) {
    if (ackId === undefined) {
      return;
    }
    const reply = socket._ackCallback(ackId);
    if (typeof socket._tokenProvider !== 'function') {
      reply();
      return;
    }
    Promise.resolve().then(socket._tokenProvider).then((token) => reply(token), (err) => {
      report(err);
      reply();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Entry point

  const managers = new Map();

  /**
   * Opens a socket on a namespace of a Switchboard server.
   *
   * Calls with the same URL share one WebSocket (one Manager) unless `forceNew` is set, or the
   * namespace is already taken on it (a namespace can be opened only once per connection).
   *
   * @param {string} [url] ws(s)://, http(s):// or relative URL; default: "switchboard" next to
   *   the current page
   * @param {object} [options]
   * @param {string} [options.namespace="/"]
   * @param {*} [options.auth] JSON value sent with connect, or function(cb) calling cb(value)
   * @param {Function} [options.token] token provider: returns a token or a promise of one, for
   *   every connect (auth becomes { token }) and every refresh the server asks for
   * @param {boolean} [options.autoConnect=true]
   * @param {boolean} [options.forceNew=false]
   * @param {boolean} [options.reconnection=true]
   * @param {number} [options.reconnectionDelay=1000]
   * @param {number} [options.reconnectionDelayMax=5000]
   * @param {number} [options.randomizationFactor=0.5]
   * @param {number} [options.reconnectionAttempts=Infinity]
   * @param {number} [options.timeout=20000] ms to wait for the server's hello, and for an auth
   *   function or token provider to answer (else connect_error; the socket waits for connect(), or
   *   at a reconnection asks again after the reconnection backoff)
   * @param {number} [options.ackTimeout=10000] for emitWithAck() and each try of retries
   * @param {number} [options.retries=0] resends of an unacknowledged emit (at-least-once)
   * @param {number} [options.maxBufferedEmits=1000] emits a socket keeps waiting; more are refused
   * @returns {Socket}
   */
  function connect(url, options) {
    if (url !== null && typeof url === 'object') {
      options = url;
      url = undefined;
    }
    const opts = options || {};
    const href = resolveUrl(url);
    const nsp = normalizeNamespace(opts.namespace);
    let manager = opts.forceNew ? undefined : managers.get(href);
    if (!manager || manager._nsps.has(nsp)) {
      manager = new Manager(href, opts);
      if (!opts.forceNew && !managers.has(href)) {
        managers.set(href, manager);
      }
    }
    const socket = manager.socket(nsp, opts);
    if (opts.autoConnect !== false) {
      socket.connect();
    }
    return socket;
  }

  const api = { connect, Manager, Socket, protocol: PROTOCOL_VERSION, resolveUrl };

  if (typeof module === 'object' && module && module.exports) {
    module.exports = api;
  }
  global.switchboard = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
