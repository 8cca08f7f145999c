-- The transactional outbox of one service. `{schema}` is replaced by the service's schema.
-- Events are written in the same transaction as the change they describe; the relay
-- numbers them (gap-free `seq`, per service) and publishes them to the audit stream.
create table {schema}.outbox (
    event_id      uuid primary key,
    seq           bigint unique,
    occurred_at   timestamptz not null default now(),
    service       text not null,
    entity        text not null,
    entity_id     text not null,
    action        text not null,
    actor_id      uuid,
    actor_role    text,
    request_id    text,
    client_addr   text,
    trace_context text,
    changes       jsonb not null default '{}'::jsonb,
    published_at  timestamptz
);

create index outbox_unsequenced_idx on {schema}.outbox (occurred_at, event_id) where seq is null;
create index outbox_unpublished_idx on {schema}.outbox (seq) where published_at is null and seq is not null;
create index outbox_published_at_idx on {schema}.outbox (published_at) where published_at is not null;

-- The last sequence number handed out; only relays touch it.
create table {schema}.outbox_sequence (
    singleton boolean primary key default true check (singleton),
    last_seq  bigint not null default 0
);
insert into {schema}.outbox_sequence default values;
