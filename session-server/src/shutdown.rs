//! The server-wide shutdown flag, as every long-lived task waits on it.
//!
//! `server` owns the sender; rooms and connections hold receivers. Living in its own module
//! keeps the lower layers from importing `server` (which wires them together) just for this.

use tokio::sync::watch;

/// Resolves once the shutdown flag is set (or its sender is gone). Returns nothing, so that
/// no lock guard of the `watch` channel lives across an `.await` in a `select!`.
pub async fn until_shutdown(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
