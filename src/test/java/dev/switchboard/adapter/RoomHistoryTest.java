package dev.switchboard.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.adapter.RoomHistory.RoomChange;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A socket's rooms followed through a log whose positions are plain numbers here: each entry is
 * matched against the rooms of its moment; a replay that cannot be exact says so.
 */
class RoomHistoryTest {
    private static final Comparator<String> ORDER = Comparator.comparingLong(Long::parseLong);

    private static RoomChange at(String position, Set<String> joined, Set<String> left) {
        return new RoomChange(position, position, joined, left);
    }

    @Test
    void eachEntryIsMatchedAgainstTheRoomsOfItsMoment() {
        RoomHistory history = new RoomHistory(null, List.of(
                at("2", Set.of("news"), Set.of()),
                at("4", Set.of("quiz"), Set.of("news"))));
        RoomHistory.Replay replay = history.replay(Set.of("me", "quiz"), "1", ORDER);
        assertFalse(replay.reaches("2", Set.of("news"), Set.of()), "joined after entry 2 went out");
        assertTrue(replay.reaches("3", Set.of("news"), Set.of()));
        assertFalse(replay.reaches("4", Set.of("quiz"), Set.of()), "put in quiz after entry 4");
        assertFalse(replay.reaches("5", Set.of("news"), Set.of()), "left news after entry 4");
        assertTrue(replay.reaches("6", Set.of("quiz"), Set.of()));
        assertFalse(replay.reaches("7", Set.of(), Set.of("quiz")), "to everyone but quiz");
        assertTrue(replay.reaches("8", Set.of(), Set.of("news")));
    }

    @Test
    void aChangeThatTookEffectBeforeTheStartHoldsThroughout() {
        RoomHistory history = new RoomHistory(null, List.of(at("2", Set.of("news"), Set.of())));
        assertTrue(history.replay(Set.of("me", "news"), "2", ORDER).reaches("3", Set.of("news"), Set.of()));
    }

    @Test
    void anEntryThatWentOutWhileTheRoomsChangedIsUnknownIfTheChangeDecidesIt() {
        RoomHistory history = new RoomHistory(null, List.of(new RoomChange("3", "4", Set.of("news"), Set.of())));
        RoomHistory.Replay replay = history.replay(Set.of("me", "news"), "1", ORDER);
        assertFalse(replay.reaches("3", Set.of("news"), Set.of()), "delivered before the change began");
        assertTrue(replay.reaches("4", Set.of("me"), Set.of()), "a room the change left alone");
        assertNull(replay.reaches("4", Set.of("news"), Set.of()), "being delivered while news was joined");
        assertTrue(replay.reaches("5", Set.of("news"), Set.of()));
    }

    @Test
    void aSocketInNoRoomIsNotReachedByAnEntryToEveryone() {
        RoomHistory history = new RoomHistory(null, List.of(at("3", Set.of("me"), Set.of())));
        RoomHistory.Replay replay = history.replay(Set.of("me"), "1", ORDER);
        assertFalse(replay.reaches("2", Set.of(), Set.of()), "before the socket joined anything");
        assertTrue(replay.reaches("4", Set.of(), Set.of()));
    }

    @Test
    void aHistoryPastItsCapReplaysOnlyFromWhereItStillKnowsEveryChange() {
        RoomHistory history = RoomHistory.NONE;
        for (int i = 1; i <= RoomHistory.MAX_CHANGES + 2; i++) {
            history = history.with(at(Integer.toString(i), Set.of("room" + i), Set.of()), ORDER);
        }
        assertEquals(RoomHistory.MAX_CHANGES, history.changes().size());
        assertEquals("2", history.after());
        assertNull(history.replay(Set.of("me"), "1", ORDER), "the change at 2 is no longer listed");
        assertNotNull(history.replay(Set.of("me"), "2", ORDER));
    }

    @Test
    void aChangeAtAnUnknownPositionThatGoesPastTheCapStillBoundsTheReplay() {
        RoomHistory history = new RoomHistory("5", List.of(new RoomChange(null, null, Set.of("news"), Set.of())));
        for (int i = 1; i <= RoomHistory.MAX_CHANGES; i++) {
            history = history.with(at(Integer.toString(10 + i), Set.of("room" + i), Set.of()), ORDER);
        }
        assertEquals("11", history.after(), "the first change known to come after it");
        assertNull(history.replay(Set.of("me", "news"), "1", ORDER));
        assertNotNull(history.replay(Set.of("me", "news"), "11", ORDER));
    }

    @Test
    void aChangeWhereTheLogsPositionWasUnknownRefusesTheReplay() {
        RoomHistory history = new RoomHistory(null, List.of(new RoomChange(null, null, Set.of("me"), Set.of())));
        assertNull(history.replay(Set.of("me"), "1", ORDER));
    }
}
