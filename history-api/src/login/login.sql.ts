import type { Db } from '../db.ts'

export type AdminUser = { id: number; email: string; password_hash: string; role: 'super_admin' | 'viewer' }

export function findActiveUser(db: Db, email: string) {
  return db<AdminUser[]>`
    select id, email, password_hash, role from admin_users
    where lower(email) = lower(${email}) and active`.then((r) => r[0])
}

export function recordLogin(db: Db, id: number) {
  return db`update admin_users set last_login_at = now() where id = ${id}`
}

export function insertUser(db: Db, u: { email: string; passwordHash: string; role: string }) {
  return db<{ id: number; created: boolean }[]>`
    insert into admin_users (email, password_hash, role) values (${u.email}, ${u.passwordHash}, ${u.role})
    on conflict (lower(email)) do update set password_hash = excluded.password_hash, role = excluded.role, active = true
    returning id, (xmax = 0) as created`.then((r) => r[0]!)
}
