package dev.switchboard.demo;

import dev.switchboard.protocol.RawJson;
import dev.switchboard.server.BroadcastOperator;
import dev.switchboard.server.ConnectionRejectedException;
import dev.switchboard.server.DetachedSession;
import dev.switchboard.server.Event;
import dev.switchboard.server.Namespace;
import dev.switchboard.api.PresentUser;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The chat of the demo page {@code webapp/index.html}, on the namespace {@code /chat}: rooms with
 * live member lists ({@link Namespace#trackPresence} in every chat room), presence notices, private messages to
 * every tab of a user, a typing indicator.
 *
 * <p>A user is a name. The page sends {@code auth: {name, key, room}}, where {@code key} is a
 * random id its browser keeps in {@code localStorage}: the tabs of one browser that use the same
 * name are one user; anyone else asking for a name in use (connected, or dropped and still within
 * its recovery window) is refused with {@code "name taken"}. The key tells tabs apart from
 * impostors in a demo; it is not authentication.
 *
 * <p>Events from the page: {@code message(text)} and {@code private(to, text)}, acknowledged
 * with {@code {}} or {@code {error}}, {@code join(room)}, acknowledged with {@code {room}} or
 * {@code {error}}, and the volatile {@code typing(boolean)}.
 * Events to the page: {@code welcome({name, room, maxLength})}, {@code notice(text)},
 * {@code message({room, from, text, time})}, {@code private({from, to, text, time})},
 * {@code typing({room, name, typing})}, {@code rooms([{name, members}])}, and the presence events
 * of the room the socket is in, {@code "#" + room} ({@code presence:list}, {@code presence:join}, ...).
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * ChatApp.install(server);
 * }</pre>
 */
public final class ChatApp {
    /** The namespace of the chat. */
    public static final String NAMESPACE = "/chat";
    /** The room everybody starts in; it is listed even when empty. */
    public static final String DEFAULT_ROOM = "general";
    /** The longest message, in characters (code points), checked here and in the page. */
    public static final int MAX_MESSAGE_LENGTH = 500;
    /** How long a name check waits for the nodes: past a cluster's query timeout (5 s by default). */
    private static final long NAME_CHECK_SECONDS = 10;

    private static final Pattern NAME = Pattern.compile("[\\p{L}\\p{N}][\\p{L}\\p{N} ._-]{0,23}");
    private static final Pattern ROOM = Pattern.compile("[\\p{L}\\p{N}][\\p{L}\\p{N}_-]{0,23}");
    /**
     * Chat rooms among the adapter's rooms, which also hold socket ids and users: "#general", as
     * the page titles it, so that the dashboard lists the rooms by the names people know.
     */
    private static final String ROOM_PREFIX = "#";
    private static final String KEY = "key";
    private static final String CURRENT_ROOM = "room";

    /** What the page sends when it connects. */
    public record Auth(String name, String key, String room) {
    }

    /** Sent to a socket that joined (not to one that recovered its session). */
    public record Welcome(String name, String room, int maxLength) {
    }

    /** A message to a room. */
    public record Message(String room, String from, String text, long time) {
    }

    /** A private message, sent to every socket of {@code to}. */
    public record PrivateMessage(String from, String to, String text, long time) {
    }

    /** Someone started or stopped typing in a room. */
    public record Typing(String room, String name, boolean typing) {
    }

    /** A room of the room list. */
    public record RoomInfo(String name, int members) {
    }

    /** The answer to {@code join}: the room's name as the server spells it. */
    public record Joined(String room) {
    }

    /** The answer to the page's requests: {@code {}} when done, else {@code {error}}. */
    public record Reply(String error) {
        static final Reply OK = new Reply(null);
    }

    private final Namespace chat;

    private ChatApp(Namespace chat) {
        this.chat = chat.trackPresence(room -> room.startsWith(ROOM_PREFIX));
    }

    /** Installs the chat on {@code server}'s {@code /chat} namespace. */
    public static void install(Switchboard server) {
        ChatApp app = new ChatApp(server.of(NAMESPACE));
        app.chat.use(app::claimName);
        app.chat.onConnection(app::connected);
        app.chat.onSessionExpired(session -> app.left(session, currentRoom(session)));
    }

    // ---- joining ----

    private void claimName(Socket socket) throws ConnectionRejectedException {
        Auth auth;
        try {
            auth = socket.handshake().auth(Auth.class);
        } catch (IllegalArgumentException e) {
            auth = null;
        }
        String name = auth == null || auth.name() == null ? "" : auth.name().strip();
        if (name.isEmpty()) {
            throw new ConnectionRejectedException("choose a name");
        }
        if (!NAME.matcher(name).matches()) {
            throw new ConnectionRejectedException(
                    "a name is 1 to 24 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit");
        }
        String key = auth.key() == null ? "" : auth.key();
        if (takenByOther(name, key, socket.id())) {
            throw new ConnectionRejectedException("name taken", Map.of("name", name));
        }
        socket.userId(name);
        socket.data().put(KEY, key);
        // A recovering socket brings its session's data, and with it the room it was in.
        socket.data().putIfAbsent(CURRENT_ROOM, Objects.requireNonNullElse(roomName(auth.room()), DEFAULT_ROOM));
    }

    /**
     * Whether someone else holds {@code name}: a connected socket on any node, or a session
     * waiting for its client on this one, from another browser. On a cluster this asks every
     * node for the user's sockets (only the user's: a node answers with those it holds): two
     * people of one name on two nodes would each get the other's private messages. A session
     * waiting on another node is not seen, nor are two browsers that claim a free name at the same
     * instant; a demo can live with that.
     *
     * @throws ConnectionRejectedException when the nodes cannot be asked (Redis unreachable, a
     *         node that does not answer within the cluster's query timeout)
     */
    private boolean takenByOther(String name, String key, String socketId) throws ConnectionRejectedException {
        List<RemoteSocket> connected;
        try {
            connected = chat.toUser(name).fetchSockets().get(NAME_CHECK_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new ConnectionRejectedException("names cannot be checked now, try again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionRejectedException("names cannot be checked now, try again");
        }
        return Stream.concat(connected.stream(), chat.detachedSessions().values().stream())
                .anyMatch(other -> !other.id().equals(socketId) && name.equals(other.userId())
                        && (key.isEmpty() || !key.equals(other.data().get(KEY))));
    }

    private void connected(Socket socket) {
        String name = socket.userId();
        // Listeners first: the connection may drop while this method still announces the arrival.
        socket.on("message", event -> onMessage(socket, event));
        socket.on("private", event -> onPrivate(socket, event));
        socket.on("join", event -> onJoin(socket, event));
        socket.on("typing", event -> othersIn(socket, currentRoom(socket)).asVolatile()
                .emit("typing", new Typing(currentRoom(socket), name, "true".equals(event.args().raw(0).text()))));
        socket.onDisconnect(reason -> {
            // A client that may come back within the window shows as away and is not announced
            // yet; onSessionExpired speaks if it does not.
            if (!reason.recoverable() || !chat.switchboard().options().recoveryEnabled()) {
                left(socket, currentRoom(socket));
            }
        });

        String room = currentRoom(socket);
        if (socket.recovered()) {
            othersIn(socket, room).emit("notice", name + " reconnected");
            DemoApp.logFailures("chat rooms", publishRooms());
            return;
        }
        socket.join(ROOM_PREFIX + room);
        socket.emit("welcome", new Welcome(name, room, MAX_MESSAGE_LENGTH));
        DemoApp.logFailures("chat arrival", present(name, room, socket.id()).thenAccept(present -> {
            if (!present) {
                othersIn(socket, room).emit("notice", name + " joined");
            }
            DemoApp.logFailures("chat rooms", publishRooms());
        }));
    }

    /** A user's socket is gone for good: tell the room, unless another tab of the user is still in it. */
    private void left(RemoteSocket socket, String room) {
        DemoApp.logFailures("chat departure", present(socket.userId(), room, socket.id()).thenAccept(present -> {
            if (!present) {
                chat.to(ROOM_PREFIX + room).emit("notice", socket.userId() + " disconnected");
            }
            DemoApp.logFailures("chat rooms", publishRooms());
        }));
    }

    // ---- what the page asks ----

    private void onMessage(Socket socket, Event event) {
        String text = text(event, 0);
        String problem = checkMessage(text);
        if (problem != null) {
            event.ack(new Reply(problem));
            return;
        }
        String room = currentRoom(socket);
        chat.to(ROOM_PREFIX + room).emit("message", new Message(room, socket.userId(), text.strip(), now()));
        event.ack(Reply.OK);
    }

    private void onPrivate(Socket socket, Event event) {
        String to = text(event, 0);
        String text = text(event, 1);
        String problem = to == null ? "choose someone to write to" : checkMessage(text);
        if (problem != null) {
            event.ack(new Reply(problem));
            return;
        }
        // Presence knows every user of the chat on every node, away ones included (each socket is
        // in one tracked room); the sessions waiting for their client are known to their node only.
        DemoApp.logFailures("private message", chat.presence().thenAccept(users -> {
            if (users.stream().noneMatch(user -> to.equals(user.userId()))) {
                event.ack(new Reply("nobody called " + to + " is here"));
                return;
            }
            // Only the addressee's tabs; the sender's page shows its own copy once acknowledged.
            chat.toUser(to).emit("private", new PrivateMessage(socket.userId(), to, text.strip(), now()));
            event.ack(Reply.OK);
        }));
    }

    private void onJoin(Socket socket, Event event) {
        String room = roomName(text(event, 0));
        if (room == null) {
            event.ack(new Reply("a room name is 1 to 24 letters, digits, '_' or '-'"));
            return;
        }
        String name = socket.userId();
        String previous = currentRoom(socket);
        if (room.equals(previous)) {
            event.ack(new Joined(room));
            return;
        }
        socket.leave(ROOM_PREFIX + previous);
        socket.data().put(CURRENT_ROOM, room);
        socket.join(ROOM_PREFIX + room);
        event.ack(new Joined(room));
        // The checks leave this socket out, so they may run after it moved.
        DemoApp.logFailures("chat room change", present(name, room, socket.id()).thenCombine(
                present(name, previous, socket.id()), (inRoom, inPrevious) -> {
                    if (!inPrevious) {
                        chat.to(ROOM_PREFIX + previous).emit("notice", name + " left for #" + room);
                    }
                    if (!inRoom) {
                        othersIn(socket, room).emit("notice", name + " joined");
                    }
                    return publishRooms();
                }));
    }

    /** Why a message cannot be sent, or {@code null}. */
    private static String checkMessage(String text) {
        if (text == null || text.isBlank()) {
            return "empty message";
        }
        String stripped = text.strip();
        int length = stripped.codePointCount(0, stripped.length());
        if (length > MAX_MESSAGE_LENGTH) {
            return "message too long: " + length + " characters, at most " + MAX_MESSAGE_LENGTH;
        }
        return null;
    }

    // ---- rooms and members ----

    /** The user's other sockets don't need to hear about the user. */
    private static BroadcastOperator othersIn(Socket socket, String room) {
        return socket.to(ROOM_PREFIX + room).except(Namespace.userRoom(socket.userId()));
    }

    /**
     * Each room with its number of users, present or away: the namespace's sockets and this node's
     * waiting sessions, and presence for users away on another node, whose sessions only that node
     * keeps. Presence alone could miss a newcomer whose arrival it has not written yet.
     */
    private CompletableFuture<Void> publishRooms() {
        return inRoom(null).thenCombine(chat.rooms().thenCompose(this::presenceIn), (sockets, present) -> {
            Map<String, Set<String>> users = new TreeMap<>();
            users.put(DEFAULT_ROOM, new HashSet<>());
            for (RemoteSocket socket : sockets) {
                for (String room : socket.rooms()) {
                    if (room.startsWith(ROOM_PREFIX) && socket.userId() != null) {
                        users.computeIfAbsent(room.substring(ROOM_PREFIX.length()), name -> new HashSet<>())
                                .add(socket.userId());
                    }
                }
            }
            present.forEach((room, list) -> list.forEach(user ->
                    users.computeIfAbsent(room, name -> new HashSet<>()).add(user.userId())));
            return users;
        }).thenAccept(users ->
                chat.emit("rooms", users.entrySet().stream().map(e -> new RoomInfo(e.getKey(), e.getValue().size())).toList()));
    }

    /** The users presence knows in each chat room among {@code rooms}, by room name. */
    private CompletableFuture<Map<String, List<PresentUser>>> presenceIn(Set<String> rooms) {
        Map<String, CompletableFuture<List<PresentUser>>> asked = new TreeMap<>();
        rooms.stream().filter(room -> room.startsWith(ROOM_PREFIX))
                .forEach(room -> asked.put(room.substring(ROOM_PREFIX.length()), chat.presence(room)));
        return CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new)).thenApply(all -> {
            Map<String, List<PresentUser>> present = new TreeMap<>();
            asked.forEach((room, users) -> present.put(room, users.join()));
            return present;
        });
    }

    /** Whether a user has a socket in a room, other than {@code exceptId}. */
    private CompletableFuture<Boolean> present(String name, String room, String exceptId) {
        return inRoom(ROOM_PREFIX + room).thenApply(sockets -> sockets.stream()
                .anyMatch(socket -> !socket.id().equals(exceptId) && Objects.equals(name, socket.userId())));
    }

    /**
     * The sockets in a room (in the whole namespace when {@code room} is null) through the public
     * API: the connected ones, then the sessions of dropped ones that wait for their client (the
     * chat shows those users as away).
     */
    private CompletableFuture<List<RemoteSocket>> inRoom(String room) {
        BroadcastOperator target = room == null ? chat.operator() : chat.in(room);
        return target.fetchSockets().thenApply(connected -> Stream.concat(connected.stream(),
                chat.detachedSessions().values().stream().filter(session -> room == null || session.rooms().contains(room)))
                .toList());
    }

    private static String currentRoom(RemoteSocket socket) {
        return (String) socket.data().getOrDefault(CURRENT_ROOM, DEFAULT_ROOM);
    }

    /** A valid room name, lower-cased, or {@code null}. */
    private static String roomName(String requested) {
        String room = requested == null ? "" : requested.strip().toLowerCase(Locale.ROOT);
        return ROOM.matcher(room).matches() ? room : null;
    }

    /** A string argument, or {@code null} when it is missing or not a string. */
    private static String text(Event event, int index) {
        RawJson raw = event.args().raw(index);
        return raw.text().startsWith("\"") ? raw.as(String.class) : null;
    }

    private static long now() {
        return System.currentTimeMillis();
    }
}
