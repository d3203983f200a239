package dev.switchboard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.PresenceMember;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.Arguments;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A connected Java client socket that records every event it receives as {@code "event:firstArg"},
 * so tests can say exactly what reached whom. To show that something did NOT arrive, tests send a
 * fence to everyone afterwards: frames arrive in order, so whoever sees the fence first got nothing.
 */
public final class Inbox implements AutoCloseable {
    public static final String FENCE = "fence";
    private static final String PRESENCE = "presence:";
    private static final Pattern USER = Pattern.compile("userId:([^,}]+)");

    private final SwitchboardClient client;
    private final ClientSocket socket;
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    private Inbox(SwitchboardClient client, ClientSocket socket) {
        this.client = client;
        this.socket = socket;
    }

    /** Connects to {@code namespace} with {@code {"user": user}} as auth and waits for the connect. */
    public static Inbox open(URI uri, String namespace, String user) {
        return open(uri, namespace, user, ClientOptions.builder().autoConnect(false).build());
    }

    /** The same with {@code options}, which must not connect by themselves ({@code autoConnect(false)}). */
    public static Inbox open(URI uri, String namespace, String user, ClientOptions options) {
        SwitchboardClient client = SwitchboardClient.connect(uri, options);
        ClientSocket socket = client.socket(namespace, user == null ? null : Map.of("user", user));
        Inbox inbox = new Inbox(client, socket);
        socket.onAny(inbox::record);
        socket.connect();
        try {
            socket.whenConnected().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            client.close();
            throw new AssertionError("could not connect " + user + " to " + namespace, e);
        }
        return inbox;
    }

    private void record(String event, Arguments args) {
        events.add(args.isEmpty() ? event : event + ":" + args.raw(0).text().replace("\"", ""));
    }

    public ClientSocket socket() {
        return socket;
    }

    public SwitchboardClient client() {
        return client;
    }

    /** The next event, e.g. {@code "pm:hello"}. */
    public String next() throws InterruptedException {
        String event = events.poll(RawClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (event == null) {
            throw new AssertionError("no event within " + RawClient.WAIT);
        }
        return event;
    }

    /** Everything received before the fence, which must come. */
    public List<String> untilFence() throws InterruptedException {
        List<String> before = new ArrayList<>();
        for (String event = next(); !event.startsWith(FENCE); event = next()) {
            before.add(event);
        }
        return before;
    }

    /** The presence events before the fence, as {@code "join:Pedro"} or {@code "list:Ana,Pedro"}; the others skipped. */
    public List<String> presenceUntilFence() throws InterruptedException {
        List<String> presence = new ArrayList<>();
        for (String event : untilFence()) {
            if (event.startsWith(PRESENCE)) {
                List<String> users = new ArrayList<>();
                Matcher user = USER.matcher(event);
                while (user.find()) {
                    users.add(user.group(1));
                }
                presence.add(event.substring(PRESENCE.length(), event.indexOf(':', PRESENCE.length())) + ":"
                        + String.join(",", users));
            }
        }
        return presence;
    }

    /** The users in {@code room} as this socket's presence set has them, sorted. */
    public List<String> members(String room) {
        return socket.presence(room).members().stream().map(PresenceMember::userId).toList();
    }

    /** Asserts exactly these events arrived before the fence. */
    public void assertReceived(String... expected) throws InterruptedException {
        assertEquals(List.of(expected), untilFence(), "events of " + socket);
    }

    @Override
    public void close() {
        client.close();
    }
}
