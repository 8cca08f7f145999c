-- Helpers shared by the tables of the audit schema.
create or replace function audit.set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;
