// The audit log (admin): filters, keyset pages, and the hash-chain check.

import { useState } from "preact/hooks";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditEvent } from "../gen/regal/audit/v1/audit_pb";
import { audit } from "../api";
import { Card, dateTime, Notice, useAction } from "../ui";
import { useEffect } from "preact/hooks";

interface Filters {
  entity: string;
  action: string;
  userId: string;
  from: string;
  to: string;
}

export function Audit() {
  const [filters, setFilters] = useState<Filters>({ entity: "", action: "", userId: "", from: "", to: "" });
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [nextCursor, setNextCursor] = useState("");
  const [chain, setChain] = useState<string | null>(null);
  const load = useAction();
  const verify = useAction();

  const fetchPage = (cursor: string) =>
    load.run(async () => {
      const response = await audit.listAuditEvents({
        entity: filters.entity.trim() || undefined,
        action: filters.action.trim() || undefined,
        userId: filters.userId.trim() || undefined,
        from: filters.from ? timestampFromDate(new Date(`${filters.from}T00:00:00`)) : undefined,
        to: filters.to ? timestampFromDate(new Date(`${filters.to}T23:59:59.999`)) : undefined,
        limit: 50n,
        cursor,
      });
      setEvents((current) => (cursor ? [...current, ...response.events] : response.events));
      setNextCursor(response.nextCursor);
    });

  useEffect(() => {
    void fetchPage("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const set = (name: keyof Filters) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement).value;
    setFilters((current) => ({ ...current, [name]: value }));
  };

  return (
    <div class="stack">
      <Card title="Hash chain" testId="chain">
        <div class="row">
          <button
            type="button"
            data-testid="verify-chain"
            disabled={verify.busy}
            onClick={() =>
              void verify.run(async () => {
                const response = await audit.verifyChain({});
                setChain(
                  response.ok
                    ? `Chain intact: ${String(response.checked)} events checked`
                    : `Chain BROKEN at event ${response.firstBadId ?? "?"} (${String(response.checked)} checked)`,
                );
              })
            }
          >
            Verify the chain
          </button>
          {chain ? (
            <strong class={chain.startsWith("Chain intact") ? "ok" : "bad"} data-testid="chain-result">
              {chain}
            </strong>
          ) : null}
        </div>
        <Notice error={verify.error} />
      </Card>
      <Card title="Audit log" testId="audit">
        <form
          class="row wrap"
          onSubmit={(event) => {
            event.preventDefault();
            void fetchPage("");
          }}
        >
          <input placeholder="Entity (invoice, product…)" value={filters.entity} onInput={set("entity")} />
          <input placeholder="Action (sell, login…)" value={filters.action} onInput={set("action")} />
          <input placeholder="User id" value={filters.userId} onInput={set("userId")} />
          <label>
            From <input type="date" value={filters.from} onInput={set("from")} />
          </label>
          <label>
            To <input type="date" value={filters.to} onInput={set("to")} />
          </label>
          <button type="submit" disabled={load.busy}>
            Filter
          </button>
        </form>
        <Notice error={load.error} />
        <table class="list" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Service</th>
              <th>Entity</th>
              <th>Action</th>
              <th>Actor</th>
              <th>Changes</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>{dateTime(event.occurredAt)}</td>
                <td>{event.service}</td>
                <td title={event.entityId}>{event.entity}</td>
                <td>{event.action}</td>
                <td title={event.actorId}>{event.actorRole || "system"}</td>
                <td>
                  <code class="changes">{event.changes ? JSON.stringify(event.changes).slice(0, 160) : ""}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {nextCursor ? (
          <button type="button" disabled={load.busy} onClick={() => void fetchPage(nextCursor)}>
            Older events
          </button>
        ) : null}
      </Card>
    </div>
  );
}
