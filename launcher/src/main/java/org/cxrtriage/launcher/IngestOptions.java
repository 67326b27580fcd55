package org.cxrtriage.launcher;

import java.net.URI;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** A running deployment's ingest service and the API token to use there (picocli mixin shared by send and retract). */
final class IngestOptions {

    @Option(names = "--ingest-url", description = "Ingest service address (default: ${DEFAULT-VALUE}).",
            defaultValue = "${env:CXR_INGEST_URL:-http://127.0.0.1:8090}")
    URI ingestUrl;

    @Option(names = "--token", description = "API token, one of the deployment's API_TOKENS: a site's (it acts for "
            + "that site only) or an all-sites one (default: $CXR_API_TOKEN).", defaultValue = "${env:CXR_API_TOKEN}")
    String token;

    /** The token, or a usage error when none was given. */
    String requireToken(CommandSpec spec) {
        if (token == null || token.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "an API token is needed: --token or CXR_API_TOKEN (one of the deployment's API_TOKENS)");
        }
        return token;
    }

    /** The ingest address ending in "/", so paths resolved against it keep a prefix (a reverse proxy's). */
    URI base() {
        String base = ingestUrl.toString();
        return URI.create(base.endsWith("/") ? base : base + "/");
    }
}
