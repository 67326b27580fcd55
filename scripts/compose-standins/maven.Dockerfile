# Stand-in for maven:3.9-eclipse-temurin-17 (the build stage): Debian's JDK 17 and Maven. The build downloads from
# Maven Central as with the real image; m2/ (may be empty) seeds the local repository to spare that download.
FROM cxr-standin/eclipse-temurin:17-jre
RUN apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY m2 /root/.m2
