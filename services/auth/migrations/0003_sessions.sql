-- Sessions: one refresh-token family per login. Every refresh spends its token and
-- issues the next one in the same family; presenting a spent token revokes the family.
create table auth.sessions (
    id             uuid primary key,
    user_id        uuid not null references auth.users (id),
    created_at     timestamptz not null default now(),
    client_addr    text,
    revoked_at     timestamptz,
    revoked_reason text
);

create index sessions_active_by_user_idx on auth.sessions (user_id) where revoked_at is null;

-- Only a hash of each refresh token is kept.
create table auth.refresh_tokens (
    id          uuid primary key,
    session_id  uuid not null references auth.sessions (id),
    token_hash  bytea not null,
    issued_at   timestamptz not null default now(),
    expires_at  timestamptz not null,
    spent_at    timestamptz
);

create index refresh_tokens_session_idx on auth.refresh_tokens (session_id);
