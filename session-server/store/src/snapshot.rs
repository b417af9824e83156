//! The persisted form of a room: everything needed to restore it after a restart or on another
//! instance, as if nothing had happened.
//!
//! It is its own set of types, not the wire types of protocol v1: the wire may grow fields
//! freely, while this form changes only with [`FORMAT`]. A file of another format is never
//! half-read: [`decode`] refuses it as [`DecodeError::Incompatible`] and the caller keeps it
//! aside.
//!
//! Resume secrets are never stored: a seat keeps the SHA-256 of its secret
//! ([`hash_secret`]), and a reconnecting client proves the seat by presenting the secret, whose
//! hash must match. A copy of the state directory (a backup, a Redis dump) therefore does not
//! hand out seats.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the persisted form. Bump it on any change an older reader would misread.
pub const FORMAT: u32 = 1;

/// Longest room code accepted in a snapshot (codes are six letters today).
const MAX_CODE_LEN: usize = 16;

/// Most rights a seat may list (two exist today; room to add some within the format).
const MAX_RIGHTS: usize = 8;

/// Most queued items a snapshot may hold (rooms hold at most `limits.max_queue`, 50 by
/// default; an admin may raise that, not without bound).
const MAX_QUEUE: usize = 1000;

/// One room, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// [`FORMAT`] of the writer.
    pub format: u32,
    /// Room code.
    pub code: String,
    /// Server time of the snapshot, ms since the UNIX epoch.
    pub saved_at: f64,
    /// Grows by one each time the room saves; a reader keeps the newest of two copies.
    pub revision: u64,
    /// Room settings.
    pub settings: SettingsSnap,
    /// Member id of the host.
    pub host: String,
    /// Seats, in order of arrival (the first connected one is the "longest present").
    pub seats: Vec<SeatSnap>,
    /// Playback state, with its `seq`.
    pub state: StateSnap,
    /// The last chat lines, oldest first.
    #[serde(default)]
    pub chat: Vec<ChatSnap>,
    /// The room's queue, next item first. Added within format 1: absent (an empty queue) in
    /// older files and when empty, so a file without a queue is written exactly as before;
    /// an older reader ignores it (the room then restores without its queue).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue: Vec<MediaSnap>,
}

/// Room settings (`control`: `"host"` or `"shared"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsSnap {
    /// Who may drive playback: `"host"` or `"shared"`.
    pub control: String,
    /// The waiting rule.
    pub wait_for_all: bool,
}

/// One seat and the session holding it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatSnap {
    /// Member id.
    pub member_id: String,
    /// Hex SHA-256 of the resume secret of the session holding the seat ([`hash_secret`]);
    /// `None` for a seat that no secret can take back (it only waits to expire).
    pub secret_sha256: Option<String>,
    /// Jellyfin user id (or the anonymous id).
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// Whether the seat was taken without an account.
    pub anonymous: bool,
    /// Rights the host granted this member (protocol names: `"playback"`, `"media"`).
    /// Added within format 1: absent (no grant) in older files, ignored by older readers,
    /// which then restore the seat without its grants, never with more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rights: Vec<String>,
}

/// A media item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaSnap {
    /// Jellyfin item id.
    pub id: String,
    /// Title, if known.
    #[serde(default)]
    pub title: Option<String>,
    /// Duration, seconds, if known.
    #[serde(default)]
    pub duration: Option<f64>,
}

/// The playback state; the one formula extrapolates it over any downtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateSnap {
    /// The item, if any.
    pub media: Option<MediaSnap>,
    /// Whether media time advances after `at`.
    pub playing: bool,
    /// Media position at `at`, seconds.
    pub position: f64,
    /// Playback rate.
    pub rate: f64,
    /// Server time, ms since the UNIX epoch.
    pub at: f64,
    /// State sequence number.
    pub seq: u64,
    /// Why it last changed (protocol `reason`).
    pub reason: String,
    /// Who changed it.
    pub by: Option<String>,
    /// Members waited for.
    #[serde(default)]
    pub waiting_for: Option<Vec<String>>,
}

/// A chat line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatSnap {
    /// Member id of the sender.
    pub from: String,
    /// Sender's display name.
    pub name: String,
    /// Text.
    pub text: String,
    /// Server time, ms.
    pub at: f64,
}

/// Why stored bytes are not a usable room.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeError {
    /// Not JSON, not the expected shape, or values that cannot be right.
    Corrupt(String),
    /// Written by another format version.
    Incompatible {
        /// The `format` found.
        found: u64,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Corrupt(why) => write!(f, "corrupt room state: {why}"),
            DecodeError::Incompatible { found } => write!(
                f,
                "room state of format {found}, this server reads format {FORMAT}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Hex SHA-256 of a resume secret: what a seat stores instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored bytes of a snapshot (compact JSON).
pub fn encode(snap: &RoomSnapshot) -> Vec<u8> {
    serde_json::to_vec(snap).expect("a snapshot always serializes")
}

/// Read stored bytes back: the format is checked before the shape, and the shape before the
/// values, so that each failure says what it is.
pub fn decode(bytes: &[u8]) -> Result<RoomSnapshot, DecodeError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::Corrupt(format!("not JSON ({e})")))?;
    let found = v
        .get("format")
        .and_then(|f| f.as_u64())
        .ok_or_else(|| DecodeError::Corrupt("no format number".into()))?;
    if found != u64::from(FORMAT) {
        return Err(DecodeError::Incompatible { found });
    }
    let snap: RoomSnapshot =
        serde_json::from_value(v).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    validate(&snap).map_err(DecodeError::Corrupt)?;
    Ok(snap)
}

/// Values a server could never have written: refusing them here means a restored room never
/// starts from an impossible state (a host who is not a member, a NaN position).
pub fn validate(s: &RoomSnapshot) -> Result<(), String> {
    let code_ok = !s.code.is_empty()
        && s.code.len() <= MAX_CODE_LEN
        && s.code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !code_ok {
        return Err(format!("bad room code {:?}", s.code));
    }
    if s.seats.is_empty() {
        return Err("a room without seats".into());
    }
    let mut ids = std::collections::HashSet::new();
    for seat in &s.seats {
        if seat.member_id.is_empty() || !ids.insert(seat.member_id.as_str()) {
            return Err(format!("duplicate or empty member id {:?}", seat.member_id));
        }
        let hex = |h: &String| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
        let name_ok = |r: &String| {
            (1..=32).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        };
        if seat.rights.len() > MAX_RIGHTS || !seat.rights.iter().all(name_ok) {
            return Err(format!("seat {} has malformed rights", seat.member_id));
        }
        if !seat.secret_sha256.as_ref().is_none_or(hex) {
            return Err(format!(
                "seat {} has a malformed secret hash",
                seat.member_id
            ));
        }
    }
    if !ids.contains(s.host.as_str()) {
        return Err(format!("host {:?} holds no seat", s.host));
    }
    if !["host", "shared"].contains(&s.settings.control.as_str()) {
        return Err(format!("unknown control {:?}", s.settings.control));
    }
    let st = &s.state;
    let finite = st.position.is_finite() && st.rate.is_finite() && st.at.is_finite();
    if !finite || st.position < 0.0 || st.rate <= 0.0 || st.seq == 0 {
        return Err("impossible playback state".into());
    }
    let item_ok = |m: &MediaSnap| {
        !m.id.is_empty()
            && m.id.len() <= 512
            && m.duration.is_none_or(|d| d.is_finite() && d >= 0.0)
    };
    if s.queue.len() > MAX_QUEUE || !s.queue.iter().all(item_ok) {
        return Err("malformed queue".into());
    }
    if !s.saved_at.is_finite() {
        return Err("impossible save time".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plausible two-seat room, playing.
    pub(crate) fn sample(code: &str) -> RoomSnapshot {
        RoomSnapshot {
            format: FORMAT,
            code: code.into(),
            saved_at: 1.7e12,
            revision: 3,
            settings: SettingsSnap {
                control: "host".into(),
                wait_for_all: true,
            },
            host: "m1".into(),
            seats: vec![
                SeatSnap {
                    member_id: "m1".into(),
                    secret_sha256: Some(hash_secret("secret-1")),
                    user_id: "u1".into(),
                    name: "Ann".into(),
                    anonymous: false,
                    rights: vec![],
                },
                SeatSnap {
                    member_id: "m2".into(),
                    secret_sha256: Some(hash_secret("secret-2")),
                    user_id: "anon:2".into(),
                    name: "Bob".into(),
                    anonymous: true,
                    rights: vec!["playback".into()],
                },
            ],
            state: StateSnap {
                media: Some(MediaSnap {
                    id: "abc".into(),
                    title: Some("Film".into()),
                    duration: Some(5400.0),
                }),
                playing: true,
                position: 1234.5,
                rate: 1.0,
                at: 1.7e12 - 10.0,
                seq: 42,
                reason: "play".into(),
                by: Some("m1".into()),
                waiting_for: None,
            },
            chat: vec![ChatSnap {
                from: "m2".into(),
                name: "Bob".into(),
                text: "hi".into(),
                at: 1.7e12,
            }],
            queue: vec![MediaSnap {
                id: "next".into(),
                title: Some("Episode 2".into()),
                duration: Some(1300.0),
            }],
        }
    }

    #[test]
    fn round_trips() {
        let s = sample("ACDEFG");
        assert_eq!(decode(&encode(&s)).unwrap(), s);
    }

    #[test]
    fn the_secret_itself_is_never_stored() {
        let s = sample("ACDEFG");
        let text = String::from_utf8(encode(&s)).unwrap();
        assert!(!text.contains("secret-1"), "{text}");
        assert!(text.contains(&hash_secret("secret-1")));
        // The known SHA-256 test vector ("abc"), so the hash is the standard one.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn other_formats_are_incompatible_not_corrupt() {
        let mut v = serde_json::to_value(sample("ACDEFG")).unwrap();
        v["format"] = 2.into();
        assert_eq!(
            decode(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::Incompatible { found: 2 })
        );
    }

    #[test]
    fn broken_bytes_and_impossible_values_are_corrupt() {
        let good = encode(&sample("ACDEFG"));
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"{".to_vec(),
            good[..good.len() / 2].to_vec(),
            b"{\"code\":\"ACDEFG\"}".to_vec(),
            b"[1,2]".to_vec(),
        ];
        for bytes in cases {
            assert!(
                matches!(decode(&bytes), Err(DecodeError::Corrupt(_))),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let mutations: Vec<fn(&mut RoomSnapshot)> = vec![
            |s| s.host = "nobody".into(),
            |s| s.seats.clear(),
            |s| s.seats[1].member_id = "m1".into(),
            |s| s.seats[0].secret_sha256 = Some("plain-secret".into()),
            |s| s.code = "../../etc".into(),
            |s| s.settings.control = "anyone".into(),
            |s| s.state.rate = 0.0,
            |s| s.state.seq = 0,
            |s| s.state.position = -1.0,
            |s| s.seats[1].rights = vec!["../x".into()],
            |s| s.seats[1].rights = vec!["playback".into(); 9],
            |s| s.queue[0].id = String::new(),
            |s| s.queue[0].duration = Some(-1.0),
            |s| s.queue = vec![s.queue[0].clone(); MAX_QUEUE + 1],
        ];
        for m in mutations {
            let mut s = sample("ACDEFG");
            m(&mut s);
            assert!(
                matches!(decode(&encode(&s)), Err(DecodeError::Corrupt(_))),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_file_from_before_rights_reads_as_no_grants() {
        let mut v = serde_json::to_value(sample("ACDEFG")).unwrap();
        v["seats"][1].as_object_mut().unwrap().remove("rights");
        assert!(v["seats"][0].get("rights").is_none(), "no grant, no field");
        let s = decode(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(s.seats.iter().all(|seat| seat.rights.is_empty()));
    }

    #[test]
    fn a_file_from_before_the_queue_reads_as_an_empty_queue_and_an_empty_one_is_not_written() {
        let mut v = serde_json::to_value(sample("ACDEFG")).unwrap();
        assert_eq!(v["queue"][0]["id"], "next", "a queue is stored");
        v.as_object_mut().unwrap().remove("queue");
        let s = decode(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(s.queue.is_empty());
        // Written again without a queue: the same bytes as a writer from before the queue.
        let again: serde_json::Value = serde_json::from_slice(&encode(&s)).unwrap();
        assert!(again.get("queue").is_none(), "{again}");
    }

    #[test]
    fn unknown_fields_are_ignored_within_a_format() {
        let mut v = serde_json::to_value(sample("ACDEFG")).unwrap();
        v["added_later"] = "x".into();
        assert!(decode(&serde_json::to_vec(&v).unwrap()).is_ok());
    }
}
