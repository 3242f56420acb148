#!/usr/bin/env bash
# Start Open vSwitch for the userspace datapath (netdev bridges) if it is not running:
# ovsdb-server through ovs-ctl (which creates and upgrades the database), then ovs-vswitchd
# directly, because ovs-ctl insists on loading the openvswitch kernel module, which netdev
# bridges do not need and a container usually cannot load.
#   scripts/ovs.sh               start (if needed) and return
#   scripts/ovs.sh --foreground  start, then follow ovs-vswitchd's log (a container's main process)
set -euo pipefail

OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
RUN_DIR=/var/run/openvswitch
LOG_DIR=/var/log/openvswitch

mkdir -p "$RUN_DIR" "$LOG_DIR"

if ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
  echo "ovs: starting ovsdb-server"
  "$OVS_CTL" start --system-id=random --no-ovs-vswitchd >/dev/null
fi

if ! ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1; then
  echo "ovs: starting ovs-vswitchd"
  ovs-vswitchd "unix:$RUN_DIR/db.sock" -vconsole:emer -vsyslog:err -vfile:info --no-chdir \
    --log-file="$LOG_DIR/ovs-vswitchd.log" --pidfile="$RUN_DIR/ovs-vswitchd.pid" --detach
fi

ovs-vsctl --timeout=10 show >/dev/null

if [ "${1:-}" = "--foreground" ]; then
  exec tail -F "$LOG_DIR/ovs-vswitchd.log"
fi
