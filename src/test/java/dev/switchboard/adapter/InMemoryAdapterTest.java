package dev.switchboard.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import dev.switchboard.api.RemoteSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The adapter's membership contract, on the adapter alone: rooms that grow from one member to many
 * and shrink back (its sets change representation on the way), a socket with no rooms left, and
 * who a broadcast reaches. End-to-end routing through real sockets is in the server tests.
 */
class InMemoryAdapterTest {
    /** The ids a broadcast reached, in order. */
    private final List<String> delivered = new ArrayList<>();
    private final InMemoryAdapter adapter = new InMemoryAdapter(new LocalNamespace() {
        @Override
        public String name() {
            return "/";
        }

        @Override
        public void deliver(String socketId, Frame frame, boolean droppable) {
            delivered.add(socketId);
        }

        @Override
        public boolean deliverWithAck(String socketId, Frame frame, AckCollector collector) {
            delivered.add(socketId);
            return true;
        }

        @Override
        public RemoteSocket socket(String socketId) {
            return null;
        }

        @Override
        public void disconnect(String socketId, boolean close) {
        }

        @Override
        public void abandonAll() {
        }

        @Override
        public Frame encode(Packet packet) {
            throw new UnsupportedOperationException("not needed in one process");
        }

        @Override
        public long nextAckId() {
            throw new UnsupportedOperationException("not needed in one process");
        }
    });

    @Test
    void aRoomGrowsToManyMembersAndVanishesWithItsLast() {
        List<String> ids = IntStream.range(0, 40).mapToObj(i -> "s" + i).toList();
        for (String id : ids) {
            adapter.addAll(id, Set.of(id, "big"));
        }
        assertEquals(new HashSet<>(ids), adapter.sockets(Set.of("big")));

        for (String id : ids.subList(0, 39)) {
            adapter.del(id, "big");
            assertFalse(adapter.sockets(Set.of("big")).contains(id), id + " left");
        }
        assertEquals(Set.of("s39"), adapter.sockets(Set.of("big")));
        assertEquals(Set.of("s0"), adapter.socketRooms("s0"));
        assertTrue(adapter.rooms().join().contains("big"));

        adapter.delAll("s39");
        assertFalse(adapter.rooms().join().contains("big"), "the last member took the room with it");
        assertEquals(Set.of(), adapter.socketRooms("s39"));
    }

    @Test
    void aSocketThatLeftEveryRoomStillHearsTheNamespace() {
        adapter.addAll("a", Set.of("a", "lobby"));
        adapter.addAll("b", Set.of("b"));
        adapter.del("a", "a");
        adapter.del("a", "lobby");
        assertEquals(Set.of(), adapter.socketRooms("a"));

        adapter.broadcast(null, BroadcastOptions.everyone());
        assertEquals(Set.of("a", "b"), Set.copyOf(delivered));
        assertEquals(Set.of("b"), adapter.rooms().join(), "the emptied rooms are gone");
    }

    @Test
    void aBroadcastToSeveralRoomsReachesEachMemberOnceAndSkipsTheExcepted() {
        for (int i = 0; i < 30; i++) {
            String id = "s" + i;
            adapter.addAll(id, Set.of(id, i % 2 == 0 ? "even" : "odd", i % 3 == 0 ? "three" : "other"));
        }
        adapter.broadcast(null, new BroadcastOptions(Set.of("even", "three"), Set.of("s0", "odd"), false));

        Set<String> expected = IntStream.range(1, 30).filter(i -> i % 2 == 0).mapToObj(i -> "s" + i)
                .collect(Collectors.toSet());
        assertEquals(expected.size(), delivered.size(), "nobody twice: " + delivered);
        assertEquals(expected, Set.copyOf(delivered));
    }
}
