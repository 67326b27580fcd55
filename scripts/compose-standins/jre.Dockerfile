# Stand-in for eclipse-temurin:17-jre (the services' runtime): Debian's OpenJDK 17.
FROM cxr-standin/debian:bookworm
RUN apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
