# Stand-in for apicurio/apicurio-registry:3.3.3: the same Quarkus application (Maven Central) on a JDK 21+, run as in
# the image (java -jar /deployments/quarkus-run.jar, port 8080, user 1001). No curl, on purpose.
FROM cxr-standin/debian:bookworm
COPY registry-jdk /opt/java
COPY registry-app /deployments
RUN useradd -u 1001 -m registry
USER 1001
EXPOSE 8080
CMD ["/opt/java/bin/java", "-Dquarkus.http.host=0.0.0.0", "-jar", "/deployments/quarkus-run.jar"]
