-- The audit log: append-only, hash-chained, partitioned by month of `recorded_at` (when the
-- audit service stored the row). Chain order (`position`) follows `recorded_at`, so the
-- partitions the retention job drops are always the oldest part of the chain.
-- Partitions (audit.audit_log_pYYYYMM) are created ahead by the service itself.
create table audit.audit_log (
    position      bigint not null,
    id            uuid not null,
    recorded_at   timestamptz not null,
    occurred_at   timestamptz not null,
    service       text not null,
    seq           bigint not null,
    entity        text not null,
    entity_id     text not null,
    action        text not null,
    actor_id      uuid,
    actor_role    text,
    request_id    text,
    client_addr   text,
    trace_context text,
    changes       jsonb not null,
    -- sha256(prev_hash || canonical encoding of this row), see src/domain/chain.rs
    prev_hash     bytea not null,
    hash          bytea not null,
    primary key (position, recorded_at)
) partition by range (recorded_at);

create index audit_log_occurred_idx on audit.audit_log (occurred_at desc, id desc);
create index audit_log_entity_idx on audit.audit_log (entity, entity_id, occurred_at desc);
create index audit_log_actor_idx on audit.audit_log (actor_id, occurred_at desc);
create index audit_log_id_idx on audit.audit_log (id);

-- One row per stored event: idempotency by event id across partitions, and the sequence
-- numbers received per producing service (for gap detection).
create table audit.received (
    event_id uuid primary key,
    service  text not null,
    seq      bigint not null,
    position bigint not null
);
create index received_service_seq_idx on audit.received (service, seq);
create index received_position_idx on audit.received (position);

-- Per producing service, the highest sequence number up to which every event is stored.
create table audit.producer_progress (
    service        text primary key,
    contiguous_seq bigint not null default 0,
    updated_at     timestamptz not null default now()
);

-- Sequence ranges a producer no longer holds (expired from its outbox before the audit log
-- got them): recorded, never silently skipped.
create table audit.lost_ranges (
    service    text not null,
    first_seq  bigint not null,
    last_seq   bigint not null,
    noticed_at timestamptz not null default now(),
    primary key (service, first_seq)
);

-- The end of the chain; appenders lock this row, so two replicas append in turn.
create table audit.chain_head (
    singleton        boolean primary key default true check (singleton),
    last_position    bigint not null default 0,
    last_hash        bytea not null default decode(repeat('00', 32), 'hex'),
    last_recorded_at timestamptz not null default 'epoch'
);
insert into audit.chain_head default values;

-- The chain below the retention cut: the position and hash of the last dropped row, so the
-- remaining rows still verify.
create table audit.chain_checkpoint (
    singleton boolean primary key default true check (singleton),
    position  bigint not null,
    hash      bytea not null,
    cut_at    timestamptz not null default now()
);

-- Stream entries that could not be read as events after several deliveries, set aside so
-- they do not block the entries behind them.
create table audit.dead_letters (
    stream       text not null,
    stream_id    text not null,
    fields       jsonb not null,
    reason       text not null,
    deliveries   bigint not null,
    set_aside_at timestamptz not null default now(),
    primary key (stream, stream_id)
);

-- Append-only: no row of the log is ever changed or deleted (old partitions are dropped
-- whole by the retention job, which fires no row trigger).
create function audit.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'the audit log is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_log_append_only
    before update or delete on audit.audit_log
    for each row execute function audit.refuse_change();
create trigger audit_log_no_truncate
    before truncate on audit.audit_log
    for each statement execute function audit.refuse_change();

revoke update, delete, truncate on audit.audit_log from public;
revoke update, delete, truncate on audit.audit_log from current_user;
