//! Wiring: builds the registry and the shared [`App`], runs the HTTP server and the session
//! sweeper, and shuts down gracefully.
//!
//! Shutdown follows mini-redis: one `watch` flag tells every connection and room to stop;
//! each connection holds a permit of the connection semaphore, so "all permits are back"
//! means every connection has sent its close 1001 and ended. Waiting is bounded by
//! `server.shutdown_timeout_ms`.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use matinee_auth::Authenticator;

use crate::app::App;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::room::RoomParams;
use crate::rooms::MemoryRooms;

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
    let metrics = Arc::new(Metrics::default());
    let rooms = MemoryRooms::new(
        RoomParams::from(&config),
        config.limits.max_rooms,
        metrics.clone(),
        sd_rx.clone(),
    );
    let max_conns = config
        .server
        .max_connections
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize);
    let app = Arc::new(App::new(
        config,
        auth,
        Arc::new(rooms),
        metrics,
        sd_rx.clone(),
        max_conns,
    ));

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
    let _ = sd_tx.send(true);
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
