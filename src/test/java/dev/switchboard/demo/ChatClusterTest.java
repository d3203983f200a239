package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The chat as two nodes on one Redis ({@code -Ddemo.redis}): users on different nodes see each
 * other arrive and join the room's presence, and exchange room and private messages; a name in
 * use on one node is taken on the other.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ChatClusterTest {
    @Test
    void usersOnTwoNodesChatAsOnOne() {
        onTwoNodes((one, two) -> {
            try (RawClient una = join(one, "una", 1); RawClient val = join(two, "val", 2)) {
                // Una hears val's presence:join, from whichever node, before or after the notice.
                Set<String> seen = new HashSet<>();
                una.next(packet -> {
                    String args = packet.getJsonArray("args") == null ? "" : packet.getJsonArray("args").toString();
                    String event = packet.getString("event", "");
                    if (event.equals("notice") && args.contains("\"val joined\"")) {
                        seen.add("notice");
                    } else if (event.startsWith("presence:") && args.contains("\"userId\":\"val\"")) {
                        seen.add("presence");
                    }
                    return seen.size() == 2;
                });

                val.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"private\",\"args\":[\"una\",\"psst\"],\"ack\":3}");
                assertEquals("[{}]", ChatMember.ack(val, 3));
                ChatMember.event(una, "private", "\"psst\"");

                una.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"message\",\"args\":[\"hello\"],\"ack\":4}");
                ChatMember.event(val, "message", "\"text\":\"hello\"");
            }
        });
    }

    /**
     * A name belongs to the tabs of one browser on every node: another browser asking for it on
     * the other node is refused, as on one node, so that it never gets the owner's private messages.
     */
    @Test
    void aNameInUseOnOneNodeIsRefusedToAnotherBrowserOnTheOther() {
        onTwoNodes((one, two) -> {
            try (RawClient owner = join(one, "una", "browser-1", 1); RawClient impostor = two.raw()) {
                JsonObject answer = impostor.connectNamespace(ChatApp.NAMESPACE, ChatMember.auth("una", "browser-2"));
                assertEquals("connect_error", answer.getString("type"), () -> "admitted: " + answer);
                assertEquals("name taken", answer.getString("message"));
                // The owner's second tab, on the other node, is the same user.
                join(two, "una", "browser-1", 2).close();
            }
        });
    }

    /** Runs {@code chat} against the demo as two nodes on a Redis of its own. */
    private static void onTwoNodes(BiConsumer<TestServer, TestServer> chat) {
        try (RedisServer redis = RedisServer.start()) {
            DemoCluster first = DemoCluster.join(redis.uri(), TestServer.options().build());
            DemoCluster second = DemoCluster.join(redis.uri(), TestServer.options().build());
            try (TestServer one = TestServer.start(first.options(), DemoApp::install);
                 TestServer two = TestServer.start(second.options(), DemoApp::install)) {
                chat.accept(one, two);
            } finally {
                first.leave();
                second.leave();
            }
        }
    }

    private static RawClient join(TestServer node, String name, int ackId) {
        return join(node, name, "browser-" + name, ackId);
    }

    private static RawClient join(TestServer node, String name, String key, int ackId) {
        return ChatMember.join(node.raw(), name, key, ackId);
    }
}
