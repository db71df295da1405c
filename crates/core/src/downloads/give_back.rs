//! What this computer gives back: for each title, the bytes it received from other viewers,
//! from the store's own seeders, and the bytes it sent to others, kept per minute (per day once
//! two days old) in the profile's database, so the Downloads tab can show totals and a chart,
//! and the seeding policy can read a title's ratio and seeding time.
//!
//! librqbit counts bytes per peer for one run of a torrent (a pause ends the run). Counting
//! takes the growth of each peer's counters since the last count, so nothing is counted twice
//! and a run that ends loses at most what moved since the last count. Counts gather in memory
//! and are written every few seconds and at shutdown; reads add what is not written yet.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::{Row, SqlitePool};

use crate::api::{GiveBack, GiveBackBytes, GiveBackSlot, GiveBackSpan};
use crate::error::Result;
use crate::torrents::TitleTransfers;

/// A minute: the slot counts are kept in at first.
const MINUTE_S: i64 = 60;
/// A day: the slot of counts older than [`KEEP_MINUTES_S`].
const DAY_S: i64 = 86_400;
/// How long counts are kept by the minute before they are folded into days.
const KEEP_MINUTES_S: i64 = 2 * DAY_S;
/// How often counts gathered in memory are written.
const WRITE_EVERY_S: i64 = 5;
/// How often minutes past [`KEEP_MINUTES_S`] are folded into days.
const FOLD_EVERY_S: i64 = 3_600;
/// The most seeding time one count adds: counts come every second, and a longer gap is the
/// computer sleeping or the clock set forward, not seeding.
const MAX_COUNT_GAP_S: i64 = 5;

/// What a title moved in one slot of time, and how long it seeded then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Moved {
    bytes: GiveBackBytes,
    seeding_s: i64,
}

impl Moved {
    fn add(&mut self, other: Moved) {
        self.bytes.from_viewers += other.bytes.from_viewers;
        self.bytes.from_store += other.bytes.from_store;
        self.bytes.given += other.bytes.given;
        self.seeding_s += other.seeding_s;
    }

    fn is_empty(&self) -> bool {
        *self == Moved::default()
    }
}

/// One run of a title's torrent and each peer's counters (received, sent) at the last count.
struct Run {
    run: Arc<dyn Any + Send + Sync>,
    peers: HashMap<String, (u64, u64)>,
}

#[derive(Default)]
struct Counting {
    runs: HashMap<String, Run>,
    /// Counted, not written yet: by title and slot (unix seconds).
    pending: HashMap<(String, i64), Moved>,
    last_count_s: Option<i64>,
    last_write_s: i64,
    last_fold_s: i64,
}

/// A title's standing for the seeding policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Shared {
    /// Bytes sent to others, in every run.
    pub(crate) given: u64,
    /// Seconds spent complete and seeding, in every run.
    pub(crate) seeding_s: i64,
}

/// The give-back ledger of a profile.
pub(crate) struct Ledger {
    db: SqlitePool,
    counting: Mutex<Counting>,
}

impl Ledger {
    pub(crate) fn new(db: SqlitePool) -> Ledger {
        Ledger {
            db,
            counting: Mutex::default(),
        }
    }

    /// Counts what moved since the last count, at `now_s` (unix seconds); writes every few
    /// seconds, and folds old minutes into days every hour.
    pub(crate) async fn count(&self, transfers: &[TitleTransfers], now_s: i64) -> Result<()> {
        let (write, fold) = {
            let mut c = self.counting.lock().expect("counting");
            count_into(&mut c, transfers, now_s);
            let write = now_s - c.last_write_s >= WRITE_EVERY_S || now_s < c.last_write_s;
            let fold = now_s - c.last_fold_s >= FOLD_EVERY_S || now_s < c.last_fold_s;
            if write {
                c.last_write_s = now_s;
            }
            if fold {
                c.last_fold_s = now_s;
            }
            (write, fold)
        };
        if write {
            self.write().await?;
        }
        if fold {
            self.fold(now_s).await?;
        }
        Ok(())
    }

    /// Writes what was counted and not written yet (at shutdown, too). On failure the counts
    /// stay in memory for the next try.
    pub(crate) async fn write(&self) -> Result<()> {
        let pending = std::mem::take(&mut self.counting.lock().expect("counting").pending);
        if pending.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut tx = self.db.begin().await?;
            for ((title_id, slot_s), m) in &pending {
                sqlx::query(
                    "INSERT INTO give_back (title_id, slot_s, from_viewers, from_store, given, seeding_s)
                     VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (title_id, slot_s) DO UPDATE SET
                       from_viewers = from_viewers + excluded.from_viewers,
                       from_store = from_store + excluded.from_store,
                       given = given + excluded.given,
                       seeding_s = seeding_s + excluded.seeding_s",
                )
                .bind(title_id)
                .bind(slot_s)
                .bind(db_int(m.bytes.from_viewers))
                .bind(db_int(m.bytes.from_store))
                .bind(db_int(m.bytes.given))
                .bind(m.seeding_s)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            let mut c = self.counting.lock().expect("counting");
            for (key, m) in pending {
                c.pending.entry(key).or_default().add(m);
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Folds the minutes older than two days into their (UTC) days: a chart of the last hour
    /// or day reads minutes, one of the last month reads days, and the table stays small.
    async fn fold(&self, now_s: i64) -> Result<()> {
        let before = now_s - KEEP_MINUTES_S;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO give_back (title_id, slot_s, from_viewers, from_store, given, seeding_s)
             SELECT title_id, slot_s - slot_s % 86400, SUM(from_viewers), SUM(from_store),
                    SUM(given), SUM(seeding_s)
             FROM give_back WHERE slot_s < ? AND slot_s % 86400 != 0
             GROUP BY title_id, slot_s - slot_s % 86400
             ON CONFLICT (title_id, slot_s) DO UPDATE SET
               from_viewers = from_viewers + excluded.from_viewers,
               from_store = from_store + excluded.from_store,
               given = given + excluded.given,
               seeding_s = seeding_s + excluded.seeding_s",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM give_back WHERE slot_s < ? AND slot_s % 86400 != 0")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each title's bytes, in every run (what is not written yet included).
    pub(crate) async fn by_title(&self) -> Result<HashMap<String, GiveBackBytes>> {
        let rows = sqlx::query(
            "SELECT title_id, SUM(from_viewers), SUM(from_store), SUM(given)
             FROM give_back GROUP BY title_id",
        )
        .fetch_all(&self.db)
        .await?;
        let mut titles: HashMap<String, Moved> = rows
            .iter()
            .map(|r| {
                let bytes = bytes_of(r, 1);
                (
                    r.get(0),
                    Moved {
                        bytes,
                        seeding_s: 0,
                    },
                )
            })
            .collect();
        for ((title_id, _), m) in &self.counting.lock().expect("counting").pending {
            titles.entry(title_id.clone()).or_default().add(*m);
        }
        Ok(titles.into_iter().map(|(t, m)| (t, m.bytes)).collect())
    }

    /// What each title gave and how long it seeded, in every run.
    pub(crate) async fn shared(&self) -> Result<HashMap<String, Shared>> {
        let rows = sqlx::query(
            "SELECT title_id, SUM(given), SUM(seeding_s) FROM give_back GROUP BY title_id",
        )
        .fetch_all(&self.db)
        .await?;
        let mut shared: HashMap<String, Shared> = rows
            .iter()
            .map(|r| {
                let given = r.get::<i64, _>(1).max(0) as u64;
                (
                    r.get(0),
                    Shared {
                        given,
                        seeding_s: r.get(2),
                    },
                )
            })
            .collect();
        for ((title_id, _), m) in &self.counting.lock().expect("counting").pending {
            let s = shared.entry(title_id.clone()).or_default();
            s.given += m.bytes.given;
            s.seeding_s += m.seeding_s;
        }
        Ok(shared)
    }

    /// Everything in total, and slot by slot over `span` up to `now_s`.
    pub(crate) async fn give_back(&self, span: GiveBackSpan, now_s: i64) -> Result<GiveBack> {
        let (slot_s, count) = match span {
            GiveBackSpan::Hour => (MINUTE_S, 60),
            GiveBackSpan::Day => (30 * MINUTE_S, 48),
            GiveBackSpan::Month => (DAY_S, 30),
        };
        let last = now_s - now_s.rem_euclid(slot_s);
        let first = last - (count - 1) * slot_s;
        let mut slots: Vec<GiveBackSlot> = (0..count)
            .map(|i| GiveBackSlot {
                start_ms: (first + i * slot_s) * 1000,
                bytes: GiveBackBytes::default(),
            })
            .collect();
        let mut add = |at_s: i64, bytes: GiveBackBytes| {
            if at_s < first || at_s >= last + slot_s {
                return;
            }
            let slot = &mut slots[((at_s - first) / slot_s) as usize].bytes;
            slot.from_viewers += bytes.from_viewers;
            slot.from_store += bytes.from_store;
            slot.given += bytes.given;
        };
        let rows = sqlx::query(
            "SELECT slot_s - slot_s % ?1, SUM(from_viewers), SUM(from_store), SUM(given)
             FROM give_back WHERE slot_s >= ?2 GROUP BY slot_s - slot_s % ?1",
        )
        .bind(slot_s)
        .bind(first)
        .fetch_all(&self.db)
        .await?;
        for r in &rows {
            add(r.get(0), bytes_of(r, 1));
        }
        let total = sqlx::query(
            "SELECT COALESCE(SUM(from_viewers), 0), COALESCE(SUM(from_store), 0),
                    COALESCE(SUM(given), 0) FROM give_back",
        )
        .fetch_one(&self.db)
        .await?;
        let mut total = Moved {
            bytes: bytes_of(&total, 0),
            seeding_s: 0,
        };
        for ((_, at_s), m) in &self.counting.lock().expect("counting").pending {
            add(*at_s, m.bytes);
            total.add(*m);
        }
        Ok(GiveBack {
            total: total.bytes,
            span,
            slot_ms: slot_s as u64 * 1000,
            slots,
        })
    }
}

/// Adds to `c` what each peer moved since the last count, and the seeding time since then.
fn count_into(c: &mut Counting, transfers: &[TitleTransfers], now_s: i64) {
    let gap_s = c
        .last_count_s
        .map_or(0, |at| (now_s - at).clamp(0, MAX_COUNT_GAP_S));
    c.last_count_s = Some(now_s);
    let slot_s = now_s - now_s.rem_euclid(MINUTE_S);
    // A title no longer running (paused, removed) starts a new run when it runs again.
    c.runs
        .retain(|id, _| transfers.iter().any(|t| &t.title_id == id));
    for t in transfers {
        let run = c.runs.entry(t.title_id.clone()).or_insert_with(|| Run {
            run: t.run.clone(),
            peers: HashMap::new(),
        });
        if !same_run(&run.run, &t.run) {
            *run = Run {
                run: t.run.clone(),
                peers: HashMap::new(),
            };
        }
        let mut moved = Moved {
            seeding_s: if t.seeding { gap_s } else { 0 },
            ..Moved::default()
        };
        for p in &t.peers {
            let (received, sent) = run.peers.get(&p.peer).copied().unwrap_or((0, 0));
            let got = grown(p.received, received);
            if p.store {
                moved.bytes.from_store += got;
            } else {
                moved.bytes.from_viewers += got;
            }
            moved.bytes.given += grown(p.sent, sent);
            run.peers.insert(p.peer.clone(), (p.received, p.sent));
        }
        if !moved.is_empty() {
            c.pending
                .entry((t.title_id.clone(), slot_s))
                .or_default()
                .add(moved);
        }
    }
}

/// How much a counter grew since `was`; a counter below what it was belongs to a peer that
/// librqbit forgot and met again, counting from nothing.
fn grown(now: u64, was: u64) -> u64 {
    now.checked_sub(was).unwrap_or(now)
}

/// Whether two handles are the same run of a torrent (the same live state in librqbit).
fn same_run(a: &Arc<dyn Any + Send + Sync>, b: &Arc<dyn Any + Send + Sync>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// SQLite integers are signed: a count past `i64::MAX` (never, in practice) stays there.
fn db_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The three byte counts of a row, from column `at`.
fn bytes_of(r: &sqlx::sqlite::SqliteRow, at: usize) -> GiveBackBytes {
    let get = |i: usize| r.get::<i64, _>(at + i).max(0) as u64;
    GiveBackBytes {
        from_viewers: get(0),
        from_store: get(1),
        given: get(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torrents::PeerTransfer;

    fn transfers(
        title: &str,
        run: &Arc<dyn Any + Send + Sync>,
        seeding: bool,
        peers: &[(&str, bool, u64, u64)],
    ) -> TitleTransfers {
        TitleTransfers {
            title_id: title.into(),
            run: run.clone(),
            seeding,
            peers: peers
                .iter()
                .map(|&(peer, store, received, sent)| PeerTransfer {
                    peer: peer.into(),
                    store,
                    received,
                    sent,
                })
                .collect(),
        }
    }

    async fn ledger() -> (Ledger, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open(&dir.path().join("library.db"))
            .await
            .unwrap();
        (Ledger::new(db), dir)
    }

    #[tokio::test]
    async fn each_byte_counts_once_by_whom_it_came_from_across_runs_and_restarts() {
        let (ledger, _dir) = ledger().await;
        let run1: Arc<dyn Any + Send + Sync> = Arc::new(1u8);
        let t0 = 1_700_000_000 - 1_700_000_000 % 60;
        let a = [("10.0.0.1:1", true, 100, 0), ("10.0.0.2:2", false, 50, 7)];
        ledger
            .count(&[transfers("t", &run1, false, &a)], t0)
            .await
            .unwrap();
        // The same counters again: nothing new moved.
        ledger
            .count(&[transfers("t", &run1, false, &a)], t0 + 1)
            .await
            .unwrap();
        let b = [("10.0.0.1:1", true, 160, 0), ("10.0.0.2:2", false, 50, 20)];
        ledger
            .count(&[transfers("t", &run1, true, &b)], t0 + 2)
            .await
            .unwrap();
        // Paused and started again: a new run whose counters start from nothing.
        let run2: Arc<dyn Any + Send + Sync> = Arc::new(2u8);
        ledger.count(&[], t0 + 3).await.unwrap();
        let c = [("10.0.0.3:3", false, 0, 5)];
        ledger
            .count(&[transfers("t", &run2, true, &c)], t0 + 4)
            .await
            .unwrap();
        ledger
            .count(&[transfers("t", &run2, true, &c)], t0 + 6)
            .await
            .unwrap();
        let want = GiveBackBytes {
            from_viewers: 50,
            from_store: 160,
            given: 25,
        };
        assert_eq!(
            ledger.by_title().await.unwrap()["t"],
            want,
            "before writing"
        );
        ledger.write().await.unwrap();
        assert_eq!(ledger.by_title().await.unwrap()["t"], want, "written");
        // Each count adds the time since the last count to a title seeding then: t0+2 (1 s),
        // t0+4 (1 s) and t0+6 (2 s).
        let shared = ledger.shared().await.unwrap();
        assert_eq!(
            shared["t"],
            Shared {
                given: 25,
                seeding_s: 4
            }
        );
        let chart = ledger.give_back(GiveBackSpan::Hour, t0 + 6).await.unwrap();
        assert_eq!(chart.total, want);
        assert_eq!(chart.slots.len(), 60);
        assert_eq!(chart.slots[59].start_ms, t0 * 1000);
        assert_eq!(chart.slots[59].bytes, want);
        assert!(chart.slots[..59]
            .iter()
            .all(|s| s.bytes == GiveBackBytes::default()));
    }

    #[tokio::test]
    async fn minutes_older_than_two_days_fold_into_days_and_charts_read_both() {
        let (ledger, _dir) = ledger().await;
        let run: Arc<dyn Any + Send + Sync> = Arc::new(0u8);
        let day = 20_000 * DAY_S;
        // Two counts three days ago, in two minutes of one day, and one now.
        ledger.count(&[], day + 600).await.unwrap();
        let old = [("10.0.0.2:2", false, 10, 1)];
        ledger
            .count(&[transfers("t", &run, false, &old)], day + 600)
            .await
            .unwrap();
        let older = [("10.0.0.2:2", false, 30, 4)];
        ledger
            .count(&[transfers("t", &run, false, &older)], day + 7200)
            .await
            .unwrap();
        let now = day + 3 * DAY_S + 60;
        let later = [("10.0.0.2:2", false, 31, 4)];
        ledger
            .count(&[transfers("t", &run, false, &later)], now)
            .await
            .unwrap();
        ledger.write().await.unwrap();
        let slots: Vec<i64> = sqlx::query("SELECT slot_s FROM give_back ORDER BY slot_s")
            .fetch_all(&ledger.db)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            slots,
            [day, now - now % 60],
            "the old minutes are one day now"
        );
        let month = ledger.give_back(GiveBackSpan::Month, now).await.unwrap();
        let total = GiveBackBytes {
            from_viewers: 31,
            from_store: 0,
            given: 4,
        };
        assert_eq!(month.total, total);
        let old_day = month
            .slots
            .iter()
            .find(|s| s.start_ms == day * 1000)
            .unwrap();
        assert_eq!(old_day.bytes.from_viewers, 30);
        assert_eq!(month.slots.last().unwrap().bytes.from_viewers, 1);
        let hour = ledger.give_back(GiveBackSpan::Hour, now).await.unwrap();
        let in_hour: u64 = hour.slots.iter().map(|s| s.bytes.from_viewers).sum();
        assert_eq!(in_hour, 1, "the last hour holds only this hour's minute");
    }
}
