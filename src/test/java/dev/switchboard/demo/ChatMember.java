package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import jakarta.json.JsonObject;

/**
 * A user of the demo's chat over a raw client, speaking to {@link ChatApp} as the page does: joins
 * a room, then waits for the answers and events a user would see.
 *
 * <pre>{@code
 * RawClient una = ChatMember.join(server.raw(), "una", "browser-una", 1);
 * ChatMember.event(una, "message", "\"text\":\"hello\"");
 * }</pre>
 */
public final class ChatMember {
    private ChatMember() {
    }

    /** Connects {@code client} to the chat as {@code name} from the browser {@code key} and joins {@code general}; returns it. */
    public static RawClient join(RawClient client, String name, String key, int ackId) {
        JsonObject answer = client.connectNamespace(ChatApp.NAMESPACE, auth(name, key));
        assertEquals("connect", answer.getString("type"), () -> "refused: " + answer);
        client.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"join\",\"args\":[\"general\"],\"ack\":" + ackId + "}");
        ack(client, ackId);
        return client;
    }

    /** The chat's auth payload for {@code name} from the browser {@code key}. */
    public static String auth(String name, String key) {
        return "{\"name\":\"" + name + "\",\"key\":\"" + key + "\"}";
    }

    /** The arguments of the ack {@code id}, as JSON text. */
    public static String ack(RawClient client, int id) {
        return client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack", 0) == id)
                .getJsonArray("args").toString();
    }

    /** Waits for an event whose arguments contain {@code fragment} (JSON text). */
    public static void event(RawClient client, String name, String fragment) {
        client.next(packet -> "event".equals(packet.getString("type")) && name.equals(packet.getString("event"))
                && packet.getJsonArray("args").toString().contains(fragment));
    }
}
