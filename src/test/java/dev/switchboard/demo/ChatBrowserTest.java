package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The chat page in a real browser against the demo server: people chat and see each other come
 * and go, whisper to every tab of one person, lose their connection and get back what they
 * missed, and are told clearly when something is refused.
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
        ann.send("hi bob, ann here");
        bob.waitForLine("ann", "hi bob, ann here");
        ann.waitForLine("ann", "hi bob, ann here");

        ann.type("typing away");
        browser.waitUntil(bob.tab(), driver -> bob.text("typing").equals("ann is typing…"));

        bob.goTo("side");
        ann.waitForLine("bob left for #side").waitForMembers("ann");
        browser.waitUntil(ann.tab(), driver -> ann.find(By.cssSelector("#rooms li[data-room=side] .count")).getText().equals("1"));
        bob.goTo("general").leave();
        ann.waitForLine("bob disconnected").waitForMembers("ann");
        assertTrue(browser.in(bob.tab()).findElement(By.id("join")).isDisplayed(), "bob is back at the join form");
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
        assertTrue(dora.lines().stream().noneMatch(line -> line.contains("psst")), () -> "dora saw " + dora.lines());
        assertTrue(carl.lines().stream().noneMatch(line -> line.contains("just for dora")), () -> "carl saw " + carl.lines());

        eve.send("everyone can read this");
        carl.waitForLine("eve", "everyone can read this");
        browser.screenshot(carl.tab(), "chat");
    }

    @Test
    void aDroppedConnectionRecoversAndGetsWhatWasSentMeanwhile() {
        ChatPage fay = ChatPage.open(browser, server.httpUri()).joinAs("fay");
        ChatPage gus = ChatPage.open(browser, server.httpUri()).joinAs("gus");
        fay.waitForMembers("fay", "gus");

        // Offline, the page cannot reconnect; the socket is cut from the page with a code the server
        // takes for a failure (not a goodbye), so it keeps fay's session for recovery.
        browser.offline(fay.tab(), true);
        browser.script(fay.tab(), "socket.io._ws.close(4999, 'network gone')");
        fay.waitForLine("Connection lost");
        gus.waitForMembers("fay (reconnecting…)", "gus");

        gus.send("while you were away");
        gus.send("and one more");
        gus.waitForLine("gus", "and one more");

        browser.offline(fay.tab(), false);
        fay.waitForLine("gus", "and one more");
        gus.waitForLine("fay reconnected").waitForMembers("fay", "gus");
        assertEquals(true, browser.script(fay.tab(), "return socket.recovered"));

        List<String> lines = fay.lines();
        int lost = indexOf(lines, "Connection lost");
        int recovered = indexOf(lines, "your session was recovered");
        int first = indexOf(lines, "while you were away");
        int second = indexOf(lines, "and one more");
        assertTrue(lost < recovered && recovered < first && first < second, () -> "in order: " + lines);
        assertEquals(1, lines.stream().filter(line -> line.contains("while you were away")).count(), "once");
        assertTrue(gus.lines().stream().noneMatch(line -> line.contains("fay disconnected")), () -> "gus saw " + gus.lines());
    }

    @Test
    void refusalsAreExplained() {
        ChatPage hal = ChatPage.open(browser, server.httpUri()).joinAs("hal");

        // Another browser, as far as the page can tell: another origin has its own localStorage.
        URI otherOrigin = URI.create("http://localhost:" + server.port() + "/");
        ChatPage impostor = ChatPage.open(browser, otherOrigin).tryToJoinAs("hal");
        browser.waitUntil(impostor.tab(), driver -> impostor.text("join-error").equals("The name “hal” is taken. Choose another one."));
        impostor.joinAs("ida").waitForMembers("hal", "ida");

        String tooLong = "x".repeat(ChatApp.MAX_MESSAGE_LENGTH + 1);
        impostor.type(tooLong);
        browser.waitUntil(impostor.tab(), driver -> impostor.text("compose-error").equals("Message too long: 501 characters, at most 500."));
        impostor.find(By.id("send")).click();
        assertEquals(tooLong, impostor.find(By.id("text")).getDomProperty("value"), "kept for editing, not sent");

        // The server checks too, whatever the page does.
        Object reply = browser.script(impostor.tab(), "return socket.emitWithAck('message', arguments[0])", tooLong);
        assertEquals(Map.of("error", "message too long: 501 characters, at most 500"), reply);
        hal.send("still here");
        impostor.waitForLine("hal", "still here");
        assertFalse(hal.lines().stream().anyMatch(line -> line.contains("xxxxx")), "nothing too long got through");
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
