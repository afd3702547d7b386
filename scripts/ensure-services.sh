#!/usr/bin/env bash
# Start PostgreSQL and RabbitMQ on this machine if they are not answering, and wait for them.
# In Docker or production these are separate services; this is for development and CI.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! pg_up; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! rabbit_up; then
    echo "starting RabbitMQ" >&2
    rabbitmq-server -detached
fi
for _ in $(seq 1 120); do
    if pg_up && rabbit_up && rabbitmqctl -q status >/dev/null 2>&1; then
        exit 0
    fi
    sleep 1
done
echo "PostgreSQL or RabbitMQ did not come up within 120 s" >&2
exit 1
