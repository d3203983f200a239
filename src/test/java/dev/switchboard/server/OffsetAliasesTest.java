package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a replay log makes of a value a socket.io-client holds for an offset after an event
 * without one (see {@link OffsetAliases}): the position where it was sent, when that can be told
 * exactly; else no recovery, never one that skips or repeats an event. The client-facing case is
 * {@code SocketIoPollingCombinationsTest.aVolatileEventSeenLastBeforeACutDoesNotSpoilTheRecovery}.
 */
class OffsetAliasesTest {
    private final ReplayLog log = new ReplayLog(100, 1 << 20);

    private static Frame event(String offset) {
        return Frame.encode(new JsonWireCodec(), Packet.event("/", "seq", List.of(), 0).withOffset(offset));
    }

    private static List<String> offsets(List<Frame> frames) {
        return frames == null ? null : frames.stream().map(frame -> frame.packet().offset()).toList();
    }

    @Test
    void aValueSentOnceStandsWhereItWasSentAlsoWhileTheSessionLogsMore() {
        log.appendSent(event("1"));
        log.aliasSent("tick");
        log.aliasSent("tick");
        log.append(event("2"));   // logged while the client is away
        assertEquals(List.of("2"), offsets(log.after("tick")));
    }

    @Test
    void aValueBeforeAnyEventStandsBeforeTheFirst() {
        log.aliasSent("tick");
        log.append(event("1"));
        assertEquals(List.of("1"), offsets(log.after("tick")));
    }

    @Test
    void aValueSentAgainAfterAnEventIsOnlyToldOnceThePingAfterItIsAnswered() {
        log.appendSent(event("1"));
        log.aliasSent("tick");
        log.appendSent(event("2"));
        log.aliasSent("tick");
        // The client may hold either: event 2 and the second tick may have been lost in flight.
        assertNull(log.after("tick"));
        // It answered a ping sent after both: it had the second.
        log.pingAnswered(log.sentCount());
        assertEquals(List.of(), offsets(log.after("tick")));

        log.appendSent(event("3"));
        log.aliasSent("tick");
        // Event 3 may have been lost with the tick after it, the client holding the one before.
        assertNull(log.after("tick"));
    }

    @Test
    void aValueThatIsAlsoOneOfTheOffsetsCannotBeTold() {
        log.appendSent(event("1"));
        log.appendSent(event("2"));
        log.aliasSent("1");
        assertNull(log.after("1"));
        assertEquals(List.of(), offsets(log.after("2")));
    }

    @Test
    void aValueNeverSentIsNoOffset() {
        log.appendSent(event("1"));
        log.aliasSent("tick");
        assertNull(log.after("tock"));
    }

    @Test
    void aResumedClientHoldsWhatItPresentedAndOnlyPingsAfterTheResumeVouchForMore() {
        log.appendSent(event("1"));
        log.aliasSent("tick");
        long pingedBefore = log.sentCount();   // a ping of the new connection, before the resume
        log.append(event("2"));
        assertEquals(List.of("2"), offsets(log.after("tick")));
        log.resumedFrom("tick");
        log.pingAnswered(pingedBefore);
        // Dropped again before anything new: still placed, and the replay is the same.
        assertEquals(List.of("2"), offsets(log.after("tick")));
        log.aliasSent("tick");   // now after event 2, which the client may not have had
        assertNull(log.after("tick"));
        log.pingAnswered(log.sentCount());
        assertEquals(List.of(), offsets(log.after("tick")));
    }

    @Test
    void anOffsetFromASessionThatCouldNotBeRecoveredStandsBeforeTheFreshOnesFirstEvent() {
        log.heldFromBefore("41");
        log.appendSent(event("50"));
        // Still the client's if event 50 was lost in flight: it has nothing of this session.
        assertEquals(List.of("50"), offsets(log.after("41")));
        log.pingAnswered(log.sentCount());
        // It answered a ping sent after event 50: it holds 50 (or later), not 41.
        assertNull(log.after("41"));
        assertEquals(List.of(), offsets(log.after("50")));
    }
}
