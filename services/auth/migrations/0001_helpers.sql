-- Helpers shared by the tables of the auth schema.
create or replace function auth.set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;
