//! The store's integration tests, one binary (`cargo test -p marquee-store --test integration`):
//! a real store on loopback, spoken to over HTTP as the app and any other client would.

// The store under abuse: floods of sign-ins (against the store as its own process) and of
// announces, account enumeration, Host and Content-Type checks, CORS, file modes.
mod abuse;
// The HTTP API end to end on SQLite: accounts, devices, orders, licences, the catalog feed, and
// the answers checked against `openapi.json`.
mod api;
// The same store on a PostgreSQL server the test starts itself.
mod postgres;
// `marquee-store seed` as its own process, serving a viewer.
mod seed;
