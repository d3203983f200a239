package dev.switchboard.adapter.redis;

import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link ClusterMessage}s as JSON, written and read by hand: every node decodes every entry of
 * its namespaces' logs, and JSON-B's reflective mapping cost as much as a log reader's own work
 * per entry, and kept the JIT compiling its large methods long after the warm-up. The text is
 * exactly JSON-B's (members in lexicographic order, {@code null} members left out), so nodes of
 * either kind read each other's entries; a message with sockets (a fetch answer) still goes
 * through JSON-B, as does the reading of one.
 *
 * <pre>{@code
 * String text = MessageCodec.encode(entry);
 * ClusterMessage same = MessageCodec.decode(text);
 * }</pre>
 */
final class MessageCodec {
    private MessageCodec() {
    }

    static String encode(ClusterMessage message) {
        if (message.sockets() != null) {
            return JsonMapper.toRaw(message).text();
        }
        StringBuilder out = new StringBuilder(128 + (message.packet() == null ? 0 : message.packet().length()));
        out.append('{');
        rooms(out, "change", message.change());
        name(out, "close");
        out.append(message.close());
        name(out, "count");
        out.append(message.count());
        name(out, "deadline");
        out.append(message.deadline());
        name(out, "droppable");
        out.append(message.droppable());
        text(out, "error", message.error());
        rooms(out, "except", message.except());
        text(out, "from", message.from());
        text(out, "kind", message.kind());
        text(out, "namespace", message.namespace());
        text(out, "packet", message.packet());
        text(out, "request", message.request());
        rooms(out, "rooms", message.rooms());
        return out.append('}').toString();
    }

    private static void text(StringBuilder out, String name, String value) {
        if (value != null) {
            name(out, name);
            JsonMapper.quote(value, out);
        }
    }

    private static void rooms(StringBuilder out, String name, Set<String> rooms) {
        if (rooms != null) {
            name(out, name);
            out.append('[');
            boolean first = true;
            for (String room : rooms) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                JsonMapper.quote(room, out);
            }
            out.append(']');
        }
    }

    private static void name(StringBuilder out, String name) {
        if (out.length() > 1) {
            out.append(',');
        }
        out.append('"').append(name).append("\":");
    }

    /** @throws IllegalArgumentException if {@code text} is not a message */
    static ClusterMessage decode(String text) {
        try {
            Map<String, RawJson> members = RawJson.of(text).members();
            if (members.containsKey("sockets")) {
                return JsonMapper.fromJson(RawJson.of(text), ClusterMessage.class);
            }
            return new ClusterMessage(string(members, "kind"), string(members, "request"), string(members, "from"),
                    string(members, "namespace"), rooms(members, "rooms"), rooms(members, "except"),
                    flag(members, "droppable"), rooms(members, "change"), flag(members, "close"),
                    string(members, "packet"), (int) number(members, "count"), null, string(members, "error"),
                    number(members, "deadline"));
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("not a cluster message: " + e.getMessage(), e);
        }
    }

    private static String string(Map<String, RawJson> members, String name) throws ProtocolException {
        RawJson value = members.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        String string = value.stringValue();
        if (string == null) {
            throw new IllegalArgumentException("'" + name + "' is not a string");
        }
        return string;
    }

    private static Set<String> rooms(Map<String, RawJson> members, String name) throws ProtocolException {
        RawJson value = members.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        List<String> rooms = new ArrayList<>();
        for (RawJson element : value.elements()) {
            String room = element.stringValue();
            if (room == null) {
                throw new IllegalArgumentException("'" + name + "' holds a value that is not a string");
            }
            rooms.add(room);
        }
        return Set.copyOf(rooms);
    }

    private static boolean flag(Map<String, RawJson> members, String name) {
        RawJson value = members.get(name);
        return value != null && "true".equals(value.text());
    }

    private static long number(Map<String, RawJson> members, String name) {
        RawJson value = members.get(name);
        return value == null || value.isNull() ? 0 : Long.parseLong(value.text());
    }
}
