# Stand-in for eclipse-temurin:17-jre (the services' runtime): Debian's OpenJDK 17, trusting what this machine
# trusts besides (extra-ca/: a TLS-inspecting proxy's authority, for downloads in the build stage).
FROM cxr-standin/debian:bookworm
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/* && update-ca-certificates >/dev/null
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
