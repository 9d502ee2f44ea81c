#!/bin/sh
# The topics of the topology on a real cluster (Kafka's own CLI). Partitions:
# the keyed topic as many as the correlating stage will ever have members; the
# facts topic fewer (facts are the matched lines only). Not compacted: every
# line and every fact counts.
set -e
BOOTSTRAP=${BOOTSTRAP:-kafka-0:9092}
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --topic app-logs-by-request \
    --partitions 48 --replication-factor 3 --config retention.ms=604800000
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --topic logloom-facts \
    --partitions 12 --replication-factor 3 --config retention.ms=604800000
