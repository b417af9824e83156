//! `matinee-server`: parse flags, load configuration, start logging, bind, print the listening
//! line, and run until SIGINT/SIGTERM.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use matinee_server::config::{to_masked_toml, CliOverrides, Config};

const HELP: &str = "\
matinee-server — the Matinee session server (synchronized watch parties for Jellyfin)

USAGE:
    matinee-server [OPTIONS]

OPTIONS:
    --demo              Demo mode: listen on 127.0.0.1:3000, anonymous users, serve the demo page
    --config PATH       Read configuration from a TOML file (also: MATINEE_CONFIG)
    --listen ADDR       Listen address, e.g. 0.0.0.0:3000 or 127.0.0.1:0 (overrides server.listen)
    --print-config      Print the effective configuration (secrets masked) and exit
    -h, --help          Show this help
    -V, --version       Show the version

Configuration layers, later wins: built-in defaults, the TOML file, environment variables
MATINEE_<SECTION>__<KEY> (lists comma-separated), then these flags.
";

struct Args {
    cli: CliOverrides,
    print_config: bool,
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
    env: &HashMap<String, String>,
) -> Result<Option<Args>, String> {
    let mut cli = CliOverrides {
        config_file: env
            .get("MATINEE_CONFIG")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        ..Default::default()
    };
    let mut print_config = false;
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--demo" => cli.demo = true,
            "--config" => cli.config_file = Some(PathBuf::from(value("--config")?)),
            "--listen" => cli.listen = Some(value("--listen")?),
            "--print-config" => print_config = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("matinee-server {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(Some(Args { cli, print_config }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let env: HashMap<String, String> = std::env::vars().collect();
    let args = match parse_args(std::env::args().skip(1), &env) {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("matinee-server: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load(&args.cli, &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("matinee-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.print_config {
        print!("{}", to_masked_toml(&config));
        return ExitCode::SUCCESS;
    }
    if let Err(e) = matinee_server::init_logging(&config.log) {
        eprintln!("matinee-server: logging: {e}");
        return ExitCode::from(2);
    }
    let auth = match matinee_auth::build(&config.auth, &config.jellyfin) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("matinee-server: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = match config.listen_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("matinee-server: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match listen(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("matinee-server: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    // Install the signal handlers before anyone can learn the address: tokio registers a
    // handler only when its stream is created, and a SIGTERM that arrives before that (a
    // service manager stopping a server that has just started) would kill the process
    // without the graceful close.
    let shutdown = match shutdown_signal() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("matinee-server: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_string());
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Matinee listening on http://{local}");
        if config.demo.enabled {
            let _ = writeln!(out, "Demo page: http://{local}/");
        }
        let _ = out.flush();
    }
    tracing::info!(%local, demo = config.demo.enabled, "listening");
    match matinee_server::run_with_authenticator(listener, config, auth, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("matinee-server: {e}");
            ExitCode::from(1)
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (service managers, `docker stop`). The handlers
/// are installed when this is called, not when the future is first polled.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Accept queue for the listening socket. `TcpListener::bind` asks for 1,024, which a join
/// storm overflows (the kernel then drops SYNs and clients retransmit after a second or
/// more); 4,096 absorbs one. The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 4096;

/// Bind like `TcpListener::bind` (address reuse, so a restart does not wait for TIME_WAIT),
/// with a larger accept backlog and `TCP_NODELAY`, which accepted sockets inherit (Linux):
/// frames are small and already batched into one write per burst (`connection.rs`), and with
/// Nagle on, a frame that follows another within the client's delayed-ACK time (about 40 ms)
/// waited for that ACK: a member's first `state` right after its `room` snapshot came 40 ms
/// late (the relayed members' p99 in `docs/performance.md`).
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}
