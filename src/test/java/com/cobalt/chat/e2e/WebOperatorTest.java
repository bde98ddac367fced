package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.testing.Browser;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The operator view in headless chromium against the running gateway with two demo providers: providers' state,
 * the switch of primary and fallback, usage and cost as a chart; hidden from users without the admin role; and the
 * page straight in, without sign-in, when authentication is off.
 */
class WebOperatorTest {

    static Browser browser;
    static RunningGateway gateway;
    static GatewayClient client;
    static final String ADMIN = adminToken("ops-admin");

    @BeforeAll
    static void start() {
        browser = Browser.start();
        if (!browser.available()) {
            return;
        }
        gateway = RunningGateway.start(demoAndSpare(Map.of()));
        client = new GatewayClient(gateway);
        // one answer of the operator's own, so there is usage to show
        String session = client.createSession(ADMIN, "{\"title\":\"Usage\"}");
        assertThat(client.chat(session, ADMIN, "Hello").status()).isEqualTo(200);
    }

    static Map<String, String> demoAndSpare(Map<String, String> overrides) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "demo");
        p.put("llm.fallback-provider", "spare");
        p.put("llm.provider.spare.kind", "demo");
        p.put("llm.provider.spare.model", "spare-model");
        p.putAll(overrides);
        return p;
    }

    static String adminToken(String user) {
        return JWT.create().withSubject(user).withClaim("roles", List.of("admin"))
                .withExpiresAt(java.time.Instant.now().plusSeconds(600)).sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void freshPage() {
        browser.assumeAvailable();
        browser.size(1280, 900);
        browser.open(gateway.baseUrl() + "/");
        browser.js("sessionStorage.clear()");
        browser.consoleLines();
    }

    @AfterEach
    void screenshot(TestInfo info) {
        if (!browser.available()) {
            return;
        }
        browser.screenshot(getClass().getSimpleName() + "-" + info.getTestMethod().orElseThrow().getName());
    }

    void openOperatorAs(String token) {
        browser.storeToken(token);
        browser.open(gateway.baseUrl() + "/#operator");
        browser.await(d -> browser.find("#operator").isDisplayed());
    }

    List<String> row(String provider) {
        return browser.find("#providers tr[data-provider='" + provider + "']").findElements(By.cssSelector("td"))
                .stream().map(WebElement::getText).toList();
    }

    @Test
    void anOperatorSeesEachProviderAndSwitchesPrimaryAndFallback() {
        openOperatorAs(ADMIN);
        browser.await(d -> browser.all("#providers tbody tr").size() == 2);
        assertThat(row("demo")).containsExactly("demo", "primary", "CLOSED", "–", "–", "1", "0", "off");
        assertThat(row("spare")).containsExactly("spare", "fallback", "CLOSED", "–", "–", "0", "0", "off");
        assertThat(browser.find("#current-primary").getText()).isEqualTo("demo");

        try {
            new Select(browser.find("#switch-primary")).selectByValue("spare");
            new Select(browser.find("#switch-fallback")).selectByValue("demo");
            browser.find("#switch-button").click();

            browser.await(d -> browser.find("#switch-result").isDisplayed());
            assertThat(browser.find("#switch-result").getText()).isEqualTo("Switched: primary spare, fallback demo.");
            assertThat(row("spare").get(1)).isEqualTo("primary");
            assertThat(row("demo").get(1)).isEqualTo("fallback");
            JsonNode status = GatewayClient.json(client.get("/api/v1/admin/providers", ADMIN).body());
            assertThat(status.get("primary").asText()).isEqualTo("spare");
            assertThat(status.get("fallback").asText()).isEqualTo("demo");

            // a switch the gateway refuses is said in words
            new Select(browser.find("#switch-primary")).selectByValue("demo");
            new Select(browser.find("#switch-fallback")).selectByValue("demo");
            browser.find("#switch-button").click();
            browser.await(d -> browser.find("#operator-error").isDisplayed());
            assertThat(browser.find("#operator-error").getText()).startsWith("The fallback");
        } finally {
            client.send("PUT", "/api/v1/admin/providers/selection", ADMIN, "application/json",
                    "{\"primary\":\"demo\",\"fallback\":\"spare\"}");
        }
    }

    /**
     * The usage table is everyone's unless a user is named (the page asks user=*), and says so: its line said "for
     * you", as did the README, so an operator read the gateway's whole traffic as their own (black-box probe).
     */
    @Test
    void theUsageReportSaysWhoseUsageItShows() {
        openOperatorAs(ADMIN);
        browser.await(d -> browser.all("#usage tbody tr").size() == 1);
        assertThat(browser.find("#usage-whose").getText())
                .isEqualTo("Everyone's usage by provider, model, day or user, or only the user's you name.");
        assertThat(browser.find("#usage-user").getAttribute("placeholder")).isEqualTo("everyone");
    }

    @Test
    void usageAndCostAreAChartAndATableByProviderModelAndDay() {
        openOperatorAs(ADMIN);
        browser.await(d -> browser.all("#usage tbody tr").size() == 1);
        List<String> cells = browser.find("#usage tbody tr").findElements(By.cssSelector("td")).stream()
                .map(WebElement::getText).toList();
        assertThat(cells.get(0)).isEqualTo("demo");
        assertThat(cells.get(1)).isEqualTo("1");
        assertThat(cells.get(4)).isEqualTo("0.0000");
        assertThat(browser.all("#usage-chart canvas")).hasSize(1);
        assertThat(browser.find("#usage-chart .u-title").getText()).isEqualTo("Cost and tokens by provider");
        JsonNode report = GatewayClient.json(client.get("/api/v1/usage?group_by=provider", ADMIN).body());
        assertThat(cells.get(2)).isEqualTo(report.get("groups").get(0).get("prompt_tokens").asText());
        assertThat(cells.get(3)).isEqualTo(report.get("groups").get(0).get("completion_tokens").asText());

        new Select(browser.find("#usage-group")).selectByValue("day");
        browser.find("#usage-button").click();
        // the day the answer was stored, which is yesterday's once the class runs across midnight UTC
        String day = GatewayClient.json(client.get("/api/v1/usage?group_by=day", ADMIN).body())
                .at("/groups/0/key").asText();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(day).isIn(today.toString(), today.minusDays(1).toString());
        browser.await(d -> browser.find("#usage tbody tr td").getText().equals(day));
        assertThat(browser.find("#usage-chart .u-title").getText()).isEqualTo("Cost and tokens by day");

        new Select(browser.find("#usage-group")).selectByValue("model");
        browser.find("#usage-button").click();
        browser.await(d -> browser.find("#usage tbody tr td").getText().equals("cobalt-demo"));
        assertThat(browser.find("#usage tfoot td").getText()).isEqualTo("Total");
        // the chart library draws within the policy: no inline style or script refused, no script error
        assertThat(browser.consoleLines()).noneMatch(l -> l.contains("Content Security Policy")
                || l.contains("Uncaught") || l.contains("TypeError"));
    }

    @Test
    void aUserWithoutTheAdminRoleHasNoOperatorView() {
        openOperatorAsPlainUser();
        assertThat(browser.find("#nav-operator").isDisplayed()).isFalse();
        assertThat(browser.find("#operator").isDisplayed()).isFalse();
    }

    void openOperatorAsPlainUser() {
        browser.storeToken(Jwt.token("plain-user"));
        browser.open(gateway.baseUrl() + "/#operator");
        browser.await(d -> browser.find("#chat").isDisplayed());
    }

    @Test
    void withAuthenticationOffThePageIsStraightInAndTheOperatorViewIsThere() {
        try (RunningGateway open = RunningGateway.start(demoAndSpare(Map.of("chat.auth.disabled", "true")))) {
            browser.open(open.baseUrl() + "/");
            browser.await(d -> browser.find("#chat").isDisplayed());
            assertThat(browser.find("#sign-in").isDisplayed()).isFalse();
            assertThat(browser.find("#sign-out").isDisplayed()).as("nothing to sign out of").isFalse();
            browser.find("#message").sendKeys("Hi", Keys.ENTER);
            browser.await(d -> !browser.all(".message.assistant[data-outcome='complete']").isEmpty());
            browser.await(d -> browser.find("#nav-operator").isDisplayed());
            browser.find("#nav-operator").click();
            browser.await(d -> browser.all("#providers tbody tr").size() == 2);
            assertThat(row("demo")).startsWith("demo", "primary", "CLOSED");
        }
    }
}
