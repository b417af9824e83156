//! A worker: the clients of one generator process, paced into their rooms, measured on the
//! coordinator's command. With `--procs 1` the worker runs inside the coordinator; otherwise
//! each worker is a child process speaking JSON lines on stdout and reading commands on stdin.

use crate::args::Args;
use crate::client::{self, Ctx, RoomShared};
use crate::stats::{Stats, WorkerReport};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Coordinator → worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// Start counting the measuring window.
    Measure,
    /// End the window, close every connection and report.
    Stop,
}

impl Cmd {
    pub fn line(self) -> &'static str {
        match self {
            Cmd::Measure => "measure",
            Cmd::Stop => "stop",
        }
    }
    pub fn parse(line: &str) -> Option<Cmd> {
        match line.trim() {
            "measure" => Some(Cmd::Measure),
            "stop" => Some(Cmd::Stop),
            _ => None,
        }
    }
}

/// Worker → coordinator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Every client has joined or failed.
    Ramped {
        held: i64,
        ramp_s: f64,
    },
    Report(Box<WorkerReport>),
    /// The worker could not run at all.
    Fatal {
        message: String,
    },
}

/// Resolves `ws://host:port/path` to the server's socket address.
pub async fn server_addr(url: &str) -> Result<std::net::SocketAddr, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("unsupported URL '{url}'"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut addrs = tokio::net::lookup_host(&with_port)
        .await
        .map_err(|e| format!("cannot resolve '{with_port}': {e}"))?;
    addrs.find(|a| a.is_ipv4()).ok_or_else(|| {
        format!("'{with_port}' has no IPv4 address (the generator binds IPv4 sources)")
    })
}

pub async fn run(
    args: Arc<Args>,
    w: usize,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    events: mpsc::UnboundedSender<(usize, Event)>,
) {
    let n = args.share(w);
    let mut servers = Vec::new();
    for url in &args.urls {
        match server_addr(url).await {
            Ok(a) => servers.push(a),
            Err(message) => {
                let _ = events.send((w, Event::Fatal { message }));
                return;
            }
        }
    }
    let origin = Instant::now();
    let stats = Arc::new(Stats::new(origin));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        args: args.clone(),
        stats: stats.clone(),
        servers,
        origin,
        stop: stop_rx,
        worker: w,
    });
    let ips = args.source_ips(w, n);
    let k = args.room_size;
    let rooms: Vec<Arc<RoomShared>> = (0..n.div_ceil(k)).map(|_| Arc::default()).collect();

    // Pace the connections: client i starts at i / R seconds (hosts come first in each
    // room, so their codes are usually ready when members ask).
    let mut tasks = tokio::task::JoinSet::new();
    let spawner = {
        let ctx = ctx.clone();
        let rooms = rooms.clone();
        let rate = args.ramp_per_sec / args.procs as f64;
        tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            let start = tokio::time::Instant::now();
            for i in 0..n {
                if *ctx.stop.borrow() {
                    break;
                }
                if rate > 0.0 {
                    tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate))
                        .await;
                } else if i % 256 == 0 {
                    tokio::task::yield_now().await;
                }
                let room = rooms[i / k].clone();
                let src = ips[i % ips.len()];
                set.spawn(client::run(ctx.clone(), i, room, i % k == 0, src));
            }
            set
        })
    };

    // Wait until every slot has joined or failed, printing progress for the human watching.
    let ramp_limit = if args.ramp_per_sec > 0.0 {
        n as f64 / (args.ramp_per_sec / args.procs as f64)
    } else {
        0.0
    } + args.connect_timeout * 2.0
        + 30.0;
    let mut last_print = Instant::now();
    loop {
        let settled = stats.settled.load(Relaxed);
        if settled >= n || origin.elapsed().as_secs_f64() > ramp_limit {
            break;
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            eprintln!(
                "loadgen[{w}]: {} joined, {} failed, {} pending of {n}",
                stats.held.load(Relaxed),
                stats.failures().values().sum::<u64>(),
                n - settled
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ramp_s = stats.last_join_us.load(Relaxed) as f64 / 1e6;
    let _ = events.send((
        w,
        Event::Ramped {
            held: stats.held.load(Relaxed),
            ramp_s,
        },
    ));

    // Measuring window, bounded by the coordinator's commands.
    let mut window_start = None;
    let mut window = Default::default();
    let mut window_s = 0.0;
    while let Some(cmd) = cmds.recv().await {
        match cmd {
            Cmd::Measure => {
                stats.set_measuring(true);
                let own = crate::procstat::sample(std::process::id()).ok();
                window_start = Some((Instant::now(), stats.traffic(), own));
            }
            Cmd::Stop => break,
        }
    }
    stats.set_measuring(false);
    let mut self_cpu_pct = 0.0;
    if let Some((t, before, own)) = window_start {
        window = stats.traffic().minus(&before);
        window_s = t.elapsed().as_secs_f64();
        if let (Some(a), Ok(b)) = (own, crate::procstat::sample(std::process::id())) {
            let secs = (b.cpu_ticks - a.cpu_ticks) as f64 / crate::procstat::TICKS_PER_SEC;
            self_cpu_pct = secs / window_s.max(1e-9) * 100.0;
        }
    }
    let held_at_end = stats.held.load(Relaxed);

    // Close everything; clients that do not finish in time are dropped (their sockets close).
    let _ = stop_tx.send(true);
    if let Ok(set) = spawner.await {
        tasks = set;
    }
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(15), drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }

    let report = WorkerReport {
        worker: w,
        planned: n,
        rooms: rooms.len(),
        held_at_end,
        peak: stats.peak.load(Relaxed),
        joins: stats.joins.load(Relaxed),
        last_join_s: ramp_s,
        failures: stats.failures(),
        server_errors: stats.server_errors(),
        window,
        window_s,
        self_cpu_pct,
        unmatched: stats.unmatched.load(Relaxed),
        churn_cycles: stats.churn_cycles.load(Relaxed),
        fanout: stats.fanout.snapshot(),
        fanout_relayed: stats.fanout_relayed.snapshot(),
        join: stats.join.snapshot(),
        rtt: stats.rtt.snapshot(),
    };
    let _ = events.send((w, Event::Report(Box::new(report))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_urls_and_rejects_bad_ones() {
        assert_eq!(
            server_addr("ws://127.0.0.1:3000/ws").await.unwrap().port(),
            3000
        );
        assert_eq!(server_addr("ws://127.0.0.1/ws").await.unwrap().port(), 80);
        assert!(server_addr("http://127.0.0.1/ws").await.is_err());
        assert_eq!(Cmd::parse("measure\n"), Some(Cmd::Measure));
        assert_eq!(Cmd::parse(Cmd::Stop.line()), Some(Cmd::Stop));
        assert_eq!(Cmd::parse("bogus"), None);
    }
}
