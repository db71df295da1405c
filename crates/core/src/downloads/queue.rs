//! The download queue's rules, apart from the session: given every title in queue order, where
//! each stands and the limit on active downloads, which titles download now and which wait their
//! turn; and what moving a title in the queue does to the order. No I/O and no clock, so the
//! rules are tested here without a swarm.
//!
//! The queue holds the titles still to download. The first `limit` of them download; the rest
//! wait, and each starts when one ahead of it finishes, is paused or removed. A complete title
//! seeds whatever its place and takes no turn. A title being watched downloads wherever it
//! stands, even past the limit: the player must not stall on a title waiting its turn. A title
//! the person paused, or one an error stopped, is out of the queue until resumed; it keeps its
//! number, so it comes back where it was.

/// Where a title stands, as the queue sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Still to download (or still joining the session, which is not known to be complete).
    Incomplete,
    /// Stopped by a full disk: it goes on by itself once there is room, so it keeps its turn.
    DiskFull,
    /// Complete: it seeds, and takes no turn.
    Complete,
    /// Out of the queue: paused or removed by the person, or stopped by an error.
    Aside,
}

impl Standing {
    /// Whether the title has a place in the queue.
    fn in_queue(self) -> bool {
        matches!(self, Standing::Incomplete | Standing::DiskFull)
    }
}

/// A title as the queue weighs it, in queue order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    /// Where it stands.
    pub(crate) standing: Standing,
    /// The person is watching it: it downloads whatever its place.
    pub(crate) watched: bool,
}

/// What the queue decides for one title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// In the queue at `position` (from 1), downloading now.
    Download {
        /// Its place in the queue.
        position: u32,
    },
    /// In the queue at `position` (from 1), waiting its turn.
    Wait {
        /// Its place in the queue.
        position: u32,
    },
    /// Complete: seeding.
    Seed,
    /// Out of the queue: the queue leaves it as it is.
    Aside,
}

impl Turn {
    /// Its place in the queue, if it has one.
    pub(crate) fn position(self) -> Option<u32> {
        match self {
            Turn::Download { position } | Turn::Wait { position } => Some(position),
            Turn::Seed | Turn::Aside => None,
        }
    }
}

/// The turn of each title of `queue` (in queue order) with at most `limit` downloading at once
/// (`None`: no limit), one for one.
pub(crate) fn turns(queue: &[Candidate], limit: Option<u32>) -> Vec<Turn> {
    let mut free = limit.unwrap_or(u32::MAX);
    let mut position = 0;
    queue
        .iter()
        .map(|c| {
            if c.standing == Standing::Complete {
                return Turn::Seed;
            }
            if !c.standing.in_queue() {
                return Turn::Aside;
            }
            position += 1;
            if free > 0 {
                free -= 1;
                Turn::Download { position }
            } else if c.watched {
                // Past the limit, and taking no one's turn: the others start as they would.
                Turn::Download { position }
            } else {
                Turn::Wait { position }
            }
        })
        .collect()
}

/// The queue order of `titles` (every title, in queue order; `in_queue` says which of them have
/// a place in the queue) once the title at index `from` moves to place `to` (from 1, past the
/// end meaning the end) among those in the queue. The titles out of the queue keep their slots
/// in the order, so moving one title never moves a paused or complete one.
pub(crate) fn moved<T: Clone>(titles: &[T], in_queue: &[bool], from: usize, to: u32) -> Vec<T> {
    debug_assert_eq!(titles.len(), in_queue.len());
    let mut queued: Vec<T> = titles
        .iter()
        .zip(in_queue)
        .filter(|(_, q)| **q)
        .map(|(t, _)| t.clone())
        .collect();
    if !in_queue.get(from).copied().unwrap_or(false) {
        return titles.to_vec();
    }
    let at = in_queue[..from].iter().filter(|q| **q).count();
    let title = queued.remove(at);
    let to = usize::try_from(to.max(1) - 1)
        .unwrap_or(usize::MAX)
        .min(queued.len());
    queued.insert(to, title);
    let mut next = queued.into_iter();
    titles
        .iter()
        .zip(in_queue)
        .map(|(t, q)| {
            if *q {
                next.next().expect("as many in the queue as before")
            } else {
                t.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(standing: Standing) -> Candidate {
        Candidate {
            standing,
            watched: false,
        }
    }

    fn watched(standing: Standing) -> Candidate {
        Candidate {
            standing,
            watched: true,
        }
    }

    use Standing::*;

    #[test]
    fn the_first_titles_up_to_the_limit_download_and_the_rest_wait_in_order() {
        let queue = [c(Incomplete), c(Incomplete), c(Incomplete)];
        assert_eq!(
            turns(&queue, Some(1)),
            [
                Turn::Download { position: 1 },
                Turn::Wait { position: 2 },
                Turn::Wait { position: 3 }
            ]
        );
        assert_eq!(
            turns(&queue, None),
            [
                Turn::Download { position: 1 },
                Turn::Download { position: 2 },
                Turn::Download { position: 3 }
            ]
        );
    }

    #[test]
    fn seeding_paused_and_stopped_titles_take_no_turn() {
        let queue = [
            c(Complete),
            c(Aside),
            c(Incomplete),
            c(Complete),
            c(Incomplete),
        ];
        assert_eq!(
            turns(&queue, Some(1)),
            [
                Turn::Seed,
                Turn::Aside,
                Turn::Download { position: 1 },
                Turn::Seed,
                Turn::Wait { position: 2 }
            ]
        );
    }

    #[test]
    fn a_full_disk_keeps_its_turn() {
        let queue = [c(DiskFull), c(Incomplete)];
        assert_eq!(
            turns(&queue, Some(1)),
            [Turn::Download { position: 1 }, Turn::Wait { position: 2 }]
        );
    }

    #[test]
    fn a_watched_title_downloads_past_the_limit_without_taking_a_turn() {
        let queue = [
            c(Incomplete),
            c(Incomplete),
            watched(Incomplete),
            c(Incomplete),
        ];
        assert_eq!(
            turns(&queue, Some(1)),
            [
                Turn::Download { position: 1 },
                Turn::Wait { position: 2 },
                Turn::Download { position: 3 },
                Turn::Wait { position: 4 }
            ]
        );
        // Within the limit it takes its turn like any other.
        let queue = [watched(Incomplete), c(Incomplete)];
        assert_eq!(
            turns(&queue, Some(1)),
            [Turn::Download { position: 1 }, Turn::Wait { position: 2 }]
        );
    }

    #[test]
    fn moving_a_title_reorders_the_queue_around_those_out_of_it() {
        let titles = ["seed", "a", "paused", "b", "c"];
        let in_queue = [false, true, false, true, true];
        // "c" (index 4) to the front.
        assert_eq!(
            moved(&titles, &in_queue, 4, 1),
            ["seed", "c", "paused", "a", "b"]
        );
        // "a" down one.
        assert_eq!(
            moved(&titles, &in_queue, 1, 2),
            ["seed", "b", "paused", "a", "c"]
        );
        // Past either end is that end; to where it is changes nothing.
        assert_eq!(
            moved(&titles, &in_queue, 1, 99),
            ["seed", "b", "paused", "c", "a"]
        );
        assert_eq!(
            moved(&titles, &in_queue, 3, 0),
            ["seed", "b", "paused", "a", "c"]
        );
        assert_eq!(moved(&titles, &in_queue, 3, 2), titles);
        // A title out of the queue has no place in it to move from.
        assert_eq!(moved(&titles, &in_queue, 2, 1), titles);
        assert_eq!(moved(&titles, &in_queue, 9, 1), titles);
    }
}
