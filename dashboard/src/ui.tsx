// Small shared pieces of the screens.

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Decimal } from "./gen/regal/common/v1/common_pb";
import { describeError } from "./api";

/** A server amount as sent ("12.50"); a dash when absent. */
export function money(value: Decimal | undefined): string {
  return value?.value ?? "—";
}

export function dateTime(value: Timestamp | undefined): string {
  if (!value) return "—";
  return timestampDate(value).toLocaleString();
}

export function Notice(props: { error?: string | null; success?: string | null }) {
  if (props.error) {
    return (
      <p class="notice error" role="alert" data-testid="error">
        {props.error}
      </p>
    );
  }
  if (props.success) {
    return (
      <p class="notice success" role="status" data-testid="success">
        {props.success}
      </p>
    );
  }
  return null;
}

export function Card(props: { title: string; children: ComponentChildren; testId?: string }) {
  return (
    <section class="card" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function Stat(props: { label: string; value: string; testId?: string }) {
  return (
    <div class="stat">
      <span class="stat-label">{props.label}</span>
      <span class="stat-value" data-testid={props.testId}>
        {props.value}
      </span>
    </div>
  );
}

/** Loads data on mount and when `deps` change; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(() => {
    setLoading(true);
    load()
      .then((value) => {
        setData(value);
        setError(null);
      })
      .catch((failure: unknown) => setError(describeError(failure)))
      .finally(() => setLoading(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, loading, reload };
}

/** Runs one action at a time, keeping its error or success message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [success, setSuccess] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setSuccess(null);
    try {
      const message = await action();
      if (message) setSuccess(message);
      return true;
    } catch (failure) {
      setError(describeError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, success, run, setError, setSuccess };
}

/** Local date as YYYY-MM-DD. */
export function isoDate(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}
