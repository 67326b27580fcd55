# Stand-in for apache/kafka:4.1.0 where Docker Hub cannot be reached (scripts/compose-smoke.sh --standins): Debian's
# JRE, Kafka's jars from Maven Central, the image's paths, user, volume and entry point.
FROM cxr-standin/debian:bookworm
RUN apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/* && useradd -m -s /bin/bash appuser \
 && mkdir -p /opt/kafka/config /opt/kafka/bin /var/lib/kafka/data /etc/kafka/docker
COPY kafka-libs /opt/kafka/libs
COPY kafka-log4j2.properties /opt/kafka/config/log4j2.properties
COPY kafka-run /etc/kafka/docker/run
RUN cd /opt/kafka/bin && run='exec java ${KAFKA_HEAP_OPTS:--Xmx512m} -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp "/opt/kafka/libs/*"' \
 && printf '#!/bin/bash\n%s kafka.Kafka "$@"\n' "$run" > kafka-server-start.sh \
 && printf '#!/bin/bash\n%s kafka.tools.StorageTool "$@"\n' "$run" > kafka-storage.sh \
 && printf '#!/bin/bash\nKAFKA_HEAP_OPTS=-Xmx128m %s org.apache.kafka.tools.BrokerApiVersionsCommand "$@"\n' "$run" > kafka-broker-api-versions.sh \
 && chmod +x /opt/kafka/bin/* /etc/kafka/docker/run && chown -R appuser:appuser /opt/kafka /var/lib/kafka
USER appuser
VOLUME ["/var/lib/kafka/data"]
EXPOSE 9092
CMD ["/etc/kafka/docker/run"]
