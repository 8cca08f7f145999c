-- Helpers shared by the tables of the sales schema.
create or replace function sales.set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;
