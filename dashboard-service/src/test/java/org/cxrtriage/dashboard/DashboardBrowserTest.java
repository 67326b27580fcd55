package org.cxrtriage.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.AlertEvent;
import org.cxrtriage.schemas.CropBox;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.LabelSource;
import org.cxrtriage.schemas.Neighbour;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium against the real stack (broker, registry, Redis): an alert published on
 * Kafka appears on two open pages without a reload, its pictures (and its similar case's) load from Redis, and an
 * acknowledgement clicked on one page shows on the other, which is served by a second dashboard instance — the
 * acknowledgement travels as an event through Kafka. Needs Debian's chromium and chromium-driver.
 */
@Tag("e2e")
class DashboardBrowserTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String CHROMIUM = System.getProperty("chrome.binary", "/usr/bin/chromium");
    private static final String CHROMEDRIVER = System.getProperty("chromedriver", "/usr/bin/chromedriver");

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                // closing what is left; the test already has its verdict
            }
        }
    }

    @Test
    void alertsAppearLiveAndAnAcknowledgementReachesEveryDashboard() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER)),
                "needs " + CHROMIUM + " and " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)");
        String run = UUID.randomUUID().toString().substring(0, 8);
        String site = "ED-E2E-" + run;
        String otherSite = "ED-OTHER-" + run;
        String allToken = "all-" + UUID.randomUUID();
        String otherToken = "other-" + UUID.randomUUID();
        String siteToken = "site-" + UUID.randomUUID();
        Settings settings = Settings.fromEnv().with(Map.of(
                ApiTokens.TOKENS, allToken + "=*," + otherToken + "=" + otherSite + "," + siteToken + "=" + site,
                CommonKeys.HTTP_PORT, "0",
                DashboardService.REDIS_KEY_PREFIX, "cxr:dash-test-" + run + ":",
                DashboardService.IMAGES_GROUP_ID, "cxr-dashboard-images-" + run));
        DashboardService first = start(settings);
        DashboardService second = start(settings);
        String base1 = "http://127.0.0.1:" + first.httpPort();
        String base2 = "http://127.0.0.1:" + second.httpPort();

        WebDriver page1 = browser();
        WebDriver page2 = browser();
        page1.get(base1 + "/?token=" + allToken);
        page2.get(base2 + "/?token=" + allToken);
        for (WebDriver page : List.of(page1, page2)) {
            waitOn(page).until(d -> text(d, "#connection").equals("live"));
            // The token left the address bar.
            assertThat(page.getCurrentUrl()).doesNotContain(allToken);
        }

        // The pictures first (the tensor of the alert's image and of an older similar case), then the alert.
        String imageId = "img-" + run;
        String neighbourId = "img-old-" + run;
        String alertId = "alert-" + run;
        try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(
                KafkaSettings.producer(settings, "dashboard-e2e"), new StringSerializer(),
                RegistrySettings.serdes(settings).anySerializer())) {
            producer.send(new ProducerRecord<>(Topic.TENSORS.name(), neighbourId, tensor(neighbourId, otherSite))).get();
            producer.send(new ProducerRecord<>(Topic.TENSORS.name(), imageId, tensor(imageId, site))).get();
            await().atMost(WAIT).until(() -> get(base1 + "/api/images/" + imageId + "/cxr.png?token=" + allToken) == 200
                    && get(base1 + "/api/images/" + neighbourId + "/lung.png?token=" + allToken) == 200);
            producer.send(new ProducerRecord<>(Topic.ALERTS.name(), "p-" + run, alert(alertId, imageId, site,
                    neighbourId, otherSite))).get();
        }

        String row = "tr[data-alert-id='" + alertId + "']";
        for (WebDriver page : List.of(page1, page2)) {
            waitOn(page).until(d -> !d.findElements(By.cssSelector(row)).isEmpty());
            assertThat(text(page, row + " td.state")).isEqualTo("Open");
            assertThat(enabled(page, row + " input.ack-note")).isTrue();
        }

        // The detail view: the X-ray, the lung overlay over it, and the similar case with its label and distance.
        act(page1, row + " td:first-child", WebElement::click);
        WebDriverWait wait1 = waitOn(page1);
        wait1.until(d -> loaded(d, "#d-cxr") && loaded(d, "#d-lung"));
        wait1.until(d -> loaded(d, "#neighbours [data-image-id='" + neighbourId + "'] img"));
        String similar = text(page1, "#neighbours");
        assertThat(similar).contains("distance 0.420").contains("positive").contains("confirmed (PCR)");
        assertThat(text(page1, "#d-facts")).contains(imageId).contains(site);

        // Site filter: another site shows nothing of this alert.
        act(page1, "#site-filter option[value='" + site + "']", WebElement::click);
        assertThat(page1.findElements(By.cssSelector("#alerts tbody tr"))).hasSize(1);

        // For a person to look at: what the page showed (target/dashboard-e2e.png).
        Files.write(Path.of("target", "dashboard-e2e.png"), ((TakesScreenshot) page1).getScreenshotAs(OutputType.BYTES));

        // Acknowledge on page 1 with a note typed next to the button: both pages (two dashboard instances) show the
        // acknowledgement, who and when, and the note once the event comes back from Kafka.
        String note = "Isolation bay 3 – swab sent " + run;
        act(page1, row + " input.ack-note", e -> e.sendKeys(note));
        act(page1, row + " .ack-btn", WebElement::click);
        for (WebDriver page : List.of(page1, page2)) {
            waitOn(page).until(d -> text(d, row + " td.state .state-label").equals("Acknowledged"));
            assertThat(text(page, row + " td.state .ack-note-text")).isEqualTo(note);
            assertThat(text(page, row + " td.state .ack-by"))
                    .matches("by token:\\*:[0-9a-f]{8} at .+");
            assertThat(enabled(page, row + " .ack-btn")).isFalse();
            assertThat(page.findElements(By.cssSelector(row + " input.ack-note"))).isEmpty();
        }
        Files.write(Path.of("target", "dashboard-e2e-ack.png"),
                ((TakesScreenshot) page2).getScreenshotAs(OutputType.BYTES));
        // The open detail view shows it too.
        waitOn(page1).until(d -> text(d, "#d-facts").contains(note));
        assertThat(text(page1, "#d-facts")).contains("Acknowledged by token:*:");

        // A later image of the patient updates the alert (same id, newer lastSeen): it stays acknowledged, marked.
        CxrAlert update = alert(alertId, imageId + "-later", site, neighbourId, otherSite);
        publishUpdate(settings, "p-" + run, update, imageId, 2, 5);
        waitOn(page2).until(d -> text(d, row + " td.state .state-label").equals("Acknowledged (new image since)"));
        assertThat(text(page2, row + " .ack-btn")).isEqualTo("Acknowledge again");
        // The earlier note stays until the next acknowledgement; a new one can be typed.
        assertThat(text(page2, row + " td.state .ack-note-text")).isEqualTo(note);
        assertThat(enabled(page2, row + " input.ack-note")).isTrue();
        assertThat(page2.findElements(By.cssSelector(row))).hasSize(1);
        assertThat(text(page2, row + " td.images")).isEqualTo("2");

        // The API agrees, and says which token (not which person) acknowledged.
        JsonNode listed = JSON.readTree(body(base2 + "/api/alerts?site=" + site, allToken));
        assertThat(listed.path("alerts")).hasSize(1);
        JsonNode a = listed.path("alerts").get(0);
        assertThat(a.path("acknowledged").asBoolean()).isTrue();
        assertThat(a.path("ack").path("acknowledgedBy").asText()).matches("token:\\*:[0-9a-f]{8}");
        assertThat(a.path("ack").path("note").asText()).isEqualTo(note);
        // Notes are bounded and plain text.
        assertThat(post(base2 + "/api/alerts/" + alertId + "/ack", allToken,
                JSON.createObjectNode().put("note", "x".repeat(501)).toString())).isEqualTo(400);
        assertThat(post(base2 + "/api/alerts/" + alertId + "/ack", allToken, "{\"note\": \"bell\\u0007\"}"))
                .isEqualTo(400);

        // A token of another site neither sees nor acknowledges the alert, nor its picture; it does see its own
        // site's picture. Without a token: 401.
        assertThat(get(base1 + "/api/alerts")).isEqualTo(401);
        assertThat(get(base1 + "/api/alerts/stream")).isEqualTo(401);
        assertThat(JSON.readTree(body(base1 + "/api/alerts", otherToken)).path("alerts").toString())
                .doesNotContain(alertId);
        assertThat(post(base1 + "/api/alerts/" + alertId + "/ack", otherToken)).isEqualTo(403);
        assertThat(get(base1 + "/api/images/" + imageId + "/cxr.png?token=" + otherToken)).isEqualTo(403);
        assertThat(get(base1 + "/api/images/" + neighbourId + "/cxr.png?token=" + otherToken)).isEqualTo(200);

        // The patient's next positive image comes from a third site: the alert moves there and stays in the view of
        // the site where it opened.
        String westSite = "ED-WEST-" + run;
        CxrAlert moved = alert(alertId, imageId + "-west", westSite, neighbourId, otherSite);
        moved.setSites(List.of(site, westSite));
        publishUpdate(settings, "p-" + run, moved, imageId, 3, 10);
        waitOn(page2).until(d -> text(d, row + " td.images").equals("3"));
        assertThat(text(page2, row)).contains(westSite + " (also " + site + ")");
        JsonNode forSite = JSON.readTree(body(base1 + "/api/alerts", siteToken)).path("alerts");
        assertThat(forSite).hasSize(1);
        assertThat(forSite.get(0).path("siteId").asText()).isEqualTo(westSite);
        assertThat(forSite.get(0).path("sites").toString()).contains(site).contains(westSite);
        assertThat(get(base1 + "/api/images/" + imageId + "/cxr.png?token=" + siteToken)).isEqualTo(200);
        assertThat(JSON.readTree(body(base1 + "/api/alerts", otherToken)).path("alerts").toString())
                .doesNotContain(alertId);

        // The image shown is retracted: the open detail view shows the newest image left that the dashboard has seen
        // (the second one), with its similar cases; the site that sent the retracted image no longer has the alert.
        publish(settings, "p-" + run, retracted(alert(alertId, imageId + "-west", westSite, neighbourId, otherSite),
                imageId, List.of(site), "WRONG_IMAGE", 2, 4));
        waitOn(page1).until(d -> d.findElement(By.cssSelector("#d-cxr")).getAttribute("src")
                .contains(imageId + "-later"));
        waitOn(page2).until(d -> text(d, row + " td.images").equals("2"));
        assertThat(text(page1, "#d-facts")).doesNotContain("withdrawn");
        assertThat(text(page2, row)).doesNotContain(westSite);
        waitOn(page1).until(d -> !d.findElements(By.cssSelector("#neighbours [data-image-id='" + neighbourId + "']"))
                .isEmpty());
        // The first image goes too (revision 5). Then "-later" is retracted at revision 7 on one similarity instance
        // after "-next" joined at revision 6 on another, whose event comes later: until it does, no image of the
        // alert is known to be left, and the image is shown withdrawn, without picture, probability or similar cases.
        publish(settings, "p-" + run, retracted(alert(alertId, imageId, site, neighbourId, otherSite), imageId,
                List.of(site), "WRONG_PATIENT", 1, 5));
        waitOn(page2).until(d -> text(d, row + " td.images").equals("1"));
        publish(settings, "p-" + run, retracted(alert(alertId, imageId + "-later", site, neighbourId, otherSite),
                imageId, List.of(site), "WRONG_PATIENT", 1, 7));
        waitOn(page1).until(d -> text(d, "#d-facts").contains("(withdrawn by its site)"));
        assertThat(text(page1, "#d-facts")).contains("probability\n–");
        assertThat(page1.findElement(By.cssSelector("#d-cxr")).getAttribute("src")).doesNotContain(imageId + "-later");
        assertThat(text(page1, "#neighbours")).contains("No similar cases.");
        CxrAlert next = alert(alertId, imageId + "-next", site, neighbourId, otherSite);
        next.setSites(List.of(site));
        next.setRevision(6);
        publishUpdate(settings, "p-" + run, next, imageId, 2, 20);
        waitOn(page1).until(d -> d.findElement(By.cssSelector("#d-cxr")).getAttribute("src")
                .contains(imageId + "-next"));
        assertThat(text(page1, "#d-facts")).doesNotContain("withdrawn");
        waitOn(page1).until(d -> !d.findElements(By.cssSelector("#neighbours [data-image-id='" + neighbourId + "']"))
                .isEmpty());
        // The second dashboard instance too, with revision 7's count rather than the older event's.
        await().atMost(WAIT).until(() -> JSON.readTree(body(base2 + "/api/alerts", allToken)).path("alerts").get(0)
                .path("imageId").asText().equals(imageId + "-next"));
        JsonNode onSecond = JSON.readTree(body(base2 + "/api/alerts", allToken)).path("alerts").get(0);
        assertThat(onSecond.path("imageCount").asInt()).isEqualTo(1);
        assertThat(onSecond.path("revision").asLong()).isEqualTo(7);

        // A similar case of the alert retracted by its site: its picture is refused from then on.
        assertThat(get(base1 + "/api/images/" + neighbourId + "/cxr.png?token=" + siteToken)).isEqualTo(200);
        try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(
                KafkaSettings.producer(settings, "dashboard-e2e"), new StringSerializer(),
                RegistrySettings.serdes(settings).anySerializer())) {
            producer.send(new ProducerRecord<>(Topic.RETRACTIONS.name(), neighbourId,
                    org.cxrtriage.schemas.CxrRetraction.newBuilder().setImageId(neighbourId).setPatientRef("p-old")
                            .setSiteId(otherSite).setReason(org.cxrtriage.schemas.RetractionReason.WRONG_IMAGE)
                            .setRetractedBy("token:" + otherSite + ":00000000").setRetractedAt(Instant.now())
                            .build())).get();
        }
        await().atMost(WAIT).until(() -> get(base1 + "/api/images/" + neighbourId + "/cxr.png?token=" + siteToken)
                == 403);

        // The last image is withdrawn too: so is the alert.
        publish(settings, "p-" + run, retracted(alert(alertId, imageId + "-next", site, neighbourId, otherSite),
                imageId, List.of(site), "WRONG_PATIENT", 0, 8));
        waitOn(page2).until(d -> text(d, row + " td.state .state-label").equals("Withdrawn (image retracted)"));
        assertThat(text(page2, row + " td.images")).isEqualTo("0");
        assertThat(JSON.readTree(body(base1 + "/api/alerts", siteToken)).path("alerts").get(0).path("withdrawn")
                .asBoolean()).isTrue();
        assertThat(get(base1 + "/health")).isEqualTo(200);
        assertThat(body(base1 + "/metrics", allToken)).contains("cxr_dashboard_alerts").contains("cxr_dashboard_browsers");
    }

    /**
     * Sets {@code update} up as the alert's UPDATED event for its {@code imageCount}-th image, seen later, and
     * publishes it.
     */
    private static void publishUpdate(Settings settings, String key, CxrAlert update, String openedBy, int imageCount,
                                      int secondsLater) throws Exception {
        update.setLastSeen(Instant.now().plusSeconds(secondsLater).truncatedTo(ChronoUnit.MILLIS));
        update.setEvent(AlertEvent.UPDATED);
        update.setOpenedByImageId(openedBy);
        update.setImageCount(imageCount);
        publish(settings, key, update);
    }

    /** {@code event} as the RETRACTED event of its image, {@code left} images left at {@code sites}. */
    private static CxrAlert retracted(CxrAlert event, String openedBy, List<String> sites, String reason, int left,
                                      long revision) {
        event.setSites(sites);
        event.setOpenedByImageId(openedBy);
        event.setImageCount(left);
        event.setRevision(revision);
        event.setEvent(AlertEvent.RETRACTED);
        event.setRule("image retracted by its site (" + reason + ")");
        return event;
    }

    private static void publish(Settings settings, String key, CxrAlert event) throws Exception {
        try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(
                KafkaSettings.producer(settings, "dashboard-e2e"), new StringSerializer(),
                RegistrySettings.serdes(settings).anySerializer())) {
            producer.send(new ProducerRecord<>(Topic.ALERTS.name(), key, event)).get();
        }
    }

    private DashboardService start(Settings settings) throws Exception {
        DashboardService s = new DashboardService(settings);
        toClose.add(s);
        s.start();
        await().atMost(WAIT).until(s::loaded);
        return s;
    }

    private WebDriver browser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        toClose.add(driver::quit);
        return driver;
    }

    // The page re-renders its rows on every live event, so an element found by one WebDriver call may be replaced
    // before the next (StaleElementReferenceException). Reads therefore happen in one script call, and actions
    // retry on a fresh element.

    private static WebDriverWait waitOn(WebDriver page) {
        WebDriverWait wait = new WebDriverWait(page, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
        return wait;
    }

    /** The visible text of the first element matching css, trimmed; "" when there is none. */
    private static String text(WebDriver d, String css) {
        Object t = ((JavascriptExecutor) d).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : '';", css);
        return (String) t;
    }

    /** Whether the first element matching css is enabled; null when there is none. */
    private static Boolean enabled(WebDriver d, String css) {
        return (Boolean) ((JavascriptExecutor) d).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? !e.disabled : null;", css);
    }

    private static void act(WebDriver page, String css, Consumer<WebElement> action) {
        waitOn(page).until(d -> {
            action.accept(d.findElement(By.cssSelector(css)));
            return true;
        });
    }

    private static boolean loaded(WebDriver d, String css) {
        List<WebElement> found = d.findElements(By.cssSelector(css));
        return !found.isEmpty() && Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", found.get(0)));
    }

    private int get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private String body(String url, String token) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(url).isEqualTo(200);
        return r.body();
    }

    private int post(String url, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private int post(String url, String token, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static ImageTensor tensor(String imageId, String site) {
        int size = 64;
        byte[] cxr = new byte[size * size];
        byte[] lung = new byte[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                cxr[y * size + x] = (byte) ((x + y) * 2);
                boolean inLung = (x > 8 && x < 28 || x > 36 && x < 56) && y > 10 && y < 54;
                lung[y * size + x] = (byte) (inLung ? 230 : 0);
            }
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return ImageTensor.newBuilder().setImageId(imageId).setStudyId("st-" + imageId).setPatientRef("p-" + imageId)
                .setSiteId(site).setTensorSize(size).setCxrPlane(ByteBuffer.wrap(cxr))
                .setLungPlane(ByteBuffer.wrap(lung)).setLungAreaFraction(0.4f)
                .setCropBox(CropBox.newBuilder().setX(0).setY(0).setWidth(size).setHeight(size).build())
                .setOriginalWidth(size).setOriginalHeight(size).setPreprocessingVersion("test").setLungModel("test")
                .setReceivedAt(now).setPreprocessedAt(now).setDecodeMs(1).setNormaliseMs(1).setLungMs(1).build();
    }

    private static CxrAlert alert(String alertId, String imageId, String site, String neighbourId, String otherSite) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Neighbour n = Neighbour.newBuilder().setImageId(neighbourId).setPatientRef("p-old-" + neighbourId)
                .setSiteId(otherSite).setDistance(0.42f).setProbability(0.81f).setPositive(true)
                .setLabelSource(LabelSource.CONFIRMED).setScoredAt(now.minus(3, ChronoUnit.DAYS)).build();
        return CxrAlert.newBuilder().setAlertId(alertId).setPatientRef("p-" + alertId).setSiteId(site)
                .setImageId(imageId).setProbability(0.93f).setKnnVote(1.0f).setNeighbours(List.of(n))
                .setFirstSeen(now).setLastSeen(now).setRaisedAt(now).setRule("probability >= 0.47").build();
    }
}
