/*
 * Helpers shared by the demo pages (index.html, graph.html, dashboard.html). No dependencies.
 */
'use strict';

const demo = (() => {
  function $(id) {
    return document.getElementById(id);
  }

  /**
   * A new element: el('li', { class: 'notice' }, 'text', child). Strings become text nodes, so
   * what users typed is never parsed as HTML.
   */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'class') {
        node.className = value;
      } else if (typeof value === 'function') {
        node.addEventListener(name.replace(/^on/, ''), value);
      } else if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(name, value === true ? '' : value);
      }
    }
    node.append(...children.filter((child) => child !== undefined && child !== null && child !== false));
    return node;
  }

  /** "14:05:09" for a time in milliseconds. */
  function clock(time) {
    return new Date(time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  }

  /**
   * Keeps a status pill up to date with a socket's connection: connected, reconnecting, refused.
   */
  function showConnection(socket, pill) {
    const show = (text, kind) => {
      pill.textContent = text;
      pill.className = 'status' + (kind ? ' ' + kind : '');
    };
    socket.on('connect', () => show(socket.recovered ? 'connected · session recovered' : 'connected', 'on'));
    socket.on('disconnect', (reason) => show(socket.active ? 'connection lost · reconnecting…' : 'disconnected',
      socket.active ? 'busy' : ''));
    socket.on('reconnect_attempt', (attempt) => show('reconnecting · attempt ' + attempt + '…', 'busy'));
    socket.on('connect_error', (err) => show(socket.active ? 'cannot reach the server · retrying…'
      : 'refused: ' + err.message, socket.active ? 'busy' : ''));
    window.addEventListener('offline', () => {
      if (!socket.connected) {
        show('offline · waiting for the network', 'busy');
      }
    });
  }

  /**
   * Leaves the server while the page is hidden in the back/forward cache and comes back when it
   * is shown again. Chromium keeps a cached page's WebSocket open but frozen: the server would go
   * on counting it and writing to it until the heartbeat gives up.
   */
  function leaveWhileHidden(socket) {
    let leftActive = false;
    window.addEventListener('pagehide', () => {
      leftActive = socket.active;
      if (leftActive) {
        socket.disconnect();
      }
    });
    window.addEventListener('pageshow', (event) => {
      if (event.persisted && leftActive) {
        socket.connect();
      }
    });
  }

  return { $, el, clock, showConnection, leaveWhileHidden };
})();
