# One etcd member for the cluster compose file (docker-compose.cluster.yml): Debian's etcd 3.4,
# the version the tests run against. Every setting comes from ETCD_* variables (etcd reads them).
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/*
ENV ETCDCTL_API=3 \
    ETCD_DATA_DIR=/var/lib/etcd
VOLUME /var/lib/etcd
CMD ["etcd"]
