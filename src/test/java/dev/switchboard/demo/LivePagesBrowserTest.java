package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * The pages the server feeds on its own, in a real browser: the live graph draws what it is
 * pushed and stops when paused; the dashboard counts what is connected.
 */
class LivePagesBrowserTest extends DemoInBrowser {
    /**
     * How many pixels of the chart have the colour of each series (graph.js COLORS), counted by
     * the page itself: a chart that drew its lines has hundreds.
     */
    private static final String SERIES_PIXELS = """
            const canvas = document.getElementById('chart');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            return ['#e4572e', '#17a2b8', '#4f46e5'].map((hex) => {
              const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
              let count = 0;
              for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) {
                  count++;
                }
              }
              return count;
            });
            """;

    @Test
    void theGraphDrawsThePointsItIsPushedAndPauses() throws InterruptedException {
        String graph = browser.open(server.httpUri().resolve("graph.html"));
        browser.waitUntil(graph, driver -> received(driver) >= 20);
        browser.waitUntil(graph, "every series drawn", () -> browser.script(graph, SERIES_PIXELS),
                driver -> ((List<?>) browser.script(graph, SERIES_PIXELS)).stream()
                        .allMatch(count -> ((Number) count).longValue() > 100));
        browser.screenshot(graph, "graph");

        browser.in(graph).findElement(By.id("toggle")).click();
        browser.waitUntil(graph, driver -> driver.findElement(By.id("toggle")).getText().equals("Resume"));
        long paused = received(browser.in(graph));
        Thread.sleep(500); // five periods of the feed
        assertEquals(paused, received(browser.in(graph)), "no point while paused");

        browser.in(graph).findElement(By.id("toggle")).click();
        browser.waitUntil(graph, driver -> received(driver) >= paused + 5);
        assertEquals("Pause", browser.in(graph).findElement(By.id("toggle")).getText());
    }

    @Test
    void theDashboardCountsTheConnectedSockets() {
        String dashboard = browser.open(server.httpUri().resolve("dashboard.html"));
        ChatPage.open(browser, server.httpUri()).joinAs("jo");
        ChatPage.open(browser, server.httpUri()).joinAs("kim").send("hi jo");
        browser.open(server.httpUri().resolve("graph.html"));

        browser.waitUntil(dashboard, "4 connections and 4 sockets", () -> browser.in(dashboard)
                        .findElement(By.id("figures")).getText(),
                driver -> figure(driver, "connections").equals("4") && figure(driver, "totalSockets").equals("4"));
        browser.waitUntil(dashboard, driver -> namespaceSockets(driver, "/chat").equals("2")
                && namespaceSockets(driver, "/graph").equals("1") && namespaceSockets(driver, "/dashboard").equals("1"));
        assertTrue(browser.in(dashboard).findElement(By.id("rooms")).getText().contains("room:general 2"),
                () -> browser.in(dashboard).findElement(By.id("rooms")).getText());
        browser.screenshot(dashboard, "dashboard");
    }

    private static long received(WebDriver driver) {
        return Long.parseLong(driver.findElement(By.id("received")).getText());
    }

    private static String figure(WebDriver driver, String key) {
        return driver.findElement(By.cssSelector("[data-figure=" + key + "] .value")).getText();
    }

    private static String namespaceSockets(WebDriver driver, String namespace) {
        return driver.findElement(By.cssSelector("#namespaces tr[data-namespace='" + namespace + "'] .num")).getText();
    }
}
