# Open vSwitch for running beside the controller (userspace datapath: bridges need datapath_type=netdev).
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openvswitch-switch procps \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/ovs.sh /usr/local/bin/seamless-ovs
# ovsdb-server via ovs-ctl, ovs-vswitchd without the kernel module; then follow the switch's log.
CMD ["seamless-ovs", "--foreground"]
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ovs-appctl -t ovs-vswitchd version >/dev/null || exit 1
