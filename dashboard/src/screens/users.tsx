// Users (admin): list, create, change role, deactivate.

import { useState } from "preact/hooks";
import { Role, type User } from "../gen/regal/auth/v1/auth_pb";
import { auth, roleName } from "../api";
import { Card, dateTime, Notice, useAction, useLoad } from "../ui";

const ROLES: [Role, string][] = [
  [Role.ADMIN, "admin"],
  [Role.CASHIER, "cashier"],
  [Role.EMPLOYEE, "employee"],
];

export function Users(props: { self: User }) {
  const [showInactive, setShowInactive] = useState(false);
  const list = useLoad(
    async () => (await auth.listUsers({ includeInactive: showInactive, page: { limit: 200n } })).users,
    [showInactive],
  );
  const action = useAction();
  const [form, setForm] = useState({ fullName: "", email: "", username: "", password: "", role: Role.CASHIER });
  return (
    <div class="grid">
      <Card title="Users" testId="users">
        <label class="row">
          <input type="checkbox" checked={showInactive} onChange={(e) => setShowInactive(e.currentTarget.checked)} />
          Show deactivated users
        </label>
        <Notice error={list.error ?? action.error} success={action.success} />
        <table class="list">
          <thead>
            <tr>
              <th>Username</th>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Active</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((user) => (
              <tr key={user.id}>
                <td>{user.username}</td>
                <td>{user.fullName}</td>
                <td>{user.email}</td>
                <td>
                  <select
                    value={String(user.role)}
                    disabled={user.id === props.self.id}
                    onChange={(e) => {
                      const role = Number(e.currentTarget.value) as Role;
                      void action.run(async () => {
                        await auth.updateUser({ id: user.id, role });
                        list.reload();
                        return `${user.username} is now ${roleName(role)}`;
                      });
                    }}
                  >
                    {ROLES.map(([value, label]) => (
                      <option key={value} value={String(value)}>
                        {label}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{user.isActive ? "yes" : "no"}</td>
                <td>{dateTime(user.createdAt)}</td>
                <td>
                  {user.isActive && user.id !== props.self.id ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        void action.run(async () => {
                          if (!window.confirm(`Deactivate ${user.username}? Their sessions end at once.`)) return;
                          await auth.deleteUser({ id: user.id });
                          list.reload();
                          return `${user.username} deactivated`;
                        })
                      }
                    >
                      Deactivate
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="New user">
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              const created = await auth.createUser(form);
              setForm({ fullName: "", email: "", username: "", password: "", role: Role.CASHIER });
              list.reload();
              return `Created ${created.user?.username ?? "user"}`;
            });
          }}
        >
          {(["fullName", "email", "username", "password"] as const).map((name) => (
            <label key={name}>
              {{ fullName: "Full name", email: "Email", username: "Username", password: "Password (8+)" }[name]}
              <input
                type={name === "password" ? "password" : name === "email" ? "email" : "text"}
                value={form[name]}
                required
                onInput={(e) => {
                  const value = e.currentTarget.value;
                  setForm((current) => ({ ...current, [name]: value }));
                }}
              />
            </label>
          ))}
          <label>
            Role
            <select value={String(form.role)} onChange={(e) => setForm({ ...form, role: Number(e.currentTarget.value) as Role })}>
              {ROLES.map(([value, label]) => (
                <option key={value} value={String(value)}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary" disabled={action.busy}>
            Create user
          </button>
        </form>
      </Card>
    </div>
  );
}
