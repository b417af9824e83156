//! Durable rooms: the bridge between a room's [`RoomRecord`] and the store's
//! [`RoomSnapshot`], the sink rooms report their changes to, and the index that lets a client
//! resume a seat restored after a restart.
//!
//! The room actor calls [`RecordSink::save`] (the trait is the room's, `room::record`) when
//! its durable state changed and [`RecordSink::closed`] when it ended for good (its last seat gone); a shutdown is neither,
//! so the room's last record stays in the store and is restored at the next start.
//!
//! A restored seat is known by the SHA-256 of its resume secret only (the store never holds a
//! secret). A client that says `hello{resume}` to a fresh process presents the secret; its hash
//! finds the seat in [`Restored`], and the connection makes a session for it with that same
//! secret — from there on, resuming is what it always was.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matinee_auth::Identity;
use matinee_store::snapshot::{ChatSnap, MediaSnap, SeatSnap, SettingsSnap, StateSnap};
use matinee_store::{
    hash_secret, Backend, LocalStore, RedisStore, RoomSnapshot, StoreConfig, FORMAT,
};

use crate::clock::now_ms;
use crate::protocol::{Control, Media, PlaybackState, Reason, Right, Rights, Settings};
use crate::room::{ChatLine, RecordSink, RoomRecord, SeatRecord};

/// Snapshot revisions: one counter per process, started from the clock, so a later process
/// never reuses an earlier one's numbers.
static REVISION: AtomicU64 = AtomicU64::new(0);

fn next_revision() -> u64 {
    let _ = REVISION.compare_exchange(
        0,
        now_ms() as u64 * 1000,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    REVISION.fetch_add(1, Ordering::Relaxed)
}

fn reason_name(r: Reason) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "media".into(),
    }
}

/// The stored form of a record. Seats keep their secret's hash as the record has it.
pub fn to_snapshot(r: &RoomRecord) -> RoomSnapshot {
    let s = &r.state;
    RoomSnapshot {
        format: FORMAT,
        code: r.code.clone(),
        saved_at: now_ms(),
        revision: next_revision(),
        settings: SettingsSnap {
            control: match r.settings.control {
                Control::Host => "host".into(),
                Control::Shared => "shared".into(),
            },
            wait_for_all: r.settings.wait_for_all,
        },
        host: r.host.clone(),
        seats: r
            .seats
            .iter()
            .map(|seat| SeatSnap {
                member_id: seat.member_id.clone(),
                secret_sha256: seat.resume.clone(),
                user_id: seat.user_id.clone(),
                name: seat.name.clone(),
                anonymous: seat.anonymous,
                rights: seat
                    .rights
                    .list()
                    .into_iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
            })
            .collect(),
        state: StateSnap {
            media: s.media.as_ref().map(media_snap),
            playing: s.playing,
            position: s.position,
            rate: s.rate,
            at: s.at,
            seq: s.seq,
            reason: reason_name(s.reason),
            by: s.by.clone(),
            waiting_for: s.waiting_for.clone(),
        },
        chat: r
            .chat
            .iter()
            .map(|c| ChatSnap {
                from: c.from.clone(),
                name: c.name.clone(),
                text: c.text.clone(),
                at: c.at,
            })
            .collect(),
        queue: r.queue.iter().map(media_snap).collect(),
    }
}

fn media_snap(m: &Media) -> MediaSnap {
    MediaSnap {
        id: m.id.clone(),
        title: m.title.clone(),
        duration: m.duration,
    }
}

fn media_of(m: MediaSnap) -> Media {
    Media {
        id: m.id,
        title: m.title,
        duration: m.duration,
    }
}

/// A record from its stored form (already validated by the store's `decode`).
pub fn from_snapshot(s: RoomSnapshot) -> Result<RoomRecord, String> {
    let control = match s.settings.control.as_str() {
        "host" => Control::Host,
        "shared" => Control::Shared,
        other => return Err(format!("unknown control {other:?}")),
    };
    let reason: Reason = serde_json::from_value(serde_json::Value::String(s.state.reason.clone()))
        .map_err(|_| format!("unknown state reason {:?}", s.state.reason))?;
    // A room restored mid-wait would wait for members that are not connected yet: it holds
    // still (`playing: false` already) and the waiting rule starts afresh with the new reports.
    let waiting_for = if reason == Reason::Waiting {
        s.state.waiting_for.clone()
    } else {
        None
    };
    Ok(RoomRecord {
        code: s.code,
        settings: Settings {
            control,
            wait_for_all: s.settings.wait_for_all,
        },
        host: s.host,
        state: PlaybackState {
            media: s.state.media.map(media_of),
            playing: s.state.playing,
            position: s.state.position,
            rate: s.state.rate,
            at: s.state.at,
            seq: s.state.seq,
            reason,
            by: s.state.by,
            waiting_for,
            cause: None,
        },
        seats: s
            .seats
            .into_iter()
            .map(|seat| SeatRecord {
                member_id: seat.member_id,
                user_id: seat.user_id,
                name: seat.name,
                anonymous: seat.anonymous,
                resume: seat.secret_sha256,
                // A right this server does not know (written by a newer one) is not granted.
                rights: Rights::from(
                    seat.rights
                        .iter()
                        .filter_map(|r| Right::parse(r))
                        .collect::<Vec<_>>(),
                ),
            })
            .collect(),
        chat: s
            .chat
            .into_iter()
            .map(|c| ChatLine {
                from: c.from,
                name: c.name,
                text: c.text,
                at: c.at,
            })
            .collect(),
        queue: s.queue.into_iter().map(media_of).collect(),
    })
}

/// What the configured store holds at start.
#[derive(Default)]
pub struct Opened {
    /// The embedded store, when rooms are kept locally (its writer is the caller's to run).
    pub local: Option<Arc<LocalStore>>,
    /// Rooms to restore.
    pub records: Vec<RoomRecord>,
    /// The shared store, when rooms are kept in Redis (rooms are taken over from it on
    /// demand, not restored at start).
    pub redis: Option<Arc<RedisStore>>,
}

/// Open the store `[store]` asks for and read the rooms it holds. Unreadable room files are
/// kept aside by the store with a log line each; a data directory that cannot be used is an
/// error, so a server that was told to keep rooms never runs silently without.
pub fn open(cfg: &StoreConfig) -> Result<Opened, String> {
    match cfg.backend()? {
        Backend::Memory => Ok(Opened::default()),
        Backend::Local => {
            let dir = cfg.data_dir(std::env::var("STATE_DIRECTORY").ok().as_deref());
            let interval = Duration::from_millis(cfg.flush_interval_ms);
            let (store, loaded) = LocalStore::open(&dir, interval).map_err(|e| {
                format!(
                    "store.data_dir: cannot keep rooms in {}: {e}",
                    dir.display()
                )
            })?;
            let mut records = Vec::new();
            for snap in loaded.rooms {
                let code = snap.code.clone();
                match from_snapshot(snap) {
                    Ok(r) => records.push(r),
                    Err(e) => {
                        tracing::error!(room = %code, error = %e, "room state not restored");
                        store.remove(&code);
                    }
                }
            }
            tracing::info!(
                dir = %dir.display(),
                restored = records.len(),
                rejected = loaded.rejected.len(),
                "rooms are kept in the data directory"
            );
            Ok(Opened {
                local: Some(store),
                records,
                redis: None,
            })
        }
        Backend::Redis => {
            let redis = RedisStore::new(&cfg.redis)?;
            tracing::info!(instance = %redis.instance(), "rooms are shared through redis");
            Ok(Opened {
                redis: Some(redis),
                ..Opened::default()
            })
        }
    }
}

/// The embedded store as a [`RecordSink`].
pub struct LocalSink(pub Arc<LocalStore>);

impl RecordSink for LocalSink {
    fn save(&self, record: &RoomRecord) {
        self.0.save(to_snapshot(record));
    }
    fn closed(&self, code: &str) {
        self.0.remove(code);
    }
    fn fault(&self) -> Option<String> {
        self.0.fault().map(|why| {
            format!(
                "room state cannot be written to the data directory ({why}); rooms go on in memory"
            )
        })
    }
}

/// A seat restored from the store, waiting for the client that holds its secret.
#[derive(Clone, Debug)]
pub struct RestoredSeat {
    /// Room code.
    pub code: String,
    /// Member id.
    pub member_id: String,
    /// Who holds it.
    pub identity: Identity,
}

/// Restored seats by the hash of their resume secret. Filled once at start; an entry goes
/// when its client comes back (or stays harmlessly until the process ends: a seat that expired
/// meanwhile is refused by its room as gone).
#[derive(Default)]
pub struct Restored {
    by_hash: Mutex<HashMap<String, RestoredSeat>>,
}

impl Restored {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RestoredSeat>> {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Index every seat of a restored room that a secret can take back.
    pub fn add_room(&self, record: &RoomRecord) {
        let mut map = self.lock();
        for seat in &record.seats {
            if let Some(h) = &seat.resume {
                map.insert(
                    h.clone(),
                    RestoredSeat {
                        code: record.code.clone(),
                        member_id: seat.member_id.clone(),
                        identity: Identity {
                            user_id: seat.user_id.clone(),
                            name: seat.name.clone(),
                            anonymous: seat.anonymous,
                        },
                    },
                );
            }
        }
    }

    /// The restored seat this secret proves, taken out of the index.
    pub fn take(&self, secret: &str) -> Option<RestoredSeat> {
        let mut map = self.lock();
        if map.is_empty() {
            return None; // the common case: nothing was restored, no hash to compute
        }
        map.remove(&hash_secret(secret))
    }

    /// Number of seats waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RoomRecord {
        let mut r = RoomRecord::new(
            "ACDEFG".into(),
            Settings {
                control: Control::Shared,
                wait_for_all: false,
            },
            Some(Media {
                id: "film".into(),
                title: Some("Film".into()),
                duration: Some(5400.0),
            }),
            1.0e12,
        );
        r.host = "m2".into();
        for (i, anonymous) in [(1, false), (2, true)] {
            r.seats.push(SeatRecord {
                member_id: format!("m{i}"),
                user_id: format!("u{i}"),
                name: format!("N{i}"),
                anonymous,
                resume: Some(hash_secret(&format!("secret-{i}"))),
                rights: Rights {
                    playback: i == 1,
                    media: true,
                },
            });
        }
        r.state.playing = true;
        r.state.position = 1234.5;
        r.state.seq = 17;
        r.state.reason = Reason::Seek;
        r.state.by = Some("m2".into());
        r.chat.push_back(ChatLine {
            from: "m1".into(),
            name: "N1".into(),
            text: "hi".into(),
            at: 1.0e12,
        });
        r
    }

    #[test]
    fn a_record_survives_the_stored_form() {
        let r = record();
        let bytes = matinee_store::snapshot::encode(&to_snapshot(&r));
        let back = from_snapshot(matinee_store::snapshot::decode(&bytes).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_right_from_a_newer_server_is_not_granted() {
        let mut snap = to_snapshot(&record());
        assert_eq!(snap.seats[0].rights, ["playback", "media"]);
        assert_eq!(snap.seats[1].rights, ["media"]);
        snap.seats[1].rights = vec!["media".into(), "teleport".into()];
        let back = from_snapshot(snap).unwrap();
        assert_eq!(
            back.seats[1].rights,
            Rights {
                playback: false,
                media: true
            }
        );
    }

    #[test]
    fn revisions_grow() {
        let a = to_snapshot(&record()).revision;
        let b = to_snapshot(&record()).revision;
        assert!(b > a);
    }

    #[test]
    fn a_restored_seat_is_found_by_its_secret_once() {
        let idx = Restored::default();
        assert!(idx.take("secret-1").is_none());
        idx.add_room(&record());
        assert_eq!(idx.len(), 2);
        assert!(
            idx.take("secret-3").is_none(),
            "a wrong secret proves nothing"
        );
        let s = idx.take("secret-2").unwrap();
        assert_eq!((s.code.as_str(), s.member_id.as_str()), ("ACDEFG", "m2"));
        assert!(s.identity.anonymous);
        assert!(idx.take("secret-2").is_none(), "taken once");
    }
}
