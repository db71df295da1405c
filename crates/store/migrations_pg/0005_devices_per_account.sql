-- A computer is registered per account: two accounts on one shared or resold PC each have their
-- own row (with their own key and limit), nobody can squat a device id another account will
-- need, and deactivating a computer releases nothing anyone else waits for.
ALTER TABLE devices DROP CONSTRAINT devices_pkey;
ALTER TABLE devices ADD PRIMARY KEY (account_id, device_id);
DROP INDEX devices_account;
