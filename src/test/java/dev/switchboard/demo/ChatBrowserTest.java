package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;

/**
 * The chat page in a real browser against the demo server: people chat and see each other come
 * and go, whisper to every tab of one person, lose their connection and get back what they
 * missed (or are announced gone when they do not come back in time), and are told clearly when
 * the server refuses them or cannot be reached.
 */
class ChatBrowserTest extends DemoInBrowser {
    @Test
    void twoPeopleChatAndSeeEachOtherComeAndGo() {
        ChatPage ann = ChatPage.open(browser, server.httpUri()).joinAs("ann");
        ChatPage bob = ChatPage.open(browser, server.httpUri()).joinAs("bob");
        ann.waitForLine("bob joined").waitForMembers("ann", "bob");
        bob.waitForMembers("ann", "bob");

        bob.send("hello from bob");
        ann.waitForLine("bob", "hello from bob");
        // The server announces an arrival before it handles the newcomer's first message.
        bob.waitForLine("bob", "hello from bob");
        assertNoLine(bob, "joined");
        ann.send("hi bob, ann here");
        bob.waitForLine("ann", "hi bob, ann here");
        ann.waitForLine("ann", "hi bob, ann here");
        assertNoLine(ann, "ann joined");

        ann.type("typing away");
        browser.waitUntil(bob.tab(), driver -> bob.text("typing").equals("ann is typing…"));
        ann.eraseDraft();
        browser.waitUntil(bob.tab(), driver -> bob.text("typing").isEmpty());

        bob.goTo("side");
        ann.waitForLine("bob left for #side").waitForMembers("ann");
        browser.waitUntil(ann.tab(), driver -> ann.find(By.cssSelector("#rooms li[data-room=side] .count")).getText().equals("1"));
        bob.clickRoom("general").waitForLine("You are now in #general").waitForMembers("ann", "bob");
        ann.waitForMembers("ann", "bob");
        bob.leave();
        ann.waitForLine("bob disconnected").waitForMembers("ann");
        assertTrue(browser.in(bob.tab()).findElement(By.id("join")).isDisplayed(), "bob is back at the join form");
    }

    /** The member list comes from presence: a user with three tabs is listed once, and closing one is no news. */
    @Test
    void aUserWithSeveralTabsIsListedOnceAndClosingOneChangesNothing() {
        ChatPage ida = ChatPage.open(browser, server.httpUri()).joinAs("ida");
        List<ChatPage> jonsTabs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jonsTabs.add(ChatPage.open(browser, server.httpUri()).joinAs("jon"));
        }
        ida.waitForMembers("ida", "jon");
        jonsTabs.get(2).waitForMembers("ida", "jon");
        jonsTabs.remove(1).leave();
        jonsTabs.get(0).send("still here");
        ida.waitForLine("jon", "still here").waitForMembers("ida", "jon");
        jonsTabs.forEach(ChatPage::leave);
        ida.waitForLine("jon disconnected").waitForMembers("ida");
    }

    /** README's curl line, made by a backend: every open chat tab shows it, whatever its room. */
    @Test
    void anAnnouncementPostedOverTheHttpApiAppearsInEveryOpenTab() {
        ChatPage ann = ChatPage.open(browser, server.httpUri()).joinAs("ann");
        ChatPage bob = ChatPage.open(browser, server.httpUri()).joinAs("bob");
        bob.goTo("side");
        ApiClient api = new ApiClient(URI.create("http://127.0.0.1:" + server.port()));
        api.emit(API_KEY, "{\"namespace\":\"/chat\",\"event\":\"announcement\",\"args\":[\"Maintenance at 18:00\"]}");
        ann.waitForLine("Announcement", "Maintenance at 18:00");
        bob.waitForLine("Announcement", "Maintenance at 18:00");
        // Text, not markup: a tag in an announcement shows as written.
        api.emit(API_KEY, "{\"namespace\":\"/chat\",\"event\":\"announcement\",\"args\":[\"<b>bold</b>\"]}");
        ann.waitForLine("Announcement", "<b>bold</b>");
    }

    @Test
    void aPrivateMessageReachesEveryTabOfItsTargetAndNobodyElse() {
        ChatPage carl = ChatPage.open(browser, server.httpUri()).joinAs("carl");
        ChatPage carlAgain = ChatPage.open(browser, server.httpUri()).joinAs("carl");
        ChatPage dora = ChatPage.open(browser, server.httpUri()).joinAs("dora");
        ChatPage eve = ChatPage.open(browser, server.httpUri()).joinAs("eve");
        eve.waitForMembers("carl", "dora", "eve");

        eve.whisper("carl", "psst, carl");
        carl.waitForLine("eve → you", "psst, carl");
        carlAgain.waitForLine("eve → you", "psst, carl");
        eve.waitForLine("you → carl", "psst, carl");

        // Sent after the whisper on the same connection: once dora has it, she would have had the whisper too.
        eve.whisper("dora", "just for dora");
        dora.waitForLine("eve → you", "just for dora");
        assertNoLine(dora, "psst");
        assertNoLine(carl, "just for dora");

        eve.send("everyone can read this");
        carl.waitForLine("eve", "everyone can read this");
        browser.screenshot(carl.tab(), "chat");
    }

    @Test
    void aConnectionCutByTheNetworkRecoversAndGetsWhatWasSentMeanwhile() throws IOException {
        try (CuttableProxy network = new CuttableProxy(server.port())) {
            ChatPage fay = ChatPage.open(browser, through(network)).joinAs("fay");
            ChatPage gus = ChatPage.open(browser, server.httpUri()).joinAs("gus");
            fay.waitForMembers("fay", "gus");
            Object socketId = browser.script(fay.tab(), "return socket.id");

            // Both ends of fay's connection are reset, with no closing handshake, and she cannot
            // get through again until the network is let back.
            network.refuse(true);
            network.cut();
            fay.waitForLine("Connection lost");
            gus.waitForMembers("fay (reconnecting…)", "gus");

            gus.send("while you were away");
            gus.whisper("fay", "a word for fay alone");
            gus.send("and one more");
            gus.waitForLine("gus", "and one more");

            network.refuse(false);
            fay.waitForLine("gus", "and one more").waitForLine("gus → you", "a word for fay alone");
            gus.waitForLine("fay reconnected").waitForMembers("fay", "gus");
            assertEquals("connected · session recovered", fay.text("status"));
            assertEquals(socketId, browser.script(fay.tab(), "return socket.id"), "the same socket, recovered");

            List<String> lines = fay.lines();
            int lost = indexOf(lines, "Connection lost");
            int recovered = indexOf(lines, "your session was recovered");
            int first = indexOf(lines, "while you were away");
            int whisper = indexOf(lines, "a word for fay alone");
            int last = indexOf(lines, "and one more");
            assertTrue(lost < recovered && recovered < first && first < whisper && whisper < last, () -> "in order: " + lines);
            assertEquals(1, lines.stream().filter(line -> line.contains("while you were away")).count(), "once");
            assertNoLine(gus, "fay disconnected");
        }
    }

    @Test
    void aUserWhoNeverComesBackIsAnnouncedGoneOnceTheRecoveryWindowEnds() throws IOException {
        Duration window = Duration.ofSeconds(3);
        TestServer quick = restartServer(TestServer.options().recoveryWindow(window).build());
        try (CuttableProxy network = new CuttableProxy(quick.port())) {
            ChatPage ned = ChatPage.open(browser, through(network)).joinAs("ned");
            ChatPage oda = ChatPage.open(browser, quick.httpUri()).joinAs("oda");
            oda.waitForMembers("ned", "oda");

            network.refuse(true); // for good
            long cut = System.nanoTime();
            network.cut();
            oda.waitForMembers("ned (reconnecting…)", "oda");
            oda.waitForLine("ned disconnected").waitForMembers("oda");
            assertTrue(System.nanoTime() - cut >= window.toNanos(), "not before the recovery window ended");
            ned.waitForLine("Connection lost");
        }
    }

    @Test
    void refusalsAreExplained() throws IOException {
        ChatPage hal = ChatPage.open(browser, server.httpUri()).joinAs("hal");

        // Another browser, as far as the page can tell: another origin has its own localStorage.
        URI otherOrigin = URI.create("http://localhost:" + server.port() + "/");
        ChatPage stranger = ChatPage.open(browser, otherOrigin).tryToJoinAs("hal");
        waitForText(stranger, "join-error", "The name “hal” is taken. Choose another one.");
        stranger.tryToJoinAs("<hal>");
        waitForText(stranger, "join-error", "The server refused to let you in: a name is 1 to 24 letters, digits,"
                + " spaces, '.', '_' or '-', starting with a letter or digit.");
        assertTrue(stranger.text("status").startsWith("refused: a name is"), stranger.text("status"));
        ChatPage ida = stranger.joinAs("ida").waitForMembers("hal", "ida");

        String tooLong = "x".repeat(ChatApp.MAX_MESSAGE_LENGTH + 1);
        ida.find(By.id("text")).sendKeys(tooLong, Keys.ENTER);
        waitForText(ida, "compose-error", "Message too long: 501 characters, at most 500.");
        assertEquals(tooLong, ida.find(By.id("text")).getDomProperty("value"), "kept for editing, not sent");
        // Had the long one gone out, it would reach hal before this one.
        ida.eraseDraft().send("short enough");
        hal.waitForLine("ida", "short enough");
        assertNoLine(hal, "xxxxx");

        try (CuttableProxy network = new CuttableProxy(server.port())) {
            ChatPage una = ChatPage.open(browser, through(network));
            network.refuse(true);
            una.tryToJoinAs("una");
            waitForText(una, "join-error", "Cannot reach the server. Still trying…");
            network.refuse(false);
            una.waitForLine("Welcome, una");
        }
    }

    private static void waitForText(ChatPage page, String id, String expected) {
        browser.waitUntil(page.tab(), "#" + id + " to say " + expected, () -> page.text(id),
                driver -> page.text(id).equals(expected));
    }

    private static void assertNoLine(ChatPage page, String fragment) {
        List<String> lines = page.lines();
        assertTrue(lines.stream().noneMatch(line -> line.contains(fragment)), () -> "a line with " + fragment + ": " + lines);
    }

    private static int indexOf(List<String> lines, String fragment) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(fragment)) {
                return i;
            }
        }
        return -1;
    }
}
