package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A record is handed out once, to a claimant on its own namespace, and is a snapshot. */
class InMemorySessionStoreTest {
    private static SessionRecord record(String namespace, String pid, Map<String, Object> data) {
        return new SessionRecord(namespace, "id-" + pid, pid, "maciel", Set.of("id-" + pid, "lobby"), data, "42",
                Instant.EPOCH, null, null, Map.of(), null);
    }

    @Test
    void aRecordIsClaimedOnceAndOnlyOnItsNamespace() {
        SessionStore store = new InMemorySessionStore();
        SessionRecord saved = record("/chat", "p1", Map.of("cart", "3 items"));
        store.save(saved).join();

        assertEquals(Optional.empty(), store.claim("/other", "p1").join(), "a pid of another namespace");
        assertEquals(1, store.size(), "left waiting for its own namespace");
        assertEquals(Optional.of(saved), store.claim("/chat", "p1").join());
        assertEquals(Optional.empty(), store.claim("/chat", "p1").join(), "claimed once");
        assertEquals(0, store.size());
    }

    @Test
    void removeForgetsARecordAndIgnoresAnUnknownOne() {
        SessionStore store = new InMemorySessionStore();
        store.save(record("/chat", "p1", Map.of())).join();
        store.remove("unknown").join();
        assertEquals(1, store.size());
        store.remove("p1").join();
        assertEquals(0, store.size());
        assertEquals(Optional.empty(), store.claim("/chat", "p1").join());
    }

    @Test
    void aRecordIsASnapshotOfTheSessionsData() {
        Map<String, Object> live = new HashMap<>(Map.of("cart", "3 items"));
        SessionRecord saved = record("/chat", "p1", live);
        live.put("cart", "4 items");
        assertEquals("3 items", saved.data().get("cart"));
        assertThrows(UnsupportedOperationException.class, () -> saved.rooms().add("vip"));
        assertTrue(saved.rooms().contains("lobby"));
    }
}
