#!/usr/bin/env bash
# Make PostgreSQL and RabbitMQ answer on this machine, the way the defaults expect them:
# PostgreSQL on 127.0.0.1:5432 with the `postgres` role, RabbitMQ on 127.0.0.1:5672 with the
# `guest` user. In Docker or production these are separate services; this is for
# development and CI on Debian (or Ubuntu). docs/operations.md says what it changes.
#
# - Both answer: nothing is touched.
# - Not installed: as root, installs Debian's `postgresql` and `rabbitmq-server` packages
#   and configures them (below); otherwise prints the one command to run and exits 1.
# - Installed but stopped: starts them. Then waits until both answer.
set -euo pipefail

PG_PORT="${GS_PG_PORT:-5432}"
RABBITMQ_PORT="${GS_RABBITMQ_PORT:-5672}"
ETC_POSTGRESQL="${GS_ETC_POSTGRESQL:-/etc/postgresql}"
WAIT_SECONDS="${GS_WAIT_SECONDS:-120}"
PACKAGES=(postgresql rabbitmq-server)
# Only what the default DATABASE_URL needs: the postgres role, without a password, from
# this machine's loopback address. Other roles and addresses keep Debian's rules.
HBA_MARK="# game-scheduler: the postgres role from loopback, as DATABASE_URL's default expects"

say() { echo "ensure-services: $*" >&2; }
pg_up() { pg_isready -h 127.0.0.1 -p "$PG_PORT" -q >/dev/null 2>&1; }
rabbit_up() { (exec 3<>"/dev/tcp/127.0.0.1/$RABBITMQ_PORT") 2>/dev/null; }
pg_installed() { command -v pg_ctlcluster >/dev/null 2>&1 && [[ -n "$(pg_version)" ]]; }
rabbit_installed() { command -v rabbitmq-server >/dev/null 2>&1; }
pg_version() { { ls "$ETC_POSTGRESQL" 2>/dev/null || true; } | sort -V | tail -n1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

if pg_up && rabbit_up; then
    exit 0
fi

missing=()
pg_installed || missing+=(postgresql)
rabbit_installed || missing+=(rabbitmq-server)
installed_now=false
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "${missing[*]} not installed, and this is not a Debian-like system (no apt-get)."
        say "Install PostgreSQL 15+ and RabbitMQ 3.12+ yourself, listening on 127.0.0.1."
        exit 1
    fi
    if ! is_root; then
        say "${missing[*]} not installed. Install them once with:"
        echo "    sudo apt-get install -y ${PACKAGES[*]} && make services"
        exit 1
    fi
    say "installing ${missing[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    installed_now=true
fi

version="$(pg_version)"
if $installed_now && [[ " ${missing[*]} " == *" postgresql "* ]]; then
    hba="$ETC_POSTGRESQL/$version/main/pg_hba.conf"
    if [[ -f "$hba" ]] && ! grep -qF "$HBA_MARK" "$hba"; then
        say "letting the postgres role in from 127.0.0.1 and ::1 without a password ($hba)"
        {
            echo "$HBA_MARK"
            echo "host    all    postgres    127.0.0.1/32    trust"
            echo "host    all    postgres    ::1/128         trust"
            cat "$hba"
        } >"$hba.new"
        mv "$hba.new" "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
    fi
fi

if ! pg_up; then
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! rabbit_up; then
    say "starting RabbitMQ"
    rabbitmq-server -detached
fi

for ((waited = 0; waited < WAIT_SECONDS; waited++)); do
    if pg_up && rabbit_up && rabbitmqctl -q status >/dev/null 2>&1; then
        # A fresh broker has guest/guest; put it back if someone removed it, when we may.
        if $installed_now && ! rabbitmqctl -q list_users 2>/dev/null | grep -q '^guest'; then
            say "adding RabbitMQ's guest user (localhost only, as RabbitMQ allows it)"
            rabbitmqctl -q add_user guest guest
            rabbitmqctl -q set_permissions -p / guest '.*' '.*' '.*'
        fi
        exit 0
    fi
    sleep 1
done
say "PostgreSQL or RabbitMQ did not come up within ${WAIT_SECONDS} s"
exit 1
