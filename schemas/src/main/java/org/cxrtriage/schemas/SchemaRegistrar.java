package org.cxrtriage.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers every topic's value schema under its subject through the registry's Confluent-compatible API and sets
 * the subject's compatibility to BACKWARD, so a consumer on the new schema can always read old events.
 * Idempotent: registering an identical schema returns the existing id.
 */
public final class SchemaRegistrar {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String ccompatUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param ccompatUrl e.g. http://127.0.0.1:8081/apis/ccompat/v7 */
    public SchemaRegistrar(String ccompatUrl) {
        this.ccompatUrl = ccompatUrl.endsWith("/") ? ccompatUrl.substring(0, ccompatUrl.length() - 1) : ccompatUrl;
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
        String subject = topic.valueSubject();
        String body = JSON.createObjectNode().put("schema", topic.valueSchema().toString())
                .put("schemaType", "AVRO").toString();
        JsonNode response = send("POST", "/subjects/" + subject + "/versions", body);
        int id = response.path("id").asInt(-1);
        if (id < 0) {
            throw new IllegalStateException("registry returned no id for " + subject + ": " + response);
        }
        send("PUT", "/config/" + subject, "{\"compatibility\":\"BACKWARD\"}");
        return id;
    }

    /** The schema text the registry holds for a Confluent schema id. */
    public String schemaById(int id) {
        return send("GET", "/schemas/ids/" + id, null).path("schema").asText();
    }

    public String compatibility(String subject) {
        JsonNode node = send("GET", "/config/" + subject, null);
        return node.has("compatibilityLevel") ? node.get("compatibilityLevel").asText()
                : node.path("compatibility").asText();
    }

    private JsonNode send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ccompatUrl + path)).timeout(Duration.ofSeconds(15))
                .header("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        if (body != null) {
            b.header("Content-Type", "application/vnd.schemaregistry.v1+json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("registry " + method + " " + path + " -> " + r.statusCode() + ": " + r.body());
            }
            return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("registry unreachable at " + ccompatUrl + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted talking to the registry", e);
        }
    }
}
