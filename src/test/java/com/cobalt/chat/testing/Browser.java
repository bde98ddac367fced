package com.cobalt.chat.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless chromium, driven through its chromedriver (packages {@code chromium} and {@code chromium-driver},
 * installed by {@code .ci/run}). Where either is missing or the browser cannot start, every test of the class is
 * skipped with a JUnit assumption that says why ({@link #assumeAvailable()}). One browser per test class: it starts
 * in a second or two, each test then loads the page afresh.
 */
public final class Browser implements AutoCloseable {

    public static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final List<String> CHROMIUM = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");
    private static final List<String> DRIVER = List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");

    private final ChromeDriver driver;
    private final String unavailable;

    private Browser(ChromeDriver driver, String unavailable) {
        this.driver = driver;
        this.unavailable = unavailable;
    }

    /**
     * A headless chromium, or a browser that is not there, with the reason: each test then calls
     * {@link #assumeAvailable()} first and is reported skipped with that reason (a skip in {@code @BeforeAll} would
     * show as no test at all).
     */
    public static Browser start() {
        String chromium = firstExisting(CHROMIUM);
        String chromedriver = firstExisting(DRIVER);
        if (chromium == null) {
            return new Browser(null, "No browser: none of " + CHROMIUM
                    + " exists (apt-get install chromium chromium-driver; .ci/run does)");
        }
        if (chromedriver == null) {
            return new Browser(null, "No chromedriver: none of " + DRIVER
                    + " exists (apt-get install chromium-driver; .ci/run does)");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,860", "--no-first-run", "--disable-extensions", "--lang=en-US");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(chromedriver)).usingAnyFreePort().build();
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
            return new Browser(driver, null);
        } catch (RuntimeException e) {
            return new Browser(null, "The browser cannot run here: " + e.getClass().getSimpleName() + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    public boolean available() {
        return driver != null;
    }

    /** Skips the calling test, saying why, when no browser could start. */
    public void assumeAvailable() {
        Assumptions.assumeTrue(driver != null, unavailable);
    }

    private static String firstExisting(List<String> paths) {
        return paths.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
    }

    public WebDriver driver() {
        return driver;
    }

    /** Loads the page afresh (also when only the #fragment differs from the page shown). */
    public void open(String url) {
        driver.get("about:blank");
        driver.get(url);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** The page's JavaScript, run in it. */
    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Waits, polling, until the condition holds (deadline generous: the machine is shared). */
    public <T> T await(java.util.function.Function<WebDriver, T> condition) {
        // the page re-renders lists and answers as they change: an element read a moment ago may have been replaced
        return new WebDriverWait(driver, Duration.ofSeconds(20), Duration.ofMillis(50))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition);
    }

    public void size(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** The browser console's lines since the last call (CSP violations and script errors show up here). */
    public List<String> consoleLines() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage).toList();
    }

    /** Saves a screenshot to target/screenshots/{name}.png and returns its path. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path target = SCREENSHOTS.resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + ".png");
            File shot = driver.getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sets the browser's sessionStorage token, as the sign-in form would, for tests about what comes after. */
    public void storeToken(String token) {
        js("sessionStorage.setItem('cobalt.token', arguments[0])", token);
    }

    public Map<String, Object> capabilities() {
        return driver.getCapabilities().asMap();
    }

    @Override
    public void close() {
        if (driver != null) {
            driver.quit();
        }
    }
}
