-- Regal POS: one database, and per service one schema owned by one login role that can
-- reach nothing else (ARCHITECTURE.md: "one schema and one role per service"), plus a
-- gateway role that may only connect (its readiness probe runs `select 1`).
--
-- Run it with psql, connected to the application database as its owner or a superuser:
--
--   psql "$ADMIN_DATABASE_URL" -v ON_ERROR_STOP=1 \
--        -v auth_password=... -v catalog_password=... \
--        -v sales_password=... -v audit_password=... -v gateway_password=... \
--        -f deploy/postgres/init.sql
--
-- docker-compose runs it through deploy/postgres/initdb.sh on the first start of an empty
-- volume; for a managed Postgres (production) run it once by hand as above. It is
-- idempotent: a second run creates nothing twice and resets the five passwords.
--
-- The services' migrations then create their tables themselves (`regal migrate <svc>`, or
-- at start-up), recorded in <schema>._sqlx_migrations and <schema>._outbox_migrations.
\set ON_ERROR_STOP on

select current_database() as regal_database \gset

-- Nobody but the roles below (and the owner) may connect or create schemas here.
revoke all on database :"regal_database" from public;
-- Postgres < 15 lets every role create objects in `public`; 15+ already does not.
revoke create on schema public from public;

-- The login roles: created when missing, password (re)set on every run.
select format('create role %I login', role_name)
from (values ('regal_auth'), ('regal_catalog'), ('regal_sales'), ('regal_audit'), ('regal_gateway'))
    as wanted(role_name)
where not exists (select 1 from pg_roles where rolname = role_name)
\gexec

select format('alter role %I with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password %L', role_name, password)
from (values
    ('regal_auth', :'auth_password'),
    ('regal_catalog', :'catalog_password'),
    ('regal_sales', :'sales_password'),
    ('regal_audit', :'audit_password'),
    ('regal_gateway', :'gateway_password')
) as wanted(role_name, password)
\gexec

-- CONNECT, and CREATE on the database: the migrator runs `create schema if not exists
-- <schema>`, which Postgres checks against the database's CREATE privilege even when the
-- schema already exists. CREATE lets a role make new schemas of its own; it grants nothing
-- on another service's schema (no USAGE there), so the isolation below still holds.
grant connect, create, temporary on database :"regal_database"
    to regal_auth, regal_catalog, regal_sales, regal_audit;
-- The gateway owns no schema and reads no table.
grant connect on database :"regal_database" to regal_gateway;

-- Each schema is owned by its service's role: it creates its tables, its migrations tables
-- and its outbox there, and has no USAGE on the other three.
create schema if not exists auth authorization regal_auth;
create schema if not exists catalog authorization regal_catalog;
create schema if not exists sales authorization regal_sales;
-- The audit log is append-only for the audit service: its migrations add a trigger that
-- refuses UPDATE, DELETE and TRUNCATE on audit.audit_log and each partition, and revoke
-- those privileges from every role, regal_audit (the owner) included; the retention job
-- drops whole partitions, which fires no row trigger. As the owner, regal_audit could still
-- drop the trigger (the hash chain then still shows any edit); moving ownership to a
-- separate migration role is the remaining hardening step (README "Audit").
create schema if not exists audit authorization regal_audit;

-- An earlier run, or a restored dump, may have left another owner behind.
alter schema auth owner to regal_auth;
alter schema catalog owner to regal_catalog;
alter schema sales owner to regal_sales;
alter schema audit owner to regal_audit;

-- Unqualified names resolve to the role's own schema (the code qualifies every table).
alter role regal_auth set search_path = auth;
alter role regal_catalog set search_path = catalog;
alter role regal_sales set search_path = sales;
alter role regal_audit set search_path = audit;
