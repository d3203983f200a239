package dev.switchboard.demo;

import dev.switchboard.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/** The demo on a test server and one Chromium for a whole test class; each test closes its tabs. */
@BrowserTest
abstract class DemoInBrowser {
    static TestServer server;
    static Chromium browser;

    @BeforeAll
    static void start() {
        browser = Chromium.start();
        server = TestServer.start(DemoApp::install);
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

    @AfterEach
    void closeTabs() {
        browser.closeTabs();
    }
}
