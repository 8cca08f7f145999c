-- Helpers shared by the tables of the catalog schema.
create or replace function catalog.set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;
