package dev.switchboard.demo;

import java.net.URI;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * One tab of the chat page ({@code webapp/index.html}), read and used the way a person would:
 * through the fields, buttons and lines on screen.
 *
 * <pre>{@code
 * ChatPage ann = ChatPage.open(browser, server.httpUri()).joinAs("ann");
 * ann.send("hello");
 * bob.waitForLine("ann", "hello");
 * }</pre>
 */
public final class ChatPage {
    private final Chromium browser;
    private final String tab;

    private ChatPage(Chromium browser, String tab) {
        this.browser = browser;
        this.tab = tab;
    }

    /** Opens the chat in a new tab; {@code base} is the folder the demo is served from. */
    public static ChatPage open(Chromium browser, URI base) {
        return new ChatPage(browser, browser.open(base.resolve("./")));
    }

    String tab() {
        return tab;
    }

    /** Asks to join under {@code name}, without waiting for the answer. */
    ChatPage tryToJoinAs(String name) {
        WebElement field = find(By.id("name"));
        field.clear();
        field.sendKeys(name, Keys.ENTER);
        return this;
    }

    /** Joins under {@code name} and waits for the welcome. */
    public ChatPage joinAs(String name) {
        tryToJoinAs(name);
        String welcome = "Welcome, " + name;
        browser.waitUntil(tab, welcome, () -> "status “" + text("status") + "”, join error “" + text("join-error") + "”",
                driver -> lines().contains(welcome));
        return this;
    }

    /** Sends a message to everyone in the room. */
    public ChatPage send(String text) {
        return sendTo("", text);
    }

    /** Sends a private message to {@code name}, picked from the recipient list. */
    ChatPage whisper(String name, String text) {
        return sendTo(name, text);
    }

    private ChatPage sendTo(String recipient, String text) {
        new Select(find(By.id("to"))).selectByValue(recipient);
        WebElement field = find(By.id("text"));
        field.sendKeys(text, Keys.ENTER);
        browser.waitUntil(tab, driver -> field.getDomProperty("value").isEmpty());
        return this;
    }

    /** Types without sending. */
    ChatPage type(String text) {
        find(By.id("text")).sendKeys(text);
        return this;
    }

    /** Empties the message field, as a person would with Ctrl+A and Backspace. */
    ChatPage eraseDraft() {
        find(By.id("text")).sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
        return this;
    }

    /** Goes to a room, creating it if needed, and waits until the page shows it. */
    ChatPage goTo(String room) {
        find(By.id("new-room")).sendKeys(room, Keys.ENTER);
        return waitForRoom(room);
    }

    /** Goes to a room by clicking it in the room list. */
    ChatPage clickRoom(String room) {
        // The list is redrawn whenever a room's count changes: find the button and click it in one go.
        browser.waitUntil(tab, driver -> {
            find(By.cssSelector("#rooms li[data-room='" + room + "'] button")).click();
            return true;
        });
        return waitForRoom(room);
    }

    private ChatPage waitForRoom(String room) {
        browser.waitUntil(tab, driver -> find(By.id("room-title")).getText().equals("#" + room));
        return this;
    }

    ChatPage leave() {
        find(By.id("leave")).click();
        return this;
    }

    /** Waits until a line of the conversation contains every fragment. */
    public ChatPage waitForLine(String... fragments) {
        browser.waitUntil(tab, "a line with " + List.of(fragments), this::lines,
                driver -> lines().stream().anyMatch(line -> containsAll(line, fragments)));
        return this;
    }

    /** The lines of the conversation, oldest first. */
    @SuppressWarnings("unchecked")
    List<String> lines() {
        // One round trip for the whole log, rather than one per line.
        return (List<String>) browser.script(tab,
                "return Array.from(document.querySelectorAll('#log li'), (li) => li.textContent)");
    }

    /** Waits until the member list is exactly these names, e.g. "ann", "bob (reconnecting…)". */
    ChatPage waitForMembers(String... expected) {
        browser.waitUntil(tab, "members " + List.of(expected), this::members,
                driver -> members().equals(List.of(expected)));
        return this;
    }

    /** The member list: each name, with " (reconnecting…)" for members who are away. */
    @SuppressWarnings("unchecked")
    List<String> members() {
        return (List<String>) browser.script(tab, "return Array.from(document.querySelectorAll('#members li'),"
                + " (li) => li.dataset.name + (li.classList.contains('away') ? ' (reconnecting…)' : ''))");
    }

    String text(String id) {
        return find(By.id(id)).getText();
    }

    WebElement find(By by) {
        return browser.in(tab).findElement(by);
    }

    private static boolean containsAll(String line, String... fragments) {
        for (String fragment : fragments) {
            if (!line.contains(fragment)) {
                return false;
            }
        }
        return true;
    }
}
