package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

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
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The chat page in headless chromium against the running gateway with the demo provider (authentication on: the
 * user signs in by pasting a JWT): the streamed answer, Enter and Shift+Enter, stop, a script payload shown as text,
 * delete, a phone-sized screen. Skipped, saying why, where no browser can run.
 */
class WebChatTest {

    static final String DEMO_ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer word by word "
            + "through the same routes, circuit breaker and SSE relay a real provider uses. Set LLM_PROVIDER to "
            + "sambanova or azure to talk to a real model.";

    static Browser browser;
    static RunningGateway gateway;
    static GatewayClient client;
    String user;
    String token;

    @BeforeAll
    static void start() {
        browser = Browser.start();
        if (!browser.available()) {
            return;
        }
        // 40 ms between words: the whole answer takes about two seconds, long enough to press Stop in
        // short-demo answers at most 5 tokens: its answers end cut, finish_reason length
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "demo.token-delay-ms", "40",
                "llm.models.demo", "cobalt-demo, other-demo, short-demo",
                "llm.model.short-demo.max-output-tokens", "5"));
        client = new GatewayClient(gateway);
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
    void freshPage(TestInfo info) {
        browser.assumeAvailable();
        user = "web-" + info.getTestMethod().orElseThrow().getName();
        token = Jwt.token(user);
        browser.size(1280, 860);
        browser.open(gateway.baseUrl() + "/");
        browser.js("sessionStorage.clear()");
        browser.open(gateway.baseUrl() + "/");
        browser.consoleLines();
    }

    @AfterEach
    void screenshot(TestInfo info) {
        if (!browser.available()) {
            return;
        }
        browser.screenshot(getClass().getSimpleName() + "-" + info.getTestMethod().orElseThrow().getName());
    }

    void signIn() {
        browser.await(d -> browser.find("#sign-in").isDisplayed());
        browser.find("#token").sendKeys(token);
        browser.find("#sign-in-button").click();
        browser.await(d -> browser.find("#chat").isDisplayed());
    }

    WebElement lastAssistant() {
        List<WebElement> answers = browser.all(".message.assistant");
        return answers.get(answers.size() - 1);
    }

    /** The text of the answer being shown, "" before there is one. */
    String answerSoFar() {
        List<WebElement> answers = browser.all(".message.assistant .body");
        return answers.isEmpty() ? "" : answers.get(answers.size() - 1).getText();
    }

    String awaitOutcome(String outcome) {
        browser.await(d -> !browser.all(".message.assistant").isEmpty()
                && outcome.equals(lastAssistant().getAttribute("data-outcome")));
        return lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".body")).getText();
    }

    JsonNode onlySession() {
        JsonNode sessions = sessions().get("sessions");
        assertThat(sessions).hasSize(1);
        return client.session(sessions.get(0).get("id").asText(), token);
    }

    JsonNode sessions() {
        return GatewayClient.json(client.get("/api/v1/chat/sessions", token).body());
    }

    @Test
    void aSignedInUserSendsWithEnterAndSeesTheAnswerStreamInAndStored() {
        browser.await(d -> browser.find("#sign-in").isDisplayed());
        assertThat(browser.find("#chat").isDisplayed()).as("nothing but the sign-in before a token").isFalse();
        signIn();
        assertThat(browser.find("#model").getAttribute("value")).isEqualTo("cobalt-demo");

        browser.find("#message").sendKeys("Hello there", Keys.ENTER);

        // seen while it streams: the answer grows word by word and the Stop button is offered meanwhile
        browser.await(d -> answerSoFar().contains("Hello!"));
        assertThat(browser.find("#stop").isDisplayed()).isTrue();
        String text = awaitOutcome("complete");
        assertThat(text).isEqualTo(DEMO_ANSWER);
        assertThat(browser.find("#stop").isDisplayed()).isFalse();
        assertThat(browser.find(".message.user .body").getText()).isEqualTo("Hello there");
        browser.await(d -> browser.all("#sessions li").size() == 1);
        assertThat(browser.find("#sessions li .session-open").getText()).isEqualTo("Hello there");

        JsonNode stored = onlySession();
        assertThat(stored.get("model").asText()).isEqualTo("cobalt-demo");
        assertThat(stored.get("messages").get(0).get("content").asText()).isEqualTo("Hello there");
        assertThat(stored.get("messages").get(1).get("content").asText()).isEqualTo(DEMO_ANSWER);
        assertThat(stored.get("messages").get(1).get("status").asText()).isEqualTo("complete");
        assertThat(browser.consoleLines()).as("no script error, no policy violation, no failed request").isEmpty();
    }

    @Test
    void aFirstLoadAndASignInLeaveNoFailedRequestInTheConsole() {
        // the page asks GET /api/v1/me first: "not signed in" is an answer (200), not a 401 from the sessions
        browser.await(d -> browser.find("#sign-in").isDisplayed());
        browser.consoleLines();
        browser.open(gateway.baseUrl() + "/");
        browser.await(d -> browser.find("#sign-in").isDisplayed());
        assertThat(browser.consoleLines()).as("the first load, before signing in").isEmpty();

        signIn();
        browser.await(d -> browser.find("#message").isEnabled());

        // whether the user is an operator comes with the same answer, not from a 403 of the operator's endpoint
        assertThat(browser.find("#nav-operator").isDisplayed()).isFalse();
        assertThat(browser.consoleLines()).as("signed in as a user who is no operator").isEmpty();
    }

    @Test
    void thePageIsUsableWellUnderASecondAfterLoading() {
        signIn();
        double fastestLoad = Double.MAX_VALUE;
        double fastestReady = Double.MAX_VALUE;
        for (int load = 1; load <= 3; load++) {
            long t0 = System.nanoTime();
            browser.open(gateway.baseUrl() + "/");
            browser.await(d -> browser.find("#chat").isDisplayed() && browser.find("#model").getAttribute("value")
                    .equals("cobalt-demo"));
            long seenMs = (System.nanoTime() - t0) / 1_000_000;
            Number loadEvent = (Number) browser.js(
                    "return performance.getEntriesByType('navigation')[0].loadEventEnd");
            // the page's own mark: navigation start to sessions, models and the operator check done
            Number ready = (Number) browser.js("return performance.getEntriesByName('cobalt-ready')[0].startTime");
            System.out.printf("web page load %d: load event %.0f ms, chat ready %.0f ms (seen by the driver after %d ms)%n",
                    load, loadEvent.doubleValue(), ready.doubleValue(), seenMs);
            // one load a loaded CI machine stalled is not the page's doing: each loosely, the best of three tightly
            assertThat(loadEvent.doubleValue()).as("load event, ms").isLessThan(5000);
            assertThat(ready.doubleValue()).as("chat ready, ms").isLessThan(5000);
            fastestLoad = Math.min(fastestLoad, loadEvent.doubleValue());
            fastestReady = Math.min(fastestReady, ready.doubleValue());
        }
        assertThat(fastestLoad).as("fastest load event of three, ms").isLessThan(1000);
        assertThat(fastestReady).as("fastest chat ready of three, ms").isLessThan(1000);
        // the repeat loads revalidated: each library came back as a 304 (headers only), not again in full
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> libs = (List<Map<String, Object>>) browser.js("return performance"
                + ".getEntriesByType('resource').filter(r => r.name.includes('/assets/lib/'))"
                + ".map(r => ({name: r.name, sent: r.transferSize, size: r.decodedBodySize}))");
        assertThat(libs).as("marked, DOMPurify, uPlot.css; uPlot itself loads with the operator view").hasSize(3);
        for (Map<String, Object> lib : libs) {
            assertThat(((Number) lib.get("size")).longValue()).as(lib.get("name") + " size").isGreaterThan(1000);
            assertThat(((Number) lib.get("sent")).longValue()).as(lib.get("name") + " bytes sent").isLessThan(1000);
        }
    }

    @Test
    void aNewChatTalksToTheModelPickedFromTheGatewaysList() {
        signIn();
        org.openqa.selenium.support.ui.Select picker = new org.openqa.selenium.support.ui.Select(browser.find("#model"));
        assertThat(picker.getOptions()).extracting(WebElement::getText)
                .containsExactly("cobalt-demo", "other-demo", "short-demo");
        picker.selectByValue("other-demo");

        browser.find("#message").sendKeys("Which model are you?", Keys.ENTER);
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);
        assertThat(lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".meta")).getText())
                .isEqualTo("other-demo");
        assertThat(browser.find("#model").isEnabled()).as("a chat keeps its model").isFalse();
        JsonNode stored = onlySession();
        assertThat(stored.get("model").asText()).isEqualTo("other-demo");
        assertThat(stored.get("messages").get(1).get("model").asText()).isEqualTo("other-demo");

        browser.find("#new-chat").click();
        assertThat(browser.find("#model").isEnabled()).isTrue();
        assertThat(browser.all(".message")).isEmpty();
    }

    /**
     * An answer the length limit cut says so, as it ends and when the chat is opened again; it was shown as a whole
     * answer (audit, 2026-12-04).
     */
    @Test
    void anAnswerCutAtTheLengthLimitSaysSoLiveAndWhenOpenedAgain() {
        signIn();
        new org.openqa.selenium.support.ui.Select(browser.find("#model")).selectByValue("short-demo");
        browser.find("#message").sendKeys("Say a lot", Keys.ENTER);
        awaitOutcome("complete");
        assertThat(lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".meta")).getText())
                .isEqualTo("Cut off at the length limit · short-demo");
        assertThat(onlySession().get("messages").get(1).get("finish_reason").asText()).isEqualTo("length");

        browser.open(gateway.baseUrl() + "/");
        browser.await(d -> browser.all("#sessions li").size() == 1);
        // the list fills before the chat view shows (the page still waits for the models): click once it is shown
        browser.await(d -> browser.find("#sessions li .session-open").isDisplayed());
        browser.find("#sessions li .session-open").click();
        browser.await(d -> browser.all(".message.assistant").size() == 1);
        assertThat(lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".meta")).getText())
                .isEqualTo("Cut off at the length limit · short-demo");
    }

    /** A new chat's title is its first 60 characters, never half an emoji (audit, 2026-12-04: a lone surrogate). */
    @Test
    void aTitleIsCutBetweenCharactersNotInsideAnEmoji() {
        signIn();
        String rocket = new String(Character.toChars(0x1F680));
        browser.find("#message").sendKeys("a".repeat(59) + rocket + " and more", Keys.ENTER);
        awaitOutcome("complete");

        assertThat(sessions().get("sessions").get(0).get("title").asText()).isEqualTo("a".repeat(59) + rocket);
    }

    /**
     * A first message refused before anything was stored (longer than the 4,000 characters a message may have)
     * leaves no empty chat behind, and its text stays in the composer (audit, 2026-12-04: an empty chat titled
     * "xxxx..." stayed in the list).
     */
    @Test
    void aRefusedFirstMessageLeavesNoEmptyChat() {
        signIn();
        String tooLong = "x".repeat(4001);
        browser.js("document.getElementById('message').value = arguments[0]", tooLong);
        browser.find("#message").sendKeys(Keys.ENTER);

        browser.await(d -> browser.find("#chat-error").isDisplayed());
        browser.await(d -> sessions().get("sessions").isEmpty());
        assertThat(browser.find("#message").getAttribute("value")).isEqualTo(tooLong);
        assertThat(browser.all(".message")).isEmpty();
        assertThat(browser.find("#model").isEnabled()).as("a new chat may still pick its model").isTrue();
    }

    @Test
    void shiftEnterIsANewLineAndTheMessageIsStoredExactly() {
        signIn();
        WebElement input = browser.find("#message");
        input.sendKeys("first line");
        input.sendKeys(Keys.chord(Keys.SHIFT, Keys.ENTER));
        input.sendKeys("second line");
        assertThat(browser.all(".message")).as("Shift+Enter sent nothing").isEmpty();
        input.sendKeys(Keys.ENTER);

        awaitOutcome("complete");
        assertThat(browser.find(".message.user .body").getText()).isEqualTo("first line\nsecond line");
        assertThat(onlySession().get("messages").get(0).get("content").asText()).isEqualTo("first line\nsecond line");
    }

    @Test
    void stopCancelsTheStreamAndTheAnswerIsStoredCancelled() {
        signIn();
        browser.find("#message").sendKeys("Tell me a long story", Keys.ENTER);
        browser.await(d -> answerSoFar().contains("Hello!"));

        browser.find("#stop").click();

        String partial = awaitOutcome("stopped");
        assertThat(DEMO_ANSWER).startsWith(partial);
        assertThat(partial.length()).isLessThan(DEMO_ANSWER.length());
        assertThat(lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".meta")).getText())
                .isEqualTo("Stopped · cobalt-demo");
        assertThat(browser.find("#send").isDisplayed()).isTrue();

        // the gateway saw the client leave: the answer is stored cancelled, with the part that was streamed
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        JsonNode answer = null;
        while (Instant.now().isBefore(deadline)) {
            JsonNode messages = onlySession().get("messages");
            if (messages.size() == 2 && !"streaming".equals(messages.get(1).get("status").asText())) {
                answer = messages.get(1);
                break;
            }
            Thread.onSpinWait();
        }
        assertThat(answer).as("the answer is stored").isNotNull();
        assertThat(answer.get("status").asText()).isEqualTo("cancelled");
        assertThat(DEMO_ANSWER).startsWith(answer.get("content").asText());
        assertThat(answer.get("content").asText().length()).isLessThan(DEMO_ANSWER.length());
    }

    @Test
    void aScriptPayloadInAMessageIsShownAsTextAndNeverRuns() {
        signIn();
        String payload = "<img src=x onerror=\"window.__pwned='img'\"><script>window.__pwned='script'</script>"
                + "<b onmouseover=\"window.__pwned='b'\">bold?</b>";
        browser.find("#message").sendKeys(payload, Keys.ENTER);
        awaitOutcome("complete");

        WebElement shown = browser.find(".message.user .body");
        assertThat(shown.getText()).isEqualTo(payload);
        assertThat(shown.findElements(org.openqa.selenium.By.cssSelector("*"))).as("no element made of it").isEmpty();
        assertThat(browser.js("return window.__pwned === undefined")).isEqualTo(true);

        // and when the stored message is shown again, after a reload
        browser.open(gateway.baseUrl() + "/");
        browser.await(d -> browser.all("#sessions li").size() == 1);
        // the list fills before the chat view shows (the page still waits for the models): click once it is shown
        browser.await(d -> browser.find("#sessions li .session-open").isDisplayed());
        browser.find("#sessions li .session-open").click();
        browser.await(d -> browser.all(".message.user").size() == 1);
        assertThat(browser.find(".message.user .body").getText()).isEqualTo(payload);
        assertThat(browser.js("return window.__pwned === undefined")).isEqualTo(true);
        assertThat(onlySession().get("messages").get(0).get("content").asText()).isEqualTo(payload);
    }

    /**
     * An answer the Markdown parser cannot take (marked overflows its stack on thousands of nested quotes, and a
     * model can be made to write them) is shown as plain text, and the next answer renders as Markdown again
     * (black-box audit, 2026-12-04: the answer stayed "streaming" and every message after it in the history was
     * never shown).
     */
    @Test
    void anAnswerTheMarkdownParserCannotTakeIsShownAsPlainText() {
        Object result = browser.js("return import('/assets/render.js').then(m => {"
                + " const d = document.createElement('div');"
                + " m.renderMarkdown(d, '>'.repeat(6000) + ' deep');"
                + " const deep = d.className + ':' + d.textContent.length + ':' + d.children.length;"
                + " m.renderMarkdown(d, '**fine**');"
                + " return deep + '|' + d.className + ':' + d.innerHTML.trim(); })");

        assertThat(result).isEqualTo("plain:6005:0|:<p><strong>fine</strong></p>");
    }

    /**
     * An image in an answer is a link named by its alt text, never an image the reader's browser fetches; a
     * javascript: one loses its href (audit, 2026-12-04: images vanished without a trace).
     */
    @Test
    void anImageInAnAnswerIsALinkByItsAltText() {
        Object result = browser.js("return import('/assets/render.js').then(m => {"
                + " const d = document.createElement('div');"
                + " m.renderMarkdown(d, '![the diagram](https://example.com/d.png) ![x](javascript:alert(1))');"
                + " return d.innerHTML.trim(); })");

        assertThat(result).isEqualTo("<p><a href=\"https://example.com/d.png\" target=\"_blank\""
                + " rel=\"noopener noreferrer\">the diagram</a> <a target=\"_blank\" rel=\"noopener noreferrer\">x</a></p>");
    }

    @Test
    void aChatIsDeletedFromTheListAndTheGateway() {
        signIn();
        browser.find("#message").sendKeys("Short-lived", Keys.ENTER);
        awaitOutcome("complete");
        browser.await(d -> browser.all("#sessions li").size() == 1);
        String id = sessions().get("sessions").get(0).get("id").asText();

        browser.find("#sessions li .session-delete").click();
        assertThat(browser.driver().switchTo().alert().getText()).isEqualTo(
                "Delete the chat \"Short-lived\" and its messages?");
        browser.driver().switchTo().alert().accept();

        browser.await(d -> browser.all("#sessions li").isEmpty());
        assertThat(browser.all(".message")).as("the open chat is closed").isEmpty();
        assertThat(sessions().get("sessions")).isEmpty();
        assertThat(client.get("/api/v1/chat/sessions/" + id, token).statusCode()).isEqualTo(404);
    }

    /**
     * The open chat deleted (×) while its answer streams: the stream ends, the chat leaves the list and the screen,
     * and the next message starts a new chat. The deleted conversation stayed on screen, its answer labelled "Broke
     * off", and the next message went to the deleted chat (black-box probe, 2026-12-05).
     */
    @Test
    void theOpenChatDeletedWhileItsAnswerStreamsLeavesTheScreen() {
        signIn();
        browser.js("window.confirm = () => true");
        browser.find("#message").sendKeys("Delete me mid-answer", Keys.ENTER);
        browser.await(d -> !browser.all("#sessions li.current").isEmpty()
                && !browser.all(".message.assistant.live").isEmpty() && !answerSoFar().isEmpty());

        browser.find("#sessions li.current .session-delete").click();

        browser.await(d -> browser.all(".message").isEmpty() && browser.find("#stop").getAttribute("hidden") != null);
        assertThat(browser.find("#empty").isDisplayed()).isTrue();
        assertThat(browser.find("#chat-error").isDisplayed()).isFalse();
        assertThat(browser.all("#sessions li")).isEmpty();
        assertThat(sessions().get("sessions")).isEmpty();
        assertThat(browser.find("#model").isEnabled()).as("a new chat picks its model again").isTrue();

        browser.find("#message").sendKeys("A fresh start", Keys.ENTER);
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);
        assertThat(onlySession().get("title").asText()).isEqualTo("A fresh start");
    }

    /**
     * "Earlier messages" puts the older messages above the ones shown and leaves the reader where they were. The view
     * jumped to the oldest message loaded, so the reader lost their place (black-box probe, 2026-12-05).
     */
    @Test
    void earlierMessagesComeInAboveWithoutMovingWhatTheReaderSees() {
        String session = client.createSession(token, "{\"title\":\"Long chat\",\"model\":\"short-demo\"}");
        for (int i = 0; i < 26; i++) {
            assertThat(client.chat(session, token, "question " + i).status()).isEqualTo(200);
        }
        signIn();
        browser.await(d -> browser.find("#sessions li .session-open").isDisplayed());
        browser.find("#sessions li .session-open").click();
        browser.await(d -> browser.all(".message").size() == 50);
        assertThat(browser.all(".message.user .body").get(0).getText()).isEqualTo("question 1");
        browser.js("document.getElementById('messages').scrollTop = 0");
        String top = "const box = document.getElementById('messages');"
                + " const m = [...box.querySelectorAll('.message.user')].find(e => e.textContent.endsWith('question 1'));"
                + " return Math.round(m.getBoundingClientRect().top - box.getBoundingClientRect().top)";
        long before = (Long) browser.js(top);

        browser.find("#earlier-messages").click();

        browser.await(d -> browser.all(".message").size() == 52);
        assertThat(browser.all(".message.user .body").get(0).getText()).isEqualTo("question 0");
        assertThat((Long) browser.js(top)).as("question 1 stays where the reader saw it").isBetween(before - 1, before + 1);
        assertThat(browser.find("#earlier-messages").isDisplayed()).isFalse();
    }

    /**
     * After signing in, and when the page is loaded again, the composer has the focus: the user types at once. The
     * focus was left on the page (the sign-in form it was in is hidden), so a keyboard user tabbed through the chat
     * list first (black-box probe, 2026-12-05).
     */
    @Test
    void theComposerHasTheFocusAfterSignInAndOnLoad() {
        signIn();
        browser.await(d -> "message".equals(browser.js("return document.activeElement.id")));
        browser.driver().switchTo().activeElement().sendKeys("Typed at once", Keys.ENTER);
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);

        browser.open(gateway.baseUrl() + "/");
        browser.await(d -> browser.find("#chat").isDisplayed());
        browser.await(d -> "message".equals(browser.js("return document.activeElement.id")));
    }

    @Test
    void theSessionsComeInPages() {
        for (int i = 1; i <= 23; i++) {
            client.createSession(token, "{\"title\":\"Chat " + i + "\"}");
        }
        signIn();
        browser.await(d -> browser.all("#sessions li").size() == 20);
        assertThat(browser.find("#sessions li .session-open").getText()).isEqualTo("Chat 23");
        browser.find("#more-sessions").click();
        browser.await(d -> browser.all("#sessions li").size() == 23);
        assertThat(browser.all("#sessions li .session-open").get(22).getText()).isEqualTo("Chat 1");
        assertThat(browser.find("#more-sessions").isDisplayed()).isFalse();
    }

    /**
     * A new chat is in "Your chats", marked as the open one, as soon as it is created, while its first answer still
     * streams. It appeared only once the answer had ended, and not at all when the stream broke off and the list
     * could not be read again (black-box probe, 2026-12-05).
     */
    @Test
    void aNewChatIsListedAndMarkedWhileItsFirstAnswerStreams() {
        signIn();
        browser.find("#message").sendKeys("Listed at once", Keys.ENTER);

        browser.await(d -> !browser.all("#sessions li.current").isEmpty());
        assertThat(browser.all(".message.assistant.live")).as("the answer still streams").hasSize(1);
        assertThat(browser.find("#sessions li.current .session-open").getText()).isEqualTo("Listed at once");
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);
        assertThat(browser.all("#sessions li")).hasSize(1);
        assertThat(browser.find("#sessions li").getAttribute("data-id"))
                .isEqualTo(onlySession().get("id").asText());
    }

    /**
     * One answer streams at a time, into the chat on screen: while it does, the other chats do not open, and their
     * buttons say so (a click did nothing, without a word); once it has ended they open again.
     */
    @Test
    void whileAnAnswerStreamsTheOtherChatsSayWhenTheyOpen() {
        signIn();
        browser.find("#message").sendKeys("First chat", Keys.ENTER);
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);
        browser.find("#new-chat").click();
        browser.find("#message").sendKeys("Second chat", Keys.ENTER);
        browser.await(d -> browser.all("#sessions li").size() == 2);
        browser.await(d -> !browser.all(".message.assistant.live").isEmpty());

        WebElement first = browser.find("#sessions li:not(.current) .session-open");
        assertThat(first.getText()).isEqualTo("First chat");
        assertThat(first.isEnabled()).isFalse();
        assertThat(first.getAttribute("title")).isEqualTo("First chat (opens once the answer has ended, or after Stop)");

        browser.find("#stop").click();
        // the list is read again once the answer has ended: the button is a new one
        browser.await(d -> browser.all(".message.assistant.live").isEmpty());
        browser.await(d -> browser.find("#sessions li:not(.current) .session-open").isEnabled());
        WebElement again = browser.find("#sessions li:not(.current) .session-open");
        assertThat(again.getAttribute("title")).isEqualTo("First chat");
        again.click();
        browser.await(d -> "First chat".equals(browser.find("#sessions li.current .session-open").getText()));
        assertThat(lastAssistant().findElement(org.openqa.selenium.By.cssSelector(".body")).getText())
                .isEqualTo(DEMO_ANSWER);
    }

    @Test
    void onAPhoneSizedScreenTheChatsAreADrawerAndTheComposerFits() {
        browser.size(390, 844);
        signIn();
        assertThat(browser.find("#sidebar").getRect().getX() + browser.find("#sidebar").getRect().getWidth())
                .as("the chat list is off screen until asked for").isLessThanOrEqualTo(0);
        WebElement composer = browser.find("#composer");
        assertThat(composer.getRect().getX() + composer.getRect().getWidth()).isLessThanOrEqualTo(390);
        assertThat(browser.js("return document.documentElement.scrollWidth <= window.innerWidth")).isEqualTo(true);

        browser.find("#message").sendKeys("Hi from a phone", Keys.ENTER);
        assertThat(awaitOutcome("complete")).isEqualTo(DEMO_ANSWER);
        browser.find("#sessions-toggle").click();
        browser.await(d -> browser.find("#sidebar").getRect().getX() >= 0);
        assertThat(browser.find("#sessions li .session-open").getText()).isEqualTo("Hi from a phone");
    }
}
