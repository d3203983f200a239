package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openqa.selenium.Dimension;

/**
 * Refreshes docs/screenshots/ with the three demo pages after half a minute of made-up activity,
 * so that the pictures show full charts and a lived-in chat. It takes about a minute, so it runs
 * only when asked:
 *
 * <pre>
 * mvn test -Dtest=DocsScreenshotsTest -Ddocs.screenshots=true
 * </pre>
 */
@EnabledIfSystemProperty(named = "docs.screenshots", matches = "true")
@BrowserTest
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DocsScreenshotsTest {
    private static final Path DOCS = Path.of("docs", "screenshots");

    @Test
    void refresh() throws InterruptedException, IOException {
        try (Chromium browser = Chromium.start(); TestServer server = TestServer.start(DemoApp::install);
             CuttableProxy cleosNetwork = new CuttableProxy(server.port())) {
            String dashboard = browser.open(server.httpUri().resolve("dashboard.html"));
            String graph = browser.open(server.httpUri().resolve("graph.html"));
            ChatPage dan = ChatPage.open(browser, server.httpUri()).joinAs("Dan").goTo("random");
            ChatPage ann = ChatPage.open(browser, server.httpUri()).joinAs("Ann");
            ChatPage bob = ChatPage.open(browser, server.httpUri()).joinAs("Bob");
            ChatPage cleo = ChatPage.open(browser, DemoInBrowser.through(cleosNetwork)).joinAs("Cleo");
            ann.send("Morning all! Is the deploy still on for 11:00?");
            bob.send("Yes, the build is green. I'll start the rollout at 11 sharp.");
            cleo.send("I'll keep an eye on the dashboard while it goes out.");
            for (int second = 0; second < 24; second++) {
                Thread.sleep(1000); // the graph's window and the sparklines fill up meanwhile
                dan.send("heartbeat " + second);
            }
            bob.whisper("Ann", "Can you review my PR before lunch?");
            cleosNetwork.refuse(true); // Cleo's connection drops and stays down: "reconnecting…"
            cleosNetwork.cut();
            Thread.sleep(6000);
            ann.send("Sure, comments in ten minutes.");
            bob.type("Thanks! One more th");
            Thread.sleep(1500);

            Files.createDirectories(DOCS);
            copy(browser.screenshot(ann.tab(), "docs-chat"), "chat.png");
            copy(browser.screenshot(graph, "docs-graph"), "graph.png");
            browser.in(dashboard).manage().window().setSize(new Dimension(1280, 1150));
            Thread.sleep(1200); // a fresh second of figures at the new size
            copy(browser.screenshot(dashboard, "docs-dashboard"), "dashboard.png");
        }
    }

    /** Copies a screenshot into docs/, after checking it is a PNG of the whole window. */
    private static void copy(Path screenshot, String name) throws IOException {
        BufferedImage image = ImageIO.read(screenshot.toFile());
        assertNotNull(image, screenshot + " is not a PNG");
        assertTrue(image.getWidth() >= 1200 && image.getHeight() >= 800,
                name + " is " + image.getWidth() + "x" + image.getHeight());
        Files.copy(screenshot, DOCS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
