//! Who may do what in a room, pure: the host's role, the room's `control` setting and the
//! rights the host granted each member (docs/protocol.md, "Rights").
//!
//! A right is kept on the seat ([`SeatRecord::rights`](super::record::SeatRecord)), so it
//! survives a reconnect, a restart and a host migration with the seat; the host role itself
//! grants everything and is never stored as a right.

use crate::error::Failure;
use crate::protocol::{Control, ErrorCode, Intent, Right, Rights};

/// Longest `rights` list a `set_rights` may carry before it is refused as `too_large`
/// (each right at most once: the list can never need more entries than there are rights).
pub const MAX_LIST: usize = Right::ALL.len();

/// The right an intent needs: `set_media` changes the item, the others drive playback.
pub fn needed(intent: &Intent) -> Right {
    match intent {
        Intent::SetMedia { .. } => Right::Media,
        Intent::Play { .. } | Intent::Pause { .. } | Intent::Seek { .. } => Right::Playback,
    }
}

/// Whether a member may use `right`: the host and everyone under shared control always may;
/// anyone else only with a grant.
pub fn allows(control: Control, is_host: bool, granted: Rights, right: Right) -> bool {
    is_host || control == Control::Shared || granted.has(right)
}

/// `allows`, or the `forbidden` failure that a refused member sees.
pub fn check(
    control: Control,
    is_host: bool,
    granted: Rights,
    right: Right,
) -> Result<(), Failure> {
    if allows(control, is_host, granted, right) {
        return Ok(());
    }
    let what = match right {
        Right::Playback => "play, pause or seek",
        Right::Media => "change the item",
    };
    Err(Failure::new(
        ErrorCode::Forbidden,
        format!(
            "only the host, or a member the host gave the {} right, may {what} in this room",
            right.as_str()
        ),
    ))
}

/// A `set_rights` list as a set: refused (`too_large`) beyond [`MAX_LIST`] entries and
/// (`bad_request`) when a right is named twice, so that a sloppy client learns of its mistake
/// instead of granting something by accident.
pub fn parse_grant(list: &[Right]) -> Result<Rights, Failure> {
    if list.len() > MAX_LIST {
        return Err(Failure::new(
            ErrorCode::TooLarge,
            format!("rights lists at most {MAX_LIST} rights"),
        ));
    }
    for (i, r) in list.iter().enumerate() {
        if list[..i].contains(r) {
            return Err(Failure::new(
                ErrorCode::BadRequest,
                format!("the {} right is named twice", r.as_str()),
            ));
        }
    }
    Ok(Rights::from(list.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Rights = Rights {
        playback: false,
        media: false,
    };
    const PLAYBACK: Rights = Rights {
        playback: true,
        media: false,
    };

    #[test]
    fn the_host_and_shared_rooms_may_everything_others_what_they_were_granted() {
        for right in Right::ALL {
            assert!(allows(Control::Host, true, NONE, right));
            assert!(allows(Control::Shared, false, NONE, right));
            assert!(!allows(Control::Host, false, NONE, right));
        }
        assert!(allows(Control::Host, false, PLAYBACK, Right::Playback));
        assert!(
            !allows(Control::Host, false, PLAYBACK, Right::Media),
            "the two rights are separate"
        );
        let e = check(Control::Host, false, PLAYBACK, Right::Media).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.message.contains("media"), "{}", e.message);
    }

    #[test]
    fn intents_need_the_right_of_their_kind() {
        let media = crate::protocol::Media {
            id: "x".into(),
            title: None,
            duration: None,
        };
        assert_eq!(
            needed(&Intent::SetMedia {
                media,
                position: None
            }),
            Right::Media
        );
        for i in [
            Intent::Play {
                position: 0.0,
                rate: None,
            },
            Intent::Pause { position: 0.0 },
            Intent::Seek { position: 0.0 },
        ] {
            assert_eq!(needed(&i), Right::Playback);
        }
    }

    #[test]
    fn grants_are_sets_named_once_each() {
        assert_eq!(parse_grant(&[]), Ok(NONE));
        assert_eq!(parse_grant(&[Right::Playback]), Ok(PLAYBACK));
        assert_eq!(
            parse_grant(&[Right::Media, Right::Playback]),
            Ok(Rights {
                playback: true,
                media: true
            })
        );
        assert_eq!(
            parse_grant(&[Right::Media, Right::Media]).unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            parse_grant(&[Right::Media; 3]).unwrap_err().code,
            ErrorCode::TooLarge
        );
    }
}
