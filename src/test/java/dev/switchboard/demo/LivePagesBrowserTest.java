package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.CuttableProxy;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * The pages the server feeds on its own, in a real browser: the live graph draws what it is
 * pushed, moves and stops when paused; the dashboard shows what is connected and what flows,
 * with a sparkline per figure.
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

    /** A digest of the chart's pixels: it changes whenever the chart is drawn differently. */
    private static final String CHART_DIGEST = """
            const canvas = document.getElementById('chart');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let digest = 0;
            for (let i = 0; i < data.length; i++) {
              digest = (digest * 31 + data[i]) | 0;
            }
            return digest;
            """;

    /** How many points each figure's sparkline has, and how many different heights. */
    private static final String SPARKLINES = """
            return Object.fromEntries(Array.from(document.querySelectorAll('#figures [data-figure]'), (card) => {
              const line = card.querySelector('svg polyline');
              const points = line ? line.getAttribute('points').split(' ') : [];
              return [card.dataset.figure, [points.length, new Set(points.map((point) => point.split(',')[1])).size]];
            }));
            """;

    @Test
    void theGraphDrawsThePointsItIsPushedAndPauses() throws InterruptedException {
        String graph = browser.open(server.httpUri().resolve("graph.html"));
        browser.waitUntil(graph, driver -> received(driver) >= 20);
        browser.waitUntil(graph, "every series drawn", () -> browser.script(graph, SERIES_PIXELS),
                driver -> ((List<?>) browser.script(graph, SERIES_PIXELS)).stream()
                        .allMatch(count -> ((Number) count).longValue() > 100));
        browser.screenshot(graph, "graph");

        // The chart moves: new points arrive and the lines are drawn anew, shifted to the left.
        Object before = browser.script(graph, CHART_DIGEST);
        long drawn = received(browser.in(graph));
        browser.waitUntil(graph, "the chart redrawn after new points", () -> received(browser.in(graph)),
                driver -> received(driver) >= drawn + 5 && !before.equals(browser.script(graph, CHART_DIGEST)));

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
    void theDashboardShowsTheServerLive() throws IOException {
        String dashboard = browser.open(server.httpUri().resolve("dashboard.html"));
        try (CuttableProxy network = new CuttableProxy(server.port())) {
            ChatPage jo = ChatPage.open(browser, through(network)).joinAs("jo");
            ChatPage kim = ChatPage.open(browser, server.httpUri()).joinAs("kim");
            browser.open(server.httpUri().resolve("graph.html"));

            browser.waitUntil(dashboard, "4 connections and 4 sockets", () -> figures(dashboard),
                    driver -> figure(driver, "connections").equals("4") && figure(driver, "totalSockets").equals("4"));
            browser.waitUntil(dashboard, driver -> namespaceSockets(driver, "/chat").equals("2")
                    && namespaceSockets(driver, "/graph").equals("1") && namespaceSockets(driver, "/dashboard").equals("1"));
            // Every page here runs on this host: one address holds the four connections.
            browser.waitUntil(dashboard, driver -> driver.findElement(By.id("addresses")).getText().equals("127.0.0.1 4"));
            String rooms = browser.in(dashboard).findElement(By.id("rooms")).getText();
            assertTrue(rooms.contains("/chat #general 2"), rooms);

            // The graph pushes ten points a second; kim chatting keeps events coming in.
            browser.waitUntil(dashboard, "events in and out per second", () -> figures(dashboard), driver -> {
                kim.send("are the figures moving?");
                WebDriver page = browser.in(dashboard);
                return number(figure(page, "eventsInPerSecond")) > 0 && number(figure(page, "framesOutPerSecond")) > 0;
            });

            // A sparkline per figure; the connections went from one to four within the minute it shows.
            browser.waitUntil(dashboard, "a sparkline per figure", () -> browser.script(dashboard, SPARKLINES), driver -> {
                Map<?, ?> sparklines = (Map<?, ?>) browser.script(dashboard, SPARKLINES);
                return sparklines.size() == 11 && sparklines.values().stream()
                        .allMatch(line -> ((Number) ((List<?>) line).get(0)).intValue() >= 2)
                        && ((Number) ((List<?>) sparklines.get("connections")).get(1)).intValue() >= 2;
            });

            // What all the send queues hold, against the server-wide bound past which the fullest are cut off.
            String queued = figure(browser.in(dashboard), "queuedBytes");
            assertTrue(queued.matches("[0-9.]+ (B|KiB|MiB) of [0-9.]+ MiB"), queued);
            assertEquals("0", figure(browser.in(dashboard), "slowConsumers"));
            assertEquals("0", figure(browser.in(dashboard), "listenerFailures"));
            assertEquals("Single node · no Redis", browser.in(dashboard).findElement(By.id("cluster")).getText());

            long recoveries = number(figure(browser.in(dashboard), "recoveries"));
            network.cut(); // jo's connection, which comes back at once and recovers its session
            jo.waitForLine("your session was recovered");
            browser.waitUntil(dashboard, "one more recovery", () -> figures(dashboard),
                    driver -> number(figure(driver, "recoveries")) == recoveries + 1);
        }
        browser.screenshot(dashboard, "dashboard");
    }

    private static String figures(String dashboard) {
        return browser.in(dashboard).findElement(By.id("figures")).getText();
    }

    private static long number(String shown) {
        return Long.parseLong(shown.replaceAll("[^0-9]", ""));
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
