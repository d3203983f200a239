package dev.switchboard.server;

import dev.switchboard.adapter.RoomHistory;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link SessionStore} keeps of a session waiting for its client: plain values, so that a
 * store can write it out (as JSON, say; the values in {@code data} must then be of types it can
 * map). The events logged for the client are not in it: that log stays in memory on the node
 * that held the connection; a node that recovers the session from a shared store asks its adapter
 * to send them again ({@link SessionStore#shared()}).
 *
 * <pre>{@code
 * SessionRecord record = store.claim("/chat", pid).join().orElseThrow();
 * String cart = (String) record.data().get("cart");
 * }</pre>
 *
 * @param namespace    the namespace's name, e.g. {@code "/chat"}
 * @param id           the socket id, which a recovered socket keeps
 * @param pid          the private id its client presents to recover; unique, the store's key
 * @param userId       the user, or null
 * @param rooms        the rooms it was in when saved, its own room included
 * @param data         a copy of the application's data at that moment
 * @param newestOffset the offset of the newest event logged for it, or null when none was: a
 *                     client that reports this offset missed nothing
 * @param expiresAt    when the recovery window ends; a store may forget the record then
 * @param since        where the socket joined the adapter's log (see {@code Adapter#position}), or
 *                     null: a client that saw no event missed every event after it
 * @param roomHistory  where in the adapter's log its rooms changed lately, read after {@code rooms}
 *                     (see {@code Adapter#roomHistory}), or null
 * @param offsetAliases what its client may hold in place of an offset (a Socket.IO client's last
 *                     string argument of an event without one, a volatile event), each with the
 *                     offset it stands after; kept once the session waits for its client, else empty
 * @param unnamedThrough the offset of the newest broadcast that asked for an ack and went to the
 *                     connected client without an offset it could name (over Socket.IO), or null:
 *                     the client had every such event up to it, though the offset it holds is older
 */
public record SessionRecord(String namespace, String id, String pid, String userId, Set<String> rooms,
                            Map<String, Object> data, String newestOffset, Instant expiresAt, String since,
                            RoomHistory roomHistory, Map<String, String> offsetAliases, String unnamedThrough) {
    public SessionRecord {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(pid, "pid");
        rooms = Set.copyOf(rooms);
        data = Map.copyOf(data);
        Objects.requireNonNull(expiresAt, "expiresAt");
        // Null in a record written before this field existed.
        offsetAliases = offsetAliases == null ? Map.of() : Map.copyOf(offsetAliases);
    }

    /**
     * Where a client that presents {@code offset} stands: the offset a value held in place of one
     * stands after, else {@code offset} itself.
     */
    public String placed(String offset) {
        return offset == null ? null : offsetAliases.getOrDefault(offset, offset);
    }
}
