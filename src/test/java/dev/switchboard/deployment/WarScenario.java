package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The deployment scenario in a servlet container, which runs a web application of the user's own
 * ({@link OwnWar}) beside the demo WAR: the library from its classes jar, started by the listener
 * README shows.
 */
abstract class WarScenario extends DeploymentScenario {
    @Test
    void aWarOfYourOwnRunsTheLibraryFromItsClassesJar() throws Exception {
        Site own = new Site(site().port(), OwnWar.CONTEXT_PATH);
        try (SwitchboardClient client = SwitchboardClient.connect(own.webSocket(),
                ClientOptions.builder().reconnection(false).build())) {
            ClientSocket socket = client.socket("/", null).whenConnected().get(10, TimeUnit.SECONDS);
            BlockingQueue<String> chat = new LinkedBlockingQueue<>();
            socket.on("chat", event -> chat.add(event.arg(0, String.class)));
            socket.emit("chat", "hello");
            assertEquals("hello", chat.poll(10, TimeUnit.SECONDS));

            // README's in-process pattern: the application's own servlet emits through the installed server.
            BlockingQueue<String> notices = new LinkedBlockingQueue<>();
            socket.on("notice", event -> notices.add(event.arg(0, String.class)));
            HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            own.http("/notices?room=" + socket.id())).POST(HttpRequest.BodyPublishers.ofString("order 7 saved")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, posted.statusCode(), posted.body());
            assertEquals("order 7 saved", notices.poll(10, TimeUnit.SECONDS));
        }
        // The jar also holds the standalone server; nothing may reach for its Grizzly or Tyrus.
        String log = loggedSince(0);
        for (String trouble : List.of("ClassNotFoundException", "NoClassDefFoundError", "grizzly", "tyrus")) {
            assertFalse(log.contains(trouble), log);
        }
    }
}
