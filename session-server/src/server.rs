//! Wiring: builds the registry and the shared [`App`], runs the HTTP server and the session
//! sweeper, and shuts down gracefully.
//!
//! Shutdown follows mini-redis: one `watch` flag tells every connection and room to stop;
//! each connection holds a permit of the connection semaphore, so "all permits are back"
//! means every connection has sent its close 1001 and ended. Waiting is bounded by
//! `server.shutdown_timeout_ms`. Between the two, the rooms are handed over (last state
//! stored, leases released; bounded too), and a second flag lets the connections send
//! their 1001: a member never reconnects to a room this instance still holds.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use matinee_auth::Authenticator;

use crate::app::App;
use crate::config::Config;
use crate::durable::{self, LocalSink};
use crate::metrics::Metrics;
use crate::room::RoomParams;
use crate::rooms::{MemoryRooms, RoomStore};
use crate::shared::RedisRooms;

/// Serve on `listener` until `shutdown` resolves, with the authenticator the configuration
/// asks for (`matinee_auth::build`).
pub async fn run<F>(listener: TcpListener, config: Config, shutdown: F) -> Result<(), String>
where
    F: Future + Send,
{
    let auth = matinee_auth::build(&config.auth, &config.jellyfin)?;
    run_with_authenticator(listener, config, auth, shutdown).await
}

/// Serve on `listener` until `shutdown` resolves, with an injected authenticator.
pub async fn run_with_authenticator<F>(
    listener: TcpListener,
    config: Config,
    auth: Arc<dyn Authenticator>,
    shutdown: F,
) -> Result<(), String>
where
    F: Future + Send,
{
    config.validate()?;
    let (sd_tx, sd_rx) = watch::channel(false);
    let (handed_over_tx, handed_over_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    // The store first: a data directory that cannot be used stops the start, before anyone
    // connects.
    let opened = durable::open(&config.store)?;
    let memory = || {
        MemoryRooms::new(
            RoomParams::from(&config),
            config.limits.max_rooms,
            metrics.clone(),
            sd_rx.clone(),
        )
    };
    let mut rooms = memory();
    if let Some(local) = &opened.local {
        rooms = rooms.durable(Arc::new(LocalSink(local.clone())));
    }
    let rooms = Arc::new(rooms);
    let shared = opened.redis.clone().map(|redis| {
        let interval = Duration::from_millis(config.store.flush_interval_ms);
        RedisRooms::new(redis, interval, |sink| memory().durable(sink))
    });
    let registry: Arc<dyn RoomStore> = match &shared {
        Some(s) => s.clone(),
        None => rooms.clone(),
    };
    let max_conns = config
        .server
        .max_connections
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize);
    let app = Arc::new(App::new(
        config,
        auth,
        registry,
        metrics,
        sd_rx.clone(),
        handed_over_rx,
        max_conns,
    ));
    // Rooms kept by the store come back before the first connection is accepted, each seat
    // waiting for its member for the resume window from now.
    for record in opened.records {
        app.restored.add_room(&record);
        let code = record.code.clone();
        if let Err(f) = rooms.restore(record) {
            tracing::error!(room = %code, error = %f.message, "room not restored");
        }
    }
    // The writer of the embedded store, stopped (after a last flush) once the rooms are.
    let (writer_stop, writer_stopped) = tokio::sync::oneshot::channel::<()>();
    let stopped = async move {
        let _ = writer_stopped.await;
    };
    let writer = match (&opened.local, &shared) {
        (Some(local), _) => Some(tokio::spawn(local.clone().run_writer(stopped))),
        (None, Some(s)) => Some(tokio::spawn(s.sink().run_writer(stopped))),
        (None, None) => None,
    };
    // With Redis: our leases and readiness, until shutdown.
    let leases = shared.clone().map(|s| {
        let mut sd = sd_rx.clone();
        tokio::spawn(s.run_leases(async move {
            let _ = sd.wait_for(|v| *v).await;
        }))
    });

    // Sessions past their resume window are forgotten.
    let sweeper = {
        let app = app.clone();
        let mut sd = sd_rx.clone();
        let window = Duration::from_millis(app.config.rooms.resume_window_ms);
        let every = (window / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => app.sessions.sweep(window),
                    _ = sd.wait_for(|s| *s) => break,
                }
            }
        })
    };

    let mut sd_http = sd_rx.clone();
    let server = warp::serve(crate::routes::routes(app.clone()))
        .incoming(listener)
        .graceful(async move {
            let _ = sd_http.wait_for(|s| *s).await;
        });
    let server_task = tokio::spawn(server.run());

    shutdown.await;
    tracing::info!("shutting down");
    // The rooms we drive, noted before they stop: their leases are released after the last
    // write, so another instance can take them over at once instead of after a lease.
    let held = shared.as_ref().map(|s| s.local_codes()).unwrap_or_default();
    let _ = sd_tx.send(true);
    // The handover, before any member is told to reconnect: connections stop reading at the
    // flag but hold their close 1001 until `handed_over`. A member that reconnected sooner
    // could reach another instance while this one still held its room's lease: that instance
    // would relay its resume here, to a room that has just stopped, and it would be refused.
    if let Some(writer) = writer {
        // Rooms save their last record as they stop (right after the flag); give them a
        // moment to finish, then write everything once more and wait for the disk.
        let t0 = std::time::Instant::now();
        while !app.rooms.is_empty() && t0.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = writer_stop.send(());
        if tokio::time::timeout(Duration::from_secs(5), writer)
            .await
            .is_err()
        {
            tracing::error!("the last room state could not be written in time");
        }
    }
    if let Some(leases) = leases {
        let _ = leases.await;
    }
    if let Some(s) = &shared {
        let _ = tokio::time::timeout(Duration::from_secs(2), s.release_all(held)).await;
    }
    let _ = handed_over_tx.send(true);
    let deadline = Duration::from_millis(app.config.server.shutdown_timeout_ms);
    let permits = app.permits.clone();
    let drained = tokio::time::timeout(deadline, async move {
        let _ = server_task.await;
        tracing::debug!("http server stopped");
        // Every WebSocket holds a permit until it has closed.
        let _ = permits.acquire_many(max_conns as u32).await;
        tracing::debug!("connections drained");
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = app.metrics.connections.load(Ordering::Relaxed),
            "shutdown deadline passed with connections still open"
        );
    }
    let _ = sweeper.await;
    tracing::debug!("stopped");
    Ok(())
}
