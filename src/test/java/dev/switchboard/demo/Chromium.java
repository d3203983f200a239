package dev.switchboard.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.FluentWait;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The system's headless Chromium, driven through {@code /usr/bin/chromedriver}; nothing is ever
 * downloaded. Test classes that use it are marked {@link BrowserTest}, which skips them when it is
 * missing. Each tab is a separate page with its own WebSocket; the tabs share the browser's storage.
 *
 * <pre>{@code
 * try (Chromium browser = Chromium.start()) {
 *     String tab = browser.open(server.httpUri().resolve("graph.html"));
 *     browser.waitUntil(tab, driver -> driver.findElement(By.id("received")).getText().equals("10"));
 * }
 * }</pre>
 */
public final class Chromium implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final ChromeDriver driver;
    private final Path profile;
    private final String firstTab;
    private boolean firstTabUsed;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
        this.firstTab = driver.getWindowHandle();
    }

    /** Whether Chromium and its driver are where the tests look for them. */
    static boolean installed() {
        return Files.isExecutable(BINARY) && Files.isExecutable(DRIVER);
    }

    /** A fresh headless browser with an empty profile. */
    public static Chromium start() {
        return start(new String[0]);
    }

    /** A fresh headless browser with an empty profile and these command-line switches besides the usual ones. */
    public static Chromium start(String... extraArguments) {
        // Selenium warns that it has no DevTools bindings for this Chromium; the tests do not use them.
        Logger.getLogger("org.openqa.selenium.devtools").setLevel(Level.OFF);
        System.setProperty("webdriver.chrome.driver", DRIVER.toString());
        Path profile;
        try {
            profile = Files.createTempDirectory("switchboard-chromium");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1280,1000", "--lang=en-GB",
                // Tabs in the background must keep their timers and sockets running like the one in front.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows");
        options.addArguments(extraArguments);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
        return new Chromium(new ChromeDriver(service, options), profile);
    }

    /** Opens a page in a new tab (the browser's first tab the first time) and returns the tab's handle. */
    String open(URI page) {
        if (firstTabUsed) {
            driver.switchTo().newWindow(WindowType.TAB);
        } else {
            driver.switchTo().window(firstTab);
            firstTabUsed = true;
        }
        driver.get(page.toString());
        return driver.getWindowHandle();
    }

    /** The driver, switched to a tab. */
    WebDriver in(String tab) {
        if (!tab.equals(driver.getWindowHandle())) {
            driver.switchTo().window(tab);
        }
        return driver;
    }

    /** Waits in a tab until {@code condition} holds (returns true or non-null). */
    <T> T waitUntil(String tab, Function<WebDriver, T> condition) {
        return waiting(tab).until(condition);
    }

    /** Waits in a tab until {@code condition} holds; a timeout reports {@code what} and what the page showed. */
    <T> T waitUntil(String tab, String what, Supplier<Object> shown, Function<WebDriver, T> condition) {
        return waiting(tab).withMessage(() -> what + "; the page shows " + shown.get()).until(condition);
    }

    private FluentWait<WebDriver> waiting(String tab) {
        // Live pages redraw what they show: an element found a moment ago may be gone already.
        return new WebDriverWait(in(tab), TIMEOUT).ignoring(StaleElementReferenceException.class);
    }

    /** Runs JavaScript in a tab's page as a function body; a returned promise is awaited. */
    Object script(String tab, String script, Object... args) {
        in(tab);
        return driver.executeScript(script, args);
    }

    /** Saves a PNG of a tab as {@code target/screenshots/<name>.png}. */
    Path screenshot(String tab, String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            in(tab);
            Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes every tab but one, which is left blank, so the next test starts from a quiet browser. */
    void closeTabs() {
        for (String tab : driver.getWindowHandles()) {
            if (!tab.equals(firstTab)) {
                driver.switchTo().window(tab).close();
            }
        }
        driver.switchTo().window(firstTab).get("about:blank");
        firstTabUsed = false;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            } catch (IOException e) {
                // a leftover temp profile is harmless
            }
        }
    }
}
