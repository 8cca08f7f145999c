#!/usr/bin/env bash
# Run by the postgres image on the first start of an empty data volume (mounted into
# /docker-entrypoint-initdb.d/): applies deploy/postgres/init.sql (a schema and a role per
# service, a connect-only role for the gateway) to $POSTGRES_DB, with the passwords from
# the environment.
set -euo pipefail

for name in AUTH_DB_PASSWORD CATALOG_DB_PASSWORD SALES_DB_PASSWORD AUDIT_DB_PASSWORD GATEWAY_DB_PASSWORD; do
    if [ -z "${!name:-}" ]; then
        echo "initdb.sh: $name must be set (see .env.example)" >&2
        exit 1
    fi
done

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v auth_password="$AUTH_DB_PASSWORD" \
    -v catalog_password="$CATALOG_DB_PASSWORD" \
    -v sales_password="$SALES_DB_PASSWORD" \
    -v audit_password="$AUDIT_DB_PASSWORD" \
    -v gateway_password="$GATEWAY_DB_PASSWORD" \
    -f "${REGAL_INIT_SQL:-/regal/postgres/init.sql}"
