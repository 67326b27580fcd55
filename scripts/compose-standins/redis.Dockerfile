# Stand-in for redis:7.0: Debian's Redis 7.0, protected mode off and the redis user, as in the official image.
FROM cxr-standin/debian:bookworm
RUN apt-get update -q && apt-get install -y -q --no-install-recommends redis-server redis-tools >/dev/null \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
