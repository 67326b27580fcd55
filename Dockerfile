# One build, five service images: docker build --target ingest-service (or preprocess-service, inference-service,
# similarity-service, dashboard-service). docker-compose.yml builds each target.
# The base images, as build arguments so that a test can build on others (scripts/compose-smoke.sh --standins).
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre
FROM ${BUILD_IMAGE} AS build
# MAVEN_PROFILES=gpu builds with DJL's CUDA libtorch (docker-compose.gpu.yml; README, "GPU").
ARG MAVEN_PROFILES=""
WORKDIR /src
COPY . .
RUN mvn -B -q ${MAVEN_PROFILES:+-P$MAVEN_PROFILES} -DskipTests install \
 && for m in ingest-service preprocess-service inference-service similarity-service dashboard-service; do \
      mvn -B -q ${MAVEN_PROFILES:+-P$MAVEN_PROFILES} -pl "$m" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="/out/$m/lib" \
      && cp "$m/target/$m-0.1.0-SNAPSHOT.jar" "/out/$m/lib/"; \
    done

FROM ${RUNTIME_IMAGE} AS runtime
# Services that run PyTorch start through bash to drop libtorch's "Could not initialize NNPACK! Reason: Unsupported
# hardware." lines (several per image on CPUs without NNPACK support; DJL cannot switch them off); the rest of
# stderr passes through.
WORKDIR /app
# -XX:-UseCodeCacheFlushing: Java 17's code-cache sweeper throws out compiled code it thinks cold, and recompiling it
# came in bursts that held up clusters of images (README, "p99 latency").
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:-UseCodeCacheFlushing -Dai.djl.offline=true -Dorg.apache.avro.SERIALIZABLE_PACKAGES=org.cxrtriage" \
    OPT_OUT_TRACKING=true HTTP_HOST=0.0.0.0
RUN useradd --system --uid 10001 cxr
USER cxr

FROM runtime AS ingest-service
COPY --from=build /out/ingest-service/lib /app/lib
EXPOSE 8090
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -cp '/app/lib/*' org.cxrtriage.ingest.IngestMain"]

FROM runtime AS preprocess-service
COPY --from=build /out/preprocess-service/lib /app/lib
# The lung channel: the trained lung U-Net (LUNG_SEGMENTER=heuristic runs without it).
COPY --from=build /src/models/lung-unet /app/models/lung-unet
ENV LUNG_MODEL_DIR=/app/models/lung-unet
EXPOSE 8091
ENTRYPOINT ["bash", "-c", "exec java $JAVA_OPTS -cp '/app/lib/*' org.cxrtriage.preprocess.PreprocessMain 2> >(grep --line-buffered -v 'Could not initialize NNPACK' >&2)"]

FROM runtime AS inference-service
# glibc's malloc, not jemalloc: as fast for this model, and jemalloc keeping freed pages grew the worker's resident
# memory through a 10-minute soak while its live allocations stayed flat (README, "Native memory").
COPY --from=build /out/inference-service/lib /app/lib
COPY --from=build /src/models /app/models
ENV MODEL_DIR=/app/models/default MODEL_INIT_IF_MISSING=false
EXPOSE 8092
ENTRYPOINT ["bash", "-c", "exec java $JAVA_OPTS -cp '/app/lib/*' org.cxrtriage.inference.InferenceMain 2> >(grep --line-buffered -v 'Could not initialize NNPACK' >&2)"]

FROM runtime AS similarity-service
COPY --from=build /out/similarity-service/lib /app/lib
# POST /similar scores uploads with the stream's lung channel and the inference model.
COPY --from=build /src/models /app/models
ENV MODEL_DIR=/app/models/default MODEL_INIT_IF_MISSING=false LUNG_MODEL_DIR=/app/models/lung-unet
EXPOSE 8093
# Vectorised neighbour-index distances where the runtime image has the incubator module (JRE images may leave it
# out; without it the index uses Lucene's scalar code).
ENTRYPOINT ["bash", "-c", "if [[ $(java --list-modules) == *jdk.incubator.vector@* ]]; then JAVA_OPTS=\"$JAVA_OPTS --add-modules=jdk.incubator.vector\"; fi; exec java $JAVA_OPTS -cp '/app/lib/*' org.cxrtriage.similarity.SimilarityMain 2> >(grep --line-buffered -v 'Could not initialize NNPACK' >&2)"]

FROM runtime AS dashboard-service
COPY --from=build /out/dashboard-service/lib /app/lib
EXPOSE 8094
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -cp '/app/lib/*' org.cxrtriage.dashboard.DashboardMain"]
