// The shell: sign-in, the navigation of the signed-in user's role, and the screens.

import { useEffect, useState } from "preact/hooks";
import type { User } from "./gen/regal/auth/v1/auth_pb";
import {
  currentUser,
  describeError,
  hasSession,
  onSessionEnded,
  roleName,
  signIn,
  signOut,
} from "./api";
import { currentPath, homeFor, navigate, SCREENS, screensFor, type RoleName } from "./routes";
import { Notice } from "./ui";
import { Overview } from "./screens/overview";
import { Counter } from "./screens/counter";
import { Drawer } from "./screens/drawer";
import { Refunds } from "./screens/refunds";
import { Products } from "./screens/products";
import { Reports } from "./screens/reports";
import { Users } from "./screens/users";
import { Audit } from "./screens/audit";

export function App() {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(hasSession());
  const [endedReason, setEndedReason] = useState<string | null>(null);
  const [path, setPath] = useState(currentPath());

  useEffect(() => {
    const onPop = () => setPath(currentPath());
    window.addEventListener("popstate", onPop);
    const unsubscribe = onSessionEnded((reason) => {
      setUser(null);
      setEndedReason(reason);
    });
    if (hasSession()) {
      currentUser()
        .then(setUser)
        .catch((error: unknown) => setEndedReason((reason) => reason ?? describeError(error)))
        .finally(() => setChecking(false));
    }
    return () => {
      window.removeEventListener("popstate", onPop);
      unsubscribe();
    };
  }, []);

  if (checking) return <p class="loading">Loading…</p>;
  if (!user) {
    return (
      <SignIn
        reason={endedReason}
        onSignedIn={(signedIn) => {
          setEndedReason(null);
          setUser(signedIn);
          const role = roleName(signedIn.role);
          const wanted = SCREENS.find((screen) => screen.path === currentPath());
          if (!wanted || !wanted.roles.includes(role)) navigate(homeFor(role));
        }}
      />
    );
  }

  const role = roleName(user.role);
  const allowed = screensFor(role);
  const screenPath = path || homeFor(role);
  const screen = SCREENS.find((candidate) => candidate.path === screenPath);

  return (
    <div class="layout">
      <header class="topbar no-print">
        <span class="brand">Regal POS</span>
        <nav>
          {allowed.map((item) => (
            <a
              key={item.path}
              href={`/dashboard/${item.path}`}
              class={item.path === screenPath ? "active" : ""}
              data-testid={`nav-${item.path}`}
              onClick={(event) => {
                event.preventDefault();
                navigate(item.path);
              }}
            >
              {item.title}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {user.fullName || user.username} · {role}
        </span>
        <button
          type="button"
          data-testid="sign-out"
          onClick={async () => {
            try {
              await signOut();
            } finally {
              setUser(null);
              setEndedReason("You have signed out.");
            }
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {!screen ? (
          <Notice error={`There is no screen "${screenPath}".`} />
        ) : !screen.roles.includes(role) ? (
          <Refused title={screen.title} role={role} />
        ) : (
          <ScreenView path={screen.path} role={role} user={user} />
        )}
      </main>
    </div>
  );
}

function Refused(props: { title: string; role: RoleName }) {
  return (
    <section class="card refused" data-testid="refused">
      <h1>Not allowed</h1>
      <p>
        The {props.title} screen is not available to the {props.role} role. Ask an administrator if you
        need it.
      </p>
    </section>
  );
}

function ScreenView(props: { path: string; role: RoleName; user: User }) {
  switch (props.path) {
    case "overview":
      return <Overview />;
    case "counter":
      return <Counter />;
    case "drawer":
      return <Drawer role={props.role} />;
    case "refunds":
      return <Refunds />;
    case "products":
      return <Products role={props.role} />;
    case "reports":
      return <Reports role={props.role} />;
    case "users":
      return <Users self={props.user} />;
    case "audit":
      return <Audit />;
    default:
      return null;
  }
}

function SignIn(props: { reason: string | null; onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="sign-in">
      <form
        class="card"
        data-testid="sign-in"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            props.onSignedIn(await signIn(username.trim(), password));
          } catch (failure) {
            setError(describeError(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>Regal POS</h1>
        {!error && props.reason ? <p class="notice info">{props.reason}</p> : null}
        <Notice error={error} />
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}
