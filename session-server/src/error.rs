//! [`Failure`]: why a request was refused, as every layer passes it up to the transport.
//!
//! It sits at the bottom (next to the wire types) because the room's pure state machine, the
//! room actor, the registry and both transports all produce or forward it; only the
//! transports turn it into an `error` frame or an HTTP status.

use crate::protocol::ErrorCode;

/// Why a request was refused: the code and a human message.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Error code sent to the client.
    pub code: ErrorCode,
    /// Explanation.
    pub message: String,
}

impl Failure {
    /// Shorthand constructor.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}
