package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/** The demo on a test server and one Chromium for a whole test class; each test closes its tabs. */
@BrowserTest
@Timeout(value = 5, unit = TimeUnit.MINUTES)
abstract class DemoInBrowser {
    /** The key of the demo's HTTP API, on as with {@code -Ddemo.apiKey}. */
    static final String API_KEY = "browser-test-key";
    static TestServer server;
    static Chromium browser;
    private static boolean otherOptions;

    @BeforeAll
    static void start() {
        browser = Chromium.start();
        server = startDemo();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /**
     * Replaces the shared server by one with other options until the test ends. The two cannot
     * run side by side: the WebSocket endpoint finds its Switchboard in a registry that holds one
     * per class loader, so new connections would all reach the newer server.
     */
    static TestServer restartServer(SwitchboardOptions options) {
        server.close();
        server = TestServer.start(options, DemoApp::install);
        otherOptions = true;
        return server;
    }

    /**
     * The demo's address through a proxy standing in for one tab's network; another origin than
     * {@code server.httpUri()}, so the tab is another browser to the chat.
     */
    static URI through(CuttableProxy network) {
        return URI.create("http://127.0.0.1:" + network.port() + "/");
    }

    @AfterEach
    void closeTabs() {
        browser.closeTabs();
        if (otherOptions) {
            otherOptions = false;
            server.close();
            server = startDemo();
        }
    }

    private static TestServer startDemo() {
        return TestServer.start(TestServer.options().build(), DemoApp::install,
                HttpApiSettings.off().withKeys(List.of(API_KEY)).withMetrics(true));
    }
}
