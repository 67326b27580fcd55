package org.cxrtriage.launcher;

import java.util.ArrayList;
import java.util.List;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.dashboard.DashboardService;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.ingest.IngestService;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.similarity.SimilarityService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All four services in one process against a real broker, registry and Redis — what the main job and the end-to-end
 * test run. In production each service is its own process (docker-compose.yml); the code is the same.
 */
public final class LocalPipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalPipeline.class);

    private final Settings settings;
    private final List<Service> started = new ArrayList<>();
    private IngestService ingest;
    private SimilarityService similarity;
    private DashboardService dashboard;

    public LocalPipeline(Settings settings) {
        // Every service picks a free HTTP port unless told otherwise: they share this process.
        Settings s = settings.optional(CommonKeys.HTTP_PORT).isPresent() ? settings
                : settings.with(CommonKeys.HTTP_PORT, "0");
        // Without configured tokens the local run protects its APIs with a fresh all-sites token.
        if (s.optional(ApiTokens.TOKENS).isEmpty() && !s.string(ApiTokens.AUTH, "on").equalsIgnoreCase("off")) {
            s = s.with(ApiTokens.TOKENS, "local-" + java.util.UUID.randomUUID() + "=" + ApiTokens.ANY_SITE);
        }
        // Without a configured key, patients are pseudonymised with a fresh key of this run's own (the references
        // then match only within the run, which is all a local run reports on).
        if (s.optional(org.cxrtriage.common.Pseudonymiser.KEY_SETTING).isEmpty()) {
            s = s.with(org.cxrtriage.common.Pseudonymiser.KEY_SETTING, "local-run-" + java.util.UUID.randomUUID());
        }
        this.settings = s;
    }

    /** The first configured API token (all sites for a local run). */
    public String apiToken() {
        return settings.string(ApiTokens.TOKENS, "").split(",")[0].replaceFirst("=[^=]*$", "");
    }

    /** Starts the services from the back of the pipeline to the front (each ensures topics and schemas). */
    public void start() throws Exception {
        similarity = new SimilarityService(settings);
        startService(similarity);
        startService(new InferenceService(settings));
        startService(new PreprocessService(settings));
        ingest = new IngestService(settings);
        startService(ingest);
    }

    /**
     * Also runs the infection-control dashboard (not part of {@link #start()}: the tests and benchmarks do without).
     * Returns its address with the run's token, ready to open in a browser.
     */
    public String startDashboard() throws Exception {
        dashboard = new DashboardService(settings);
        startService(dashboard);
        String host = settings.string(CommonKeys.HTTP_HOST, "127.0.0.1");
        return "http://" + host + ":" + dashboard.httpPort() + "/?token=" + apiToken();
    }

    private void startService(Service s) throws Exception {
        s.start();
        started.add(s);
    }

    public IngestService ingest() {
        return ingest;
    }

    public SimilarityService similarity() {
        return similarity;
    }

    public boolean healthy() {
        return started.stream().allMatch(Service::healthy);
    }

    public List<Service> services() {
        return List.copyOf(started);
    }

    @Override
    public void close() {
        // Front first, so nothing new enters while the back drains.
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (RuntimeException e) {
                LOG.warn("error stopping {}: {}", started.get(i).name(), e.toString());
            }
        }
        started.clear();
    }
}
