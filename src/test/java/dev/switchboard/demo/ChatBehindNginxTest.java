package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.api.PresentUser;
import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.PresenceMember;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.server.Namespace;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Nginx;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The whole edge: Debian's nginx, configured as docs/DEPLOY.md shows (plain round robin), in front
 * of two demo nodes sharing a real {@code redis-server}, and chat users through real clients. The
 * users, on both nodes, chat in one room: every message reaches everyone once, and both nodes and
 * every client see the same members. Then one node drains while a user keeps writing: its users
 * are told 1012, come back through nginx on the other node, recover their sessions, and every
 * message still reaches everyone exactly once.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ChatBehindNginxTest {
    private static final String ROOM = "#general";
    /** Sorted, as member lists are. */
    private static final List<String> NAMES = List.of("ana", "bo", "cy", "dee");
    private static final int WHILE_DRAINING = 40;

    /** A chat user's page: its socket, and the text of every message it got, in order. */
    private record User(String name, SwitchboardClient client, ClientSocket socket, List<String> messages) {
        static User join(URI uri, String name) {
            ClientOptions options = ClientOptions.builder()
                    .reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200)).build();
            SwitchboardClient client = SwitchboardClient.connect(uri, options);
            List<String> messages = new CopyOnWriteArrayList<>();
            ClientSocket socket = client.socket(ChatApp.NAMESPACE, Map.of("name", name));
            socket.on("message", ChatApp.Message.class, message -> messages.add(message.text()));
            Await.until(name + " in " + ROOM, () -> socket.presence(ROOM).member(name) != null);
            return new User(name, client, socket, messages);
        }

        void say(String text) throws Exception {
            assertEquals("{}", socket.emitWithAck("message", text).get(10, TimeUnit.SECONDS).raw(0).text());
        }

        List<String> members() {
            return socket.presence(ROOM).members().stream().filter(member -> !member.away())
                    .map(PresenceMember::userId).toList();
        }
    }

    @Test
    void usersOnTwoNodesBehindNginxChatAndADrainedNodesUsersRecoverOnTheOtherWithNothingLost() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            DemoCluster first = DemoCluster.join(redis.uri(), TestServer.options().build());
            DemoCluster second = DemoCluster.join(redis.uri(), TestServer.options().build());
            List<User> users = new ArrayList<>();
            try (TestServer draining = TestServer.start(first.options(), DemoApp::install);
                 TestServer staying = TestServer.start(second.options(), DemoApp::install);
                 Nginx nginx = Nginx.start(List.of(draining.port(), staying.port()))) {
                URI uri = URI.create("ws://127.0.0.1:" + nginx.port() + "/switchboard");
                for (String name : NAMES) {
                    users.add(User.join(uri, name));
                }
                Namespace chatOnDraining = draining.switchboard().of(ChatApp.NAMESPACE);
                Namespace chatOnStaying = staying.switchboard().of(ChatApp.NAMESPACE);
                assertEquals(2, chatOnDraining.sockets().size(), "round robin: two users on each node");
                assertEquals(2, chatOnStaying.sockets().size());

                List<PresentUser> everyone = NAMES.stream().map(name -> new PresentUser(name, Map.of(), false)).toList();
                for (User user : users) {
                    Await.until(user.name() + " sees everyone", () -> user.members().equals(NAMES));
                }
                assertEquals(everyone, chatOnDraining.presence(ROOM).get(10, TimeUnit.SECONDS));
                assertEquals(everyone, chatOnStaying.presence(ROOM).get(10, TimeUnit.SECONDS));

                List<String> said = new ArrayList<>();
                for (User user : users) {
                    user.say("hello from " + user.name());
                    said.add("hello from " + user.name());
                }

                // A user on the node that stays writes on while the other node drains.
                User writer = users.stream().filter(user -> chatOnStaying.sockets().containsKey(user.socket().id()))
                        .findFirst().orElseThrow();
                List<User> moving = users.stream().filter(user -> chatOnDraining.sockets().containsKey(user.socket().id()))
                        .toList();
                var drained = draining.switchboard().drain(Duration.ofMillis(500), Duration.ofSeconds(10));
                for (int i = 0; i < WHILE_DRAINING; i++) {
                    writer.say("meanwhile " + i);
                    said.add("meanwhile " + i);
                    Thread.sleep(25);
                }
                assertTrue(drained.get(20, TimeUnit.SECONDS), "the drained node let its clients go");
                for (User user : moving) {
                    Await.until(user.name() + " on the node that stays", () -> user.socket().connected()
                            && chatOnStaying.sockets().containsKey(user.socket().id()));
                    assertTrue(user.socket().recovered(), user.name() + " recovered its session");
                }
                for (User user : users) {
                    user.say("back from " + user.name());
                    said.add("back from " + user.name());
                }

                for (User user : users) {
                    Await.until(user.name() + " got every message", () -> user.messages().size() >= said.size());
                    assertEquals(said.stream().sorted().toList(), user.messages().stream().sorted().toList(),
                            user.name() + " got each message once");
                    Await.until(user.name() + " sees everyone, none away", () -> user.members().equals(NAMES));
                }
                assertEquals(everyone, chatOnStaying.presence(ROOM).get(10, TimeUnit.SECONDS));
            } finally {
                users.forEach(user -> user.client().close());
                first.leave();
                second.leave();
            }
        }
    }
}
