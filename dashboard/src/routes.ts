// The screens and who may see them: the role table of REST-API.md. The server refuses a
// call the role may not make anyway; this only keeps screens a role cannot use out of its
// way, and shows a refusal when one is opened directly.

export type RoleName = "admin" | "cashier" | "employee" | "none";

export interface Screen {
  path: string;
  title: string;
  roles: RoleName[];
}

export const BASE = "/dashboard";

export const SCREENS: Screen[] = [
  { path: "overview", title: "Overview", roles: ["admin"] },
  { path: "counter", title: "Counter", roles: ["admin", "cashier"] },
  { path: "drawer", title: "Cash drawer", roles: ["admin", "cashier"] },
  { path: "refunds", title: "Refunds", roles: ["admin", "cashier"] },
  { path: "products", title: "Products", roles: ["admin", "cashier", "employee"] },
  { path: "reports", title: "Reports", roles: ["admin", "cashier"] },
  { path: "users", title: "Users", roles: ["admin"] },
  { path: "audit", title: "Audit log", roles: ["admin"] },
];

export function screensFor(role: RoleName): Screen[] {
  return SCREENS.filter((screen) => screen.roles.includes(role));
}

/** The first screen of a role after sign-in. */
export function homeFor(role: RoleName): string {
  return screensFor(role)[0]?.path ?? "overview";
}

/** "/dashboard/counter" → "counter"; "/dashboard" → "". */
export function currentPath(): string {
  const path = window.location.pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return rest.replace(/^\/+|\/+$/g, "");
}

export function navigate(path: string): void {
  window.history.pushState(null, "", `${BASE}/${path}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** Products may change their stock (admin, employee) or only be read (cashier). */
export function canEditProducts(role: RoleName): boolean {
  return role === "admin" || role === "employee";
}
