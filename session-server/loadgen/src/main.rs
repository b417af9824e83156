//! `loadgen`: drives thousands of protocol-v1 clients against a Matinee session server and
//! reports what it held, how fast state fanned out, and what it cost the server.
//!
//! Modules:
//! - `args`     — command-line options and how clients split over worker processes
//! - `client`   — one simulated client (connect, hello, room, steady message mix)
//! - `worker`   — the clients of one process, paced and measured on command
//! - `stats`    — shared counters and the per-worker report
//! - `hist`     — the latency histogram (mergeable across processes)
//! - `procstat` — the server's RSS and CPU from `/proc/<pid>`
//!
//! The coordinator (this file) samples the server, tells workers when to start and stop
//! measuring, merges their reports and prints one summary line (plus JSON with `--json`).

mod args;
mod client;
mod hist;
mod procstat;
mod servermetrics;
mod stats;
mod worker;

use args::{Args, Parsed};
use hist::{HistSnapshot, Percentiles};
use procstat::ProcSample;
use serde::Serialize;
use stats::{Traffic, WorkerReport};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use worker::{Cmd, Event};

/// The server as seen from `/proc` over the run.
#[derive(Serialize, Debug)]
struct ServerReport {
    pid: u32,
    /// Before any connection.
    rss_base_kb: u64,
    /// When every client had joined or failed.
    rss_ramped_kb: u64,
    /// At the end of the measuring window.
    rss_end_kb: u64,
    hwm_kb: u64,
    /// (rss_end − rss_base) / connections held.
    rss_per_conn_kb: f64,
    /// CPU over the measuring window, in % of one core.
    cpu_pct: f64,
    /// Time the server's threads were ready to run but waited for a CPU, over the window, in
    /// ms per second of window (summed over its threads).
    run_wait_ms_per_s: f64,
    fds_end: u64,
}

#[derive(Serialize, Debug)]
struct Report {
    mode: args::Mode,
    url: String,
    connections: usize,
    room_size: usize,
    rooms: usize,
    procs: usize,
    ramp_per_sec: f64,
    control_every: f64,
    ping_every: f64,
    status_every: f64,
    /// Connections in their room at the end of the measuring window.
    held: i64,
    peak: i64,
    failed: u64,
    failures: BTreeMap<String, u64>,
    server_errors: BTreeMap<String, u64>,
    /// Seconds from start until the last first-time join.
    ramp_s: f64,
    joins: u64,
    churn_cycles: u64,
    join: Percentiles,
    fanout: Percentiles,
    /// Fan-out to members on another endpoint than their host's (`--url` given twice or
    /// more): the relayed part of `fanout`.
    fanout_relayed: Percentiles,
    /// Every endpoint (`url` is the first).
    urls: Vec<String>,
    /// States for a control whose send instant was unknown (should be 0).
    fanout_unmatched: u64,
    rtt: Percentiles,
    window_s: f64,
    /// Messages into the server per second (what the generator sent).
    server_in_msgs_per_s: f64,
    /// Messages out of the server per second (what the generator received).
    server_out_msgs_per_s: f64,
    server_out_by_type_per_s: BTreeMap<String, f64>,
    /// WebSocket payload bytes both ways per held connection per second.
    bytes_per_conn_per_s: f64,
    /// The generator processes' CPU over the window, summed, % of one core.
    generator_cpu_pct: f64,
    /// The whole machine's idle share over the window (all cores), %: near 0 means the
    /// machine was saturated and latencies include waiting for a CPU.
    machine_idle_pct: Option<f64>,
    /// 1-minute load average and CPU pressure (% of time some task waited) at the end.
    machine_loadavg: Option<f64>,
    machine_cpu_pressure_pct: Option<f64>,
    server: Option<ServerReport>,
    /// The server's own fan-out histogram over the window, by frame type (decided → written
    /// to the socket); empty when `/metrics` could not be read.
    server_fanout: BTreeMap<String, servermetrics::Window>,
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// What the coordinator saw of the machine during the window.
struct Machine {
    idle_pct: Option<f64>,
    loadavg: Option<f64>,
    pressure: Option<f64>,
}

fn merge(
    args: &Args,
    reports: &[WorkerReport],
    window_s: f64,
    server: Option<ServerReport>,
    machine: Machine,
) -> Report {
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut server_errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut fanout_relayed = HistSnapshot::default();
    let (mut fanout, mut join, mut rtt) = (
        HistSnapshot::default(),
        HistSnapshot::default(),
        HistSnapshot::default(),
    );
    let mut traffic = Traffic::default();
    for r in reports {
        for (k, v) in &r.failures {
            *failures.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &r.server_errors {
            *server_errors.entry(k.clone()).or_default() += v;
        }
        fanout.merge(&r.fanout);
        fanout_relayed.merge(&r.fanout_relayed);
        join.merge(&r.join);
        rtt.merge(&r.rtt);
        traffic.add(&r.window);
    }
    let held: i64 = reports.iter().map(|r| r.held_at_end).sum();
    let per_s = |n: u64| {
        if window_s > 0.0 {
            round(n as f64 / window_s, 1)
        } else {
            0.0
        }
    };
    Report {
        mode: args.mode,
        url: args.url.clone(),
        connections: args.connections,
        room_size: args.room_size,
        rooms: reports.iter().map(|r| r.rooms).sum(),
        procs: args.procs,
        ramp_per_sec: args.ramp_per_sec,
        control_every: args.control_every,
        ping_every: args.ping_every,
        status_every: args.status_every,
        held,
        peak: reports.iter().map(|r| r.peak).sum(),
        failed: failures.values().sum(),
        failures,
        server_errors,
        ramp_s: round(reports.iter().map(|r| r.last_join_s).fold(0.0, f64::max), 3),
        joins: reports.iter().map(|r| r.joins).sum(),
        churn_cycles: reports.iter().map(|r| r.churn_cycles).sum(),
        join: join.percentiles(),
        fanout: fanout.percentiles(),
        fanout_relayed: fanout_relayed.percentiles(),
        urls: args.urls.clone(),
        fanout_unmatched: reports.iter().map(|r| r.unmatched).sum(),
        rtt: rtt.percentiles(),
        window_s: round(window_s, 3),
        server_in_msgs_per_s: per_s(traffic.msgs_out),
        server_out_msgs_per_s: per_s(traffic.msgs_in),
        server_out_by_type_per_s: traffic
            .in_by_kind
            .iter()
            .map(|(k, n)| (k.clone(), per_s(*n)))
            .collect(),
        bytes_per_conn_per_s: if held > 0 && window_s > 0.0 {
            round(
                (traffic.bytes_in + traffic.bytes_out) as f64 / window_s / held as f64,
                1,
            )
        } else {
            0.0
        },
        generator_cpu_pct: round(reports.iter().map(|r| r.self_cpu_pct).sum(), 1),
        machine_idle_pct: machine.idle_pct.map(|x| round(x, 1)),
        machine_loadavg: machine.loadavg,
        machine_cpu_pressure_pct: machine.pressure,
        server,
        server_fanout: BTreeMap::new(),
    }
}

fn summary_line(r: &Report) -> String {
    let mode = serde_json::to_value(r.mode)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let mut s = format!(
        "loadgen: mode={mode} conns={} held={} failed={} rooms={} room_size={} ramp_s={} \
         join_p50_ms={} join_p99_ms={} join_max_ms={} p50_ms={} p99_ms={} max_ms={} fanout_n={} \
         unmatched={} in_msg_s={} out_msg_s={} bytes_conn_s={}",
        r.connections,
        r.held,
        r.failed,
        r.rooms,
        r.room_size,
        r.ramp_s,
        r.join.p50_ms,
        r.join.p99_ms,
        r.join.max_ms,
        r.fanout.p50_ms,
        r.fanout.p99_ms,
        r.fanout.max_ms,
        r.fanout.count,
        r.fanout_unmatched,
        r.server_in_msgs_per_s,
        r.server_out_msgs_per_s,
        r.bytes_per_conn_per_s,
    );
    if r.urls.len() > 1 {
        s += &format!(
            " urls={} relayed_p50_ms={} relayed_p99_ms={} relayed_max_ms={} relayed_n={}",
            r.urls.len(),
            r.fanout_relayed.p50_ms,
            r.fanout_relayed.p99_ms,
            r.fanout_relayed.max_ms,
            r.fanout_relayed.count
        );
    }
    if let Some(sv) = &r.server {
        s += &format!(
            " rss_mb={} rss_per_conn_kb={} cpu_pct={} run_wait_ms_s={}",
            round(sv.rss_end_kb as f64 / 1024.0, 1),
            sv.rss_per_conn_kb,
            sv.cpu_pct,
            sv.run_wait_ms_per_s
        );
    }
    s += &format!(" gen_cpu_pct={}", r.generator_cpu_pct);
    if let Some(idle) = r.machine_idle_pct {
        s += &format!(" machine_idle_pct={idle}");
    }
    if r.mode == args::Mode::Churn {
        s += &format!(" churn_cycles={}", r.churn_cycles);
    }
    s
}

/// How the coordinator reaches one worker.
enum Handle {
    Local(mpsc::UnboundedSender<Cmd>),
    Child(std::process::Child, std::process::ChildStdin),
}

impl Handle {
    fn send(&mut self, cmd: Cmd) {
        match self {
            Handle::Local(tx) => {
                let _ = tx.send(cmd);
            }
            Handle::Child(_, stdin) => {
                let _ = writeln!(stdin, "{}", cmd.line()).and_then(|_| stdin.flush());
            }
        }
    }
}

fn sample(pid: Option<u32>) -> Result<Option<ProcSample>, String> {
    pid.map(procstat::sample).transpose()
}

async fn coordinate(args: Arc<Args>) -> Result<Report, String> {
    let base = sample(args.server_pid)?;
    eprintln!(
        "loadgen: {:?} {} connections in rooms of {} over {} process(es), ramp {}/s, \
         control every {} s, ping every {} s, status every {} s, measure {} s",
        args.mode,
        args.connections,
        args.room_size,
        args.procs,
        args.ramp_per_sec,
        args.control_every,
        args.ping_every,
        args.status_every,
        args.duration
    );
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<(usize, Event)>();
    let mut handles = Vec::new();
    if args.procs == 1 {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(worker::run(args.clone(), 0, rx, ev_tx));
        handles.push(Handle::Local(tx));
    } else {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
        let passthrough: Vec<String> = std::env::args().skip(1).filter(|a| a != "--json").collect();
        for w in 0..args.procs {
            let mut child = std::process::Command::new(&exe)
                .args(&passthrough)
                .args(["--worker", &w.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start worker {w}: {e}"))?;
            let stdin = child.stdin.take().expect("piped");
            let stdout = child.stdout.take().expect("piped");
            let tx = ev_tx.clone();
            std::thread::spawn(move || {
                let mut reported = false;
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    match serde_json::from_str::<Event>(&line) {
                        Ok(ev) => {
                            reported |= matches!(ev, Event::Report(_));
                            let _ = tx.send((w, ev));
                        }
                        Err(e) => eprintln!("loadgen: worker {w} sent an unreadable line: {e}"),
                    }
                }
                if !reported {
                    let _ = tx.send((
                        w,
                        Event::Fatal {
                            message: "exited before reporting".into(),
                        },
                    ));
                }
            });
            handles.push(Handle::Child(child, stdin));
        }
        drop(ev_tx);
    }

    // Ramp: wait for every worker to have all its clients joined or failed.
    let mut ramped = 0;
    let mut early_reports = Vec::new();
    while ramped < args.procs {
        match ev_rx.recv().await {
            Some((_, Event::Ramped { .. })) => ramped += 1,
            Some((w, Event::Fatal { message })) => return Err(format!("worker {w}: {message}")),
            Some((_, Event::Report(r))) => early_reports.push(*r),
            None => return Err("workers went away during the ramp".into()),
        }
    }
    let ramped_sample = sample(args.server_pid)?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;

    let server_addr = worker::server_addr(&args.url).await.ok();
    let scrape = || async move {
        match server_addr {
            Some(a) => servermetrics::scrape(a)
                .await
                .ok()
                .map(|t| servermetrics::parse(&t)),
            None => None,
        }
    };
    let fanout_start = scrape().await;
    for h in &mut handles {
        h.send(Cmd::Measure);
    }
    let s0 = sample(args.server_pid)?;
    let m0 = procstat::machine_cpu();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let s1 = sample(args.server_pid)?;
    let m1 = procstat::machine_cpu();
    let (loadavg, pressure) = procstat::machine_load();
    let machine = Machine {
        idle_pct: match (m0, m1) {
            (Some((i0, t0)), Some((i1, t1))) if t1 > t0 => {
                Some((i1 - i0) as f64 / (t1 - t0) as f64 * 100.0)
            }
            _ => None,
        },
        loadavg,
        pressure,
    };
    let window_s = t0.elapsed().as_secs_f64();
    let fanout_end = scrape().await;
    for h in &mut handles {
        h.send(Cmd::Stop);
    }
    let mut reports = early_reports;
    while reports.len() < args.procs {
        match ev_rx.recv().await {
            Some((_, Event::Report(r))) => reports.push(*r),
            Some((w, Event::Fatal { message })) => return Err(format!("worker {w}: {message}")),
            Some(_) => {}
            None => return Err("workers went away before reporting".into()),
        }
    }
    for h in handles {
        if let Handle::Child(mut c, stdin) = h {
            drop(stdin);
            let _ = c.wait();
        }
    }

    let held: i64 = reports.iter().map(|r| r.held_at_end).sum();
    let server = match (args.server_pid, base, ramped_sample, s0, s1) {
        (Some(pid), Some(b), Some(r), Some(s0), Some(s1)) => Some(ServerReport {
            pid,
            rss_base_kb: b.rss_kb,
            rss_ramped_kb: r.rss_kb,
            rss_end_kb: s1.rss_kb,
            hwm_kb: s1.hwm_kb,
            rss_per_conn_kb: if held > 0 {
                round((s1.rss_kb as f64 - b.rss_kb as f64) / held as f64, 2)
            } else {
                0.0
            },
            cpu_pct: round(
                (s1.cpu_ticks - s0.cpu_ticks) as f64 / procstat::TICKS_PER_SEC / window_s * 100.0,
                1,
            ),
            run_wait_ms_per_s: round(
                (s1.run_wait_ns.saturating_sub(s0.run_wait_ns)) as f64 / 1e6 / window_s,
                1,
            ),
            fds_end: s1.fds,
        }),
        _ => None,
    };
    let mut report = merge(&args, &reports, window_s, server, machine);
    if let (Some(a), Some(b)) = (fanout_start, fanout_end) {
        report.server_fanout = servermetrics::window(&a, &b);
    }
    Ok(report)
}

/// Child mode: commands from stdin, events as JSON lines on stdout.
async fn child(args: Arc<Args>, w: usize) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if let Some(cmd) = Cmd::parse(&line) {
                let _ = cmd_tx.send(cmd);
            }
        }
        // The coordinator is gone: stop rather than run forever.
        let _ = cmd_tx.send(Cmd::Stop);
    });
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(worker::run(args, w, cmd_rx, ev_tx));
    while let Some((_, ev)) = ev_rx.recv().await {
        let line = serde_json::to_string(&ev).expect("events serialise");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|_| out.flush());
    }
    let _ = run.await;
}

fn main() {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => Arc::new(*a),
        Ok(Parsed::Help) => {
            print!("{}", args::HELP);
            return;
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Some(w) = args.worker {
        rt.block_on(child(args, w));
        return;
    }
    match rt.block_on(coordinate(args.clone())) {
        Ok(report) => {
            println!("{}", summary_line(&report));
            if !report.server_fanout.is_empty() {
                println!(
                    "loadgen: server-side fan-out in the window (decided -> written to the socket): {}",
                    servermetrics::describe(&report.server_fanout)
                );
            }
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&report).expect("report serialises")
                );
            }
            if !report.failures.is_empty() {
                eprintln!("loadgen: failures by reason: {:?}", report.failures);
            }
            if !report.server_errors.is_empty() {
                eprintln!("loadgen: server errors by code: {:?}", report.server_errors);
            }
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
    // Sockets of clients that did not close in time must not keep the process alive.
    rt.shutdown_timeout(Duration::from_secs(1));
}
