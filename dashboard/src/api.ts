// The dashboard's only way to the suite: gRPC-web through the gateway (same origin), with
// clients generated from proto/ at build time. Tokens live in memory and in sessionStorage
// (so a reload keeps the session, a closed tab ends it). A call answered UNAUTHENTICATED
// refreshes the token pair once (the refresh token is rotated) and is retried; when the
// refresh itself fails (expired, or a reused token whose family the server revoked) the
// session ends and the sign-in screen says why.

import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService, Role, type User } from "./gen/regal/auth/v1/auth_pb";
import { CatalogService } from "./gen/regal/catalog/v1/catalog_pb";
import { SalesService } from "./gen/regal/sales/v1/sales_pb";
import { AuditService } from "./gen/regal/audit/v1/audit_pb";

const STORAGE_KEY = "regal.session";

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

type SessionListener = (reason: string | null) => void;

let tokens: Tokens | null = loadTokens();
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<SessionListener>();

function loadTokens(): Tokens | null {
  try {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    return saved ? (JSON.parse(saved) as Tokens) : null;
  } catch {
    return null;
  }
}

function saveTokens(next: Tokens | null): void {
  tokens = next;
  try {
    if (next) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage refused (private mode): the session lives in memory only.
  }
}

/** Called with a reason when the session ends on its own (refresh refused). */
export function onSessionEnded(listener: SessionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function endSession(reason: string): void {
  saveTokens(null);
  for (const listener of listeners) listener(reason);
}

export function hasSession(): boolean {
  return tokens !== null;
}

const authorize: Interceptor = (next) => async (request) => {
  const method = request.method.name;
  const isPublic = method === "Login" || method === "Refresh";
  if (!isPublic && tokens) request.header.set("authorization", `Bearer ${tokens.accessToken}`);
  try {
    return await next(request);
  } catch (error) {
    const connectError = ConnectError.from(error);
    if (isPublic || connectError.code !== Code.Unauthenticated || !tokens) throw error;
    const sentToken = tokens.accessToken;
    if (!(await refreshOnce(sentToken))) throw error;
    request.header.set("authorization", `Bearer ${tokens.accessToken}`);
    return await next(request);
  }
};

const transport = createGrpcWebTransport({
  baseUrl: window.location.origin,
  interceptors: [authorize],
});

export const auth = createClient(AuthService, transport);
export const catalog = createClient(CatalogService, transport);
export const sales = createClient(SalesService, transport);
export const audit = createClient(AuditService, transport);

/** One refresh at a time; callers that failed with the same token wait for it. */
function refreshOnce(failedAccessToken: string): Promise<boolean> {
  if (tokens && tokens.accessToken !== failedAccessToken) return Promise.resolve(true);
  if (!refreshing) {
    refreshing = (async () => {
      const current = tokens;
      if (!current) return false;
      try {
        const response = await auth.refresh({ refreshToken: current.refreshToken });
        const pair = response.tokens;
        if (!pair) throw new ConnectError("no tokens", Code.Internal);
        saveTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
        return true;
      } catch {
        endSession("Your session has ended. Please sign in again.");
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

export async function signIn(username: string, password: string): Promise<User> {
  const response = await auth.login({ username, password });
  const pair = response.tokens;
  if (!pair) throw new ConnectError("The server sent no tokens", Code.Internal);
  saveTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
  return currentUser();
}

export async function currentUser(): Promise<User> {
  const response = await auth.getMe({});
  if (!response.user) throw new ConnectError("The server sent no user", Code.Internal);
  return response.user;
}

export async function signOut(): Promise<void> {
  const current = tokens;
  try {
    if (current) await auth.logout({ refreshToken: current.refreshToken });
  } finally {
    saveTokens(null);
  }
}

/** A message a person can act on, for any failed call. */
export function describeError(error: unknown): string {
  const connectError = ConnectError.from(error);
  switch (connectError.code) {
    case Code.Unauthenticated:
      return `Not signed in or session expired: ${connectError.rawMessage}`;
    case Code.PermissionDenied:
      return `Not allowed: your role may not do this (${connectError.rawMessage}).`;
    case Code.Unavailable:
      return `The service is unavailable, try again: ${connectError.rawMessage}`;
    case Code.ResourceExhausted:
      return `Too many attempts: ${connectError.rawMessage}`;
    default:
      return connectError.rawMessage || String(connectError.code);
  }
}

export function isPermissionDenied(error: unknown): boolean {
  return ConnectError.from(error).code === Code.PermissionDenied;
}

export function roleName(role: Role): "admin" | "cashier" | "employee" | "none" {
  switch (role) {
    case Role.ADMIN:
      return "admin";
    case Role.CASHIER:
      return "cashier";
    case Role.EMPLOYEE:
      return "employee";
    default:
      return "none";
  }
}

/** A fresh key for one sale attempt; a retry of the same attempt reuses it. */
export function newIdempotencyKey(): string {
  // crypto.randomUUID exists only in secure contexts; a till on the shop's LAN may be
  // served over plain http, so build the v4 UUID from getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
