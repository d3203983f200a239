/*
 * The chat page (index.html). Server side: dev.switchboard.demo.ChatApp on the namespace /chat.
 * `socket` is a global on purpose: try socket.emit(...) from the browser console.
 */
'use strict';

const { $, el, clock } = demo;

const ACK_TIMEOUT = 10000;
const TYPING_REFRESH = 2000; // while typing, say so this often
const TYPING_IDLE = 3000; // stop saying so after this long without a key press
const TYPING_FORGET = 4000; // another user's "typing" fades after this long without news
const MAX_LOG_LINES = 500;

const chat = {
  name: '',
  room: 'general',
  maxLength: Infinity, // the server's limit arrives with "welcome"
  rooms: [],
  wasConnected: false,
  typers: new Map(), // name -> timer
};

// Tabs of this browser that join with the same name are one user; the server refuses the name
// to any other browser while it is in use. Not a secret: it only tells a user's tabs from others.
const browserKey = (() => {
  const storageKey = 'switchboard-chat-key';
  const fresh = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  try {
    const key = localStorage.getItem(storageKey) || fresh;
    localStorage.setItem(storageKey, key);
    return key;
  } catch (_) {
    return fresh; // storage disabled: this tab alone is the user
  }
})();

const socket = switchboard.connect({
  namespace: '/chat',
  autoConnect: false,
  // A function, so that every reconnection sends the current name and room.
  auth: (send) => send({ name: chat.name, key: browserKey, room: chat.room }),
});
demo.showConnection(socket, $('status'));

// ---- joining and leaving ----

$('name').value = savedName();

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  chat.name = $('name').value.trim();
  if (!chat.name) {
    return;
  }
  $('join-error').textContent = '';
  $('join-button').disabled = true;
  socket.connect();
});

$('leave').addEventListener('click', () => {
  socket.disconnect();
  chat.wasConnected = false;
  showJoin('');
});

// A closed tab cannot come back to its session (the token to recover it lives in this page), so
// it says goodbye at once rather than have the others wait for the end of the recovery window.
// A page restored from the back/forward cache joins again under the same name.
demo.leaveWhileHidden(socket);

socket.on('connect', () => {
  if (socket.recovered) {
    addLine(el('li', { class: 'notice' }, 'Reconnected: your session was recovered, nothing is lost.'));
  } else if (chat.wasConnected) {
    addLine(el('li', { class: 'notice' }, 'Reconnected too late to recover the session: messages sent meanwhile are lost.'));
  }
  chat.wasConnected = true;
});

socket.on('welcome', ({ name, room, maxLength }) => {
  chat.name = name;
  chat.room = room;
  chat.maxLength = maxLength;
  saveName(name);
  $('me').textContent = name;
  showChat();
  showRoom();
  addLine(el('li', { class: 'notice' }, `Welcome, ${name}`));
});

socket.on('connect_error', (err) => {
  if (socket.active) {
    // The server is out of reach; the client keeps trying on its own.
    if (!chat.wasConnected) {
      $('join-error').textContent = 'Cannot reach the server. Still trying…';
    }
    return;
  }
  chat.wasConnected = false;
  showJoin(err.message === 'name taken'
    ? `The name “${chat.name}” is taken. Choose another one.`
    : `The server refused to let you in: ${err.message}.`);
});

socket.on('disconnect', (reason) => {
  if (socket.active) {
    addLine(el('li', { class: 'notice' }, `Connection lost (${reason}). Reconnecting…`));
  } else if (reason !== 'io client disconnect') {
    chat.wasConnected = false;
    showJoin(`Disconnected by the server (${reason}).`);
  }
});

function showJoin(error) {
  $('chat').classList.add('hidden');
  $('join').classList.remove('hidden');
  $('join-button').disabled = false;
  $('join-error').textContent = error;
  $('name').focus();
}

function showChat() {
  if ($('chat').classList.contains('hidden')) {
    $('log').replaceChildren();
    $('join').classList.add('hidden');
    $('chat').classList.remove('hidden');
    $('text').focus();
  }
}

function savedName() {
  try {
    return localStorage.getItem('switchboard-chat-name') || '';
  } catch (_) {
    return '';
  }
}

function saveName(name) {
  try {
    localStorage.setItem('switchboard-chat-name', name);
  } catch (_) {
    // remembering the name is a convenience
  }
}

// ---- what the server says ----

socket.on('notice', (text) => addLine(el('li', { class: 'notice' }, text)));

// Pushed by a backend through the HTTP API (README): to everyone in the chat, whatever their room.
socket.on('announcement', (text) => {
  addLine(el('li', { class: 'announcement' }, el('span', { class: 'from' }, 'Announcement'), String(text)));
});

socket.on('message', ({ room, from, text, time }) => {
  if (room !== chat.room) {
    return; // sent before we switched rooms
  }
  forgetTyper(from);
  addLine(el('li', { class: 'message' },
    el('span', { class: 'time' }, clock(time)), el('span', { class: 'from' }, from), text));
});

socket.on('private', ({ from, text, time }) => {
  forgetTyper(from);
  addPrivate(`${from} → you`, text, time);
});

socket.on('typing', ({ room, name, typing }) => {
  if (room !== chat.room) {
    return;
  }
  forgetTyper(name);
  if (typing) {
    chat.typers.set(name, setTimeout(() => forgetTyper(name), TYPING_FORGET));
  }
  showTypers();
});

// Who is in a room: the client keeps a presence set per room from the server's presence events
// (the server tracks the chat rooms, "#general", ...); the page draws the current room's.
const watchedRooms = new Set();

function roomPresence(room) {
  if (!watchedRooms.has(room)) {
    watchedRooms.add(room);
    socket.presence('#' + room, () => {
      if (room === chat.room) {
        showMembers();
      }
    });
  }
  return socket.presence('#' + room);
}

function members() {
  return roomPresence(chat.room).members.map(({ userId, away }) => ({ name: userId, away }))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}

socket.on('rooms', (rooms) => {
  chat.rooms = rooms;
  showRooms();
});

function addLine(item) {
  const log = $('log');
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  while (log.children.length > MAX_LOG_LINES) {
    log.firstElementChild.remove();
  }
  if (atBottom) {
    log.scrollTop = log.scrollHeight;
  }
}

function addPrivate(label, text, time) {
  addLine(el('li', { class: 'private' },
    el('span', { class: 'time' }, clock(time)), el('span', { class: 'from' }, label), text));
}

function forgetTyper(name) {
  clearTimeout(chat.typers.get(name));
  if (chat.typers.delete(name)) {
    showTypers();
  }
}

function showTypers() {
  const names = Array.from(chat.typers.keys());
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are typing…`;
}

function showRoom() {
  $('room-title').textContent = '#' + chat.room;
  for (const timer of chat.typers.values()) {
    clearTimeout(timer);
  }
  chat.typers.clear();
  showTypers();
  showRooms();
  showMembers();
}

function showRooms() {
  $('rooms').replaceChildren(...chat.rooms.map(({ name, members }) =>
    el('li', { class: name === chat.room ? 'current' : '', 'data-room': name },
      el('button', { type: 'button', onclick: () => switchRoom(name) }, '#' + name),
      el('span', { class: 'count', title: 'people in the room' }, members))));
}

function showMembers() {
  const present = members();
  $('members').replaceChildren(...present.map(({ name, away }) =>
    el('li', { class: 'member' + (away ? ' away' : ''), 'data-name': name },
      el('button', { type: 'button', title: name === chat.name ? '' : 'Whisper to ' + name,
        onclick: () => whisperTo(name) }, name, name === chat.name ? el('span', { class: 'you' }, ' (you)') : null),
      away ? el('span', { class: 'tag' }, 'reconnecting…') : null)));
  // The recipient list follows the room; a chosen person stays chosen while still here.
  const chosen = $('to').value;
  const others = present.filter((member) => member.name !== chat.name);
  $('to').replaceChildren(el('option', { value: '' }, `Everyone in #${chat.room}`),
    ...others.map(({ name }) => el('option', { value: name, selected: name === chosen }, 'Only ' + name)));
}

function whisperTo(name) {
  if (name !== chat.name) {
    $('to').value = name;
    $('text').focus();
  }
}

// ---- what the user does ----

/** Sends an event and resolves with the server's answer, or with {error} when there is none. */
function ask(event, ...args) {
  return socket.timeout(ACK_TIMEOUT).emitWithAck(event, ...args).then(
    (reply) => reply || {},
    (err) => ({ error: socket.connected ? `no answer from the server (${err.message})` : 'not sent: you are offline' }));
}

async function switchRoom(requested) {
  $('room-error').textContent = '';
  const reply = await ask('join', requested);
  if (reply.error) {
    $('room-error').textContent = reply.error;
    return;
  }
  if (reply.room !== chat.room) {
    chat.room = reply.room;
    showRoom();
    addLine(el('li', { class: 'divider' }, `You are now in #${chat.room}`));
  }
}

$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = $('new-room').value.trim();
  if (room) {
    $('new-room').value = '';
    switchRoom(room);
  }
});

function length(text) {
  return Array.from(text.trim()).length; // characters, as the server counts them
}

function tooLong(text) {
  const count = length(text);
  return count > chat.maxLength ? `Message too long: ${count} characters, at most ${chat.maxLength}.` : '';
}

$('text').addEventListener('input', () => {
  const text = $('text').value;
  const count = length(text);
  $('counter').textContent = count > chat.maxLength * 0.8 ? `${count} / ${chat.maxLength}` : '';
  $('counter').classList.toggle('over', count > chat.maxLength);
  $('compose-error').textContent = tooLong(text);
  if (text) {
    typingActivity();
  } else {
    stopTyping();
  }
});

$('compose').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  const problem = tooLong(text);
  $('compose-error').textContent = problem;
  if (!text || problem) {
    return;
  }
  stopTyping();
  const to = $('to').value;
  const reply = to ? await ask('private', to, text) : await ask('message', text);
  if (reply.error) {
    $('compose-error').textContent = reply.error;
    return;
  }
  if (to) {
    addPrivate(`you → ${to}`, text, Date.now()); // the server sends it to the addressee's tabs only
  }
  $('text').value = '';
  $('counter').textContent = '';
});

// Typing notices are volatile: one lost on the way matters less than sending stale ones later.
let typingSince = 0;
let typingIdle = null;

function typingActivity() {
  if (Date.now() - typingSince > TYPING_REFRESH) {
    socket.volatile.emit('typing', true);
    typingSince = Date.now();
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (typingSince) {
    socket.volatile.emit('typing', false);
    typingSince = 0;
  }
}
