package dev.switchboard.adapter;

import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import dev.switchboard.api.RemoteSocket;

/**
 * What a namespace lets its adapter do with the sockets connected to this node. The adapter
 * decides who receives a frame; the namespace delivers it.
 *
 * <pre>{@code
 * for (String id : membersOf(room)) namespace.deliver(id, frame, false);
 * }</pre>
 */
public interface LocalNamespace {
    /** The namespace name, e.g. {@code "/chat"}. */
    String name();

    /** Queues {@code frame} for one local socket; unknown ids are ignored. */
    void deliver(String socketId, Frame frame, boolean droppable);

    /**
     * A local socket id as a room keeps it, made when it joins: {@link Recipient#deliver} does what
     * {@link #deliver} does, but the namespace may skip looking the id up for every frame. This
     * default looks it up each time.
     *
     * <pre>{@code
     * Recipient member = namespace.recipient(socketId);   // once, at join
     * member.deliver(frame, false);                       // per broadcast
     * }</pre>
     */
    default Recipient recipient(String socketId) {
        return new Recipient() {
            @Override
            public String id() {
                return socketId;
            }

            @Override
            public void deliver(Frame frame, boolean droppable) {
                LocalNamespace.this.deliver(socketId, frame, droppable);
            }
        };
    }

    /** A local socket id and the way to deliver to it; see {@link #recipient}. Thread-safe. */
    interface Recipient {
        String id();

        /** Same as {@link LocalNamespace#deliver} for this id. */
        void deliver(Frame frame, boolean droppable);
    }

    /**
     * Queues {@code frame} (which carries an ack id) for one local socket and routes its answer
     * to {@code collector}.
     *
     * @return whether the socket was there to receive it
     */
    boolean deliverWithAck(String socketId, Frame frame, AckCollector collector);

    /** A local socket, or {@code null}. */
    RemoteSocket socket(String socketId);

    /** Disconnects a local socket, or ends the session waiting here under its id; {@code close} closes a socket's whole connection. */
    void disconnect(String socketId, boolean close);

    /**
     * Closes the connections of every local socket as a drain does (1012, no {@code disconnect}
     * packet): their sessions wait, and the clients come back, to another node, and recover
     * there. For a node the cluster counted dead, whose clients missed what the others sent.
     */
    void abandonAll();

    /**
     * Events meant for this node's sockets were lost before the adapter could deliver them (the
     * cluster's log was trimmed while this node could not read it): no client recovers here from
     * an offset it saw before, since its replay would lack them; it starts afresh instead.
     */
    default void eventsLost() {
    }

    /**
     * Encodes a packet with this server's codec: a clustered adapter builds, from what another
     * node sent, the frame its local sockets get (with the cluster's offset).
     */
    Frame encode(Packet packet);

    /**
     * Tells the namespace that the adapter put local sockets in rooms or took them out on another
     * node's request ({@code socketsJoin}, {@code socketsLeave} from there).
     */
    default void roomsChanged(java.util.Set<String> rooms) {
    }

    /**
     * Tells the namespace that the adapter put one of its sockets, connected or waiting for its
     * client, in rooms or took it out at a {@code socketsJoin} or {@code socketsLeave} (from this
     * node or another), not through the socket itself.
     */
    default void membershipChanged(String socketId) {
    }

    /**
     * Another node claimed the record of a session (see {@link Adapter#sessionTakenOver}): if
     * that session waits here, or its socket is still connected here, its client recovered elsewhere.
     */
    default void sessionTakenOver(String socketId, String pid, java.time.Instant expiresAt) {
    }

    /** A fresh ack id of this node, for a frame from another node that asks for acks. */
    long nextAckId();
}
