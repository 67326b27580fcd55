package org.cxrtriage.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers every topic's value schema under its subject and sets the subject's compatibility to BACKWARD, so a
 * consumer on the new schema can always read old events.
 *
 * <p>Registration goes through the registry's core API exactly as the serializer's auto-registration does (artifact =
 * subject in group {@code default}, find the version with this content or create one, the self-contained text of
 * {@link AvroSerdes#registeredForm}), so the registrar and the producers land on the same version and the same id.
 * Idempotent: registering a schema some version already has returns that version's id. Compatibility and lookups by
 * id use the Confluent-compatible API.
 */
public final class SchemaRegistrar {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistrar.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GROUP = "default";
    private static final String AVRO_CONTENT_TYPE = "application/json";
    private static final int CONFLICT_ATTEMPTS = 3;

    private final String registryUrl;
    private final String ccompatUrl;
    /** "Basic ..." for a registry that wants credentials (the serdes' own), or null. */
    private final String authorization;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param registryUrl core API, e.g. http://127.0.0.1:8081/apis/registry/v3
     * @param ccompatUrl  Confluent-compatible API of the same registry, e.g. http://127.0.0.1:8081/apis/ccompat/v7
     */
    public SchemaRegistrar(String registryUrl, String ccompatUrl) {
        this(registryUrl, ccompatUrl, null, null);
    }

    /**
     * With basic credentials, the same the serdes use ({@code apicurio.registry.auth.username/password}); null for
     * none. TLS goes through the JVM's trust store ({@code -Djavax.net.ssl.trustStore=...}).
     */
    public SchemaRegistrar(String registryUrl, String ccompatUrl, String username, String password) {
        this.registryUrl = trimSlash(registryUrl);
        this.ccompatUrl = trimSlash(ccompatUrl);
        this.authorization = username == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
                (username + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
    }

    /** @param ccompatUrl e.g. http://127.0.0.1:8081/apis/ccompat/v7 (the core API is found next to it) */
    public SchemaRegistrar(String ccompatUrl) {
        this(trimSlash(ccompatUrl).replace("/apis/ccompat/v7", "/apis/registry/v3"), ccompatUrl);
    }

    /** Registers all topics; returns subject -> schema id. */
    public Map<String, Integer> registerAll(List<Topic<?>> topics) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (Topic<?> topic : topics) {
            ids.put(topic.valueSubject(), register(topic));
        }
        return ids;
    }

    public int register(Topic<?> topic) {
        return register(topic.valueSubject(), topic.valueSchema());
    }

    /**
     * Finds or creates the version of {@code subject} whose content is this schema; returns its schema id (the
     * content id, which the wire format carries). A schema that breaks the subject's compatibility rule is refused
     * (IllegalStateException naming the registry's RuleViolationException).
     */
    public int register(String subject, Schema schema) {
        bridgeReferencedLatestVersion(subject);
        ObjectNode body = JSON.createObjectNode().put("artifactId", subject).put("artifactType", "AVRO");
        body.putObject("firstVersion").putObject("content")
                .put("content", AvroSerdes.registeredForm(schema)).put("contentType", AVRO_CONTENT_TYPE);
        JsonNode created = sendRetryingConflicts(registryUrl, "POST", groupPath()
                + "/artifacts?ifExists=FIND_OR_CREATE_VERSION&canonical=false", body.toString());
        int id = created.path("version").path("contentId").asInt(-1);
        if (id < 0) {
            throw new IllegalStateException("registry returned no content id for " + subject + ": " + created);
        }
        sendRetryingConflicts(ccompatUrl, "PUT", "/config/" + enc(subject), "{\"compatibility\":\"BACKWARD\"}");
        return id;
    }

    /**
     * Subjects registered by the serializer before {@code apicurio.registry.dereference-schema} was set hold
     * versions whose text names the nested types (Neighbour, enums) and references them as separate artifacts.
     * The registry checks compatibility by parsing the latest version with the <em>proposed</em> version's
     * references, so a self-contained proposal fails with 422 against such a version. When the latest version's
     * text does not parse on its own, first add that version's dereferenced text (the same schema, hence compatible)
     * with its references as a new version: it parses on its own, so later self-contained versions are checked against
     * it, and the next start finds nothing to bridge.
     */
    private void bridgeReferencedLatestVersion(String subject) {
        String latest = artifactPath(subject) + "/versions/branch=latest";
        String text = sendTextOrNull(registryUrl, latest + "/content");
        if (text == null || parsesOnItsOwn(text)) {
            return; // no such subject yet, or already self-contained
        }
        JsonNode references = send(registryUrl, "GET", latest + "/references", null);
        String dereferenced = sendTextOrNull(registryUrl, latest + "/content?references=DEREFERENCE");
        ObjectNode body = JSON.createObjectNode();
        ObjectNode content = body.putObject("content").put("content", dereferenced)
                .put("contentType", AVRO_CONTENT_TYPE);
        content.set("references", references);
        JsonNode version = send(registryUrl, "POST", artifactPath(subject) + "/versions", body.toString());
        LOG.info("subject {}: the latest version referred to {} separate artifacts; added version {}, the same schema "
                + "self-contained, so that new versions can be checked for compatibility", subject, references.size(),
                version.path("version").asText());
    }

    private static boolean parsesOnItsOwn(String schemaText) {
        try {
            new Schema.Parser().parse(schemaText);
            return true;
        } catch (RuntimeException e) { // SchemaParseException: a named type it only refers to
            return false;
        }
    }

    /** The schema text the registry holds for a Confluent schema id. */
    public String schemaById(int id) {
        return send(ccompatUrl, "GET", "/schemas/ids/" + id, null).path("schema").asText();
    }

    public String compatibility(String subject) {
        JsonNode node = send(ccompatUrl, "GET", "/config/" + enc(subject), null);
        return node.has("compatibilityLevel") ? node.get("compatibilityLevel").asText()
                : node.path("compatibility").asText();
    }

    private static String groupPath() {
        return "/groups/" + GROUP;
    }

    private static String artifactPath(String subject) {
        return groupPath() + "/artifacts/" + enc(subject);
    }

    /**
     * For requests whose repetition changes nothing (find-or-create, set the rule). Every service registers every
     * topic at start, and services started together race: the registry answers the loser 409 (the rule or the
     * artifact "already exists"), and asked again it finds or updates what the winner made.
     */
    private JsonNode sendRetryingConflicts(String base, String method, String path, String body) {
        for (int attempt = 1; ; attempt++) {
            try {
                return send(base, method, path, body);
            } catch (RegistryConflict e) {
                if (attempt == CONFLICT_ATTEMPTS) {
                    throw e;
                }
                LOG.debug("registry {} {}: conflict with a concurrent registration, asking again", method, path);
                pauseBeforeAskingAgain();
            }
        }
    }

    /** A few tens of milliseconds, different for each registrar, so that racing ones do not meet again. */
    private static void pauseBeforeAskingAgain() {
        try {
            Thread.sleep(20 + java.util.concurrent.ThreadLocalRandom.current().nextInt(80));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted talking to the registry", e);
        }
    }

    private JsonNode send(String base, String method, String path, String body) {
        JsonNode node = sendOrNull(base, method, path, body);
        if (node == null) {
            throw new IllegalStateException("registry " + method + " " + path + " -> 404");
        }
        return node;
    }

    /** The JSON answer, or null on 404; any other non-2xx status is an IllegalStateException. */
    private JsonNode sendOrNull(String base, String method, String path, String body) {
        HttpResponse<String> r = exchange(base, method, path, body);
        if (r.statusCode() == 404) {
            return null;
        }
        try {
            return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("registry " + method + " " + path + " answered no JSON: " + r.body(), e);
        }
    }

    /** The body as text, or null on 404. */
    private String sendTextOrNull(String base, String path) {
        HttpResponse<String> r = exchange(base, "GET", path, null);
        return r.statusCode() == 404 ? null : r.body();
    }

    private HttpResponse<String> exchange(String base, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15))
                .header("Accept", "application/vnd.schemaregistry.v1+json, application/json, */*");
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (body != null) {
            b.header("Content-Type", base.equals(ccompatUrl) ? "application/vnd.schemaregistry.v1+json"
                    : "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new IllegalStateException("registry " + method + " " + path + " -> " + r.statusCode()
                        + ": schemas are registered with the serdes' basic credentials "
                        + "(SERDE_apicurio.registry.auth.username and ...password), "
                        + (authorization == null ? "and none are set" : "and these were refused"));
            }
            // Apicurio answers 409 both for "already exists" (a concurrent registrar won: ask again) and for a
            // schema that breaks the compatibility rule (final: never asked again).
            if (r.statusCode() == 409 && !r.body().contains("RuleViolation")) {
                throw new RegistryConflict("registry " + method + " " + path + " -> 409: " + r.body());
            }
            if (r.statusCode() / 100 != 2 && r.statusCode() != 404) {
                throw new IllegalStateException("registry " + method + " " + path + " -> " + r.statusCode() + ": "
                        + r.body());
            }
            return r;
        } catch (IOException e) {
            throw new IllegalStateException("registry unreachable at " + base + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted talking to the registry", e);
        }
    }

    private static String enc(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String trimSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** A 409 other than a rule violation: another registrar changed the same subject at the same moment. */
    private static final class RegistryConflict extends IllegalStateException {
        RegistryConflict(String message) {
            super(message);
        }
    }
}
