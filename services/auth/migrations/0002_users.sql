-- The people who use the till and the back office.
create table auth.users (
    id            uuid primary key,
    full_name     text not null,
    email         text not null,
    username      text not null,
    password_hash text not null,
    role          text not null check (role in ('admin', 'cashier', 'employee')),
    is_active     boolean not null default true,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);

create unique index users_username_key on auth.users (lower(username));
create unique index users_email_key on auth.users (lower(email));

create trigger users_set_updated_at
    before update on auth.users
    for each row execute function auth.set_updated_at();
