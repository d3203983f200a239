package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Cluster features that are right alone, combined: a client away or recovering while broadcasts
 * with acks, room changes, stalled reads and a second recovery happen on other nodes. Each test
 * runs two nodes on a {@code redis-server} of its own; clients speak the raw protocol, so that the
 * tests see exactly the frames (and offsets) a client gets.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterCombinationsTest {
    private static final String FENCE = "fence";

    /** Two nodes on a Redis of their own, logs kept longer than the windows as in production. */
    private record TwoNodes(RedisServer redis, ClusterNode a, ClusterNode b) implements AutoCloseable {
        static TwoNodes start(TestInfo test, Duration window) {
            return start(test, window, UnaryOperator.identity());
        }

        static TwoNodes start(TestInfo test, Duration window, UnaryOperator<dev.switchboard.server.SwitchboardOptions.Builder> options) {
            RedisServer redis = RedisServer.start();
            String prefix = test.getTestMethod().orElseThrow().getName();
            ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)),
                    window, options);
            ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)),
                    window, options);
            return new TwoNodes(redis, a, b);
        }

        @Override
        public void close() {
            b.close();
            a.close();
            redis.close();
        }
    }

    private static Namespace root(ClusterNode node) {
        return node.switchboard().root();
    }

    /** Joins a room through the application's own {@code join} event, and waits for its ack. */
    private static void join(RawClient client, String room) {
        client.send("{\"type\":\"event\",\"event\":\"join\",\"args\":[\"" + room + "\"],\"ack\":1}");
        client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack") == 1);
    }

    /** The events before the fence, as {@code "name:firstArg"}. */
    private static List<String> untilFence(RawClient client) {
        List<String> events = new ArrayList<>();
        for (JsonObject event = client.next("event"); !FENCE.equals(event.getString("event")); event = client.next("event")) {
            events.add(event.getString("event") + ":" + event.getJsonArray("args").get(0));
        }
        return events;
    }

    private static JsonObject nextEvent(RawClient client, String name) {
        return client.next(packet -> "event".equals(packet.getString("type")) && name.equals(packet.getString("event")));
    }

    private static void awaitAway(ClusterNode node, String id) {
        Await.until("the session of " + id + " waits", () -> root(node).detachedSessions().containsKey(id));
    }

    /** Answers an event's ack with one argument. */
    private static void answer(RawClient client, JsonObject event, String reply) {
        client.send("{\"type\":\"ack\",\"ack\":" + event.getInt("ack") + ",\"args\":[\"" + reply + "\"]}");
    }

    private static List<String> replies(List<Arguments> answers) {
        return answers.stream().map(answer -> answer.get(0, String.class)).toList();
    }

    /** As on one node, a recipient whose socket ends before it answers is no longer waited for. */
    @Test
    void aBroadcastWithAckCompletesWhenARecipientOnAnotherNodeLeavesWithoutAnswering(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW);
             RawClient alice = RawClient.connect(nodes.a().server().webSocketUri());
             RawClient bob = RawClient.connect(nodes.b().server().webSocketUri())) {
            alice.connectAs("alice", null, null);
            bob.connectAs("bob", null, null);
            join(alice, "room");
            join(bob, "room");
            Await.until("node A knows node B", () -> nodes.a().cluster().liveNodes().size() == 2);

            CompletableFuture<List<Arguments>> answers = root(nodes.a()).to("room").timeout(Duration.ofMinutes(1))
                    .emitWithAck("question", 1);
            answer(alice, nextEvent(alice, "question"), "yes");
            nextEvent(bob, "question");
            bob.leave();
            // Well within the ack timeout (a minute): Bob is not waited for once his socket ended.
            assertEquals(List.of("yes"), replies(answers.get(20, TimeUnit.SECONDS)));
        }
    }

    /**
     * The node counted its recipients, then was killed before they answered: they cannot answer
     * any more, and are no longer waited for once the cluster counts the node dead.
     */
    @Test
    void aBroadcastWithAckCompletesWhenANodeWhoseRecipientsHadNotAnsweredIsKilled(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)));
             ClientProcess b = ClientProcess.startMain(ClusterNode.class, "-Xmx128m", redis.uri(), prefix, "PT30S");
             RawClient alice = RawClient.connect(a.server().webSocketUri())) {
            URI nodeB = URI.create(b.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            try (RawClient bob = RawClient.connect(nodeB)) {
                alice.connectAs("alice", null, null);
                bob.connectAs("bob", null, null);
                join(alice, "room");
                join(bob, "room");
                Await.until("node A knows node B", () -> a.cluster().liveNodes().size() == 2);
                // A first round, answered by both, so that node B's new JVM has run this path once.
                CompletableFuture<List<Arguments>> warmUp = root(a).to("room").emitWithAck("warm-up", 0);
                answer(alice, nextEvent(alice, "warm-up"), "alice");
                answer(bob, nextEvent(bob, "warm-up"), "bob");
                assertEquals(2, warmUp.get(20, TimeUnit.SECONDS).size());

                CompletableFuture<List<Arguments>> answers = root(a).to("room").timeout(Duration.ofMinutes(1))
                        .emitWithAck("question", 1);
                answer(alice, nextEvent(alice, "question"), "yes");
                nextEvent(bob, "question");
                // Node B's log reader told its count as it sent Bob the question, before a query
                // sent now reaches node B's inbox: once answered, node A waits for Bob alone.
                root(a).fetchSockets().get(10, TimeUnit.SECONDS);
                b.kill();
                // Well within the ack timeout (a minute); the node timeout is 4 s.
                assertEquals(List.of("yes"), replies(answers.get(20, TimeUnit.SECONDS)));
            }
        }
    }

    /**
     * Node B counted its recipient of a broadcast with acks from node A, then its link to Redis
     * was cut: node A counts B dead and Bob's answer lost. When the link returns, B finds itself
     * fenced and closes its connections, Bob's among them, and tells A that Bob's ack is lost.
     * A wrote that answer off once already: the broadcast still waits for Alice, on A, who has
     * not answered yet, and completes with her answer.
     */
    @Test
    void aNodeCountedDeadThatComesBackFencedDoesNotEndABroadcastWithAckEarly(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             CuttableProxy link = new CuttableProxy(redis.port());
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)));
             ClusterNode b = ClusterNode.start(ClusterNode.settings("redis://127.0.0.1:" + link.port(), prefix)
                     .logRetention(Duration.ofSeconds(30)));
             RawClient alice = RawClient.connect(a.server().webSocketUri());
             RawClient bob = RawClient.connect(b.server().webSocketUri())) {
            alice.connectAs("alice", null, null);
            bob.connectAs("bob", null, null);
            join(alice, "room");
            join(bob, "room");
            String nodeB = b.cluster().nodeId();
            Await.until("node A knows node B", () -> a.cluster().liveNodes().contains(nodeB));

            CompletableFuture<List<Arguments>> answers = root(a).to("room").timeout(Duration.ofMinutes(1))
                    .emitWithAck("question", 1);
            JsonObject question = nextEvent(alice, "question");
            nextEvent(bob, "question");
            // Node B told its count as it sent Bob the question, before it answers a query sent now.
            root(a).fetchSockets().get(10, TimeUnit.SECONDS);

            link.refuse(true);
            link.cut();
            Await.until("node A counts node B dead", () -> !a.cluster().liveNodes().contains(nodeB));
            link.refuse(false);
            bob.awaitClose();
            Await.until("node B let Bob go", () -> root(b).sockets().isEmpty());
            Await.until("node A counts node B again", () -> a.cluster().liveNodes().contains(nodeB));
            // Node B told A that Bob's ack is lost before it answers a query sent now.
            root(a).fetchSockets().get(10, TimeUnit.SECONDS);
            assertFalse(answers.isDone(), () -> "the broadcast ended before Alice answered, with "
                    + answers.handle((done, failed) -> done != null ? replies(done) : failed).join());

            answer(alice, question, "yes");
            assertEquals(List.of("yes"), replies(answers.get(20, TimeUnit.SECONDS)));
        }
    }

    /**
     * A broadcast with acks to a room while one member is away on its node, emitted from the other
     * node: the member gets it in its replay when it comes back to its node, as on one node
     * (docs/PROTOCOL.md: "the event reaches it like any other (logged, with its offset, replayed
     * on recovery without the ack request)"), and as it does when it comes back to the other node.
     */
    @Test
    void aBroadcastWithAckFromAnotherNodeIsReplayedToAMemberThatWasAwayOnItsNode(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW);
             RawClient bob = RawClient.connect(nodes.a().server().webSocketUri())) {
            JsonObject first = bob.connectAs("bob", null, null);
            join(bob, "lobby");
            root(nodes.b()).to("lobby").emit("before", 1);
            String seen = nextEvent(bob, "before").getString("offset");
            bob.abort();
            awaitAway(nodes.a(), first.getString("id"));

            root(nodes.b()).to("lobby").timeout(Duration.ofMillis(500)).emitWithAck("question", 2);
            root(nodes.b()).to("lobby").emit("after", 3);
            try (RawClient back = RawClient.connect(nodes.a().server().webSocketUri())) {
                JsonObject again = back.connectAs("bob", first.getString("pid"), seen);
                assertTrue(again.getBoolean("recovered"), again.toString());
                root(nodes.b()).to("lobby").emit(FENCE, 0);
                assertEquals(List.of("question:2", "after:3"), untilFence(back));
            }
        }
    }

    /**
     * A client recovers on node B, leaves a room there, drops again and comes back to node A, the
     * node it first dropped from: it is in the rooms it had on B, not in the one it left. Node A
     * still held its first session (claimed by B since), with the old rooms.
     */
    @Test
    void aClientBackOnItsFirstNodeIsInTheRoomsItHadOnTheOther(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW)) {
            ClusterNode a = nodes.a();
            ClusterNode b = nodes.b();
            Away fromA = dropsFrom(a, b, "alice", null, alice -> join(alice, "lobby"));
            String id = fromA.id();
            Away fromB = dropsFrom(b, b, "alice", fromA,
                    onB -> Await.value("alice on node B", () -> root(b).sockets().get(id)).leave("lobby"));
            try (RawClient backOnA = RawClient.connect(a.server().webSocketUri())) {
                JsonObject answer = backOnA.connectAs("alice", fromB.pid(), fromB.seen());
                assertTrue(answer.getBoolean("recovered"), answer.toString());
                root(b).to("lobby").emit("not-for-alice", 3);
                root(b).toUser("alice").emit("for-alice", 4);
                root(b).toUser("alice").emit(FENCE, 0);
                assertEquals(List.of("for-alice:4"), untilFence(backOnA));
                Socket onA = Await.value("alice on node A", () -> root(a).sockets().get(id));
                assertEquals(Set.of(id, "user:alice"), onA.rooms());
            }
        }
    }

    /**
     * The same trip, A to B and back to A, while events to the client flow without pause: each
     * event it missed comes once, in order, with nothing skipped.
     */
    @Test
    void aClientBackOnItsFirstNodeGetsEachEventOnceWhileEventsFlow(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW)) {
            ClusterNode a = nodes.a();
            ClusterNode b = nodes.b();
            Away fromB = dropsFrom(b, b, "alice", dropsFrom(a, b, "alice", null, alice -> { }), onB -> { });
            int[] sent = {0};
            Thread ticker = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    root(b).toUser("alice").emit("tick", sent[0]++);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            ticker.start();
            List<String> received;
            try (RawClient backOnA = RawClient.connect(a.server().webSocketUri())) {
                Await.until("some ticks missed", () -> sent[0] > 20);
                JsonObject answer = backOnA.connectAs("alice", fromB.pid(), fromB.seen());
                Await.until("some ticks after the recovery", () -> sent[0] > 200);
                ticker.interrupt();
                ticker.join();
                assertTrue(answer.getBoolean("recovered"), answer.toString());
                root(b).toUser("alice").emit(FENCE, 0);
                received = untilFence(backOnA);
            }
            // Said briefly: where the ticks first differ from 0, 1, 2, ... and how many came.
            int differs = 0;
            while (differs < received.size() && received.get(differs).equals("tick:" + differs)) {
                differs++;
            }
            assertEquals("all " + sent[0] + " ticks in order", differs == sent[0] && received.size() == sent[0]
                    ? "all " + sent[0] + " ticks in order"
                    : received.size() + " ticks, the first out of place at " + differs + ": "
                    + received.subList(differs, Math.min(received.size(), differs + 5)));
        }
    }

    /**
     * A stalled reader on node A (it stops reading, so the events pile up unconfirmed past the
     * replay bound) drops and comes back to node B: it cannot get all it missed within the bound,
     * so it starts afresh, and the application hears once, on one node, that the session ended.
     */
    @Test
    void aStalledReaderThatCannotRecoverOnAnotherNodeIsToldExpiredOnce(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, Duration.ofSeconds(3), options -> options.recoveryLimits(5, 1 << 20))) {
            ClusterNode a = nodes.a();
            ClusterNode b = nodes.b();
            List<String> expired = new CopyOnWriteArrayList<>();
            root(a).onSessionExpired(session -> expired.add("A:" + session.userId()));
            root(b).onSessionExpired(session -> expired.add("B:" + session.userId()));
            JsonObject first;
            String seen;
            try (RawClient maciel = RawClient.connect(a.server().webSocketUri());
                 RawClient witness = RawClient.connect(a.server().webSocketUri())) {
                first = maciel.connectAs("maciel", null, null);
                witness.connectAs("witness", null, null);
                root(b).toUser("maciel").emit("seen", 0);
                seen = nextEvent(maciel, "seen").getString("offset");
                maciel.stopReading();
                for (int i = 1; i <= 10; i++) {
                    root(b).to("user:maciel", "user:witness").emit("missed", i);
                }
                // Node A delivers in the log's order: once the witness has the last, maciel's
                // connection was sent them all, unconfirmed, past the bound of 5.
                witness.next(packet -> "event".equals(packet.getString("type"))
                        && packet.getJsonArray("args").getInt(0) == 10);
                maciel.abort();
                awaitAway(a, first.getString("id"));
            }
            try (RawClient back = RawClient.connect(b.server().webSocketUri())) {
                JsonObject answer = back.connectAs("maciel", first.getString("pid"), seen);
                assertFalse(answer.getBoolean("recovered"), answer.toString());
            }
            Await.until("the session's end told", () -> !expired.isEmpty());
            Await.until("node A let its copy go", () -> root(a).detachedSessions().isEmpty());
            assertTrue(expired.equals(List.of("A:maciel")) || expired.equals(List.of("B:maciel")), expired.toString());
            // Its rooms ended with it, on both nodes: node B had joined them while replaying.
            String oldId = first.getString("id");
            Await.until("no room of the old session left", () -> !root(b).rooms().join().contains(oldId));
        }
    }

    /**
     * Guards the promise as it holds: a stalled reader on node A whose last event seen was followed
     * by a volatile one drops and recovers on node B, and gets every non-volatile event after the
     * last offset it saw, once, in order, and no volatile one.
     */
    @Test
    void aStalledReaderRecoversOnAnotherNodeWithEveryEventOnceAndNoVolatileOne(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW)) {
            ClusterNode a = nodes.a();
            ClusterNode b = nodes.b();
            JsonObject first;
            String seen;
            try (RawClient maciel = RawClient.connect(a.server().webSocketUri())) {
                first = maciel.connectAs("maciel", null, null);
                root(b).toUser("maciel").emit("seen", 0);
                seen = nextEvent(maciel, "seen").getString("offset");
                root(b).toUser("maciel").asVolatile().emit("volatile", 0);
                assertFalse(nextEvent(maciel, "volatile").containsKey("offset"));
                maciel.stopReading();
                for (int i = 1; i <= 50; i++) {
                    root(a).toUser("maciel").emit("missed", i);
                    root(b).toUser("maciel").asVolatile().emit("volatile", i);
                }
                maciel.abort();
                awaitAway(a, first.getString("id"));
            }
            root(b).toUser("maciel").emit("missed", 51);
            try (RawClient back = RawClient.connect(b.server().webSocketUri())) {
                JsonObject answer = back.connectAs("maciel", first.getString("pid"), seen);
                assertTrue(answer.getBoolean("recovered"), answer.toString());
                root(a).toUser("maciel").emit(FENCE, 0);
                List<String> expected = new ArrayList<>();
                for (int i = 1; i <= 51; i++) {
                    expected.add("missed:" + i);
                }
                assertEquals(expected, untilFence(back));
            }
        }
    }

    /** What a dropped client holds: its socket id, its private id, and the offset of the last event it saw. */
    private record Away(String id, String pid, String seen) {
    }

    /** Maciel connects to {@code node}, sees one event from {@code sender}, and drops. */
    private static Away away(ClusterNode node, ClusterNode sender) {
        return dropsFrom(node, sender, "maciel", null, client -> { });
    }

    /**
     * {@code user} connects to {@code node}, recovering {@code from} when given, lets {@code there}
     * act while connected, sees one event to its user from {@code sender}, and drops.
     */
    private static Away dropsFrom(ClusterNode node, ClusterNode sender, String user, Away from, Consumer<RawClient> there) {
        try (RawClient client = RawClient.connect(node.server().webSocketUri())) {
            JsonObject answer = client.connectAs(user, from == null ? null : from.pid(), from == null ? null : from.seen());
            if (from != null) {
                assertTrue(answer.getBoolean("recovered"), answer.toString());
            }
            there.accept(client);
            root(sender).toUser(user).emit("seen", 0);
            String seen = nextEvent(client, "seen").getString("offset");
            client.abort();
            awaitAway(node, answer.getString("id"));
            return new Away(answer.getString("id"), answer.getString("pid"), seen);
        }
    }

    private static List<String> expiries(TwoNodes nodes) {
        List<String> expired = new CopyOnWriteArrayList<>();
        root(nodes.a()).onSessionExpired(session -> expired.add("A:" + session.userId()));
        root(nodes.b()).onSessionExpired(session -> expired.add("B:" + session.userId()));
        return expired;
    }

    /**
     * Redis freezes while a client claims its session on node B: the claim times out and the client
     * is told to come back later (1013), but does not. Redis, thawed, runs the claim all the same,
     * then its undo. The session that waited on node A then ends without a client, and the
     * application hears so once.
     */
    @Test
    void aClaimThatTimedOutOnAFrozenRedisStillEndsTheSessionOnce(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, Duration.ofSeconds(3))) {
            List<String> expired = expiries(nodes);
            Away maciel = away(nodes.a(), nodes.b());
            Await.until("maciel's record saved", () -> nodes.b().switchboard().options().sessionStore().size() == 1);
            try (RawClient back = RawClient.connect(nodes.b().server().webSocketUri())) {
                nodes.redis().signal("STOP");
                try {
                    assertEquals(1013, back.sendConnect("maciel", maciel.pid(), maciel.seen()).awaitClose());
                } finally {
                    nodes.redis().signal("CONT");
                }
            }
            Await.until("node A let the session go", () -> root(nodes.a()).detachedSessions().isEmpty());
            Await.until("the session's end told", () -> !expired.isEmpty());
            assertTrue(expired.equals(List.of("A:maciel")) || expired.equals(List.of("B:maciel")), expired.toString());
        }
    }

    /**
     * Redis restarts empty while maciel's session waits on node A: no node can recover it any
     * more (its record is gone), so it ends there and the application hears so once, and his
     * presence ends with it.
     */
    @Test
    void aSessionWaitingWhenRedisRestartedEmptyEndsAndIsToldOnce(TestInfo test) throws Exception {
        try (TwoNodes nodes = TwoNodes.start(test, ClusterNode.RECOVERY_WINDOW)) {
            List<String> expired = expiries(nodes);
            Away maciel = away(nodes.a(), nodes.b());
            nodes.redis().kill();
            nodes.redis().restart();
            Await.until("the session's end told", () -> !expired.isEmpty());
            assertTrue(root(nodes.a()).detachedSessions().isEmpty());
            try (RawClient back = RawClient.connect(nodes.a().server().webSocketUri())) {
                JsonObject answer = back.connectAs("maciel", maciel.pid(), maciel.seen());
                assertFalse(answer.getBoolean("recovered"), answer.toString());
            }
            assertEquals(List.of("A:maciel"), expired);
        }
    }
}
