DROP TABLE IF EXISTS admin_users;
