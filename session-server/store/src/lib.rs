//! Matinee durable rooms: what a room is when it is not in memory, and where it is kept.
//!
//! Module map:
//! - [`snapshot`] — the persisted form of a room ([`RoomSnapshot`]), versioned, with resume
//!   secrets stored only as hashes; encode/decode/validate, no I/O.
//! - [`local`] — the embedded default: one file per room in the data directory, atomic
//!   writes, a coalescing writer, load on start with bad files kept aside.
//! - [`redis_store`] — the shared backend: snapshots, one lease per room, relay channels,
//!   readiness.
//! - [`bus`] — instance-to-instance calls and pushes over Redis pub/sub (a member on one
//!   instance reaching its room's authority on another).
//! - [`config`] — the `[store]` configuration section.
//!
//! The server turns its rooms into snapshots and back; this crate never sees a connection.

pub mod bus;
pub mod config;
pub mod local;
pub mod redis_store;
pub mod snapshot;

pub use config::{Backend, RedisConfig, StoreConfig};
pub use local::LocalStore;
pub use redis_store::RedisStore;
pub use snapshot::{hash_secret, RoomSnapshot, FORMAT};
