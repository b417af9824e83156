//! Matinee session server: rooms, host-authoritative playback state, clock sync, fan-out.
//!
//! Module map, bottom layer first. Each module imports only from the lines above it
//! (`docs/architecture.md` has the rule and how to check it):
//! - [`protocol`] — the wire types of protocol v1 (no I/O), `Intent`, the rate bounds.
//! - [`error`] — [`error::Failure`]: why a request was refused, passed up to the transports.
//! - [`clock`] — server time and the scheduling arithmetic (`LeadRule`).
//! - [`config`] — configuration sections, layering, `--print-config`.
//! - [`metrics`] — Prometheus counters and the fan-out histogram.
//! - [`shutdown`] — the shutdown flag every long-lived task waits on.
//! - [`outbound`] — a connection's bounded queue and kill switch, as rooms see it.
//! - [`room`] — one room: the pure state machine (`record`, `playback`, `waiting`,
//!   `members`, `seats`), then its command API (`api`) and its task (`actor`).
//! - [`durable`] — rooms that survive restarts: record ⇄ stored snapshot, the store as the
//!   rooms' `RecordSink`, seats restored at start waiting for their secrets.
//! - [`rooms`] — the registry (code → room) behind the [`rooms::RoomStore`] and
//!   [`rooms::Room`] traits; `MemoryRooms` keeps rooms in this process.
//! - [`relay`] — members on one instance, their room on another: calls to the authority and
//!   its frames back, over the instances' bus.
//! - [`shared`] — rooms shared through Redis: one authority per room (a lease), takeover of
//!   a dead instance's rooms, readiness.
//! - [`sessions`] — resume secrets → sessions and their seats.
//! - [`app`] — [`app::App`], what the transports share.
//! - [`socket`] — frames to one WebSocket peer: guarded writes, why a connection ends.
//! - [`handshake`] — `hello`: protocol version, credentials, the session and seat resumed.
//! - [`connection`] — one WebSocket after its handshake: the select loop, requests to the
//!   room; per-connection limits.
//! - [`routes`] — HTTP: `/ws` upgrade (origin check, connection permit), health, metrics,
//!   REST API, demo files.
//! - [`static_files`] — the demo page and client sources embedded at build time.
//! - [`server`] — wiring: [`run`], graceful shutdown.

pub mod app;
pub mod clock;
pub mod config;
pub mod connection;
pub mod durable;
pub mod error;
pub mod handshake;
pub mod metrics;
pub mod outbound;
pub mod protocol;
pub mod relay;
pub mod room;
pub mod rooms;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod shared;
pub mod shutdown;
pub mod socket;
pub mod static_files;

pub use config::Config;
pub use server::{run, run_with_authenticator};

/// Start `tracing` output on stderr: human-readable (colored on a terminal) or JSON lines.
/// `RUST_LOG` overrides `log.level`.
pub fn init_logging(cfg: &config::LogConfig) -> Result<(), String> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v).map_err(|e| format!("RUST_LOG: {e}"))?,
        _ => EnvFilter::try_new(&cfg.level).map_err(|e| format!("log.level: {e}"))?,
    };
    // Whatever level is asked for, the WebSocket and HTTP libraries never log below `info`:
    // at `trace` they print whole frames and headers, which carry `hello.token` and
    // `Authorization: Bearer …` — and tokens must never reach a log.
    let mut filter = filter;
    for quiet in [
        "tungstenite",
        "tokio_tungstenite",
        "hyper",
        "hyper_util",
        "h2",
    ] {
        let directive = format!("{quiet}=info")
            .parse()
            .map_err(|e| format!("log filter: {e}"))?;
        filter = filter.add_directive(directive);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if cfg.format == "json" {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    result.map_err(|e| e.to_string())
}
